//! The watch's charts for one project, drawn by `domain::chart` with what only
//! the proxy knows: the project's zone for the time axis, the watch's start
//! for its hours, the playbook's targets, and when the next point will come.
//! The Watch tab and the printed report show the same markup.

use domain::chart::{
    Chart, Frame, Tick, errors_chart, failure_chart, hours_window, latency_chart, memory_chart,
    tick_times,
};
use domain::check::CheckKind;
use domain::errors::ErrorPoint;
use domain::health::Point;
use domain::playbook::{Playbook, Unit};
use domain::run::RunState;
use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::clock::local_time;

/// One window of one project's charts.
#[derive(Debug)]
pub struct Charts<'a> {
    playbook: &'a Playbook,
    zone: &'a str,
    from_ms: i64,
    to_ms: i64,
    ticks: Vec<Tick>,
}

impl<'a> Charts<'a> {
    /// Charts from `from_ms` to `to_ms` (Unix ms) of a project whose clock
    /// is in `zone` (an IANA name).
    pub fn new(
        playbook: &'a Playbook,
        zone: &'a str,
        run: &RunState,
        from_ms: i64,
        to_ms: i64,
    ) -> Self {
        let name = zone;
        let zone = TimeZone::get(name).unwrap_or(TimeZone::UTC);
        let start = run.watch.as_ref().map(|watch| watch.schedule.start);
        let (from, to) = (from_ms.div_euclid(1000), to_ms.div_euclid(1000));
        let offset =
            Timestamp::from_second(from).map_or(0, |at| i64::from(zone.to_offset(at).seconds()));
        let mut last_day = None;
        let ticks = tick_times(from, to, start, offset)
            .into_iter()
            .map(|at| {
                let local = Timestamp::from_second(at).map(|t| t.to_zoned(zone.clone()));
                let day = local.as_ref().ok().map(jiff::Zoned::date);
                // The weekday where the day changes, and on the first tick of
                // a chart that spans days.
                let new_day = last_day.is_some_and(|last| Some(last) != day)
                    || (last_day.is_none() && to - from > 12 * 3600);
                last_day = day;
                let format = if new_day { "%a %H:%M" } else { "%H:%M" };
                Tick {
                    at,
                    label: local.map_or_else(|_| String::new(), |t| t.strftime(format).to_string()),
                    hour: start
                        .filter(|start| at >= *start && (at - start) % 3600 == 0)
                        .map(|start| (at - start) / 3600),
                }
            })
            .collect();
        Charts {
            playbook,
            zone: name,
            from_ms,
            to_ms,
            ticks,
        }
    }

    /// Charts of Sentry's hourly counts: from the first hour counted to the
    /// end of the hour `now_ms` is in.
    pub fn of_hours(
        playbook: &'a Playbook,
        zone: &'a str,
        run: &RunState,
        hours: &[(i64, u64)],
        now_ms: i64,
    ) -> Self {
        let (from_ms, to_ms) = hours_window(hours, now_ms);
        Charts::new(playbook, zone, run, from_ms, to_ms)
    }

    fn frame<'b>(&'b self, time: &'b dyn Fn(i64) -> String) -> Frame<'b> {
        Frame {
            from_ms: self.from_ms,
            to_ms: self.to_ms,
            ticks: &self.ticks,
            time,
        }
    }

    /// `url`'s response time; `sampling` is the sampler's interval while the
    /// watch runs, for the empty chart's promise.
    pub fn latency(&self, url: &str, points: &[Point], sampling: Option<u64>) -> Chart {
        let empty = match sampling {
            Some(seconds) => format!("No samples yet: the first comes within {seconds} s."),
            None => {
                "No samples in this window: the proxy samples the health URLs while the watch runs."
                    .to_owned()
            }
        };
        let time = |at| local_time(at, self.zone);
        let target = self
            .playbook
            .chart_target(CheckKind::HealthLatency, Unit::Ms);
        latency_chart(url, points, &self.frame(&time), target, &empty)
    }

    /// The error watch's share of failed transactions, each round (Unix
    /// seconds); the playbook's error-rate target as the line.
    pub fn failures(&self, points: &[ErrorPoint]) -> Chart {
        let time = |at| local_time(at, self.zone);
        let rounds: Vec<(i64, Option<f64>)> = points
            .iter()
            .map(|point| {
                let seen = (point.transactions > 0).then_some(point.failure_percent);
                (point.at * 1000, seen)
            })
            .collect();
        let target = self
            .playbook
            .chart_target(CheckKind::SentryErrorRate, Unit::Percent);
        let empty = "No failed transactions measured yet: the error watch reads Sentry every few minutes while the watch runs, where the service sends transactions.";
        failure_chart(&rounds, &self.frame(&time), target, empty)
    }

    /// The host's memory (Unix ms, MB), with its limit as the line; or why
    /// Render could not say.
    pub fn memory(&self, read: &crate::services::MemoryReadings) -> Chart {
        let time = |at| local_time(at, self.zone);
        match read {
            Ok((readings, limit)) => memory_chart(
                readings,
                &self.frame(&time),
                *limit,
                "Render has no memory readings of the service in this window yet.",
            ),
            Err(why) => Chart {
                svg: String::new(),
                caption: why.clone(),
            },
        }
    }

    /// Sentry's errors per hour.
    pub fn errors(&self, hours: &[(i64, u64)]) -> Chart {
        let time = |at| local_time(at, self.zone);
        let empty = format!(
            "Sentry counts errors by the hour: the first count comes at {}.",
            time(self.to_ms.div_euclid(1000))
        );
        let target = self
            .playbook
            .chart_target(CheckKind::SentryErrorCount, Unit::PerHour);
        errors_chart(hours, &self.frame(&time), target, &empty)
    }
}

#[cfg(test)]
mod tests {
    use domain::run::WatchRun;
    use domain::watch::Schedule;

    use super::*;

    #[test]
    fn the_time_axis_reads_the_projects_clock_and_the_watchs_hours() {
        let playbook = Playbook::default_launch().expect("the shipped playbook is valid");
        let start = 1_795_000_000; // Wed 2026-11-18 11:06:40 UTC, 12:06:40 CET
        let run = RunState {
            watch: Some(WatchRun {
                schedule: Schedule {
                    start,
                    grace_seconds: 900,
                },
                by: "Ana".to_owned(),
                at: String::new(),
            }),
            ..RunState::default()
        };
        let paris = "Europe/Paris";
        let charts = Charts::new(
            &playbook,
            paris,
            &run,
            start * 1000,
            (start + 24 * 3600) * 1000,
        );
        let labels: Vec<(&str, Option<i64>)> = charts
            .ticks
            .iter()
            .map(|tick| (tick.label.as_str(), tick.hour))
            .collect();
        assert_eq!(
            labels,
            [
                ("Wed 12:06", Some(0)),
                ("16:06", Some(4)),
                ("20:06", Some(8)),
                ("Thu 00:06", Some(12)),
                ("04:06", Some(16)),
                ("08:06", Some(20)),
                ("12:06", Some(24)),
            ]
        );
        // Before a watch: round hours of the project's clock.
        let idle = RunState::default();
        let hour = Charts::new(&playbook, paris, &idle, start * 1000, (start + 3600) * 1000);
        let labels: Vec<&str> = hour.ticks.iter().map(|tick| tick.label.as_str()).collect();
        assert_eq!(labels, ["12:15", "12:30", "12:45", "13:00"]);
        let chart = hour.latency("https://api.example.com/health", &[], Some(30));
        assert_eq!(
            chart.caption,
            "No samples yet: the first comes within 30 s."
        );
        assert!(chart.svg.contains(">target 100 ms</text>"), "{}", chart.svg);
        let errors = Charts::of_hours(&playbook, paris, &idle, &[], start * 1000).errors(&[]);
        assert_eq!(
            errors.caption,
            "Sentry counts errors by the hour: the first count comes at Wed 13:00 CET."
        );
    }
}
