//! The hub: every open socket of this instance, the signals fanned out to them, connection
//! caps, presence, and revocation.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use growdesk_domain::{Message, Notification};
use growdesk_service::addresses::AddressGrouping;
use growdesk_service::email::Presence;
use growdesk_store::events::FeedEvent;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use uuid::Uuid;

use crate::frames::Person;

/// A logged event with what its frame carries.
#[derive(Debug, Clone)]
pub struct EventSignal {
    pub feed: FeedEvent,
    pub message: Option<Message>,
    pub notification: Option<Notification>,
}

/// What the relay and the sessions publish to every session of this instance.
#[derive(Debug, Clone)]
pub enum Signal {
    /// A logged event, with the message or notification it is about.
    Event(Box<EventSignal>),
    Typing {
        ticket_id: Uuid,
        user: Person,
        typing: bool,
    },
    Presence {
        ticket_id: Uuid,
        viewers: Vec<Person>,
    },
    /// Whether any staff member has a socket open on this instance.
    AgentsOnline(bool),
}

/// The service asks the hub before mailing a reply to someone who may be reading it live.
impl Presence for Hub {
    fn is_connected(&self, user_id: Uuid) -> bool {
        Hub::is_connected(self, user_id)
    }
}

/// Caps that keep one user or address from holding the server's sockets.
#[derive(Debug, Clone, Copy)]
pub struct HubLimits {
    pub per_user: usize,
    pub per_ip: usize,
    /// How `per_ip` groups addresses: an IPv6 client's whole network counts as one.
    pub addresses: AddressGrouping,
    /// Signals buffered for a session before it counts as too slow and is closed.
    pub backlog: usize,
}

/// Why a socket was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RegistrationRefused {
    #[error("too many open connections for this user")]
    TooManyForUser,
    #[error("too many open connections from this address")]
    TooManyForAddress,
    #[error("the server is shutting down")]
    ShuttingDown,
}

#[derive(Debug)]
struct Connection {
    id: Uuid,
    user_id: Uuid,
    session_id: Uuid,
    /// The client's address group, as `per_ip` counts it.
    address_key: IpAddr,
    staff: bool,
    /// Accounts whose revocation as a whole also closes this socket (a visitor's).
    speaks_for: Vec<Uuid>,
    closer: CancellationToken,
}

#[derive(Debug, Default)]
struct State {
    connections: HashMap<Uuid, Connection>,
    /// ticket → connection → the staff member viewing it.
    viewers: HashMap<Uuid, BTreeMap<Uuid, Person>>,
}

#[derive(Debug)]
struct Inner {
    signals: broadcast::Sender<Arc<Signal>>,
    state: Mutex<State>,
    limits: HubLimits,
    /// Cancelled when the server shuts down: sessions close with 1001.
    shutdown: CancellationToken,
    /// The running sessions, so shutdown can wait for their goodbyes.
    sessions: TaskTracker,
}

/// The hub. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

impl Hub {
    pub fn new(limits: HubLimits) -> Self {
        let (signals, _) = broadcast::channel(limits.backlog.max(16));
        Self {
            inner: Arc::new(Inner {
                signals,
                state: Mutex::new(State::default()),
                limits,
                shutdown: CancellationToken::new(),
                sessions: TaskTracker::new(),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain maps behind, still usable.
        self.inner
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn limits(&self) -> HubLimits {
        self.inner.limits
    }

    /// Sends a signal to every session of this instance.
    pub fn publish(&self, signal: Signal) {
        // No receiver means no open socket: nothing to deliver.
        let _ = self.inner.signals.send(Arc::new(signal));
    }

    /// A receiver of every signal published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Signal>> {
        self.inner.signals.subscribe()
    }

    /// Admits a socket for `user_id`'s session from `ip` (`staff` counts towards "an agent is
    /// online"), within the caps.
    ///
    /// # Errors
    /// The user or the address holds too many sockets, or the server is stopping.
    pub fn register(
        &self,
        user_id: Uuid,
        session_id: Uuid,
        ip: IpAddr,
        staff: bool,
    ) -> Result<Registration, RegistrationRefused> {
        self.admit(user_id, session_id, ip, staff, Vec::new())
    }

    /// Admits a widget visitor's socket, capped as a user of its own, and closed when any
    /// account it speaks for (the customer it was filed under, the one whose identity it
    /// proved) is revoked as a whole — deactivated, or its role changed.
    ///
    /// # Errors
    /// As `register`.
    pub fn register_visitor(
        &self,
        visitor_id: Uuid,
        speaks_for: Vec<Uuid>,
        ip: IpAddr,
    ) -> Result<Registration, RegistrationRefused> {
        self.admit(visitor_id, visitor_id, ip, false, speaks_for)
    }

    fn admit(
        &self,
        user_id: Uuid,
        session_id: Uuid,
        ip: IpAddr,
        staff: bool,
        speaks_for: Vec<Uuid>,
    ) -> Result<Registration, RegistrationRefused> {
        if self.inner.shutdown.is_cancelled() {
            return Err(RegistrationRefused::ShuttingDown);
        }
        let mut state = self.state();
        let for_user = state
            .connections
            .values()
            .filter(|c| c.user_id == user_id)
            .count();
        if for_user >= self.inner.limits.per_user {
            return Err(RegistrationRefused::TooManyForUser);
        }
        let address_key = self.inner.limits.addresses.key(ip);
        let for_ip = state
            .connections
            .values()
            .filter(|c| c.address_key == address_key)
            .count();
        if for_ip >= self.inner.limits.per_ip {
            return Err(RegistrationRefused::TooManyForAddress);
        }
        let id = Uuid::now_v7();
        let closer = self.inner.shutdown.child_token();
        let first_staff = staff && !state.connections.values().any(|c| c.staff);
        state.connections.insert(
            id,
            Connection {
                id,
                user_id,
                session_id,
                address_key,
                staff,
                speaks_for,
                closer: closer.clone(),
            },
        );
        drop(state);
        if first_staff {
            self.publish(Signal::AgentsOnline(true));
        }
        Ok(Registration {
            hub: self.clone(),
            id,
            closer,
        })
    }

    /// Whether `user_id` has a socket open on this instance: one of their own, or a widget
    /// visitor's that speaks for them.
    pub fn is_connected(&self, user_id: Uuid) -> bool {
        self.state()
            .connections
            .values()
            .any(|c| c.user_id == user_id || c.speaks_for.contains(&user_id))
    }

    /// Closes the sockets of `user_id`'s session (every session when `None`, and then the
    /// sockets of visitors speaking for the user as well).
    pub fn revoke(&self, user_id: Uuid, session_id: Option<Uuid>) {
        let state = self.state();
        for connection in state.connections.values() {
            let own = connection.user_id == user_id
                && session_id.is_none_or(|session| session == connection.session_id);
            let spoken_for = session_id.is_none() && connection.speaks_for.contains(&user_id);
            if own || spoken_for {
                tracing::debug!(connection = %connection.id, %user_id, "closing a revoked session's socket");
                connection.closer.cancel();
            }
        }
    }

    /// Records `viewer` (staff) on `ticket_id` for connection `connection` and publishes the
    /// new presence; `None` removes the connection's presence.
    pub(crate) fn set_viewing(&self, ticket_id: Uuid, connection: Uuid, viewer: Option<Person>) {
        let viewers = {
            let mut state = self.state();
            let entry = state.viewers.entry(ticket_id).or_default();
            let changed = match viewer {
                Some(person) => entry.insert(connection, person).is_none(),
                None => entry.remove(&connection).is_some(),
            };
            if !changed {
                return;
            }
            let mut people: Vec<Person> = entry.values().cloned().collect();
            if entry.is_empty() {
                state.viewers.remove(&ticket_id);
            }
            people.sort_by_key(|person| person.id);
            people.dedup_by_key(|person| person.id);
            people
        };
        self.publish(Signal::Presence { ticket_id, viewers });
    }

    /// The staff viewing `ticket_id` now.
    pub(crate) fn viewers(&self, ticket_id: Uuid) -> Vec<Person> {
        let state = self.state();
        let mut people: Vec<Person> = state
            .viewers
            .get(&ticket_id)
            .map(|v| v.values().cloned().collect())
            .unwrap_or_default();
        people.sort_by_key(|person| person.id);
        people.dedup_by_key(|person| person.id);
        people
    }

    /// Whether any staff member has a socket open on this instance.
    pub fn staff_online(&self) -> bool {
        self.state().connections.values().any(|c| c.staff)
    }

    /// How many sockets are open on this instance.
    pub fn open_connections(&self) -> usize {
        self.state().connections.len()
    }

    /// Tracks a session task so shutdown can wait for it.
    pub fn track<F>(&self, session: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        self.inner.sessions.spawn(session);
    }

    /// Asks every session to close (1001) and waits for them, at most `grace`.
    pub async fn shut_down(&self, grace: std::time::Duration) {
        self.inner.shutdown.cancel();
        self.inner.sessions.close();
        if tokio::time::timeout(grace, self.inner.sessions.wait())
            .await
            .is_err()
        {
            tracing::warn!("some sockets did not close within the grace period");
        }
    }

    /// Whether the server is shutting down.
    pub(crate) fn is_shutting_down(&self) -> bool {
        self.inner.shutdown.is_cancelled()
    }
}

/// An admitted socket; dropping it frees its place and its presence.
#[derive(Debug)]
pub struct Registration {
    hub: Hub,
    id: Uuid,
    closer: CancellationToken,
}

impl Registration {
    pub fn id(&self) -> Uuid {
        self.id
    }

    /// Cancelled when the session is revoked or the server shuts down.
    pub fn closer(&self) -> &CancellationToken {
        &self.closer
    }

    pub(crate) fn hub(&self) -> &Hub {
        &self.hub
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let (viewing, last_staff) = {
            let mut state = self.hub.state();
            let removed = state.connections.remove(&self.id);
            let last_staff =
                removed.is_some_and(|c| c.staff) && !state.connections.values().any(|c| c.staff);
            let viewing = state
                .viewers
                .iter()
                .filter(|(_, viewers)| viewers.contains_key(&self.id))
                .map(|(ticket, _)| *ticket)
                .collect::<Vec<Uuid>>();
            (viewing, last_staff)
        };
        for ticket in viewing {
            self.hub.set_viewing(ticket, self.id, None);
        }
        if last_staff {
            self.hub.publish(Signal::AgentsOnline(false));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hub() -> Hub {
        Hub::new(HubLimits {
            per_user: 2,
            per_ip: 3,
            addresses: AddressGrouping::new(64),
            backlog: 16,
        })
    }

    #[test]
    fn an_ipv6_network_counts_as_one_address() {
        let hub = hub();
        let _held: Vec<Registration> = ["2001:db8:5::1", "2001:db8:5::2", "2001:db8:5:0:ffff::3"]
            .into_iter()
            .map(|ip| {
                hub.register(Uuid::now_v7(), Uuid::now_v7(), ip.parse().unwrap(), false)
                    .unwrap()
            })
            .collect();
        let same_network = "2001:db8:5::4".parse().unwrap();
        assert_eq!(
            hub.register(Uuid::now_v7(), Uuid::now_v7(), same_network, false)
                .unwrap_err(),
            RegistrationRefused::TooManyForAddress
        );
        let next_network = "2001:db8:5:1::1".parse().unwrap();
        assert!(
            hub.register(Uuid::now_v7(), Uuid::now_v7(), next_network, false)
                .is_ok()
        );
    }

    #[test]
    fn presence_is_an_open_socket_of_the_user_or_of_a_visitor_for_them() {
        let hub = hub();
        let (user, customer, visitor) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let ip: IpAddr = [127, 0, 0, 1].into();
        let presence: &dyn Presence = &hub;
        assert!(!presence.is_connected(user));
        let socket = hub.register(user, Uuid::now_v7(), ip, false).unwrap();
        let visitor_socket = hub.register_visitor(visitor, vec![customer], ip).unwrap();
        assert!(presence.is_connected(user));
        assert!(presence.is_connected(visitor));
        assert!(
            presence.is_connected(customer),
            "the visitor speaks for the customer"
        );
        drop(socket);
        drop(visitor_socket);
        assert!(!presence.is_connected(user));
        assert!(!presence.is_connected(customer));
    }

    #[test]
    fn caps_hold_and_dropping_frees_the_place() {
        let hub = hub();
        let (user, other) = (Uuid::now_v7(), Uuid::now_v7());
        let ip: IpAddr = [127, 0, 0, 1].into();
        let first = hub.register(user, Uuid::now_v7(), ip, false).unwrap();
        let _second = hub.register(user, Uuid::now_v7(), ip, false).unwrap();
        assert_eq!(
            hub.register(user, Uuid::now_v7(), ip, false).unwrap_err(),
            RegistrationRefused::TooManyForUser
        );
        let _third = hub.register(other, Uuid::now_v7(), ip, false).unwrap();
        assert_eq!(
            hub.register(other, Uuid::now_v7(), ip, false).unwrap_err(),
            RegistrationRefused::TooManyForAddress
        );
        drop(first);
        assert!(hub.register(other, Uuid::now_v7(), ip, false).is_ok());
    }

    #[test]
    fn revocation_closes_only_the_named_session() {
        let hub = hub();
        let user = Uuid::now_v7();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let ip: IpAddr = [10, 0, 0, 1].into();
        let on_a = hub.register(user, a, ip, false).unwrap();
        let on_b = hub.register(user, b, ip, false).unwrap();
        hub.revoke(user, Some(a));
        assert!(on_a.closer().is_cancelled() && !on_b.closer().is_cancelled());
        hub.revoke(user, None);
        assert!(on_b.closer().is_cancelled());
    }

    #[test]
    fn a_visitor_closes_with_the_whole_account_it_speaks_for() {
        let hub = hub();
        let (customer, other) = (Uuid::now_v7(), Uuid::now_v7());
        let ip: IpAddr = [10, 0, 0, 1].into();
        let visitor = hub
            .register_visitor(Uuid::now_v7(), vec![customer], ip)
            .unwrap();
        hub.revoke(customer, Some(Uuid::now_v7()));
        hub.revoke(other, None);
        assert!(
            !visitor.closer().is_cancelled(),
            "one of the customer's sessions, or another account"
        );
        hub.revoke(customer, None);
        assert!(visitor.closer().is_cancelled());
    }

    #[test]
    fn presence_follows_registrations() {
        let hub = hub();
        let ticket = Uuid::now_v7();
        let person = Person {
            id: Uuid::now_v7(),
            name: "Ana".into(),
        };
        let registration = hub
            .register(person.id, Uuid::now_v7(), [10, 0, 0, 2].into(), true)
            .unwrap();
        assert!(hub.staff_online());
        let mut signals = hub.subscribe();
        hub.set_viewing(ticket, registration.id(), Some(person.clone()));
        assert_eq!(hub.viewers(ticket), vec![person]);
        drop(registration);
        assert!(hub.viewers(ticket).is_empty());
        assert!(
            matches!(&*signals.try_recv().unwrap(), Signal::Presence { viewers, .. } if viewers.len() == 1)
        );
        assert!(
            matches!(&*signals.try_recv().unwrap(), Signal::Presence { viewers, .. } if viewers.is_empty())
        );
        assert!(matches!(
            &*signals.try_recv().unwrap(),
            Signal::AgentsOnline(false)
        ));
        assert!(!hub.staff_online());
    }
}
