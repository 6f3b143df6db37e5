//! `plans`: the database's plan for the ticket list under each filter the API offers, taken from
//! the store's own query (`Store::explain_list_tickets`), to show which index serves each one.

use std::fmt::Write as _;

use anyhow::Context as _;
use growdesk_domain::{Priority, TicketStatus};
use growdesk_store::{
    PoolSettings, Stamp, Store,
    tickets::{AssigneeFilter, SortKey, TicketCursor, TicketFilter, TicketSort},
};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// A seeded database.
    #[arg(long, env = "GROWDESK_DATABASE_URL")]
    database_url: String,
    /// Where to write the plans (Markdown).
    #[arg(long)]
    out: std::path::PathBuf,
}

pub(crate) async fn run(args: Args) -> anyhow::Result<()> {
    let store = Store::connect(&args.database_url, PoolSettings::default())?;
    // The oldest tickets by number are seeded ones; the load adds tickets without category.
    let sample = store
        .tickets()
        .list(
            &TicketFilter::default(),
            TicketSort::Number,
            false,
            None,
            100,
        )
        .await?;
    let with_everything = sample
        .iter()
        .find(|ticket| {
            ticket.category_id.is_some() && ticket.assignee_id.is_some() && !ticket.tags.is_empty()
        })
        .context("no seeded ticket with a category, an assignee and a tag")?;
    let cursor = TicketCursor {
        key: SortKey::Time(Stamp::from(with_everything.created_at)),
        id: with_everything.id,
    };
    let filters: Vec<(&str, TicketFilter, Option<TicketCursor>)> = vec![
        ("first page (newest first)", TicketFilter::default(), None),
        (
            "a later page, by keyset cursor",
            TicketFilter::default(),
            Some(cursor),
        ),
        (
            "status=open",
            TicketFilter {
                statuses: vec![TicketStatus::Open],
                ..TicketFilter::default()
            },
            None,
        ),
        (
            "priority=urgent",
            TicketFilter {
                priority: Some(Priority::Urgent),
                ..TicketFilter::default()
            },
            None,
        ),
        (
            "category_id",
            TicketFilter {
                category_id: with_everything.category_id,
                ..TicketFilter::default()
            },
            None,
        ),
        (
            "assignee_id (an agent, or `me`)",
            TicketFilter {
                assignee: with_everything.assignee_id.map(AssigneeFilter::Is),
                ..TicketFilter::default()
            },
            None,
        ),
        (
            "assignee_id=none",
            TicketFilter {
                assignee: Some(AssigneeFilter::Unassigned),
                ..TicketFilter::default()
            },
            None,
        ),
        (
            "requester_id",
            TicketFilter {
                requester_id: Some(with_everything.requester.id),
                ..TicketFilter::default()
            },
            None,
        ),
        (
            "tag",
            TicketFilter {
                tag: with_everything.tags.first().cloned(),
                ..TicketFilter::default()
            },
            None,
        ),
        (
            "q (full-text search, staff)",
            TicketFilter {
                terms: vec!["refund".to_owned()],
                search_internal: true,
                ..TicketFilter::default()
            },
            None,
        ),
    ];
    let mut out = String::new();
    for (name, filter, after) in filters {
        let plan = store
            .tickets()
            .explain_list(&filter, TicketSort::CreatedAt, true, after, 25)
            .await?;
        writeln!(out, "`{name}`:\n```\n{}\n```", plan.join("\n"))?;
    }
    if let Some(dir) = args.out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&args.out, out)?;
    println!(
        "wrote the plans of 10 ticket lists to {}",
        args.out.display()
    );
    Ok(())
}
