//! Sign-in attempts per client: a token bucket per IP address, so a guesser
//! gets a handful of tries a minute while a person who mistypes is not locked out.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const BURST: f64 = 5.0;
const REFILL_EVERY: Duration = Duration::from_secs(12);
/// Forget idle clients beyond this many, so the table cannot grow without bound.
const MAX_CLIENTS: usize = 10_000;

#[derive(Debug)]
pub struct SignInLimiter {
    burst: f64,
    refill_every: Duration,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

impl Default for SignInLimiter {
    fn default() -> Self {
        SignInLimiter::new(BURST, REFILL_EVERY)
    }
}

impl SignInLimiter {
    /// `burst` attempts at once, then one more each `refill_every`.
    pub fn new(burst: f64, refill_every: Duration) -> Self {
        SignInLimiter {
            burst,
            refill_every,
            buckets: Mutex::default(),
        }
    }

    /// Takes one attempt for `client`, or says how long until it may try again.
    pub fn attempt(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() >= MAX_CLIENTS {
            buckets.retain(|_, (tokens, at)| self.refill(*tokens, *at, now) < self.burst);
        }
        let (tokens, at) = buckets.entry(client).or_insert((self.burst, now));
        let available = self.refill(*tokens, *at, now);
        if available >= 1.0 {
            *tokens = available - 1.0;
            *at = now;
            Ok(())
        } else {
            let wait = self.refill_every.as_secs_f64() * (1.0 - available);
            Err(Duration::from_secs_f64(wait.ceil()))
        }
    }

    fn refill(&self, tokens: f64, since: Instant, now: Instant) -> f64 {
        let earned =
            now.saturating_duration_since(since).as_secs_f64() / self.refill_every.as_secs_f64();
        (tokens + earned).min(self.burst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_gets_a_burst_then_one_try_per_interval() {
        let limiter = SignInLimiter::default();
        let (a, b) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let start = Instant::now();
        for _ in 0..5 {
            assert!(limiter.attempt(a, start).is_ok());
        }
        let wait = limiter.attempt(a, start).unwrap_err();
        assert_eq!(wait, REFILL_EVERY);
        assert!(
            limiter.attempt(b, start).is_ok(),
            "other clients are not affected"
        );
        assert!(limiter.attempt(a, start + REFILL_EVERY).is_ok());
        assert!(limiter.attempt(a, start + REFILL_EVERY).is_err());
    }
}
