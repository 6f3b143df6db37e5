//! Retrying what failed to go out (a webhook delivery, an outgoing mail): exponential backoff
//! with jitter, for a day after it was queued, then giving up.

use std::time::Duration;

use growdesk_store::Stamp;

/// Delays that double from `first` up to `max`, each with ±25 % jitter so that a peer coming back
/// is not hit by every retry at once.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Backoff {
    pub(crate) first: Duration,
    pub(crate) max: Duration,
}

impl Backoff {
    /// The delay before retry number `attempt` (1 for the first retry).
    pub(crate) fn delay(self, attempt: i32) -> Duration {
        let doublings = u32::try_from(attempt.saturating_sub(1))
            .unwrap_or(0)
            .min(20);
        let base = self
            .first
            .saturating_mul(2u32.saturating_pow(doublings))
            .min(self.max);
        base.mul_f64(rand::random_range(0.75..1.25))
    }
}

/// The retries of what goes out: from 30 seconds up to 6 hours apart.
const RETRIES: Backoff = Backoff {
    first: Duration::from_secs(30),
    max: Duration::from_secs(6 * 60 * 60),
};
/// How long something is retried before it is marked failed.
const GIVE_UP_AFTER: time::Duration = time::Duration::days(1);

/// When to try again after `failed_attempts` failed attempts at something queued at
/// `created_at`, the last one at `now`; `None` when that would be more than a day after it was
/// queued: give up.
pub(crate) fn next_attempt(created_at: Stamp, failed_attempts: i32, now: Stamp) -> Option<Stamp> {
    let delay = time::Duration::try_from(RETRIES.delay(failed_attempts)).unwrap_or(GIVE_UP_AFTER);
    let next = now.into_inner() + delay;
    (next <= created_at.into_inner() + GIVE_UP_AFTER).then_some(Stamp::from(next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_with_jitter_and_a_ceiling() {
        for attempt in 1..=12 {
            let base = RETRIES
                .first
                .saturating_mul(1 << (attempt - 1))
                .min(RETRIES.max);
            let delay = RETRIES.delay(attempt);
            assert!(
                delay >= base.mul_f64(0.75) && delay <= base.mul_f64(1.25),
                "{attempt}: {delay:?}"
            );
        }
        let spread: std::collections::HashSet<Duration> =
            (0..20).map(|_| RETRIES.delay(3)).collect();
        assert!(spread.len() > 1, "jitter varies the delay");
    }

    #[test]
    fn retries_end_a_day_after_the_first_try() {
        let queued = Stamp::now();
        let soon = next_attempt(queued, 1, queued).expect("a first retry");
        assert!(soon.into_inner() > queued.into_inner());
        let late = Stamp::from(queued.into_inner() + time::Duration::hours(23));
        assert_eq!(
            next_attempt(queued, 12, late),
            None,
            "hours-long delays past the day give up"
        );
    }
}
