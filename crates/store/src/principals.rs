//! The sessions this process checked lately, so that a request need not read its session
//! and user again. This process forgets a user's entries when it revokes their sessions or
//! changes them. Revocations made by other processes reach it through the relay
//! (`Sessions::forget_revoked`). An entry is read again after `TTL` whatever happens: other
//! instances' name changes show after that at the latest.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::Stamp;
use crate::sessions::SessionPrincipal;
use crate::users::UserCredentials;

/// How long an entry is trusted without reading it again.
const TTL: Duration = Duration::from_secs(10);

/// Entries held at most; past it, the expired ones go, and all of them if none has expired.
/// A few kilobytes each.
const CAPACITY: usize = 10_000;

/// A session as read from the database, kept with what decides whether it is still live.
#[derive(Debug, Clone)]
pub(crate) struct CachedSession {
    pub(crate) credentials: UserCredentials,
    pub(crate) revoked: bool,
    pub(crate) expires_at: Stamp,
}

impl CachedSession {
    /// The principal this session gives at `now`: an expired session counts as over.
    pub(crate) fn principal(&self, now: Stamp) -> SessionPrincipal {
        SessionPrincipal {
            credentials: self.credentials.clone(),
            session_revoked: self.revoked || self.expires_at <= now,
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct PrincipalCache {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Bumped by every forgetting. A session read before one must not be kept after it: it
    /// may predate the revocation that caused it.
    generation: u64,
    users: HashMap<Uuid, HashMap<Uuid, Entry>>,
    entries: usize,
}

#[derive(Debug)]
struct Entry {
    session: CachedSession,
    cached_at: Instant,
}

impl PrincipalCache {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // Every change leaves the maps consistent, so a panic elsewhere cannot corrupt them.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The cached session `session_id` of `user_id`, unless it is older than `TTL`.
    pub(crate) fn get(&self, user_id: Uuid, session_id: Uuid) -> Option<CachedSession> {
        let state = self.state();
        let entry = state.users.get(&user_id)?.get(&session_id)?;
        (entry.cached_at.elapsed() < TTL).then(|| entry.session.clone())
    }

    /// The generation to hand back to `insert` with a session read after this call.
    pub(crate) fn generation(&self) -> u64 {
        self.state().generation
    }

    /// Keeps a session read after `generation` was taken, unless something was forgotten since.
    pub(crate) fn insert(
        &self,
        generation: u64,
        user_id: Uuid,
        session_id: Uuid,
        session: CachedSession,
    ) {
        let mut state = self.state();
        if state.generation != generation {
            return;
        }
        if state.entries >= CAPACITY {
            state.users.retain(|_, sessions| {
                sessions.retain(|_, entry| entry.cached_at.elapsed() < TTL);
                !sessions.is_empty()
            });
            state.entries = state.users.values().map(HashMap::len).sum();
            if state.entries >= CAPACITY {
                state.users.clear();
                state.entries = 0;
            }
        }
        let entry = Entry {
            session,
            cached_at: Instant::now(),
        };
        if state
            .users
            .entry(user_id)
            .or_default()
            .insert(session_id, entry)
            .is_none()
        {
            state.entries += 1;
        }
    }

    /// Forgets one session of a user, or (`None`) all of them.
    pub(crate) fn forget(&self, user_id: Uuid, session_id: Option<Uuid>) {
        let mut state = self.state();
        state.generation += 1;
        let forgotten = match (session_id, state.users.get_mut(&user_id)) {
            (_, None) => 0,
            (Some(session_id), Some(sessions)) => {
                let removed = usize::from(sessions.remove(&session_id).is_some());
                if sessions.is_empty() {
                    state.users.remove(&user_id);
                }
                removed
            }
            (None, Some(_)) => state
                .users
                .remove(&user_id)
                .map_or(0, |sessions| sessions.len()),
        };
        state.entries -= forgotten;
    }
}

#[cfg(test)]
mod tests {
    use growdesk_domain::{Role, User};

    use super::*;

    fn session(name: &str) -> CachedSession {
        let now = Stamp::now();
        CachedSession {
            credentials: UserCredentials {
                user: User {
                    id: Uuid::now_v7(),
                    email: format!("{name}@example.com"),
                    name: name.to_owned(),
                    role: Role::Agent,
                    active: true,
                    notify_new_tickets: false,
                    created_at: now.into(),
                    updated_at: now.into(),
                },
                password_hash: None,
                token_version: 0,
            },
            revoked: false,
            expires_at: Stamp::from(time::OffsetDateTime::now_utc() + time::Duration::days(1)),
        }
    }

    #[test]
    fn forgetting_a_user_drops_all_their_sessions_and_nobody_elses() {
        let cache = PrincipalCache::default();
        let (ann, bob) = (Uuid::now_v7(), Uuid::now_v7());
        let (first, second, third) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let generation = cache.generation();
        cache.insert(generation, ann, first, session("ann"));
        cache.insert(generation, ann, second, session("ann"));
        cache.insert(generation, bob, third, session("bob"));

        cache.forget(ann, Some(first));
        assert!(cache.get(ann, first).is_none());
        assert!(cache.get(ann, second).is_some());

        cache.forget(ann, None);
        assert!(cache.get(ann, second).is_none());
        assert!(cache.get(bob, third).is_some());
        assert_eq!(cache.state().entries, 1);
    }

    #[test]
    fn a_session_read_before_a_forgetting_is_not_kept() {
        let cache = PrincipalCache::default();
        let (user, session_id) = (Uuid::now_v7(), Uuid::now_v7());
        let read_at = cache.generation();
        cache.forget(Uuid::now_v7(), None);
        cache.insert(read_at, user, session_id, session("cy"));
        assert!(cache.get(user, session_id).is_none());
    }

    #[test]
    fn an_expired_session_is_reported_over() {
        let mut expired = session("dee");
        expired.expires_at = Stamp::now();
        assert!(expired.principal(Stamp::now()).session_revoked);
        assert!(!session("dee").principal(Stamp::now()).session_revoked);
    }

    #[test]
    fn a_full_cache_makes_room() {
        let cache = PrincipalCache::default();
        let generation = cache.generation();
        for _ in 0..=CAPACITY {
            cache.insert(generation, Uuid::now_v7(), Uuid::now_v7(), session("eve"));
        }
        assert_eq!(cache.state().entries, 1);
    }
}
