//! How many sign-in attempts Watchpost takes, and from whom (GCRA buckets from
//! `governor`):
//! - per client address, so one guesser gets a handful of tries a minute
//!   while a person who mistypes is not locked out;
//! - per name, so guesses at one person's passcode cannot be spread over many
//!   addresses;
//! - a ceiling on passcode checks for the whole server: each costs an Argon2
//!   hash on the one hashing thread, so this bounds the queue a flood of
//!   guesses can build in front of a real sign-in.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota};

/// Forget idle keys beyond this many, so the tables cannot grow without bound.
const MAX_KEYS: usize = 10_000;

/// Which limit refused an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limited {
    Client,
    Name,
    Server,
}

#[derive(Debug)]
pub struct SignInLimits {
    per_client: DefaultKeyedRateLimiter<IpAddr>,
    per_name: DefaultKeyedRateLimiter<String>,
    checks: DefaultDirectRateLimiter,
    /// The per-client and per-name quotas, for the buckets replicas share
    /// (`Store::take_attempt`); the server's ceiling stays each replica's,
    /// as it guards that replica's hashing thread.
    pub client_quota: (u32, Duration),
    pub name_quota: (u32, Duration),
}

impl Default for SignInLimits {
    /// 5 attempts per address, then one every 12 s; 10 per name, then one
    /// every 6 s; 20 passcode checks for the whole server, then 2 a second
    /// (at about 40 ms a hash, at most a second of queue).
    fn default() -> Self {
        SignInLimits::new(
            (5, Duration::from_secs(12)),
            (10, Duration::from_secs(6)),
            (20, Duration::from_millis(500)),
        )
    }
}

impl SignInLimits {
    /// Each limit as `(burst, one more every)`.
    pub fn new(
        per_client: (u32, Duration),
        per_name: (u32, Duration),
        checks: (u32, Duration),
    ) -> Self {
        SignInLimits {
            per_client: DefaultKeyedRateLimiter::keyed(quota(per_client)),
            per_name: DefaultKeyedRateLimiter::keyed(quota(per_name)),
            checks: DefaultDirectRateLimiter::direct(quota(checks)),
            client_quota: per_client,
            name_quota: per_name,
        }
    }

    /// Limits that never refuse, for tests that sign in often.
    pub fn generous() -> Self {
        let many = (1_000_000, Duration::from_nanos(1));
        SignInLimits::new(many, many, many)
    }

    /// Takes an attempt from `client`; every attempt counts.
    pub fn client(&self, client: IpAddr) -> Result<(), (Limited, Duration)> {
        keyed(&self.per_client, &client).map_err(|wait| (Limited::Client, wait))
    }

    /// Takes an attempt that needs a passcode check: one from the name's
    /// bucket, then one from the server's.
    pub fn check(&self, name_key: &str) -> Result<(), (Limited, Duration)> {
        keyed(&self.per_name, &name_key.to_owned()).map_err(|wait| (Limited::Name, wait))?;
        self.checks
            .check()
            .map_err(|not_until| (Limited::Server, wait_time(&not_until)))
    }
}

fn quota((burst, every): (u32, Duration)) -> Quota {
    let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(every)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MAX))
        .allow_burst(burst)
}

fn keyed<K: Hash + Eq + Clone>(
    limiter: &DefaultKeyedRateLimiter<K>,
    key: &K,
) -> Result<(), Duration> {
    if limiter.len() >= MAX_KEYS {
        limiter.retain_recent();
    }
    limiter
        .check_key(key)
        .map_err(|not_until| wait_time(&not_until))
}

/// Whole seconds, rounded up: what `Retry-After` says.
fn wait_time(not_until: &governor::NotUntil<<DefaultClock as Clock>::Instant>) -> Duration {
    let wait = not_until.wait_time_from(DefaultClock::default().now());
    Duration::from_secs(wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_gets_a_burst_then_waits() {
        let limits = SignInLimits::default();
        let (a, b) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        for _ in 0..5 {
            assert!(limits.client(a).is_ok());
        }
        let (which, wait) = limits.client(a).unwrap_err();
        assert_eq!(which, Limited::Client);
        assert!(
            (Duration::from_secs(11)..=Duration::from_secs(12)).contains(&wait),
            "{wait:?}"
        );
        assert!(limits.client(b).is_ok(), "other clients are not affected");
    }

    #[test]
    fn guesses_at_one_name_are_limited_whatever_their_address() {
        let limits = SignInLimits::default();
        for _ in 0..10 {
            assert!(limits.check("dana").is_ok());
        }
        assert_eq!(limits.check("dana").unwrap_err().0, Limited::Name);
        assert!(limits.check("ben").is_ok());
    }

    #[test]
    fn the_server_takes_a_bounded_number_of_passcode_checks() {
        let limits = SignInLimits::default();
        let refused = (0..40)
            .map(|n| limits.check(&format!("name {n}")))
            .filter(|result| result.is_err_and(|(which, _)| which == Limited::Server))
            .count();
        assert_eq!(refused, 20, "a burst of 20, then no more at once");
    }
}
