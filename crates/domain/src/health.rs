//! Health sampling rules: when a URL is down or up again, when the service
//! restarted, and the uptime and latency percentiles of any window. Pure: the
//! proxy's sampler hands in samples, stamped by its clock.

use nanoserde::{DeBin, SerBin};
use serde::{Deserialize, Serialize};

/// Consecutive failures that mark a URL down.
pub const DOWN_AFTER: u32 = 3;
/// Consecutive successes that mark a down URL up again.
pub const UP_AFTER: u32 = 2;

/// One probe of one URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sample {
    /// Unix milliseconds.
    pub at: i64,
    /// Whether it answered 2xx with every service up.
    pub ok: bool,
    /// The HTTP status; 0 when nothing answered.
    pub status: u16,
    /// None when nothing answered.
    pub latency_ms: Option<u32>,
    /// The health answer's `uptime` in seconds, when it has one.
    pub uptime: Option<u64>,
    /// The services the answer reports as down, comma-separated, or why the
    /// probe failed.
    pub failing: String,
}

/// What a sample changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    /// The third failure in a row; `since` is the first of them (Unix ms).
    Down { since: i64 },
    /// The second success in a row after being down; down for `after_ms`.
    Up { after_ms: i64 },
    /// `uptime` went down: the service started again.
    Restarted {
        uptime_before: u64,
        uptime_after: u64,
    },
}

/// One URL's state, fed one sample at a time in time order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tracker {
    pub down: bool,
    /// Failures in a row so far.
    pub failures: u32,
    /// Successes in a row so far.
    pub successes: u32,
    /// The first failing sample of the current run of failures (Unix ms):
    /// "persists for more than 2 minutes" counts from here.
    pub failing_since: Option<i64>,
    /// When it went down (Unix ms).
    pub down_since: Option<i64>,
    pub last_uptime: Option<u64>,
}

impl Tracker {
    /// A tracker after a restart: down since `down_since` when the log
    /// says so, then brought up to date by the last samples, oldest first.
    /// Returns what those samples changed that the log does not hold yet.
    pub fn resume<'a>(
        down_since: Option<i64>,
        last: impl IntoIterator<Item = &'a Sample>,
    ) -> (Self, Vec<Transition>) {
        let mut tracker = Tracker {
            down: down_since.is_some(),
            down_since,
            ..Tracker::default()
        };
        let changes = last
            .into_iter()
            .flat_map(|sample| tracker.observe(sample))
            .collect();
        (tracker, changes)
    }

    /// Takes the next sample; returns what it changed.
    pub fn observe(&mut self, sample: &Sample) -> Vec<Transition> {
        let mut changes = Vec::new();
        if let Some(uptime) = sample.uptime {
            if let Some(before) = self.last_uptime.filter(|before| uptime < *before) {
                changes.push(Transition::Restarted {
                    uptime_before: before,
                    uptime_after: uptime,
                });
            }
            self.last_uptime = Some(uptime);
        }
        if sample.ok {
            self.failures = 0;
            self.failing_since = None;
            self.successes += 1;
            if self.down && self.successes >= UP_AFTER {
                self.down = false;
                let since = self.down_since.take().unwrap_or(sample.at);
                changes.push(Transition::Up {
                    after_ms: sample.at - since,
                });
            }
        } else {
            self.successes = 0;
            self.failures += 1;
            let since = *self.failing_since.get_or_insert(sample.at);
            if !self.down && self.failures >= DOWN_AFTER {
                self.down = true;
                self.down_since = Some(since);
                changes.push(Transition::Down { since });
            }
        }
        changes
    }
}

/// Uptime and latency over a window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, SerBin, DeBin)]
pub struct Stats {
    pub samples: usize,
    /// Ok samples per hundred; none without samples.
    pub uptime_percent: Option<f64>,
    /// Over the samples that were answered; none without one.
    pub p50_ms: Option<u32>,
    pub p95_ms: Option<u32>,
    pub p99_ms: Option<u32>,
}

impl Stats {
    pub fn of<'a>(samples: impl IntoIterator<Item = &'a Sample>) -> Stats {
        let mut count = 0;
        let mut ok = 0;
        let mut latencies = Vec::new();
        for sample in samples {
            count += 1;
            ok += usize::from(sample.ok);
            latencies.extend(sample.latency_ms);
        }
        latencies.sort_unstable();
        Stats {
            samples: count,
            uptime_percent: (count > 0).then(|| ok as f64 * 100.0 / count as f64),
            p50_ms: percentile(&latencies, 50),
            p95_ms: percentile(&latencies, 95),
            p99_ms: percentile(&latencies, 99),
        }
    }
}

/// When the trailing run of failures of `samples` (oldest first) began, if
/// the last sample failed: "failing for more than 2 minutes" counts from
/// here, not from when someone noticed.
pub fn failing_since(samples: &[Sample]) -> Option<i64> {
    samples
        .iter()
        .rev()
        .take_while(|sample| !sample.ok)
        .last()
        .map(|sample| sample.at)
}

/// A point of the latency chart: the samples of one slice of the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, SerBin, DeBin)]
pub struct Point {
    /// The first sample's time (Unix ms).
    pub at: i64,
    /// Whether every sample of the slice was ok.
    pub ok: bool,
    /// The slowest answer of the slice.
    pub latency_ms: Option<u32>,
}

/// At most `slices` points for a chart of samples from `from` to `to` (Unix
/// ms), time-ordered: a day of 30-second samples is 2,880 of them, more than
/// a chart has pixels. A failure in a slice is kept, never averaged away.
pub fn downsample(samples: &[Sample], from: i64, to: i64, slices: usize) -> Vec<Point> {
    let width = ((to - from).max(1) as u64).div_ceil(slices.max(1) as u64) as i64;
    let mut points: Vec<Point> = Vec::new();
    let mut current = None;
    for sample in samples {
        let slice = (sample.at - from).div_euclid(width);
        match points.last_mut() {
            Some(point) if current == Some(slice) => {
                point.ok &= sample.ok;
                point.latency_ms = point.latency_ms.max(sample.latency_ms);
            }
            _ => {
                current = Some(slice);
                points.push(Point {
                    at: sample.at,
                    ok: sample.ok,
                    latency_ms: sample.latency_ms,
                });
            }
        }
    }
    points
}

/// `GET /api/projects/{id}/health?window=`: the sampler's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, SerBin, DeBin)]
pub struct Report {
    /// `1h`, `24h` or `run`.
    pub window: String,
    /// RFC 3339.
    pub from: String,
    pub to: String,
    /// The window's start, Unix ms (its end is `now_ms`).
    pub from_ms: i64,
    /// The server's clock (Unix ms) and how many times faster than real time
    /// it runs (1, but in tests): the app's countdowns follow it.
    pub now_ms: i64,
    pub clock_speed: u32,
    pub sample_interval_seconds: u64,
    /// Every URL together.
    pub overall: Stats,
    pub urls: Vec<UrlReport>,
    /// Downs, ups and restarts within the window, oldest first.
    pub transitions: Vec<TransitionReport>,
    /// Sentry's errors per hour, drawn over the run (or the last 24 hours
    /// before it), or why Sentry could not say: the Watch tab's errors chart.
    pub errors: crate::chart::Chart,
    /// The error watch's share of failed transactions, each round of the
    /// window; an empty drawing before its first reading.
    pub failures: crate::chart::Chart,
    /// The host's memory over the window, with its limit (Render's
    /// metrics), or why there is none.
    pub memory: crate::chart::Chart,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, SerBin, DeBin)]
pub struct UrlReport {
    pub url: String,
    /// `up`, `down`, or `unknown` before its first sample.
    pub state: String,
    /// When the current state began (RFC 3339), once known.
    pub since: Option<String>,
    pub stats: Stats,
    /// When its current run of failures began (Unix ms), if it is failing.
    pub failing_since: Option<i64>,
    /// The chart's points.
    pub points: Vec<Point>,
    /// The points drawn, in the project's zone.
    pub chart: crate::chart::Chart,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, SerBin, DeBin)]
pub struct TransitionReport {
    pub url: String,
    /// `down`, `up` or `restarted`.
    pub kind: String,
    pub at: String,
    pub detail: String,
}

/// The nearest-rank percentile of sorted values: the smallest value with at
/// least `p`% of the values at or below it.
pub fn percentile(sorted: &[u32], p: u32) -> Option<u32> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (sorted.len() * p as usize).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(at: i64, ok: bool) -> Sample {
        Sample {
            at,
            ok,
            status: if ok { 200 } else { 503 },
            latency_ms: Some(40),
            uptime: None,
            failing: if ok { String::new() } else { "database".into() },
        }
    }

    #[test]
    fn three_failures_in_a_row_mark_down_and_two_successes_mark_up() {
        let mut tracker = Tracker::default();
        assert_eq!(tracker.observe(&sample(0, false)), []);
        assert_eq!(
            tracker.observe(&sample(30_000, true)),
            [],
            "one success resets"
        );
        assert_eq!(tracker.observe(&sample(60_000, false)), []);
        assert_eq!(tracker.observe(&sample(90_000, false)), []);
        assert_eq!(tracker.failing_since, Some(60_000));
        assert_eq!(
            tracker.observe(&sample(120_000, false)),
            [Transition::Down { since: 60_000 }],
            "down since the first of the three failures"
        );
        assert_eq!(tracker.observe(&sample(150_000, false)), [], "said once");
        assert_eq!(tracker.observe(&sample(180_000, true)), []);
        assert!(tracker.down, "one success is not enough");
        assert_eq!(tracker.failing_since, None);
        assert_eq!(
            tracker.observe(&sample(210_000, true)),
            [Transition::Up { after_ms: 150_000 }]
        );
        assert!(!tracker.down);
    }

    #[test]
    fn a_restart_resumes_from_the_log_and_the_last_samples() {
        // Down since 30 s by the log; the last three samples failed too.
        let failing: Vec<Sample> = (2..5).map(|i| sample(i * 30_000, false)).collect();
        let (tracker, changes) = Tracker::resume(Some(30_000), &failing);
        assert!(tracker.down);
        assert_eq!(tracker.down_since, Some(30_000));
        assert_eq!(changes, [], "nothing the log does not hold");
        // Up by the log, but three failures were stored and not logged
        // before the restart: the change is said now.
        let (tracker, changes) = Tracker::resume(None, &failing);
        assert!(tracker.down);
        assert_eq!(changes, [Transition::Down { since: 60_000 }]);
        // Down by the log, and it recovered before the restart.
        let recovered: Vec<Sample> = (5..7).map(|i| sample(i * 30_000, true)).collect();
        let (tracker, changes) = Tracker::resume(Some(30_000), &recovered);
        assert!(!tracker.down);
        assert_eq!(changes, [Transition::Up { after_ms: 150_000 }]);
    }

    #[test]
    fn uptime_going_down_is_a_restart() {
        let mut tracker = Tracker::default();
        let at = |at, uptime| Sample {
            uptime: Some(uptime),
            ..sample(at, true)
        };
        assert_eq!(tracker.observe(&at(0, 100)), []);
        assert_eq!(tracker.observe(&at(30_000, 130)), []);
        assert_eq!(
            tracker.observe(&at(60_000, 5)),
            [Transition::Restarted {
                uptime_before: 130,
                uptime_after: 5
            }]
        );
        // A sample without the field neither restarts nor forgets.
        assert_eq!(tracker.observe(&sample(90_000, true)), []);
        assert_eq!(tracker.observe(&at(120_000, 65)), []);
    }

    #[test]
    fn a_chart_gets_at_most_its_slices_and_keeps_every_failure() {
        let mut samples: Vec<Sample> = (0..2880).map(|i| sample(i * 30_000, true)).collect();
        samples[1000].ok = false;
        samples[1001].latency_ms = Some(950);
        let points = downsample(&samples, 0, 2880 * 30_000, 288);
        assert_eq!(points.len(), 288);
        assert_eq!(points.iter().filter(|p| !p.ok).count(), 1);
        assert_eq!(points[100].at, 1000 * 30_000);
        assert!(!points[100].ok);
        assert_eq!(points[100].latency_ms, Some(950));
        assert_eq!(points[99].latency_ms, Some(40));
        assert_eq!(downsample(&samples[..3], 0, 90_000, 288).len(), 3);
        assert!(downsample(&[], 0, 1, 10).is_empty());
    }

    #[test]
    fn failing_counts_from_the_first_of_the_last_failures() {
        let mut samples: Vec<Sample> = (0..6).map(|i| sample(i * 30_000, i < 2)).collect();
        assert_eq!(failing_since(&samples), Some(60_000));
        samples.push(sample(180_000, true));
        assert_eq!(failing_since(&samples), None);
        assert_eq!(failing_since(&[]), None);
    }

    #[test]
    fn percentiles_are_nearest_rank_and_uptime_counts_every_sample() {
        let sorted: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&sorted, 50), Some(50));
        assert_eq!(percentile(&sorted, 95), Some(95));
        assert_eq!(percentile(&sorted, 99), Some(99));
        assert_eq!(percentile(&[7], 99), Some(7));
        assert_eq!(percentile(&[1, 2, 3], 50), Some(2));
        assert_eq!(percentile(&[], 50), None);

        let mut samples: Vec<Sample> = (0..3).map(|i| sample(i, true)).collect();
        samples.push(Sample {
            latency_ms: None,
            ..sample(4, false)
        });
        samples[0].latency_ms = Some(10);
        samples[2].latency_ms = Some(900);
        let stats = Stats::of(&samples);
        assert_eq!(stats.samples, 4);
        assert_eq!(stats.uptime_percent, Some(75.0));
        assert_eq!(stats.p50_ms, Some(40), "an unanswered probe has no latency");
        assert_eq!(stats.p99_ms, Some(900));
        assert_eq!(Stats::of(&[]), Stats::default());
    }
}
