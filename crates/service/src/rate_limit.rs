//! Attempt limits for sign-in, registration and refresh, per client address and per account.
//!
//! In memory, per instance: with several instances behind a balancer each allows the quota,
//! which still bounds guessing to a small multiple. The GCRA counters are atomic, so a parallel
//! burst cannot slip past them. Addresses are counted in the groups of `AddressGrouping`, so
//! an IPv6 client cannot get a fresh quota from each address of its network.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::ServiceError;
use crate::addresses::AddressGrouping;

/// Forget idle keys once a limiter tracks this many, so a spray of addresses cannot grow memory
/// without bound.
const RETAIN_ABOVE: usize = 10_000;

/// The attempt limiters.
#[derive(Clone)]
pub struct AttemptLimits {
    per_ip: PerAddress,
    per_account: Arc<DefaultKeyedRateLimiter<String>>,
}

fn per_minute(limit: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(limit).unwrap_or(NonZeroU32::MIN))
}

/// A limit per client address group.
#[derive(Clone)]
struct PerAddress {
    limiter: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    grouping: AddressGrouping,
}

impl PerAddress {
    fn per_minute(limit: u32, grouping: AddressGrouping) -> Self {
        Self {
            limiter: Arc::new(RateLimiter::keyed(per_minute(limit))),
            grouping,
        }
    }

    fn check(&self, ip: IpAddr) -> Result<(), ServiceError> {
        check(&self.limiter, &self.grouping.key(ip))
    }
}

impl AttemptLimits {
    /// Limits of `per_ip` and `per_account` attempts a minute, each allowed as a burst;
    /// addresses grouped by `grouping`.
    pub fn new(per_ip: u32, per_account: u32, grouping: AddressGrouping) -> Self {
        Self {
            per_ip: PerAddress::per_minute(per_ip, grouping),
            per_account: Arc::new(RateLimiter::keyed(per_minute(per_account))),
        }
    }

    /// Counts an attempt from `ip`.
    ///
    /// # Errors
    /// `RateLimited` with the time until the next attempt is allowed.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), ServiceError> {
        self.per_ip.check(ip)
    }

    /// Counts a sign-in attempt on `account` (a normalised email).
    ///
    /// # Errors
    /// `RateLimited` with the time until the next attempt is allowed.
    pub fn check_account(&self, account: &str) -> Result<(), ServiceError> {
        check(&self.per_account, &account.to_owned())
    }
}

/// Limits on what widget visitors create (tickets and messages), per client address and per
/// widget, so one visitor cannot flood a site and one site cannot flood the desk.
#[derive(Clone)]
pub struct WidgetLimits {
    per_ip: PerAddress,
    per_widget: Arc<DefaultKeyedRateLimiter<uuid::Uuid>>,
}

impl WidgetLimits {
    /// Limits of `per_ip` and `per_widget` creations a minute; addresses grouped by `grouping`.
    pub fn new(per_ip: u32, per_widget: u32, grouping: AddressGrouping) -> Self {
        Self {
            per_ip: PerAddress::per_minute(per_ip, grouping),
            per_widget: Arc::new(RateLimiter::keyed(per_minute(per_widget))),
        }
    }

    /// Counts one creation from `ip` on `widget`.
    ///
    /// # Errors
    /// `RateLimited` with the time until the next is allowed.
    pub fn check(&self, ip: IpAddr, widget: uuid::Uuid) -> Result<(), ServiceError> {
        self.per_ip.check(ip)?;
        check(&self.per_widget, &widget)
    }
}

fn check<K: Clone + Hash + Eq>(
    limiter: &DefaultKeyedRateLimiter<K>,
    key: &K,
) -> Result<(), ServiceError> {
    if limiter.len() > RETAIN_ABOVE {
        limiter.retain_recent();
    }
    limiter.check_key(key).map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        ServiceError::RateLimited {
            retry_after: wait.max(Duration::from_secs(1)),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_per_key() {
        let limits = AttemptLimits::new(3, 2, AddressGrouping::new(64));
        let ip: IpAddr = [10, 0, 0, 1].into();
        for _ in 0..3 {
            limits.check_ip(ip).unwrap();
        }
        let Err(ServiceError::RateLimited { retry_after }) = limits.check_ip(ip) else {
            panic!("fourth attempt allowed");
        };
        assert!(retry_after >= Duration::from_secs(1) && retry_after <= Duration::from_secs(20));
        limits.check_ip([10, 0, 0, 2].into()).unwrap();

        limits.check_account("a@example.com").unwrap();
        limits.check_account("a@example.com").unwrap();
        assert!(limits.check_account("a@example.com").is_err());
        limits.check_account("b@example.com").unwrap();
    }

    #[test]
    fn an_ipv6_network_shares_one_quota() {
        let limits = WidgetLimits::new(2, 100, AddressGrouping::new(64));
        let widget = uuid::Uuid::now_v7();
        limits
            .check("2001:db8:1:2::1".parse().unwrap(), widget)
            .unwrap();
        limits
            .check("2001:db8:1:2::2".parse().unwrap(), widget)
            .unwrap();
        assert!(
            limits
                .check("2001:db8:1:2:ffff::3".parse().unwrap(), widget)
                .is_err(),
            "a third address of the same /64 is refused"
        );
        limits
            .check("2001:db8:1:3::1".parse().unwrap(), widget)
            .unwrap();

        let attempts = AttemptLimits::new(1, 100, AddressGrouping::new(64));
        attempts.check_ip("203.0.113.7".parse().unwrap()).unwrap();
        assert!(
            attempts
                .check_ip("::ffff:203.0.113.7".parse().unwrap())
                .is_err(),
            "an IPv4-mapped address counts as its IPv4 address"
        );
    }
}
