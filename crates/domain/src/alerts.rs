//! Recognising the alert rules the seeds ask for (seed 000's three) in
//! whatever form a Sentry server keeps them: by their name, or by their
//! condition.

use crate::playbook::Decimal;

/// One of the seed's alert rules, as the playbook names it (`rule = "…"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedRule {
    /// "High Error Rate Alert": error rate above 5% over 5 minutes.
    HighErrorRate,
    /// "New Production Issue": a new issue is created.
    NewIssue,
    /// "Error Rate Spike": the error rate rises by 50% within 10 minutes.
    ErrorSpike,
}

/// Sentry's issue-alert condition for "a new issue is created".
pub const FIRST_SEEN_CONDITION: &str =
    "sentry.rules.conditions.first_seen_event.FirstSeenEventCondition";

impl SeedRule {
    pub fn from_param(name: &str) -> Option<SeedRule> {
        match name {
            "high_error_rate" => Some(SeedRule::HighErrorRate),
            "new_issue" => Some(SeedRule::NewIssue),
            "error_spike" => Some(SeedRule::ErrorSpike),
            _ => None,
        }
    }

    /// The name the seed gives the rule.
    pub fn name(self) -> &'static str {
        match self {
            SeedRule::HighErrorRate => "High Error Rate Alert",
            SeedRule::NewIssue => "New Production Issue",
            SeedRule::ErrorSpike => "Error Rate Spike",
        }
    }

    /// The seed's condition, in words.
    pub fn condition(self) -> &'static str {
        match self {
            SeedRule::HighErrorRate => "error rate > 5% over 5 minutes",
            SeedRule::NewIssue => "a new issue is created",
            SeedRule::ErrorSpike => "error rate up 50% within 10 minutes",
        }
    }

    /// Whether the rule is a metric alert (else an issue alert).
    pub fn is_metric(self) -> bool {
        !matches!(self, SeedRule::NewIssue)
    }

    pub fn named(self, name: &str) -> bool {
        name.trim().eq_ignore_ascii_case(self.name())
    }
}

/// What a metric alert rule says, whichever API it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricRule {
    pub name: String,
    /// `failure_rate()`, `count()`, …
    pub aggregate: String,
    pub time_window_minutes: u32,
    /// Alerts when the value goes above (true) or below the threshold.
    pub above: bool,
    /// The critical trigger's threshold.
    pub threshold: Option<f64>,
    /// Minutes compared against, for a percent-change alert.
    pub comparison_delta: Option<u32>,
}

impl MetricRule {
    /// Whether the rule watches what the seed rule does.
    pub fn does(&self, seed: SeedRule) -> bool {
        let rate = self.aggregate.contains("failure_rate()");
        // A failure rate threshold is a fraction in some servers and a percentage in others.
        let threshold_is = |percent: f64| {
            self.threshold
                .is_some_and(|t| (t - percent).abs() < 1e-9 || (t - percent / 100.0).abs() < 1e-9)
        };
        match seed {
            SeedRule::HighErrorRate => {
                rate && self.above
                    && self.comparison_delta.is_none()
                    && self.time_window_minutes == 5
                    && threshold_is(5.0)
            }
            SeedRule::ErrorSpike => {
                self.above
                    && self.comparison_delta.is_some()
                    && self.time_window_minutes == 10
                    && self
                        .threshold
                        .is_some_and(|t| (t - 50.0).abs() < 1e-9 || (t - 150.0).abs() < 1e-9)
            }
            SeedRule::NewIssue => false,
        }
    }

    /// The rule's condition, in words.
    pub fn describe(&self) -> String {
        let threshold = self
            .threshold
            .map_or_else(|| "?".to_owned(), |t| Decimal(t).to_string());
        match self.comparison_delta {
            Some(delta) => format!(
                "{} {} {threshold}% compared with {delta} minutes before, over {} minutes",
                self.aggregate,
                if self.above { "up" } else { "down" },
                self.time_window_minutes
            ),
            None => format!(
                "{} {} {threshold} over {} minutes",
                self.aggregate,
                if self.above { ">" } else { "<" },
                self.time_window_minutes
            ),
        }
    }
}

/// An issue alert rule: its name and its conditions' ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueRule {
    pub name: String,
    pub conditions: Vec<String>,
}

impl IssueRule {
    pub fn does(&self, seed: SeedRule) -> bool {
        seed == SeedRule::NewIssue
            && self
                .conditions
                .iter()
                .any(|id| id == FIRST_SEEN_CONDITION || id == "first_seen_event")
    }
}

/// Sentry's issue-alert condition for "an issue changes from resolved to unresolved".
pub const REGRESSION_CONDITION: &str =
    "sentry.rules.conditions.regression_event.RegressionEventCondition";

/// A rule Watchpost can create, as Sentry's alert APIs express it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RuleSpec {
    Issue(IssueSpec),
    Metric(MetricSpec),
}

/// An issue alert: a new (or, with `regressions`, a regressed) issue,
/// optionally only when its message contains one of `message_contains`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IssueSpec {
    pub name: &'static str,
    pub regressions: bool,
    pub message_contains: &'static [&'static str],
    /// Minutes between two alerts of the same issue.
    pub frequency_minutes: u32,
}

/// A metric alert: `aggregate` over `time_window_minutes` above `threshold`
/// (a percent rise over `comparison_delta` minutes before, when given).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricSpec {
    pub name: &'static str,
    pub aggregate: &'static str,
    /// `events` for errors, `transactions` for performance.
    pub dataset: &'static str,
    pub query: &'static str,
    pub time_window_minutes: u32,
    pub threshold: f64,
    pub comparison_delta: Option<u32>,
}

impl RuleSpec {
    pub fn name(self) -> &'static str {
        match self {
            RuleSpec::Issue(spec) => spec.name,
            RuleSpec::Metric(spec) => spec.name,
        }
    }
}

impl SeedRule {
    pub const ALL: [SeedRule; 3] = [
        SeedRule::HighErrorRate,
        SeedRule::NewIssue,
        SeedRule::ErrorSpike,
    ];

    /// The rule as seed 000 defines it.
    pub fn spec(self) -> RuleSpec {
        match self {
            // Sentry servers differ on whether a failure-rate threshold is a
            // fraction or a percentage; the check accepts both, and 5 is
            // what Sentry's own form stores.
            SeedRule::HighErrorRate => RuleSpec::Metric(MetricSpec {
                name: self.name(),
                aggregate: "failure_rate()",
                dataset: "transactions",
                query: "",
                time_window_minutes: 5,
                threshold: 5.0,
                comparison_delta: None,
            }),
            SeedRule::NewIssue => RuleSpec::Issue(IssueSpec {
                name: self.name(),
                regressions: false,
                message_contains: &[],
                frequency_minutes: 30,
            }),
            // "Up 50% in 10 minutes": the count over 10 minutes compared with
            // the same 10 minutes an hour before.
            SeedRule::ErrorSpike => RuleSpec::Metric(MetricSpec {
                name: self.name(),
                aggregate: "count()",
                dataset: "events",
                query: "",
                time_window_minutes: 10,
                threshold: 50.0,
                comparison_delta: Some(60),
            }),
        }
    }
}

/// Seed 003's production alert rules, as far as Sentry can express them
/// (who receives them, email or SMS, stays a choice made in Sentry).
pub const SEED_003_RULES: [RuleSpec; 5] = [
    RuleSpec::Issue(IssueSpec {
        name: "Payment Processing Errors",
        regressions: true,
        message_contains: &["payment", "stripe"],
        frequency_minutes: 5,
    }),
    RuleSpec::Issue(IssueSpec {
        name: "Database Connection Errors",
        regressions: true,
        message_contains: &["database", "connection"],
        frequency_minutes: 5,
    }),
    RuleSpec::Metric(MetricSpec {
        name: "Authentication Failures (Spike)",
        aggregate: "count()",
        dataset: "events",
        query: "auth",
        time_window_minutes: 5,
        threshold: 10.0,
        comparison_delta: None,
    }),
    RuleSpec::Metric(MetricSpec {
        name: "High Error Rate",
        aggregate: "count()",
        dataset: "events",
        query: "",
        time_window_minutes: 15,
        threshold: 50.0,
        comparison_delta: None,
    }),
    RuleSpec::Metric(MetricSpec {
        name: "Performance Issues",
        aggregate: "p95(transaction.duration)",
        dataset: "transactions",
        query: "",
        time_window_minutes: 60,
        threshold: 5000.0,
        comparison_delta: None,
    }),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn metric(aggregate: &str, window: u32, threshold: f64, delta: Option<u32>) -> MetricRule {
        MetricRule {
            name: "anything".into(),
            aggregate: aggregate.into(),
            time_window_minutes: window,
            above: true,
            threshold: Some(threshold),
            comparison_delta: delta,
        }
    }

    #[test]
    fn the_seed_rules_are_recognised_by_condition() {
        assert!(metric("failure_rate()", 5, 5.0, None).does(SeedRule::HighErrorRate));
        assert!(metric("failure_rate()", 5, 0.05, None).does(SeedRule::HighErrorRate));
        assert!(!metric("failure_rate()", 10, 5.0, None).does(SeedRule::HighErrorRate));
        assert!(!metric("count()", 5, 5.0, None).does(SeedRule::HighErrorRate));
        assert!(metric("count()", 10, 50.0, Some(10)).does(SeedRule::ErrorSpike));
        assert!(!metric("count()", 10, 50.0, None).does(SeedRule::ErrorSpike));
        let new_issue = IssueRule {
            name: "x".into(),
            conditions: vec![FIRST_SEEN_CONDITION.into()],
        };
        assert!(new_issue.does(SeedRule::NewIssue));
        assert!(!new_issue.does(SeedRule::HighErrorRate));
    }

    #[test]
    fn the_rules_watchpost_creates_are_the_ones_it_recognises() {
        for seed in SeedRule::ALL {
            match seed.spec() {
                RuleSpec::Metric(MetricSpec {
                    name,
                    aggregate,
                    time_window_minutes,
                    threshold,
                    comparison_delta,
                    ..
                }) => {
                    let made = MetricRule {
                        name: name.into(),
                        aggregate: aggregate.into(),
                        time_window_minutes,
                        above: true,
                        threshold: Some(threshold),
                        comparison_delta,
                    };
                    assert!(made.does(seed), "{seed:?}");
                    assert!(seed.named(name));
                }
                RuleSpec::Issue(IssueSpec { name, .. }) => {
                    let made = IssueRule {
                        name: name.into(),
                        conditions: vec![FIRST_SEEN_CONDITION.into()],
                    };
                    assert!(made.does(seed), "{seed:?}");
                }
            }
        }
    }

    #[test]
    fn the_seed_rules_are_recognised_by_name_and_worded() {
        assert!(SeedRule::HighErrorRate.named(" high error rate alert "));
        assert!(!SeedRule::HighErrorRate.named("High Error Rate"));
        assert_eq!(
            SeedRule::from_param("error_spike"),
            Some(SeedRule::ErrorSpike)
        );
        assert_eq!(
            metric("failure_rate()", 5, 0.05, None).describe(),
            "failure_rate() > 0.05 over 5 minutes"
        );
        assert_eq!(
            metric("count()", 10, 50.0, Some(10)).describe(),
            "count() up 50% compared with 10 minutes before, over 10 minutes"
        );
    }
}
