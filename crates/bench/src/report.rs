//! `report`: turns the result files of `load` and `sockets` into the tables of BENCHMARKS.md
//! (written between its figure markers, so the prose around them stays) and a plot of latency
//! against load.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use plotters::prelude::*;

use crate::load::mixed::MixedResults;
use crate::load::scale::ScaleResults;
use crate::load::scenario::Scenario;
use crate::load::{Results, Run, by_scenario};
use crate::measure::Figures;
use crate::sockets::SocketResults;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The directory `load` and `sockets` wrote their JSON into.
    #[arg(long, default_value = "target/bench")]
    results: PathBuf,
    /// The document whose figure section is replaced.
    #[arg(long, default_value = "BENCHMARKS.md")]
    document: PathBuf,
    /// Where the plot goes.
    #[arg(long, default_value = "docs/benchmarks/latency.svg")]
    plot: PathBuf,
}

const START: &str = "<!-- figures:start (written by growdesk-bench report) -->";
const END: &str = "<!-- figures:end -->";
/// The scenarios drawn in the plot.
const PLOTTED: [&str; 7] = [
    "floor_select",
    "floor_page",
    "get_ticket",
    "list_first_page",
    "list_messages",
    "create_ticket",
    "search_word",
];

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let mut found = Found::default();
    for entry in std::fs::read_dir(&args.results)
        .with_context(|| format!("reading {}", args.results.display()))?
    {
        found.read(&entry?.path())?;
    }
    let Found {
        mut loads,
        mut sockets,
        mut mixed,
        mut scales,
        mut plans,
    } = found;
    loads.sort_by(|a, b| (&a.backend, a.tickets).cmp(&(&b.backend, b.tickets)));
    sockets.sort_by(|a, b| a.label.cmp(&b.label));
    mixed.sort_by(|a, b| a.label.cmp(&b.label));
    scales.sort_by(|a, b| a.label.cmp(&b.label));

    plans.sort();
    let mut figures = String::new();
    write_tables(&mut figures, &loads, &sockets)?;
    write_mixed(&mut figures, &mixed)?;
    write_scales(&mut figures, &scales)?;
    for (label, plan) in &plans {
        writeln!(figures, "\n### Query plans — {label}\n\n{plan}")?;
    }
    let document = std::fs::read_to_string(&args.document).unwrap_or_default();
    let updated = match (document.find(START), document.find(END)) {
        (Some(start), Some(end)) if start < end => format!(
            "{}{START}\n{figures}{}",
            &document[..start],
            &document[end..]
        ),
        _ => format!("{document}\n{START}\n{figures}{END}\n"),
    };
    std::fs::write(&args.document, updated)?;
    plot(&args.plot, &loads)?;
    println!(
        "wrote the figures of {} load, {} socket, {} mixed and {} scale runs into {} and {}",
        loads.len(),
        sockets.len(),
        mixed.len(),
        scales.len(),
        args.document.display(),
        args.plot.display()
    );
    Ok(())
}

/// The result files of a directory, by the command that wrote them (the start of their name).
#[derive(Default)]
struct Found {
    loads: Vec<Results>,
    sockets: Vec<SocketResults>,
    mixed: Vec<MixedResults>,
    scales: Vec<ScaleResults>,
    plans: Vec<(String, String)>,
}

impl Found {
    fn read(&mut self, path: &Path) -> anyhow::Result<()> {
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or_default();
        let Some((kind, label)) = name.split_once('-') else {
            return Ok(());
        };
        let text =
            || std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()));
        match (kind, label.rsplit_once('.')) {
            ("plans", Some((label, "md"))) => self.plans.push((label.to_owned(), text()?)),
            ("load", Some((_, "json"))) => self.loads.push(parse(path, &text()?)?),
            ("sockets", Some((_, "json"))) => self.sockets.push(parse(path, &text()?)?),
            ("mixed", Some((_, "json"))) => self.mixed.push(parse(path, &text()?)?),
            ("scale", Some((_, "json"))) => self.scales.push(parse(path, &text()?)?),
            _ => {}
        }
        Ok(())
    }
}

fn parse<T: serde::de::DeserializeOwned>(path: &Path, text: &str) -> anyhow::Result<T> {
    serde_json::from_str(text).with_context(|| format!("reading {}", path.display()))
}

fn floor_rps(results: &Results, floor: &str, concurrency: usize) -> Option<f64> {
    results
        .runs
        .iter()
        .find(|run| run.scenario == floor && run.concurrency == concurrency)
        .map(|run| run.figures.rps)
}

/// A latency, or "failed" for a run in which no request succeeded.
fn millis(figures: &Figures, value: f64) -> String {
    if figures.requests == 0 {
        "failed".to_owned()
    } else {
        format!("{value:.2}")
    }
}

fn at(runs: &[Run], concurrency: usize) -> Option<&Run> {
    runs.iter().find(|run| run.concurrency == concurrency)
}

fn write_tables(
    out: &mut String,
    loads: &[Results],
    sockets: &[SocketResults],
) -> anyhow::Result<()> {
    for results in loads {
        writeln!(
            out,
            "\n### {} — {} tickets, {} messages\n\nServer memory: {:.1} MiB idle, {:.1} MiB at most under the highest load. \
             The deep page starts after {} tickets.\n",
            results.label,
            results.tickets,
            results.messages,
            results.idle_rss_kib as f64 / 1024.0,
            results.loaded_rss_kib as f64 / 1024.0,
            results.deep_page_position
        )?;
        writeln!(
            out,
            "| scenario | clients | req/s | p50 ms | p90 ms | p99 ms | floor | × floor req/s | errors |"
        )?;
        writeln!(out, "|---|---:|---:|---:|---:|---:|---|---:|---:|")?;
        for (name, runs) in by_scenario(&results.runs).into_values() {
            let floor = Scenario::floor(&name);
            for run in runs {
                let ratio = if name.starts_with("floor_") {
                    "—".to_owned()
                } else {
                    floor_rps(results, floor, run.concurrency).map_or("—".to_owned(), |floor| {
                        format!("{:.2}", run.figures.rps / floor)
                    })
                };
                writeln!(
                    out,
                    "| {name} | {} | {:.0} | {} | {} | {} | {} | {ratio} | {} |",
                    run.concurrency,
                    run.figures.rps,
                    millis(&run.figures, run.figures.p50_ms),
                    millis(&run.figures, run.figures.p90_ms),
                    millis(&run.figures, run.figures.p99_ms),
                    if name.starts_with("floor_") {
                        ""
                    } else {
                        floor
                    },
                    run.figures.errors
                )?;
            }
        }
    }

    let backends: Vec<&str> = {
        let mut names: Vec<&str> = loads
            .iter()
            .map(|results| results.backend.as_str())
            .collect();
        names.dedup();
        names
    };
    for backend in backends {
        let sizes: Vec<&Results> = loads
            .iter()
            .filter(|results| results.backend == backend)
            .collect();
        if let [small, .., large] = sizes.as_slice() {
            writeln!(
                out,
                "\n### Cost growth on {backend}: {small} → {large} tickets, 32 clients\n\n\
                 | scenario | p50 ms at {small} | p50 ms at {large} | p99 ms at {small} | p99 ms at {large} | p99 × |\n\
                 |---|---:|---:|---:|---:|---:|",
                small = small.tickets,
                large = large.tickets
            )?;
            let large_runs = by_scenario(&large.runs);
            for (order, (name, runs)) in by_scenario(&small.runs) {
                let (Some(before), Some(after)) = (
                    at(&runs, 32),
                    large_runs.get(&order).and_then(|(_, runs)| at(runs, 32)),
                ) else {
                    continue;
                };
                let growth = if before.figures.requests == 0 || after.figures.requests == 0 {
                    "—".to_owned()
                } else {
                    format!("{:.2}", after.figures.p99_ms / before.figures.p99_ms)
                };
                writeln!(
                    out,
                    "| {name} | {} | {} | {} | {} | {growth} |",
                    millis(&before.figures, before.figures.p50_ms),
                    millis(&after.figures, after.figures.p50_ms),
                    millis(&before.figures, before.figures.p99_ms),
                    millis(&after.figures, after.figures.p99_ms),
                )?;
            }
        }
    }

    if !sockets.is_empty() {
        writeln!(
            out,
            "\n### WebSockets\n\n| run | idle connections | server RSS before → holding | KiB each | subscribers × messages | p50 ms | p99 ms | missed |\n|---|---:|---|---:|---|---:|---:|---:|"
        )?;
        for run in sockets {
            writeln!(
                out,
                "| {} | {} | {:.1} → {:.1} MiB | {:.1} | {} × {} | {:.1} | {:.1} | {} |",
                run.label,
                run.connections,
                run.rss_before_kib as f64 / 1024.0,
                run.rss_holding_kib as f64 / 1024.0,
                run.kib_per_connection,
                run.subscribers,
                run.messages,
                run.fan_out.p50_ms,
                run.fan_out.p99_ms,
                run.missed_deliveries
            )?;
        }
    }
    writeln!(out)?;
    Ok(())
}

/// The mixed load's rate and memory, and its steps, per run.
fn write_mixed(out: &mut String, runs: &[MixedResults]) -> anyhow::Result<()> {
    for run in runs {
        let deliveries = &run.deliveries;
        writeln!(
            out,
            "\n### Mixed load — {}, {} tickets\n\n\
             80 % reads, 15 % replies, 5 % new tickets, with {} agents' and {} visitors' sockets \
             open (server {:.1} MiB before them, {:.1} MiB holding them). Highest rate with p99 \
             under {} ms: **{:.0} req/s**. Events received: agents' sockets {} of {}, visitors' \
             {} of {}; {} sockets closed by the server.\n\n\
             | rate | req/s | p50 ms | p99 ms | errors | not sent | peak RSS MiB | held |\n\
             |---:|---:|---:|---:|---:|---:|---:|---|",
            run.label,
            run.tickets,
            run.agent_sockets,
            run.visitors,
            run.idle_rss_kib as f64 / 1024.0,
            run.sockets_rss_kib as f64 / 1024.0,
            run.p99_limit_ms,
            run.rate,
            deliveries.agent_received,
            deliveries.agent_expected,
            deliveries.visitor_received,
            deliveries.visitor_expected,
            deliveries.closed
        )?;
        for step in &run.steps {
            writeln!(
                out,
                "| {:.0} | {:.0} | {} | {} | {} | {} | {:.1} | {} |",
                step.rate,
                step.all.rps,
                millis(&step.all, step.all.p50_ms),
                millis(&step.all, step.all.p99_ms),
                step.all.errors,
                step.not_sent,
                step.peak_rss_kib as f64 / 1024.0,
                if step.held { "yes" } else { "no" }
            )?;
        }
    }
    Ok(())
}

/// Tickets created through one server process and through several, per run.
fn write_scales(out: &mut String, runs: &[ScaleResults]) -> anyhow::Result<()> {
    for run in runs {
        writeln!(
            out,
            "\n### Server processes — {}, create_ticket at {} clients\n\n\
             Through all the processes: **{:.2}×** the tickets of one (medians).\n\n\
             | processes | req/s | p50 ms | p99 ms | errors |\n|---:|---:|---:|---:|---:|",
            run.label, run.clients, run.ratio
        )?;
        for measured in &run.runs {
            writeln!(
                out,
                "| {} | {:.0} | {} | {} | {} |",
                measured.processes,
                measured.figures.rps,
                millis(&measured.figures, measured.figures.p50_ms),
                millis(&measured.figures, measured.figures.p99_ms),
                measured.figures.errors
            )?;
        }
    }
    Ok(())
}

/// p99 latency against the number of clients, one panel per run, log scales.
fn plot(path: &Path, loads: &[Results]) -> anyhow::Result<()> {
    if loads.is_empty() {
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let panels = loads.len();
    let root = SVGBackend::new(
        path,
        (
            520 * u32::try_from(panels.min(2))?,
            380 * u32::try_from(panels.div_ceil(2))?,
        ),
    )
    .into_drawing_area();
    root.fill(&WHITE)
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    let areas = root.split_evenly((panels.div_ceil(2), panels.min(2)));
    for (results, area) in loads.iter().zip(areas) {
        let highest_clients = results
            .runs
            .iter()
            .map(|run| run.concurrency)
            .max()
            .unwrap_or(1) as f64;
        let highest_p99 = results
            .runs
            .iter()
            .map(|run| run.figures.p99_ms)
            .fold(1.0, f64::max);
        let mut chart = ChartBuilder::on(&area)
            .caption(
                format!("{} — p99 latency", results.label),
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(52)
            .build_cartesian_2d(
                (1.0..highest_clients * 1.2).log_scale(),
                (0.05..highest_p99 * 1.5).log_scale(),
            )
            .map_err(|error| anyhow::anyhow!("{error}"))?;
        chart
            .configure_mesh()
            .x_desc("concurrent clients")
            .y_desc("p99 ms")
            .draw()
            .map_err(|error| anyhow::anyhow!("{error}"))?;
        for (index, scenario) in PLOTTED.iter().enumerate() {
            let points: Vec<(f64, f64)> = results
                .runs
                .iter()
                .filter(|run| run.scenario == *scenario)
                .map(|run| (run.concurrency as f64, run.figures.p99_ms))
                .collect();
            let color = Palette99::pick(index).stroke_width(2);
            chart
                .draw_series(LineSeries::new(points.clone(), color))
                .map_err(|error| anyhow::anyhow!("{error}"))?
                .label(*scenario)
                .legend(move |(x, y)| {
                    PathElement::new(
                        vec![(x, y), (x + 16, y)],
                        Palette99::pick(index).stroke_width(2),
                    )
                });
            chart
                .draw_series(
                    points
                        .into_iter()
                        .map(|point| Circle::new(point, 3, Palette99::pick(index).filled())),
                )
                .map_err(|error| anyhow::anyhow!("{error}"))?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(|error| anyhow::anyhow!("{error}"))?;
    }
    root.present().map_err(|error| anyhow::anyhow!("{error}"))?;
    Ok(())
}
