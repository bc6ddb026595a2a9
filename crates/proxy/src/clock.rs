//! The server's clock: what entries are stamped with, what the schedule and
//! the sampler read. Normally the system clock; tests may run it faster
//! (`--test-clock-speed`), so that a 24-hour watch passes in minutes, with
//! every rule unchanged. The speed is reported by `GET /api/projects/{id}/watch`
//! and shown in the app, so a fast clock cannot go unnoticed.
//!
//! Every reading of the time in the proxy goes through a [`Clock`]: the
//! watch's time ([`Clock::now`]), and the people's ([`Clock::real_now`]),
//! which a fast clock does not speed up (a session lasts its hours even on
//! a test clock). Tests move both forward with [`Clock::advance`] instead of
//! sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Cheap to clone: clones share what [`Clock::advance`] adds.
#[derive(Debug, Clone)]
pub struct Clock {
    /// Unix ms at `origin`.
    epoch_ms: i64,
    origin: Instant,
    speed: u32,
    /// Milliseconds added by [`Clock::advance`].
    advanced_ms: Arc<AtomicI64>,
}

impl Default for Clock {
    fn default() -> Self {
        Clock::faster(1)
    }
}

impl Clock {
    /// A clock that runs `speed` times faster than the system's from now on.
    pub fn faster(speed: u32) -> Self {
        let epoch_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| {
                i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
            });
        Clock {
            epoch_ms,
            origin: Instant::now(),
            speed: speed.max(1),
            advanced_ms: Arc::default(),
        }
    }

    pub fn speed(&self) -> u32 {
        self.speed
    }

    /// Moves this clock and its clones forward by `by`, at once: what a test
    /// does instead of sleeping.
    pub fn advance(&self, by: Duration) {
        let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX / 4);
        self.advanced_ms.fetch_add(by, Ordering::Relaxed);
    }

    /// The watch's time in Unix milliseconds: what entries are stamped with
    /// and the schedule runs on.
    pub fn now_ms(&self) -> i64 {
        self.reading(self.speed)
    }

    /// The people's time in Unix seconds, never sped up: what sessions
    /// expire by.
    pub fn real_now(&self) -> i64 {
        self.real_now_ms().div_euclid(1000)
    }

    /// [`Clock::real_now`] in milliseconds.
    pub fn real_now_ms(&self) -> i64 {
        self.reading(1)
    }

    /// [`Clock::real_now`] as a timestamp: the windows asked of services,
    /// which live in the people's time.
    pub fn real_timestamp(&self) -> jiff::Timestamp {
        jiff::Timestamp::from_millisecond(self.reading(1)).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
    }

    fn reading(&self, speed: u32) -> i64 {
        let elapsed = self.origin.elapsed().as_millis() * u128::from(speed);
        self.epoch_ms
            + i64::try_from(elapsed).unwrap_or(i64::MAX / 4)
            + self.advanced_ms.load(Ordering::Relaxed)
    }

    /// Unix seconds.
    pub fn now(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    /// Now, as entries are stamped: RFC 3339 in UTC, to the second.
    pub fn now_rfc3339(&self) -> String {
        rfc3339(self.now())
    }
}

/// Unix seconds as RFC 3339 in UTC.
pub fn rfc3339(unix_seconds: i64) -> String {
    jiff::Timestamp::from_second(unix_seconds)
        .map(|at| at.to_string())
        .unwrap_or_default()
}

/// Unix seconds as people in `zone` (an IANA name) read them: `Sun 14:05 CET`.
pub fn local_time(unix_seconds: i64, zone: &str) -> String {
    let zone = jiff::tz::TimeZone::get(zone).unwrap_or(jiff::tz::TimeZone::UTC);
    jiff::Timestamp::from_second(unix_seconds).map_or_else(
        |_| rfc3339(unix_seconds),
        |at| at.to_zoned(zone).strftime("%a %H:%M %Z").to_string(),
    )
}

/// RFC 3339 as people in `zone` read it, with its date: `2026-11-24 04:00
/// CET`; what cannot be read stays as it is.
pub fn local_date_time(rfc3339: &str, zone: &str) -> String {
    let zone = jiff::tz::TimeZone::get(zone).unwrap_or(jiff::tz::TimeZone::UTC);
    rfc3339.parse::<jiff::Timestamp>().map_or_else(
        |_| rfc3339.to_owned(),
        |at| at.to_zoned(zone).strftime("%Y-%m-%d %H:%M %Z").to_string(),
    )
}

/// RFC 3339 as Unix seconds.
pub fn unix_seconds(rfc3339: &str) -> Option<i64> {
    rfc3339
        .parse::<jiff::Timestamp>()
        .ok()
        .map(|at| at.as_second())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_fast_clock_runs_faster() {
        let started = Instant::now();
        let normal = Clock::default();
        let fast = Clock::faster(600);
        std::thread::sleep(Duration::from_millis(20));
        let drift = fast.now_ms() - normal.now_ms();
        // 599 ms ahead for each real ms, however long the sleep really took.
        let slept = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        assert!(
            (599 * 20..=599 * slept + 600).contains(&drift),
            "{drift} ms ahead after {slept} ms"
        );
        assert_eq!(Clock::faster(0).speed(), 1);
        // People's time is not sped up.
        assert!((fast.real_now() - normal.real_now()).abs() <= 1);
    }

    #[test]
    fn advancing_moves_every_clone_at_once() {
        let clock = Clock::faster(600);
        let clone = clock.clone();
        let (watch, people) = (clone.now(), clone.real_now());
        clock.advance(Duration::from_secs(3600));
        assert!(clone.now() >= watch + 3600);
        assert!((3600..3700).contains(&(clone.real_now() - people)));
    }

    #[test]
    fn timestamps_go_both_ways() {
        assert_eq!(rfc3339(1_795_000_000), "2026-11-18T11:06:40Z");
        assert_eq!(unix_seconds("2026-11-18T11:06:40Z"), Some(1_795_000_000));
        assert_eq!(
            unix_seconds("2026-11-18T12:06:40+01:00"),
            Some(1_795_000_000)
        );
        assert_eq!(unix_seconds("tomorrow"), None);
        assert_eq!(
            local_date_time("2026-11-24T03:00:00Z", "Europe/Paris"),
            "2026-11-24 04:00 CET"
        );
        assert_eq!(local_date_time("soon", "Europe/Paris"), "soon");
    }
}
