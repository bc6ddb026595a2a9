//! Snapshots: every routine target judged against its bound, from what the
//! live checks measured, in the style of Gatus conditions
//! (`Health endpoint 143 ms > 100 ms target`, `Error rate 0.4% < 1%`).
//!
//! A target whose measure does not exist (no transactions, so no error rate)
//! is judged by the measure used instead when the playbook has a bound for
//! it, and is otherwise "not measurable": never passed by default.

use nanoserde::{DeBin, SerBin};
use serde::{Deserialize, Serialize};

use crate::playbook::{Bound, Decimal, Playbook, Target, Unit};

/// A value a live check measured, and how it was measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, SerBin, DeBin)]
pub struct Measure {
    pub value: f64,
    pub unit: Unit,
    /// What was measured, for people: "failure_rate() of transactions, last hour".
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, SerBin, DeBin)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Passed,
    Failed,
    NotMeasurable,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Passed => "passed",
            Verdict::Failed => "failed",
            Verdict::NotMeasurable => "not_measurable",
        }
    }
}

/// One target at one moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, SerBin, DeBin)]
pub struct Judgment {
    pub target: String,
    pub label: String,
    pub status: Verdict,
    /// The value seen, in the unit of `bound`; none when not measurable.
    pub observed: Option<f64>,
    /// What it was judged against: the target's bound, or the bound of the
    /// measure used instead.
    pub bound: Bound,
    /// The measure used; for a substitute, it says so.
    pub measure: String,
}

impl Judgment {
    /// `Error rate 0.4% < 1%` when it holds; `Health endpoint 143 ms > 100 ms
    /// target` when it does not (the relation actually seen).
    pub fn condition(&self) -> String {
        let Some(observed) = self.observed else {
            return format!("{}: not measurable ({})", self.label, self.measure);
        };
        let seen = with_unit(observed, self.bound.unit);
        if self.status == Verdict::Passed {
            return format!("{} {seen} {}", self.label, self.bound);
        }
        let relation = if observed > self.bound.value {
            ">"
        } else if observed < self.bound.value {
            "<"
        } else {
            "="
        };
        let limit = with_unit(self.bound.value, self.bound.unit);
        format!("{} {seen} {relation} {limit} target", self.label)
    }
}

/// `0.4%`, `143 ms`, `3 per hour`, `2`.
pub fn with_unit(value: f64, unit: Unit) -> String {
    let number = Decimal(value);
    match unit {
        Unit::Percent => format!("{number}%"),
        Unit::Ms => format!("{number} ms"),
        Unit::PerHour => format!("{number} per hour"),
        Unit::Count => number.to_string(),
    }
}

/// Judges `target` by what its check measured (`None` when it measured
/// nothing; `why_not` then says why, in the check's words).
pub fn judge(
    playbook: &Playbook,
    target: &Target,
    measured: Option<&Measure>,
    why_not: &str,
) -> Judgment {
    let judgment = |status, observed, bound, measure: String| Judgment {
        target: target.id.clone(),
        label: target.label.clone(),
        status,
        observed,
        bound,
        measure,
    };
    let Some(measure) = measured else {
        let why = if why_not.is_empty() {
            "its check measured nothing"
        } else {
            why_not
        };
        return judgment(Verdict::NotMeasurable, None, target.bound, why.to_owned());
    };
    let verdict = |bound: Bound| {
        if measure.value.is_finite() && bound.holds(measure.value) {
            Verdict::Passed
        } else {
            Verdict::Failed
        }
    };
    if measure.unit == target.bound.unit {
        return judgment(
            verdict(target.bound),
            Some(measure.value),
            target.bound,
            measure.name.clone(),
        );
    }
    match substitute_bound(playbook, target, measure.unit) {
        Some(bound) => judgment(
            verdict(bound),
            Some(measure.value),
            bound,
            format!("{} instead", measure.name),
        ),
        None => judgment(
            Verdict::NotMeasurable,
            None,
            target.bound,
            format!(
                "measured {} ({}), which this target has no bound for",
                with_unit(measure.value, measure.unit),
                measure.name
            ),
        ),
    }
}

/// The bound a substitute measure is judged by: that of the target beside
/// `target` (in the same routine check) which has the measure's unit. The
/// error rate's beside the errors per hour, in the seeds.
fn substitute_bound(playbook: &Playbook, target: &Target, unit: Unit) -> Option<Bound> {
    playbook
        .watch
        .routine
        .iter()
        .find(|routine| routine.targets.iter().any(|t| t.id == target.id))?
        .targets
        .iter()
        .find(|beside| beside.bound.unit == unit)
        .map(|beside| beside.bound)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn playbook() -> Playbook {
        Playbook::default_launch().expect("the launch playbook")
    }

    fn measure(value: f64, unit: Unit, name: &str) -> Measure {
        Measure {
            value,
            unit,
            name: name.to_owned(),
        }
    }

    #[test]
    fn a_measure_in_the_targets_unit_is_judged_against_its_bound() {
        let playbook = playbook();
        let latency = playbook.target("health-latency").expect("target");
        let slow = judge(
            &playbook,
            latency,
            Some(&measure(143.0, Unit::Ms, "GET /health")),
            "",
        );
        assert_eq!(slow.status, Verdict::Failed);
        assert_eq!(slow.condition(), "Health endpoint 143 ms > 100 ms target");
        let fast = judge(
            &playbook,
            latency,
            Some(&measure(42.0, Unit::Ms, "GET /health")),
            "",
        );
        assert_eq!(fast.status, Verdict::Passed);
        assert_eq!(fast.condition(), "Health endpoint 42 ms < 100 ms");

        let rate = playbook.target("error-rate").expect("target");
        let low = judge(
            &playbook,
            rate,
            Some(&measure(0.4, Unit::Percent, "failure_rate()")),
            "",
        );
        assert_eq!(low.condition(), "Error rate 0.4% < 1%");
        assert_eq!(low.observed, Some(0.4));
        // On the bound is not below it.
        let at = judge(
            &playbook,
            rate,
            Some(&measure(1.0, Unit::Percent, "failure_rate()")),
            "",
        );
        assert_eq!(at.status, Verdict::Failed);
        assert_eq!(at.condition(), "Error rate 1% = 1% target");
    }

    #[test]
    fn without_transactions_the_error_rate_is_judged_by_errors_per_hour_and_says_so() {
        let playbook = playbook();
        let rate = playbook.target("error-rate").expect("target");
        let substitute = measure(3.0, Unit::PerHour, "errors in the last hour");
        let judged = judge(&playbook, rate, Some(&substitute), "");
        assert_eq!(judged.status, Verdict::Passed);
        assert_eq!(judged.measure, "errors in the last hour instead");
        assert_eq!(judged.bound.unit, Unit::PerHour);
        assert_eq!(judged.condition(), "Error rate 3 per hour < 5 per hour");
        let many = judge(
            &playbook,
            rate,
            Some(&measure(9.0, Unit::PerHour, "errors")),
            "",
        );
        assert_eq!(many.status, Verdict::Failed);
    }

    #[test]
    fn a_target_without_a_measure_or_a_bound_for_it_is_not_measurable_never_passed() {
        let playbook = playbook();
        let p99 = playbook.target("calls-latency").expect("target");
        let none = judge(&playbook, p99, None, "no transaction is mapped to calls");
        assert_eq!(none.status, Verdict::NotMeasurable);
        assert_eq!(none.observed, None);
        assert_eq!(
            none.condition(),
            "Calls endpoint: not measurable (no transaction is mapped to calls)"
        );
        // Performance has no count target: a count cannot stand in for a latency.
        let odd = judge(
            &playbook,
            p99,
            Some(&measure(4.0, Unit::Count, "issues")),
            "",
        );
        assert_eq!(odd.status, Verdict::NotMeasurable);
        assert!(odd.measure.contains("no bound"), "{}", odd.measure);
        let nan = judge(
            &playbook,
            p99,
            Some(&measure(f64::NAN, Unit::Ms, "p99")),
            "",
        );
        assert_eq!(nan.status, Verdict::Failed);
    }
}
