//! Errors watched between checkpoints: while a watch runs, the proxy reads
//! the share of failed transactions of each round (every 5 minutes by
//! default). These rules turn those readings into what people act on: the
//! rate of each clock hour of the run (weighted by its transactions), its
//! errors, and when the rate crosses an escalation's threshold.

use crate::playbook::{Bound, Decimal};

/// One round's reading of a project: the share of its transactions that
/// failed since the round before.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ErrorPoint {
    /// Unix seconds: the end of the window read.
    pub at: i64,
    pub window_seconds: u32,
    pub transactions: u64,
    /// The share that failed, in percent.
    pub failure_percent: f64,
    /// Accepted errors in the clock hour under way at `at`, so far; `None`
    /// when Sentry could not say.
    pub errors_this_hour: Option<u64>,
}

/// The failure rate of one clock hour of the run, from its rounds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HourRate {
    /// Unix seconds of the hour's start.
    pub hour: i64,
    pub transactions: u64,
    pub failure_percent: f64,
}

impl HourRate {
    /// `1.8% of 1240 transactions`.
    pub fn describe(&self) -> String {
        format!(
            "{}% of {} transactions",
            Decimal((self.failure_percent * 100.0).round() / 100.0),
            self.transactions
        )
    }
}

/// Each clock hour that had transactions, oldest first: the failed share of
/// all its rounds' transactions together, so a quiet round weighs little.
pub fn hourly_rates(points: &[ErrorPoint]) -> Vec<HourRate> {
    let mut hours: Vec<(i64, u64, f64)> = Vec::new();
    for point in points.iter().filter(|point| point.transactions > 0) {
        // A window ending on the hour belongs to the hour it measured.
        let hour = (point.at - 1).div_euclid(3600) * 3600;
        let failed = point.failure_percent / 100.0 * point.transactions as f64;
        match hours.iter_mut().find(|(start, _, _)| *start == hour) {
            Some((_, transactions, failures)) => {
                *transactions += point.transactions;
                *failures += failed;
            }
            None => hours.push((hour, point.transactions, failed)),
        }
    }
    hours.sort_by_key(|(hour, _, _)| *hour);
    hours
        .into_iter()
        .map(|(hour, transactions, failed)| HourRate {
            hour,
            transactions,
            failure_percent: failed / transactions as f64 * 100.0,
        })
        .collect()
}

/// Sentry's errors of each clock hour the rounds read, oldest first: the
/// hour's latest count (its rounds count the same hour so far).
pub fn hourly_errors(points: &[ErrorPoint]) -> Vec<(i64, u64)> {
    let mut hours: Vec<(i64, u64)> = Vec::new();
    for point in points {
        let Some(errors) = point.errors_this_hour else {
            continue;
        };
        let hour = point.at.div_euclid(3600) * 3600;
        match hours.iter_mut().find(|(start, _)| *start == hour) {
            Some((_, count)) => *count = (*count).max(errors),
            None => hours.push((hour, errors)),
        }
    }
    hours.sort_by_key(|(hour, _)| *hour);
    hours
}

/// Whether a reading is beyond an escalation's `threshold` ("> 5%"): `None`
/// when the round saw no transaction, so it tells nothing either way.
pub fn beyond(threshold: &Bound, point: &ErrorPoint) -> Option<bool> {
    (point.transactions > 0).then(|| threshold.holds(point.failure_percent))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playbook::{Comparison, Unit};

    fn point(at: i64, transactions: u64, failure_percent: f64) -> ErrorPoint {
        ErrorPoint {
            at,
            window_seconds: 300,
            transactions,
            failure_percent,
            errors_this_hour: None,
        }
    }

    #[test]
    fn an_hour_s_errors_are_its_latest_count() {
        let hour = 1_795_000_000 - 1_795_000_000 % 3600;
        let counted = |at: i64, errors: Option<u64>| ErrorPoint {
            errors_this_hour: errors,
            ..point(at, 0, 0.0)
        };
        let points = [
            counted(hour + 300, Some(2)),
            counted(hour + 600, Some(5)),
            counted(hour + 900, None),
            // The next hour counts from zero again.
            counted(hour + 3600, Some(1)),
        ];
        assert_eq!(hourly_errors(&points), [(hour, 5), (hour + 3600, 1)]);
    }

    #[test]
    fn an_hour_s_rate_weighs_each_round_by_its_transactions() {
        let hour = 1_795_000_000 - 1_795_000_000 % 3600;
        let points = [
            point(hour + 300, 900, 0.0),
            point(hour + 600, 100, 10.0),
            // Ends on the next hour: still this one's.
            point(hour + 3600, 0, 50.0),
            point(hour + 3900, 10, 20.0),
        ];
        let hours = hourly_rates(&points);
        assert_eq!(hours.len(), 2, "{hours:?}");
        assert_eq!(hours[0].hour, hour);
        assert_eq!(hours[0].transactions, 1000);
        assert!((hours[0].failure_percent - 1.0).abs() < 1e-9);
        assert_eq!(hours[1].hour, hour + 3600);
        assert_eq!(hours[0].describe(), "1% of 1000 transactions");
    }

    #[test]
    fn a_round_without_transactions_tells_nothing_about_the_threshold() {
        let threshold = Bound {
            comparison: Comparison::Above,
            value: 5.0,
            unit: Unit::Percent,
        };
        assert_eq!(beyond(&threshold, &point(0, 40, 7.5)), Some(true));
        assert_eq!(beyond(&threshold, &point(0, 40, 5.0)), Some(false));
        assert_eq!(beyond(&threshold, &point(0, 0, 0.0)), None);
    }
}
