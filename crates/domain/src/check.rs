//! The named live checks a playbook item can be verified by.
//!
//! The proxy implements each one against a real API (Sentry, Render, Slack or
//! the team's health endpoint). A playbook names them as strings such as
//! `"sentry.alert_rule"`; anything else is a validation error, so a typo cannot
//! silently turn an automatic check into nothing.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::keyed::Keyed;

/// Defines [`CheckKind`] with its wire name, label and parameters in one table,
/// so the three can never disagree.
macro_rules! checks {
    ($( $variant:ident = $name:literal, $label:literal, [$( $param:expr ),*]; )*) => {
        /// A named live check.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum CheckKind { $( $variant, )* }

        impl CheckKind {
            pub const ALL: &'static [CheckKind] = &[$( CheckKind::$variant, )*];

            /// The name playbooks and the API use.
            pub fn name(self) -> &'static str {
                match self { $( CheckKind::$variant => $name, )* }
            }

            /// What the check asks of the upstream API, for people.
            pub fn label(self) -> &'static str {
                match self { $( CheckKind::$variant => $label, )* }
            }

            /// The parameters an item may pass to the check (`with = { ... }`).
            pub fn params(self) -> &'static [ParamSpec] {
                match self { $( CheckKind::$variant => const { &[$( $param ),*] }, )* }
            }
        }
    };
}

/// One parameter of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamSpec {
    pub name: &'static str,
    pub required: bool,
    /// `None` accepts any non-empty value.
    pub one_of: Option<&'static [&'static str]>,
}

const fn required(name: &'static str, one_of: Option<&'static [&'static str]>) -> ParamSpec {
    ParamSpec {
        name,
        required: true,
        one_of,
    }
}

const fn optional(name: &'static str, one_of: Option<&'static [&'static str]>) -> ParamSpec {
    ParamSpec {
        name,
        required: false,
        one_of,
    }
}

const PROJECTS: Option<&[&str]> = Some(&["backend", "frontend"]);
const ALERT_RULES: Option<&[&str]> = Some(&[
    "high_error_rate",
    "new_issue",
    "error_spike",
    "payment_errors",
    "database_errors",
    "auth_failures",
    "error_count",
    "slow_transactions",
]);
const ENDPOINTS: Option<&[&str]> = Some(&["health", "calls", "webhooks", "assistants"]);
/// The endpoints mapped to a path or a transaction in a project's settings.
const MAPPED: Option<&[&str]> = Some(&crate::project::MAPPED_ENDPOINTS);
const LOG_LEVELS: Option<&[&str]> = Some(&["error", "warning"]);
/// `only = "critical"`: the issues the project's critical markers match.
const CRITICAL: Option<&[&str]> = Some(&["critical"]);

checks! {
    SentryProject = "sentry.project", "Sentry: the project exists", [required("project", PROJECTS)];
    SentryDsn = "sentry.dsn", "Sentry: the project has a client key (DSN)", [required("project", PROJECTS)];
    SentryAlertRule = "sentry.alert_rule", "Sentry: the alert rule exists", [required("rule", ALERT_RULES)];
    SentryEvents = "sentry.events", "Sentry: events are arriving", [required("project", PROJECTS)];
    SentrySlack = "sentry.slack_integration", "Sentry: the Slack integration is installed", [];
    SentryErrorRate = "sentry.error_rate", "Sentry: error rate", [];
    SentryErrorCount = "sentry.error_count", "Sentry: errors per hour", [optional("project", PROJECTS)];
    SentryRelease = "sentry.release", "Sentry: the live deploy's release has events", [];
    SentryNewIssues = "sentry.new_issues", "Sentry: new unresolved issues", [optional("only", CRITICAL), optional("level", None), optional("project", PROJECTS)];
    SentryTopIssues = "sentry.top_issues", "Sentry: top unresolved issues", [];
    SentryP99 = "sentry.p99", "Sentry: p99 transaction duration", [optional("endpoint", ENDPOINTS)];
    SentryQuota = "sentry.quota", "Sentry: this month's errors and transactions within the plan", [];
    SentryTags = "sentry.tags", "Sentry: errors carry the named tags", [required("tags", None), optional("project", PROJECTS)];
    SentrySpans = "sentry.spans", "Sentry: the named spans arrived", [required("ops", None), optional("project", PROJECTS)];
    RenderService = "render.service", "Render: the service exists", [];
    RenderEnvVar = "render.env_var", "Render: environment variable is set", [required("key", None), optional("equals", None)];
    RenderDsnMatches = "render.dsn_matches", "Render: SENTRY_DSN equals the Sentry project's DSN", [required("project", PROJECTS)];
    RenderDeployLive = "render.deploy_live", "Render: the latest deploy is live", [];
    RenderLogs = "render.logs", "Render: recent logs searched", [required("level", LOG_LEVELS), optional("text", None)];
    RenderMemory = "render.memory", "Render: memory usage stable", [];
    RenderErrorRate = "render.error_rate", "Render: share of requests answered 5xx", [];
    RenderLatency = "render.latency", "Render: p95 and p99 response time of an endpoint", [required("endpoint", MAPPED)];
    RenderRestarts = "render.restarts", "Render: no unexpected restarts", [];
    DatabaseReachable = "database.reachable", "Database: reachable, and how fast it answers", [];
    DatabaseConnections = "database.connections", "Database: connections in use against max_connections", [];
    DatabaseSlowQueries = "database.slow_queries", "Database: no statement slower than 1,000 ms on average (pg_stat_statements)", [];
    DatabaseLongRunning = "database.long_running", "Database: no statement running longer than 60 s", [];
    DatabaseSize = "database.size", "Database: size against the plan's limit", [];
    HealthEndpoint = "health.endpoint", "Health endpoint answers ok", [];
    HealthLatency = "health.latency", "Endpoint response time", [required("endpoint", ENDPOINTS)];
    HealthFrontend = "health.frontend", "The frontend's page loads in time", [];
    HealthService = "health.service", "A service the health endpoint reports is up", [required("service", None)];
    SlackWebhook = "slack.webhook", "Slack: the webhook accepts a test message", [];
    BackupRecent = "backup.recent", "Backup verified in the last 24 hours", [];
}

impl fmt::Display for CheckKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for CheckKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CheckKind::ALL
            .iter()
            .copied()
            .find(|kind| kind.name() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = CheckKind::ALL.iter().map(|kind| kind.name()).collect();
                format!(
                    "unknown check `{s}`; use \"manual\" or one of: {}",
                    known.join(", ")
                )
            })
    }
}

/// How an item is verified: by a named live check, or ticked by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Verify {
    Manual,
    Check(CheckKind),
}

impl Verify {
    pub fn check(self) -> Option<CheckKind> {
        match self {
            Verify::Manual => None,
            Verify::Check(kind) => Some(kind),
        }
    }
}

impl TryFrom<String> for Verify {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        match value.as_str() {
            "manual" => Ok(Verify::Manual),
            other => other.parse().map(Verify::Check),
        }
    }
}

/// The app's binary form: 0 for manual, then 1 + the check's place in [`CheckKind::ALL`].
impl nanoserde::SerBin for Verify {
    fn ser_bin(&self, output: &mut Vec<u8>) {
        let index = match self {
            Verify::Manual => 0,
            Verify::Check(kind) => 1 + CheckKind::ALL.iter().position(|k| k == kind).unwrap_or(0),
        };
        (index as u8).ser_bin(output);
    }
}

impl nanoserde::DeBin for Verify {
    fn de_bin(offset: &mut usize, bytes: &[u8]) -> Result<Self, nanoserde::DeBinErr> {
        let at = *offset;
        match usize::from(u8::de_bin(offset, bytes)?) {
            0 => Ok(Verify::Manual),
            index => CheckKind::ALL
                .get(index - 1)
                .map(|kind| Verify::Check(*kind))
                .ok_or_else(|| nanoserde::DeBinErr::new(at, 1, bytes.len())),
        }
    }
}

impl From<Verify> for String {
    fn from(verify: Verify) -> Self {
        match verify {
            Verify::Manual => "manual".to_owned(),
            Verify::Check(kind) => kind.name().to_owned(),
        }
    }
}

/// Checks an item's `with` table against what its check accepts.
/// Returns one message per problem.
pub fn param_problems(verify: Verify, with: &Keyed<String>) -> Vec<String> {
    let Some(kind) = verify.check() else {
        return if with.is_empty() {
            Vec::new()
        } else {
            vec!["`with` parameters need a live check, but `verify` is \"manual\"".to_owned()]
        };
    };
    let specs = kind.params();
    let mut problems = Vec::new();
    for key in with.keys() {
        if !specs.iter().any(|spec| spec.name == key) {
            let accepted: Vec<&str> = specs.iter().map(|spec| spec.name).collect();
            problems.push(if accepted.is_empty() {
                format!("check `{kind}` takes no parameters, but `{key}` was given")
            } else {
                format!(
                    "check `{kind}` has no parameter `{key}`; it accepts: {}",
                    accepted.join(", ")
                )
            });
        }
    }
    for spec in specs {
        match with.get(spec.name) {
            None if spec.required => {
                problems.push(format!(
                    "check `{kind}` needs the parameter `{}`",
                    spec.name
                ));
            }
            None => {}
            Some(value) if value.trim().is_empty() => {
                problems.push(format!(
                    "parameter `{}` of check `{kind}` is empty",
                    spec.name
                ));
            }
            Some(value) => {
                if let Some(allowed) = spec.one_of
                    && !allowed.contains(&value.as_str())
                {
                    problems.push(format!(
                        "parameter `{}` of check `{kind}` is `{value}`; expected one of: {}",
                        spec.name,
                        allowed.join(", ")
                    ));
                }
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(pairs: &[(&str, &str)]) -> Keyed<String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn every_check_name_round_trips() {
        for kind in CheckKind::ALL {
            assert_eq!(kind.name().parse::<CheckKind>(), Ok(*kind));
            assert!(
                kind.name().contains('.'),
                "{kind} should be namespaced by its API"
            );
        }
    }

    #[test]
    fn an_unknown_check_lists_the_known_ones() {
        let err = Verify::try_from("sentry.projekt".to_owned()).unwrap_err();
        assert!(err.contains("unknown check `sentry.projekt`"), "{err}");
        assert!(err.contains("sentry.project"), "{err}");
        assert!(err.contains("\"manual\""), "{err}");
    }

    #[test]
    fn manual_is_not_a_check() {
        assert_eq!(Verify::try_from("manual".to_owned()), Ok(Verify::Manual));
        assert_eq!(Verify::Manual.check(), None);
    }

    #[test]
    fn parameters_are_checked_against_the_check() {
        let env = Verify::Check(CheckKind::RenderEnvVar);
        assert!(
            param_problems(env, &with(&[("key", "NODE_ENV"), ("equals", "production")])).is_empty()
        );
        assert_eq!(
            param_problems(env, &with(&[])),
            vec!["check `render.env_var` needs the parameter `key`"]
        );
        let unknown = param_problems(env, &with(&[("key", "A"), ("value", "b")]));
        assert_eq!(
            unknown,
            vec!["check `render.env_var` has no parameter `value`; it accepts: key, equals"]
        );

        let rule = Verify::Check(CheckKind::SentryAlertRule);
        let wrong = param_problems(rule, &with(&[("rule", "spike")]));
        assert!(
            wrong[0].contains("expected one of: high_error_rate, new_issue, error_spike"),
            "{wrong:?}"
        );

        let none = param_problems(Verify::Check(CheckKind::SlackWebhook), &with(&[("x", "1")]));
        assert_eq!(
            none,
            vec!["check `slack.webhook` takes no parameters, but `x` was given"]
        );

        let manual = param_problems(Verify::Manual, &with(&[("key", "A")]));
        assert!(manual[0].contains("need a live check"), "{manual:?}");
    }
}
