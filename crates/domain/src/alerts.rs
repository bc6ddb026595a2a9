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
    /// `events` or `transactions`, when the server says.
    pub dataset: Option<String>,
    /// How many notifications it sends (email, Slack, …).
    pub actions: usize,
}

impl MetricRule {
    /// Whether the rule watches what the seed rule does.
    /// A rule that is not named as the seed's counts as it only when it
    /// watches the same thing; its threshold is then compared by
    /// [`MetricSpec::differences`].
    pub fn does(&self, seed: SeedRule) -> bool {
        let rate = self.aggregate.contains("failure_rate()");
        match seed {
            SeedRule::HighErrorRate => {
                rate && self.above
                    && self.comparison_delta.is_none()
                    && self.time_window_minutes == 5
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

/// An issue alert rule: its name, its conditions' ids, its filters in
/// words ([`filter_words`]) and how many notifications it sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueRule {
    pub name: String,
    pub conditions: Vec<String>,
    pub filters: Vec<String>,
    /// Whether any one filter lets an event through (else all must).
    pub any_filter: bool,
    pub actions: usize,
}

/// What an issue rule lets through: an event whose message, or whose tag
/// `key`, contains the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    Message(&'static str),
    Tag {
        key: &'static str,
        value: &'static str,
    },
}

impl Filter {
    pub fn words(self) -> String {
        match self {
            Filter::Message(text) => filter_words("message", "co", text),
            Filter::Tag { key, value } => filter_words(&format!("tag {key}"), "co", value),
        }
    }
}

/// A rule's filter in words, from what it looks at (`message`, `tag
/// feature_area`), Sentry's match code (`co`) and the value:
/// `message contains payment`.
pub fn filter_words(on: &str, matching: &str, value: &str) -> String {
    let verb = match matching {
        "co" => "contains",
        "nc" => "does not contain",
        "eq" => "is",
        "ne" => "is not",
        "sw" => "starts with",
        "ew" => "ends with",
        "is" => "is set",
        "ns" => "is not set",
        other => other,
    };
    format!("{on} {verb} {value}").trim_end().to_owned()
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
/// only of an event one of `filters` lets through, when there are any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IssueSpec {
    pub name: &'static str,
    pub regressions: bool,
    pub filters: &'static [Filter],
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

/// A failure rate's threshold as people read it: `0.05 (5%)`.
fn threshold_words(aggregate: &str, threshold: f64) -> String {
    if aggregate.contains("failure_rate()") {
        format!(
            "{} ({}%)",
            Decimal(threshold),
            Decimal((threshold * 10_000.0).round() / 100.0)
        )
    } else {
        Decimal(threshold).to_string()
    }
}

impl MetricSpec {
    /// How `rule` differs from this rule of `seed` (such as "the Sentry alerts guide"), in
    /// words; empty when it watches what the seed asks and notifies someone.
    pub fn differences(&self, rule: &MetricRule, seed: &str) -> Vec<String> {
        let mut differences = Vec::new();
        if rule.aggregate != self.aggregate {
            differences.push(format!(
                "it measures {} where {seed} says {}",
                rule.aggregate, self.aggregate
            ));
        }
        if let Some(dataset) = &rule.dataset
            && dataset != self.dataset
        {
            differences.push(format!(
                "it reads {dataset} where {seed} says {}",
                self.dataset
            ));
        }
        if rule.time_window_minutes != self.time_window_minutes {
            differences.push(format!(
                "its window is {} minutes where {seed} says {}",
                rule.time_window_minutes, self.time_window_minutes
            ));
        }
        if !rule.above {
            differences.push(format!(
                "it alerts below its threshold where {seed} says above"
            ));
        }
        match (self.comparison_delta, rule.comparison_delta) {
            (Some(_), None) => differences.push(format!(
                "it alerts on a fixed value where {seed} says a rise against an earlier period"
            )),
            (None, Some(_)) => differences.push(format!(
                "it alerts on a rise against an earlier period where {seed} says a fixed value"
            )),
            _ => {}
        }
        // A percent-change threshold is stored as the change (50) by some
        // servers and as the share of before (150) by others.
        let threshold_matches = rule.threshold.is_some_and(|t| {
            (t - self.threshold).abs() < 1e-9
                || (self.comparison_delta.is_some() && (t - (100.0 + self.threshold)).abs() < 1e-9)
        });
        if !threshold_matches {
            differences.push(format!(
                "its threshold is {} where {seed} says {}",
                rule.threshold.map_or_else(
                    || "missing".to_owned(),
                    |t| threshold_words(&rule.aggregate, t)
                ),
                threshold_words(self.aggregate, self.threshold)
            ));
        }
        if rule.actions == 0 {
            differences.push("it exists but notifies nobody".to_owned());
        }
        differences
    }
}

impl IssueSpec {
    /// How `rule` differs from this issue rule, in words; empty when it
    /// fires as the seed asks and notifies someone.
    pub fn differences(&self, rule: &IssueRule, seed: &str) -> Vec<String> {
        let mut differences = Vec::new();
        let has = |id: &str, short: &str| rule.conditions.iter().any(|c| c == id || c == short);
        if !has(FIRST_SEEN_CONDITION, "first_seen_event") {
            differences.push(format!("it does not fire on a new issue, as {seed} asks"));
        }
        if self.regressions && !has(REGRESSION_CONDITION, "regression_event") {
            differences.push(format!(
                "it does not fire on a regressed issue, as {seed} asks"
            ));
        }
        for filter in self.filters {
            let words = filter.words();
            if !rule.filters.contains(&words) {
                differences.push(format!("it does not look for “{words}”, as {seed} asks"));
            }
        }
        if self.filters.len() > 1 && !rule.any_filter {
            differences.push(format!(
                "it needs every filter to match where {seed} asks for any one"
            ));
        }
        if rule.actions == 0 {
            differences.push("it exists but notifies nobody".to_owned());
        }
        differences
    }
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
            // `failure_rate()` is a fraction, and a metric alert compares
            // its threshold with the aggregate as it is: 5% is 0.05. Settled
            // from Sentry's source (getsentry/sentry): the rule form stores
            // the number typed (triggers/thresholdControl.tsx), the chart
            // draws the threshold on the aggregate's own scale
            // (triggers/chart/thresholdsChart.tsx), and only crash-free
            // session aggregates are in percent (alerts/utils isSessionAggregate).
            SeedRule::HighErrorRate => RuleSpec::Metric(MetricSpec {
                name: self.name(),
                aggregate: "failure_rate()",
                dataset: "transactions",
                query: "",
                time_window_minutes: 5,
                threshold: 0.05,
                comparison_delta: None,
            }),
            SeedRule::NewIssue => RuleSpec::Issue(IssueSpec {
                name: self.name(),
                regressions: false,
                filters: &[],
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

/// A rule the playbook asks for (`rule = "…"`): one of seed 000's three, or
/// one of seed 003's production rules.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Wanted {
    pub spec: RuleSpec,
    /// The document it comes from: "the Sentry alerts guide".
    pub seed: &'static str,
    /// What it watches, in words.
    pub condition: &'static str,
    seed_000: Option<SeedRule>,
}

/// The playbook's names of seed 003's rules, in [`SEED_003_RULES`]' order.
pub const SEED_003_PARAMS: [&str; 5] = [
    "payment_errors",
    "database_errors",
    "auth_failures",
    "error_count",
    "slow_transactions",
];

const SEED_003_CONDITIONS: [&str; 5] = [
    "a new or regressed issue tagged payment or stripe",
    "a new or regressed issue mentioning database or connection",
    "more than 10 auth errors in 5 minutes",
    "more than 50 errors in 15 minutes",
    "p95 transaction duration above 5 s over an hour",
];

impl Wanted {
    pub fn from_param(name: &str) -> Option<Wanted> {
        if let Some(seed) = SeedRule::from_param(name) {
            return Some(Wanted {
                spec: seed.spec(),
                seed: "the Sentry alerts guide",
                condition: seed.condition(),
                seed_000: Some(seed),
            });
        }
        let at = SEED_003_PARAMS.iter().position(|param| *param == name)?;
        Some(Wanted {
            spec: SEED_003_RULES[at],
            seed: "the Sentry monitoring guide",
            condition: SEED_003_CONDITIONS[at],
            seed_000: None,
        })
    }

    /// Seed 000's three rules, and with `seed_003` also seed 003's five.
    pub fn all(seed_003: bool) -> impl Iterator<Item = Wanted> {
        let seed_003 = if seed_003 { &SEED_003_PARAMS[..] } else { &[] };
        ["high_error_rate", "new_issue", "error_spike"]
            .iter()
            .chain(seed_003)
            .filter_map(|param| Wanted::from_param(param))
    }

    pub fn name(&self) -> &'static str {
        self.spec.name()
    }

    pub fn named(&self, name: &str) -> bool {
        name.trim().eq_ignore_ascii_case(self.name())
    }

    /// The rule among `rules` that is this one: the one named so, else one
    /// that `watches` the same.
    pub fn find<'a, T>(
        &self,
        rules: &'a [T],
        name: impl Fn(&T) -> &str,
        watches: impl Fn(&T) -> bool,
    ) -> Option<&'a T> {
        rules
            .iter()
            .find(|rule| self.named(name(rule)))
            .or_else(|| rules.iter().find(|rule| watches(rule)))
    }

    /// Whether a metric rule not named as this one watches what it does.
    pub fn does_metric(&self, rule: &MetricRule) -> bool {
        match (self.seed_000, self.spec) {
            (Some(seed), _) => rule.does(seed),
            (None, RuleSpec::Metric(spec)) => {
                rule.aggregate == spec.aggregate
                    && rule.time_window_minutes == spec.time_window_minutes
                    && rule.comparison_delta.is_some() == spec.comparison_delta.is_some()
            }
            (None, RuleSpec::Issue(_)) => false,
        }
    }

    /// Whether an issue rule not named as this one fires as it does.
    pub fn does_issue(&self, rule: &IssueRule) -> bool {
        match (self.seed_000, self.spec) {
            (Some(seed), _) => rule.does(seed),
            // Seed 003's issue rules differ only by their filters: a name is
            // what tells them apart.
            (None, _) => false,
        }
    }
}

/// The tags seed 003 asks every error to carry that its payments rule
/// reads: the feature area (`payments`) and the external service
/// (`stripe`). The seed names what they hold, not their keys; these are
/// its words, and the FastAPI snippet sets them.
pub const PAYMENT_TAGS: [Filter; 2] = [
    Filter::Tag {
        key: "feature_area",
        value: "payment",
    },
    Filter::Tag {
        key: "external_service",
        value: "stripe",
    },
];

/// Seed 003's production alert rules, as far as Sentry can express them
/// (who receives them, email or SMS, stays a choice made in Sentry).
pub const SEED_003_RULES: [RuleSpec; 5] = [
    // "Error tag contains payment OR stripe".
    RuleSpec::Issue(IssueSpec {
        name: "Payment Processing Errors",
        regressions: true,
        filters: &PAYMENT_TAGS,
        frequency_minutes: 5,
    }),
    // "Error message contains database OR connection".
    RuleSpec::Issue(IssueSpec {
        name: "Database Connection Errors",
        regressions: true,
        filters: &[Filter::Message("database"), Filter::Message("connection")],
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
            dataset: None,
            actions: 1,
        }
    }

    fn spec(seed: SeedRule) -> MetricSpec {
        match seed.spec() {
            RuleSpec::Metric(spec) => spec,
            RuleSpec::Issue(_) => unreachable!("{seed:?} is a metric rule"),
        }
    }

    #[test]
    fn the_seed_rules_are_recognised_by_condition() {
        assert!(metric("failure_rate()", 5, 0.05, None).does(SeedRule::HighErrorRate));
        assert!(!metric("failure_rate()", 10, 0.05, None).does(SeedRule::HighErrorRate));
        assert!(!metric("count()", 5, 0.05, None).does(SeedRule::HighErrorRate));
        assert!(metric("count()", 10, 50.0, Some(10)).does(SeedRule::ErrorSpike));
        assert!(!metric("count()", 10, 50.0, None).does(SeedRule::ErrorSpike));
        let new_issue = IssueRule {
            name: "x".into(),
            conditions: vec![FIRST_SEEN_CONDITION.into()],
            filters: Vec::new(),
            any_filter: true,
            actions: 1,
        };
        assert!(new_issue.does(SeedRule::NewIssue));
        assert!(!new_issue.does(SeedRule::HighErrorRate));
    }

    #[test]
    fn a_rule_that_differs_from_the_seed_says_how() {
        let high = spec(SeedRule::HighErrorRate);
        assert!(
            high.differences(
                &metric("failure_rate()", 5, 0.05, None),
                "the Sentry alerts guide"
            )
            .is_empty()
        );
        // 5 is 500%: a fraction never reaches it.
        assert_eq!(
            high.differences(
                &metric("failure_rate()", 5, 5.0, None),
                "the Sentry alerts guide"
            ),
            ["its threshold is 5 (500%) where the Sentry alerts guide says 0.05 (5%)"]
        );
        let silent = MetricRule {
            actions: 0,
            ..metric("failure_rate()", 10, 0.05, None)
        };
        assert_eq!(
            high.differences(&silent, "the Sentry alerts guide"),
            [
                "its window is 10 minutes where the Sentry alerts guide says 5",
                "it exists but notifies nobody"
            ]
        );
        let spike = spec(SeedRule::ErrorSpike);
        assert!(
            spike
                .differences(
                    &metric("count()", 10, 50.0, Some(60)),
                    "the Sentry alerts guide"
                )
                .is_empty()
        );
        assert!(
            spike
                .differences(
                    &metric("count()", 10, 150.0, Some(10)),
                    "the Sentry alerts guide"
                )
                .is_empty()
        );
        assert_eq!(
            spike.differences(
                &metric("count()", 10, 50.0, None),
                "the Sentry alerts guide"
            ),
            [
                "it alerts on a fixed value where the Sentry alerts guide says a rise against an earlier period"
            ]
        );
        let RuleSpec::Issue(new_issue) = SeedRule::NewIssue.spec() else {
            unreachable!("an issue rule")
        };
        let quiet = IssueRule {
            name: "New Production Issue".into(),
            conditions: vec!["sentry.rules.conditions.every_event.EveryEventCondition".into()],
            filters: Vec::new(),
            any_filter: true,
            actions: 0,
        };
        assert_eq!(
            new_issue.differences(&quiet, "the Sentry alerts guide"),
            [
                "it does not fire on a new issue, as the Sentry alerts guide asks",
                "it exists but notifies nobody"
            ]
        );
    }

    #[test]
    fn the_rules_watchpost_creates_are_the_ones_it_recognises() {
        for seed in SeedRule::ALL {
            match seed.spec() {
                RuleSpec::Metric(spec) => {
                    let made = MetricRule {
                        name: spec.name.into(),
                        aggregate: spec.aggregate.into(),
                        time_window_minutes: spec.time_window_minutes,
                        above: true,
                        threshold: Some(spec.threshold),
                        comparison_delta: spec.comparison_delta,
                        dataset: Some(spec.dataset.into()),
                        actions: 1,
                    };
                    assert!(made.does(seed), "{seed:?}");
                    assert!(
                        spec.differences(&made, "the Sentry alerts guide")
                            .is_empty(),
                        "{seed:?}"
                    );
                    assert!(seed.named(spec.name));
                }
                RuleSpec::Issue(spec) => {
                    let made = IssueRule {
                        name: spec.name.into(),
                        conditions: vec![FIRST_SEEN_CONDITION.into()],
                        filters: Vec::new(),
                        any_filter: true,
                        actions: 1,
                    };
                    assert!(made.does(seed), "{seed:?}");
                    assert!(
                        spec.differences(&made, "the Sentry alerts guide")
                            .is_empty(),
                        "{seed:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_payments_rule_reads_tags_and_fires_on_either() {
        let RuleSpec::Issue(payments) = SEED_003_RULES[0] else {
            unreachable!("an issue rule")
        };
        let rule = |filters: &[&str], any_filter| IssueRule {
            name: payments.name.into(),
            conditions: vec![FIRST_SEEN_CONDITION.into(), REGRESSION_CONDITION.into()],
            filters: filters.iter().map(|f| (*f).to_owned()).collect(),
            any_filter,
            actions: 2,
        };
        let as_made: Vec<String> = PAYMENT_TAGS.iter().map(|f| f.words()).collect();
        assert_eq!(
            as_made,
            [
                "tag feature_area contains payment",
                "tag external_service contains stripe"
            ]
        );
        let as_made: Vec<&str> = as_made.iter().map(String::as_str).collect();
        assert!(
            payments
                .differences(&rule(&as_made, true), "the Sentry monitoring guide")
                .is_empty()
        );
        // On the message instead of a tag, and needing both.
        assert_eq!(
            payments.differences(
                &rule(
                    &["message contains payment", "message contains stripe"],
                    false
                ),
                "the Sentry monitoring guide"
            ),
            [
                "it does not look for “tag feature_area contains payment”, as the Sentry monitoring guide asks",
                "it does not look for “tag external_service contains stripe”, as the Sentry monitoring guide asks",
                "it needs every filter to match where the Sentry monitoring guide asks for any one"
            ]
        );
        assert_eq!(
            filter_words("tag level", "eq", "error"),
            "tag level is error"
        );
        assert_eq!(filter_words("message", "is", ""), "message is set");
    }

    #[test]
    fn seed_003_s_rules_are_asked_for_by_name_and_compared_as_seed_003_says() {
        for (param, spec) in SEED_003_PARAMS.iter().zip(SEED_003_RULES) {
            let wanted = Wanted::from_param(param).expect("a rule");
            assert_eq!(wanted.spec, spec);
            assert_eq!(wanted.seed, "the Sentry monitoring guide");
        }
        let count = Wanted::from_param("error_count").expect("a rule");
        let RuleSpec::Metric(spec) = count.spec else {
            unreachable!("a metric rule")
        };
        assert!(count.does_metric(&metric("count()", 15, 50.0, None)));
        assert_eq!(
            spec.differences(&metric("count()", 15, 100.0, None), count.seed),
            ["its threshold is 100 where the Sentry monitoring guide says 50"]
        );
        assert_eq!(
            Wanted::from_param("new_issue").map(|w| w.seed),
            Some("the Sentry alerts guide")
        );
        assert_eq!(Wanted::from_param("nope"), None);
        assert_eq!(Wanted::all(false).count(), 3);
        assert_eq!(Wanted::all(true).count(), 8);
        let rules = [
            metric("count()", 15, 50.0, None),
            MetricRule {
                name: "High Error Rate".into(),
                ..metric("count()", 60, 1.0, None)
            },
        ];
        let found = count.find(&rules, |r| &r.name, |r| count.does_metric(r));
        assert_eq!(
            found.map(|r| r.time_window_minutes),
            Some(60),
            "the name first"
        );
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
