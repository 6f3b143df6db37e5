//! What the system does to tickets on its own, on a schedule rather than at someone's request:
//! closing tickets resolved long ago, and telling staff of service-level targets missed. The
//! scheduled jobs call these use cases, so a change made by the system carries the same status
//! rules, events, notifications and webhooks as one made by a person.

use std::time::Duration;

use growdesk_domain::event::StatusChange;
use growdesk_domain::{Event, MessageChannel, Priority, SlaTarget, TicketStatus};
use growdesk_store::{
    Stamp, Store,
    events::NewEvent,
    messages::NewMessage,
    tickets::{Changed, MessageRecord, TicketChange, TicketState},
};
use uuid::Uuid;

use crate::ServiceError;
use crate::notifications;
use crate::policy;
use crate::tickets::set_status;

/// How long a ticket of each priority (low to urgent) may wait for each target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlaTargets {
    /// Until the first public staff reply.
    pub first_response: [Duration; 4],
    /// Until the ticket is resolved or closed.
    pub resolution: [Duration; 4],
}

impl SlaTargets {
    /// The targets from their settings, each `low=24,medium=8,high=4,urgent=1` (hours, fractions
    /// allowed; every priority needs one).
    ///
    /// # Errors
    /// Which setting does not parse, and why.
    pub fn parse(first_response: &str, resolution: &str) -> Result<Self, String> {
        Ok(Self {
            first_response: hours_per_priority(first_response)
                .map_err(|error| format!("sla_first_response_hours: {error}"))?,
            resolution: hours_per_priority(resolution)
                .map_err(|error| format!("sla_resolution_hours: {error}"))?,
        })
    }

    /// The time a ticket of `priority` has for `target`.
    pub fn of(&self, target: SlaTarget, priority: Priority) -> Duration {
        let per_priority = match target {
            SlaTarget::FirstResponse => &self.first_response,
            SlaTarget::Resolution => &self.resolution,
        };
        per_priority[usize::from(priority.rank().unsigned_abs()) - 1]
    }
}

/// `low=24,medium=8,high=4,urgent=1` (hours) as targets, low to urgent.
fn hours_per_priority(text: &str) -> Result<[Duration; 4], String> {
    let mut hours = [None; 4];
    for part in text
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
    {
        let (name, value) = part
            .split_once('=')
            .ok_or_else(|| format!("{part:?} is not priority=hours"))?;
        let priority: Priority = name
            .trim()
            .parse()
            .map_err(|_| format!("{name:?} is not a priority"))?;
        let value: f64 = value
            .trim()
            .parse()
            .map_err(|_| format!("{value:?} is not a number of hours"))?;
        // A value past what a `Duration` holds (1e300) would panic rather than be refused.
        let target = Duration::try_from_secs_f64(value * 3600.0)
            .ok()
            .filter(|_| value > 0.0)
            .ok_or_else(|| format!("{value} hours is not a target"))?;
        hours[usize::from(priority.rank().unsigned_abs()) - 1] = Some(target);
    }
    let mut targets = [Duration::ZERO; 4];
    for (index, value) in hours.into_iter().enumerate() {
        targets[index] =
            value.ok_or_else(|| format!("no target for {}", Priority::ALL[index].as_str()))?;
    }
    Ok(targets)
}

/// The system's use cases over one store. Cheap to clone.
#[derive(Clone)]
pub struct System {
    store: Store,
}

impl System {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    /// Closes up to `batch` tickets resolved before `now - after`, each with a public message
    /// from the system account saying why and a `status_changed` event marked automatic. A
    /// ticket reopened or closed since it was listed is left as it is. How many it closed.
    ///
    /// # Errors
    /// The database failed.
    pub async fn auto_close(
        &self,
        after: Duration,
        now: Stamp,
        batch: u32,
    ) -> Result<usize, ServiceError> {
        let system = self.store.users().system_user().await?;
        let days = after.as_secs() / 86_400;
        let body =
            format!("This ticket was closed automatically {days} day(s) after it was resolved.");
        let mut closed = 0;
        for id in self
            .store
            .jobs()
            .resolved_before(now.saturating_sub(after), batch)
            .await?
        {
            let outcome: Changed<std::convert::Infallible> = self
                .store
                .tickets()
                .change(id, None, |ticket| {
                    let mut state = TicketState::of(ticket);
                    if ticket.status != TicketStatus::Resolved {
                        return Ok(TicketChange {
                            state,
                            events: Vec::new(),
                            message: None,
                            notes: Vec::new(),
                            mail: Vec::new(),
                            inbound: None,
                        });
                    }
                    set_status(&mut state, TicketStatus::Closed, now);
                    let event = NewEvent::public(
                        id,
                        None,
                        Event::StatusChanged(StatusChange {
                            from: TicketStatus::Resolved,
                            to: TicketStatus::Closed,
                            automatic: true,
                        }),
                    );
                    let message = NewMessage {
                        id: Uuid::now_v7(),
                        ticket_id: id,
                        author_id: system,
                        body: body.clone(),
                        internal: false,
                        channel: MessageChannel::System,
                    };
                    Ok(TicketChange {
                        state,
                        events: vec![event],
                        message: Some(MessageRecord {
                            message,
                            attachments: Vec::new(),
                        }),
                        notes: Vec::new(),
                        mail: Vec::new(),
                        inbound: None,
                    })
                })
                .await?;
            if matches!(outcome, Changed::Applied { .. }) {
                closed += 1;
            }
        }
        Ok(closed)
    }

    /// Tells of open tickets past a target, once per ticket and target, up to `batch` per
    /// target and priority: the assignee, or whoever answers for unassigned work when nobody
    /// holds it. How many tickets it told of.
    ///
    /// # Errors
    /// The database failed.
    pub async fn notify_breaches(
        &self,
        targets: &SlaTargets,
        now: Stamp,
        batch: u32,
    ) -> Result<usize, ServiceError> {
        let overseers: Vec<Uuid> = self
            .store
            .users()
            .active_staff()
            .await?
            .into_iter()
            .filter(policy::oversees_unassigned)
            .map(|user| user.id)
            .collect();
        let mut told = 0;
        for target in SlaTarget::ALL {
            for priority in Priority::ALL {
                let cutoff = now.saturating_sub(targets.of(target, priority));
                for ticket in self
                    .store
                    .jobs()
                    .overdue(target, priority, cutoff, batch)
                    .await?
                {
                    let recipients = ticket
                        .assignee_id
                        .map_or_else(|| overseers.clone(), |assignee| vec![assignee]);
                    let notifications =
                        notifications::sla_breach(&ticket, target, priority, recipients);
                    if self
                        .store
                        .jobs()
                        .record_breach(ticket.id, target, &notifications, now)
                        .await?
                    {
                        told += 1;
                    }
                }
            }
        }
        Ok(told)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_read_per_priority() {
        let read = hours_per_priority("low=24, medium=8, high=4, urgent=0.5").unwrap();
        assert_eq!(read[0], Duration::from_secs(24 * 3600));
        assert_eq!(read[3], Duration::from_secs(1800));
        assert!(
            hours_per_priority("low=24").is_err(),
            "every priority needs a target"
        );
        assert!(hours_per_priority("low=-1,medium=1,high=1,urgent=1").is_err());
        assert!(hours_per_priority("blocker=1").is_err());
        for out_of_range in ["1e300", "inf", "NaN", "0"] {
            let text = format!("low={out_of_range},medium=1,high=1,urgent=1");
            assert!(hours_per_priority(&text).is_err(), "{text}");
        }
        let error = SlaTargets::parse("low=1,medium=1,high=1,urgent=1", "low=x").unwrap_err();
        assert!(error.starts_with("sla_resolution_hours: "), "{error}");
    }

    #[test]
    fn each_priority_has_its_own_target() {
        let hours = |list: [u64; 4]| list.map(|hours| Duration::from_secs(hours * 3600));
        let targets = SlaTargets {
            first_response: hours([24, 8, 4, 1]),
            resolution: hours([96, 48, 24, 8]),
        };
        assert_eq!(
            targets.of(SlaTarget::FirstResponse, Priority::Low),
            Duration::from_secs(24 * 3600)
        );
        assert_eq!(
            targets.of(SlaTarget::FirstResponse, Priority::Urgent),
            Duration::from_secs(3600)
        );
        assert_eq!(
            targets.of(SlaTarget::Resolution, Priority::High),
            Duration::from_secs(24 * 3600)
        );
        assert_eq!(
            targets.of(SlaTarget::Resolution, Priority::Medium),
            Duration::from_secs(48 * 3600)
        );
    }
}
