//! The host's own metrics (Render): the rules that judge them.
//!
//! **Memory usage stable** (seed 004's "no memory leaks"): over at least an
//! hour of readings, memory grows by less than [`STABLE_GROWTH_PERCENT`] of
//! the service's limit per hour (a least-squares line through every
//! reading, so one spike does not decide), and never comes within
//! [`HEADROOM_PERCENT`] of the limit. Without a known limit, the growth is
//! held to the same share of the first reading.
//!
//! **No unexpected restarts** (seed 004's success criterion): a start of the
//! service is expected when a deploy, or a person's restart, happened within
//! [`EXPLAINED_WITHIN_SECONDS`] of it. Render's failure events (a server
//! failed, ran out of memory, its hardware failed, Render restarted it) are
//! unexpected restarts themselves; an instance that started, or a health
//! endpoint whose `uptime` says the process started, with no deploy or
//! restart near, is one too.

/// The most memory may grow per hour, in percent of the limit, and still be
/// stable: a leak of 2% an hour fills the limit within two days.
pub const STABLE_GROWTH_PERCENT: f64 = 2.0;

/// How close to the limit memory may come, in percent of it.
pub const HEADROOM_PERCENT: f64 = 10.0;

/// The least span of readings the rule judges, in seconds.
pub const MIN_SPAN_SECONDS: i64 = 3600;

/// Memory over a window, as the rule reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemoryTrend {
    /// Seconds from the first reading to the last.
    pub span_seconds: i64,
    pub first_mb: f64,
    pub last_mb: f64,
    pub peak_mb: f64,
    /// The least-squares slope through every reading.
    pub growth_mb_per_hour: f64,
    pub limit_mb: Option<f64>,
}

/// What the rule found: stable or not, and why, in words.
#[derive(Debug, Clone, PartialEq)]
pub enum MemoryVerdict {
    Stable(String),
    Unstable(String),
    /// Too few readings to judge: when to look again.
    TooSoon(String),
}

impl MemoryTrend {
    /// The trend of `readings` (Unix seconds, MB), oldest first; `None`
    /// without two readings at different times.
    pub fn of(readings: &[(i64, f64)], limit_mb: Option<f64>) -> Option<Self> {
        let (first, last) = (readings.first()?, readings.last()?);
        let span_seconds = last.0 - first.0;
        if span_seconds <= 0 {
            return None;
        }
        let n = readings.len() as f64;
        let mean_t = readings
            .iter()
            .map(|(t, _)| (t - first.0) as f64)
            .sum::<f64>()
            / n;
        let mean_m = readings.iter().map(|(_, m)| m).sum::<f64>() / n;
        let (mut covariance, mut variance) = (0.0, 0.0);
        for (t, m) in readings {
            let dt = (t - first.0) as f64 - mean_t;
            covariance += dt * (m - mean_m);
            variance += dt * dt;
        }
        let per_second = if variance > 0.0 {
            covariance / variance
        } else {
            0.0
        };
        Some(MemoryTrend {
            span_seconds,
            first_mb: first.1,
            last_mb: last.1,
            peak_mb: readings.iter().map(|(_, m)| *m).fold(f64::MIN, f64::max),
            growth_mb_per_hour: per_second * 3600.0,
            limit_mb: limit_mb.filter(|limit| *limit > 0.0),
        })
    }

    /// The rule of the module's documentation, with the numbers it used.
    pub fn verdict(&self) -> MemoryVerdict {
        let mb = |value: f64| format!("{:.0} MB", value);
        if self.span_seconds < MIN_SPAN_SECONDS {
            return MemoryVerdict::TooSoon(format!(
                "only {} min of memory readings: the rule needs an hour; check again later",
                self.span_seconds / 60
            ));
        }
        let (base, of_what) = match self.limit_mb {
            Some(limit) => (limit, format!("the {} limit", mb(limit))),
            None => (
                self.first_mb,
                "the first reading (the limit is unknown)".to_owned(),
            ),
        };
        let growth = self.growth_mb_per_hour / base * 100.0;
        let rule = format!(
            "stable means growing less than {STABLE_GROWTH_PERCENT}% of {of_what} per hour and staying {HEADROOM_PERCENT}% below the limit"
        );
        let seen = format!(
            "{} → {} over {} h, peak {}, {:+.1} MB per hour ({growth:+.1}% of {of_what})",
            mb(self.first_mb),
            mb(self.last_mb),
            self.span_seconds / 3600,
            mb(self.peak_mb),
            self.growth_mb_per_hour
        );
        let near_limit = self
            .limit_mb
            .is_some_and(|limit| self.peak_mb > limit * (1.0 - HEADROOM_PERCENT / 100.0));
        if growth >= STABLE_GROWTH_PERCENT {
            MemoryVerdict::Unstable(format!(
                "Memory keeps growing: {seen}; {rule}. Look for a leak, and restart the service before it reaches the limit."
            ))
        } else if near_limit {
            MemoryVerdict::Unstable(format!(
                "Memory came close to the limit: {seen}; {rule}. Give the service more memory, or find what holds it."
            ))
        } else {
            MemoryVerdict::Stable(format!("Memory is stable: {seen}; {rule}."))
        }
    }
}

/// How near a deploy or a person's restart a start must be to be expected.
pub const EXPLAINED_WITHIN_SECONDS: i64 = 15 * 60;

/// What the host says happened to the service, at a time (Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostEvent {
    /// A deploy started or ended.
    Deployed,
    /// A person restarted it (their name or email).
    RestartedBy(String),
    /// Render restarted it, or it failed or its hardware did: why, in words.
    Failed(String),
    /// An instance running now started.
    InstanceStarted,
    /// The health endpoint's `uptime` says the process started.
    ProcessStarted,
}

/// One start of the service the rule judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Start {
    pub at: i64,
    pub expected: bool,
    /// What happened, in words: "ran out of memory", "deploy".
    pub why: String,
}

/// Each start in `events`, judged by the module's rule, oldest first:
/// failures are unexpected; an instance or a process that started is
/// expected only near a deploy or a person's restart.
pub fn starts(events: &[(i64, HostEvent)]) -> Vec<Start> {
    let explained = |at: i64| {
        events.iter().find_map(|(when, event)| {
            let near = (when - at).abs() <= EXPLAINED_WITHIN_SECONDS;
            match event {
                HostEvent::Deployed if near => Some("a deploy".to_owned()),
                HostEvent::RestartedBy(who) if near => Some(format!("restarted by {who}")),
                _ => None,
            }
        })
    };
    let mut starts: Vec<Start> = events
        .iter()
        .filter_map(|(at, event)| {
            let start = |expected, why: String| {
                Some(Start {
                    at: *at,
                    expected,
                    why,
                })
            };
            match event {
                HostEvent::Deployed => None,
                HostEvent::RestartedBy(who) => start(true, format!("restarted by {who}")),
                HostEvent::Failed(why) => start(false, why.clone()),
                HostEvent::InstanceStarted | HostEvent::ProcessStarted => {
                    // A failure near it already counts this start.
                    let failed_near = events.iter().any(|(when, event)| {
                        matches!(event, HostEvent::Failed(_))
                            && (when - at).abs() <= EXPLAINED_WITHIN_SECONDS
                    });
                    if failed_near {
                        return None;
                    }
                    let what = if *event == HostEvent::InstanceStarted {
                        "an instance started"
                    } else {
                        "the process started (its uptime)"
                    };
                    match explained(*at) {
                        Some(by) => start(true, format!("{what} after {by}")),
                        None => start(
                            false,
                            format!("{what} with no deploy or restart by a person"),
                        ),
                    }
                }
            }
        })
        .collect();
    starts.sort_by_key(|start| start.at);
    // An instance and the process starting together are one start.
    starts.dedup_by(|later, earlier| {
        later.expected == earlier.expected
            && later.at - earlier.at <= EXPLAINED_WITHIN_SECONDS
            && !later.why.starts_with("restarted")
    });
    starts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_start_is_expected_only_near_a_deploy_or_a_person_s_restart() {
        let hour = 3600;
        let judged = starts(&[
            (hour, HostEvent::Deployed),
            (hour + 60, HostEvent::InstanceStarted),
            (hour + 90, HostEvent::ProcessStarted),
            (5 * hour, HostEvent::RestartedBy("ana@example.com".into())),
            (
                9 * hour,
                HostEvent::Failed("ran out of memory (512 MB)".into()),
            ),
            (9 * hour + 30, HostEvent::InstanceStarted),
            (12 * hour, HostEvent::ProcessStarted),
        ]);
        let seen: Vec<(i64, bool, &str)> = judged
            .iter()
            .map(|start| (start.at / hour, start.expected, start.why.as_str()))
            .collect();
        assert_eq!(
            seen,
            [
                (1, true, "an instance started after a deploy"),
                (5, true, "restarted by ana@example.com"),
                (9, false, "ran out of memory (512 MB)"),
                (
                    12,
                    false,
                    "the process started (its uptime) with no deploy or restart by a person"
                ),
            ]
        );
        assert_eq!(starts(&[(hour, HostEvent::Deployed)]), []);
    }

    fn readings(hours: i64, start_mb: f64, per_hour: f64) -> Vec<(i64, f64)> {
        (0..=hours * 12)
            .map(|n| (n * 300, start_mb + per_hour * n as f64 / 12.0))
            .collect()
    }

    #[test]
    fn flat_memory_is_stable_and_a_leak_is_not() {
        let flat = MemoryTrend::of(&readings(6, 200.0, 0.5), Some(512.0)).expect("a trend");
        assert!((flat.growth_mb_per_hour - 0.5).abs() < 1e-9);
        let MemoryVerdict::Stable(said) = flat.verdict() else {
            panic!("{:?}", flat.verdict())
        };
        assert!(said.contains("200 MB → 203 MB over 6 h"), "{said}");
        assert!(said.contains("+0.1% of the 512 MB limit"), "{said}");

        // 15 MB an hour of a 512 MB limit is 2.9%: a leak.
        let leak = MemoryTrend::of(&readings(6, 200.0, 15.0), Some(512.0)).expect("a trend");
        assert!(
            matches!(leak.verdict(), MemoryVerdict::Unstable(said) if said.contains("keeps growing"))
        );
        // One spike does not make a trend, but coming near the limit counts.
        let mut spike = readings(6, 200.0, 0.0);
        spike[30].1 = 480.0;
        let spiked = MemoryTrend::of(&spike, Some(512.0)).expect("a trend");
        assert!(
            matches!(spiked.verdict(), MemoryVerdict::Unstable(said) if said.contains("close to the limit"))
        );
    }

    #[test]
    fn without_an_hour_or_a_limit_the_rule_says_so() {
        let short = MemoryTrend::of(&readings(1, 200.0, 0.0)[..7], Some(512.0)).expect("a trend");
        assert!(matches!(short.verdict(), MemoryVerdict::TooSoon(said) if said.contains("30 min")));
        let unknown = MemoryTrend::of(&readings(3, 100.0, 3.0), None).expect("a trend");
        assert!(
            matches!(unknown.verdict(), MemoryVerdict::Unstable(said) if said.contains("first reading (the limit is unknown)"))
        );
        assert_eq!(MemoryTrend::of(&[(5, 1.0)], None), None);
    }
}
