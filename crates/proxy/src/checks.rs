//! The live checks: each named check of the catalogue asked of the real
//! service, and its answer turned into a result a person can act on:
//! `passed`, `failed`, `error`, `not_configured` (which setting, and how to
//! set it) or `unsupported` (this server lacks the endpoint).
//!
//! Secrets are compared here and never put in a result: a DSN's secret part,
//! env var values (but the public DSN), the webhook URL.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use domain::CheckKind;
use domain::action::{FIXED_RELEASE, is_test_event};
use domain::alerts::Wanted;
use domain::chart::ErrorHours;
use domain::dsn::Dsn;
use domain::keyed::Keyed;
use domain::playbook::{Bound, Decimal, Item, Playbook, SdkSetting, Unit};
use domain::project::Project;
use domain::run::{CheckStatus, Entry};
use domain::snapshot::Measure;
use domain::watch::span;
use url::Url;

use crate::alert_rules::{Found, Rules};
use crate::clock::Clock;
use crate::config::Services;
use crate::lock;
use crate::notify::{Notifier, Posted, TEST_REUSED_FOR, Tested};
use crate::upstream::health::{HealthProber, Probe};
use crate::upstream::render::Render;
use crate::upstream::sentry::{Issue, Sentry};
use crate::upstream::slack::Slack;
use crate::upstream::{Upstream, UpstreamError};

/// What a check found.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub status: CheckStatus,
    pub observed: Keyed<String>,
    pub message: String,
    /// The value it measured, for the checks a routine target is judged by.
    pub measure: Option<Measure>,
}

impl Outcome {
    fn new(status: CheckStatus, message: impl Into<String>) -> Self {
        Outcome {
            status,
            observed: Keyed::default(),
            message: message.into(),
            measure: None,
        }
    }

    fn measured(mut self, value: f64, unit: Unit, name: impl Into<String>) -> Self {
        self.measure = Some(Measure {
            value,
            unit,
            name: name.into(),
        });
        self
    }

    fn passed(message: impl Into<String>) -> Self {
        Outcome::new(CheckStatus::Passed, message)
    }

    fn failed(message: impl Into<String>) -> Self {
        Outcome::new(CheckStatus::Failed, message)
    }

    pub(crate) fn not_configured(message: impl Into<String>) -> Self {
        Outcome::new(CheckStatus::NotConfigured, message)
    }

    fn saw(mut self, name: &str, value: impl Into<String>) -> Self {
        self.observed.insert(name, value.into());
        self
    }

    /// Each issue by its short id: title, level, events and link.
    fn with_issues(mut self, issues: &[Issue]) -> Self {
        for issue in issues {
            self = self.saw(
                &issue.short_id,
                format!(
                    "{} ({}, {} events) {}",
                    issue.title, issue.level, issue.count, issue.permalink
                ),
            );
        }
        self
    }

    /// A call that went wrong, worded for `service`: "check again" only
    /// where another try can help (a timeout, a rate limit, a failing
    /// server); what this server does not offer or answers differently is
    /// `unsupported`, to verify by hand.
    pub(crate) fn upstream(service: &str, err: &UpstreamError) -> Self {
        use UpstreamError as E;
        let (status, next) = match err {
            E::Timeout(_) | E::Unreachable(_) | E::RateLimited(_) | E::Server(_) => {
                (CheckStatus::Error, " Check again in a minute.")
            }
            E::Unauthorized | E::Forbidden(_) => (
                CheckStatus::Error,
                " Check the token in Watchpost's configuration.",
            ),
            E::Unsupported(_) | E::NotJson(_) | E::Malformed(_) | E::Pagination(_) => (
                CheckStatus::Unsupported,
                " This check is not supported by this server; verify it by hand.",
            ),
            E::ForeignHost(_) => (
                CheckStatus::Error,
                " Check the server's address in Watchpost's configuration.",
            ),
            E::Refused(_) => (
                CheckStatus::Failed,
                " Check the webhook in Watchpost's configuration: Slack may have removed it.",
            ),
            E::NotFound | E::Status(..) | E::TooLarge(_) => {
                (CheckStatus::Error, " Verify it by hand.")
            }
        };
        Outcome::new(status, format!("{service} {err}.{next}"))
    }
}

/// The start of the last 24 hours, which the issue and event checks look at.
fn day_ago() -> jiff::Timestamp {
    jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24)
}

/// `2026-11-22T13:00:00Z` → `2026-11-22 13:00 UTC`.
fn day_and_hour(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(day), Some(hm)) => format!("{day} {hm} UTC"),
        _ => rfc3339.to_owned(),
    }
}

/// `2026-11-22T13:00:00Z` → `13:00 UTC`.
fn short_hour(rfc3339: &str) -> String {
    rfc3339
        .get(11..16)
        .map_or_else(|| rfc3339.to_owned(), |hm| format!("{hm} UTC"))
}

/// The bound of the routine target measured by the same check with the same
/// parameters: what a measurement is judged against.
fn target_bound(playbook: &Playbook, kind: CheckKind, with: &Keyed<String>) -> Option<Bound> {
    playbook
        .watch
        .routine
        .iter()
        .flat_map(|routine| &routine.targets)
        .find(|target| target.verify.check() == Some(kind) && target.with == *with)
        .map(|target| target.bound)
}

/// The window `render.logs` searches: the time between two checkpoints.
const LOG_WINDOW_HOURS: i64 = 4;
/// Log lines are the service's own text: only a short excerpt is shown.
const LOG_EXCERPT_CHARS: usize = 120;

/// A row of seed 002's `backup_verification_log`, as a backup status URL
/// answers it: `{"verified_at", "status", "backup_id", "backup_age_hours",
/// "backup_size_mb", "checks_passed", "checks_failed", "error_details"}`.
/// A list of rows (as Supabase's REST API answers) is read as its newest.
#[derive(Debug, Clone, serde::Deserialize)]
struct BackupVerification {
    verified_at: jiff::Timestamp,
    status: String,
    backup_id: Option<serde_json::Value>,
    backup_age_hours: Option<f64>,
    backup_size_mb: Option<f64>,
    checks_passed: Option<u64>,
    checks_failed: Option<u64>,
    error_details: Option<serde_json::Value>,
}

impl BackupVerification {
    /// The newest verification in `body`, or `None` when it holds none.
    fn latest(body: &[u8]) -> Option<BackupVerification> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Answer {
            One(BackupVerification),
            Many(Vec<BackupVerification>),
        }
        match serde_json::from_slice(body).ok()? {
            Answer::One(one) => Some(one),
            Answer::Many(many) => many.into_iter().max_by_key(|row| row.verified_at),
        }
    }

    /// Seed 002's conditions, each shown: the verification succeeded with
    /// no failed check, less than 24 hours before `now`, of a backup younger
    /// than 24 hours and larger than `min_mb`. A condition the row cannot
    /// answer (no `checks_failed`, no size) leaves the check unmeasured.
    fn judge(&self, now: jiff::Timestamp, min_mb: u32) -> Outcome {
        let verified_hours = now.duration_since(self.verified_at).as_secs_f64() / 3600.0;
        let number = |value: f64| Decimal((value * 10.0).round() / 10.0).to_string();
        // (condition, met or unknown, what was seen)
        let conditions: [(String, Option<bool>, String); 5] = [
            (
                "status is success".into(),
                Some(self.status == "success"),
                self.status.clone(),
            ),
            (
                "no failed check".into(),
                self.checks_failed.map(|failed| failed == 0),
                self.checks_failed
                    .map_or_else(|| "not reported".into(), |n| format!("{n} failed")),
            ),
            (
                "verified within 24 h".into(),
                Some(verified_hours < 24.0),
                format!("{} h ago", number(verified_hours)),
            ),
            (
                "backup younger than 24 h".into(),
                Some(self.backup_age_hours.is_none_or(|hours| hours < 24.0)),
                self.backup_age_hours.map_or_else(
                    || "age not reported: the verification's own time counts".into(),
                    |hours| format!("{} h old when verified", number(hours)),
                ),
            ),
            (
                format!("larger than {min_mb} MB"),
                self.backup_size_mb.map(|mb| mb > f64::from(min_mb)),
                self.backup_size_mb
                    .map_or_else(|| "not reported".into(), |mb| format!("{} MB", number(mb))),
            ),
        ];
        let unmet: Vec<String> = conditions
            .iter()
            .filter(|(_, met, _)| *met == Some(false))
            .map(|(condition, _, seen)| format!("{condition} (saw {seen})"))
            .collect();
        let unknown: Vec<&str> = conditions
            .iter()
            .filter(|(_, met, _)| met.is_none())
            .map(|(condition, _, _)| condition.as_str())
            .collect();
        let mut outcome = if !unmet.is_empty() {
            Outcome::failed(format!(
                "The last backup verification does not meet: {}. Read its error details, check that the daily job (0 5 * * * UTC) runs, and verify the backup by hand before launch.",
                unmet.join("; ")
            ))
        } else if !unknown.is_empty() {
            Outcome::new(
                CheckStatus::Unsupported,
                format!(
                    "The backup status URL does not report what “{}” needs: have it answer checks_failed and backup_size_mb, as backup_verification_log holds them, or verify by hand.",
                    unknown.join("”, “")
                ),
            )
        } else {
            Outcome::passed(format!(
                "The last backup verification succeeded {} h ago: every check passed, the backup is recent and larger than {min_mb} MB.",
                number(verified_hours)
            ))
        };
        for (condition, met, seen) in &conditions {
            let mark = match met {
                Some(true) => "met",
                Some(false) => "not met",
                None => "not reported",
            };
            outcome = outcome.saw(condition, format!("{mark}: {seen}"));
        }
        outcome = outcome.saw("verified at", self.verified_at.to_string());
        for (name, value) in [
            ("backup id", self.backup_id.as_ref().map(json_text)),
            ("checks passed", self.checks_passed.map(|n| n.to_string())),
            (
                "error details",
                self.error_details
                    .as_ref()
                    .filter(|e| !e.is_null())
                    .map(json_text),
            ),
        ] {
            if let Some(value) = value {
                outcome = outcome.saw(name, value);
            }
        }
        outcome
    }
}

/// A JSON value as people read it: a string without its quotes.
fn json_text(value: &serde_json::Value) -> String {
    let text = value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_owned);
    text.chars().take(LOG_EXCERPT_CHARS).collect()
}

/// What to do when no Slack webhook is configured.
pub(crate) const NO_SLACK: &str = "No Slack webhook is configured: set SLACK_WEBHOOK_URL (or --slack-webhook-url, or [slack] webhook_url in the --config file) and restart Watchpost.";

/// How long a health endpoint may take to answer.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a result is reused for the same check of the same project, so
/// that ten open browsers cannot exhaust a rate limit.
pub const FRESH_FOR: Duration = Duration::from_secs(5);

type Key = (i64, String);

/// A check's latest run: when it finished (the server clock's ms), the
/// settings it ran with, what it found, and the log entry that recorded it.
type Slot = Arc<tokio::sync::Mutex<Option<(i64, Project, Outcome, Entry)>>>;

/// How long Sentry's hourly error counts are reused: every open Watch tab
/// reads them with its health report, every 15 seconds.
pub const COUNTS_FRESH_FOR: Duration = Duration::from_secs(120);

/// A project's latest hourly counts: when (ms), with which settings, over
/// how many hours, and what Sentry said.
type Counts = Arc<tokio::sync::Mutex<Option<(i64, Project, u32, ErrorHours)>>>;

/// The clients of the configured services, and the results of recent runs.
#[derive(Debug, Clone)]
pub struct Checks {
    sentry: Option<Sentry>,
    default_org: Option<String>,
    render: Option<Render>,
    /// Slack, behind the one rate-limited notifier.
    pub(crate) notifier: Arc<Notifier>,
    health: HealthProber,
    /// One lock per (project, item): a check asked for by several people at
    /// once runs once, and its result is reused while fresh.
    recent: Arc<Mutex<HashMap<Key, Slot>>>,
    /// Each project's hourly error counts, reused while fresh.
    counts: Arc<Mutex<HashMap<i64, Counts>>>,
    /// What "fresh" is read by.
    clock: Clock,
    /// The actions under way (see `actions`).
    pub(crate) under_way: Arc<Mutex<std::collections::HashSet<String>>>,
}

impl Checks {
    pub fn new(services: &Services, clock: Clock) -> Result<Self, String> {
        let upstream = Upstream::new(services.call_limits)?;
        Ok(Checks {
            sentry: services.sentry_auth_token.as_ref().map(|token| {
                Sentry::new(
                    upstream.clone(),
                    services.sentry_base_url.clone(),
                    token.clone(),
                )
            }),
            default_org: services.sentry_org.clone(),
            render: services.render_api_key.as_ref().map(|key| {
                Render::new(
                    upstream.clone(),
                    services.render_base_url.clone(),
                    key.clone(),
                )
            }),
            notifier: Arc::new(Notifier::new(
                services
                    .slack_webhook_url
                    .as_ref()
                    .map(|webhook| Slack::new(upstream.clone(), webhook.clone())),
            )),
            health: HealthProber::new(
                services.call_limits.deadline.min(HEALTH_TIMEOUT),
                services.allow_private_targets,
            )?,
            recent: Arc::default(),
            counts: Arc::default(),
            clock,
            under_way: Arc::default(),
        })
    }

    /// Runs `item`'s check for `project` and records its result with
    /// `record` (given the outcome and how long it took, in ms), or reuses
    /// a result younger than [`FRESH_FOR`] and the entry that recorded it:
    /// ten people asking at once make one call and one entry. A result of
    /// other settings is never reused: a corrected setting is checked anew.
    pub async fn run<E, Recorded>(
        &self,
        playbook: &Playbook,
        project: &Project,
        item: &Item,
        record: impl FnOnce(&Outcome, u64) -> Recorded,
    ) -> Result<(Outcome, Entry), E>
    where
        Recorded: Future<Output = Result<Entry, E>>,
    {
        let slot = lock(&self.recent)
            .entry((project.id, item.id.clone()))
            .or_default()
            .clone();
        let mut slot = slot.lock().await;
        let fresh_ms = i64::try_from(FRESH_FOR.as_millis()).unwrap_or(i64::MAX);
        if let Some((at, settings, outcome, entry)) = slot.as_ref()
            && self.clock.now_ms() - at < fresh_ms
            && settings == project
        {
            return Ok((outcome.clone(), entry.clone()));
        }
        let started = Instant::now();
        let outcome = self.check(playbook, project, item).await;
        let took = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let entry = record(&outcome, took).await?;
        *slot = Some((
            self.clock.now_ms(),
            project.clone(),
            outcome.clone(),
            entry.clone(),
        ));
        Ok((outcome, entry))
    }

    /// Forgets `project`'s recent results: after an action changed a
    /// service, a check must ask again, not repeat what it saw before.
    pub fn forget(&self, project: i64) {
        lock(&self.recent).retain(|(id, _), _| *id != project);
        lock(&self.counts).remove(&project);
    }

    async fn check(&self, playbook: &Playbook, project: &Project, item: &Item) -> Outcome {
        let Some(kind) = item.verify.check() else {
            return Outcome::new(
                CheckStatus::Error,
                "this item is ticked by hand, not checked",
            );
        };
        let param = |name: &str| item.with.get(name).map(String::as_str);
        match kind {
            CheckKind::SentryProject => self.sentry_project(project, param("project")).await,
            CheckKind::SentryDsn => self.sentry_dsn(project, param("project")).await,
            CheckKind::SentryEvents => self.sentry_events(project, param("project")).await,
            CheckKind::SentryRelease => self.sentry_release(project).await,
            CheckKind::SentrySlack => self.sentry_slack(project).await,
            CheckKind::SentryNewIssues => {
                let markers = match (param("only"), param("level")) {
                    (Some("critical"), _) => project.critical_markers(),
                    (_, Some(level)) => vec![format!("level:{level}")],
                    _ => Vec::new(),
                };
                self.sentry_new_issues(project, &markers).await
            }
            CheckKind::RenderService => self.render_service(project).await,
            CheckKind::RenderEnvVar => {
                let seed = playbook.sdk_of(project).and_then(|sdk| {
                    sdk.settings
                        .iter()
                        .find(|setting| Some(setting.key.as_str()) == param("key"))
                });
                self.render_env_var(
                    project,
                    param("key").unwrap_or_default(),
                    param("equals"),
                    seed,
                )
                .await
            }
            CheckKind::RenderDsnMatches => {
                let variable = playbook
                    .sdk_of(project)
                    .map_or("SENTRY_DSN", |sdk| sdk.dsn.as_str());
                self.render_dsn_matches(project, param("project"), variable)
                    .await
            }
            CheckKind::RenderDeployLive => self.render_deploy_live(project).await,
            CheckKind::HealthEndpoint => self.health_endpoint(project).await,
            CheckKind::HealthLatency => self.health_latency(playbook, project, item).await,
            CheckKind::SlackWebhook => self.slack_webhook(project).await,
            CheckKind::SentryErrorCount => self.sentry_error_count(playbook, project).await,
            CheckKind::SentryTopIssues => self.sentry_top_issues(project).await,
            CheckKind::SentryAlertRule => {
                self.sentry_alert_rule(project, param("rule").unwrap_or_default())
                    .await
            }
            CheckKind::SentryErrorRate => self.sentry_error_rate(playbook, project).await,
            CheckKind::SentryP99 => self.sentry_p99(playbook, project, item).await,
            CheckKind::RenderLogs => {
                self.render_logs(project, param("level").unwrap_or("error"), param("text"))
                    .await
            }
            CheckKind::BackupRecent => self.backup_recent(project).await,
        }
    }

    /// Accepted errors per hour over the last `hours` hours, for the watch's
    /// chart; what went wrong instead, in the checks' words. Reused for
    /// [`COUNTS_FRESH_FOR`] with the same settings: many viewers, one call.
    pub(crate) async fn error_hours(&self, project: &Project, hours: u32) -> ErrorHours {
        let slot = lock(&self.counts).entry(project.id).or_default().clone();
        let mut slot = slot.lock().await;
        let fresh_ms = i64::try_from(COUNTS_FRESH_FOR.as_millis()).unwrap_or(i64::MAX);
        if let Some((at, settings, asked, counted)) = slot.as_ref()
            && self.clock.now_ms() - at < fresh_ms
            && settings == project
            && *asked == hours
        {
            return counted.clone();
        }
        let counted = self.count_errors(project, hours).await;
        *slot = Some((self.clock.now_ms(), project.clone(), hours, counted.clone()));
        counted
    }

    async fn count_errors(&self, project: &Project, hours: u32) -> ErrorHours {
        let problem = |outcome: Outcome| ErrorHours {
            problem: Some(outcome.message),
            ..ErrorHours::default()
        };
        let (sentry, org, id) = match self.sentry_project_id(project).await {
            Ok(target) => target,
            Err(outcome) => return problem(outcome),
        };
        match hourly_error_counts(sentry, org, &id, hours).await {
            Ok(hours) => ErrorHours {
                hours,
                ..ErrorHours::default()
            },
            Err(err) => problem(Outcome::upstream("Sentry", &err)),
        }
    }

    /// The Sentry client, organization and project slug an item needs.
    pub(crate) fn sentry_target<'a>(
        &'a self,
        project: &'a Project,
        which: Option<&str>,
    ) -> Result<(&'a Sentry, &'a str, &'a str), Outcome> {
        let sentry = self.sentry.as_ref().ok_or_else(|| {
            Outcome::not_configured(
                "No Sentry auth token is configured: set SENTRY_AUTH_TOKEN (or --sentry-auth-token, or [sentry] auth_token in the --config file) and restart Watchpost.",
            )
        })?;
        let org = project
            .sentry_org
            .as_deref()
            .or(self.default_org.as_deref())
            .ok_or_else(|| {
                Outcome::not_configured(
                    "No Sentry organization is set: an admin sets it in the project's settings (or set SENTRY_ORG).",
                )
            })?;
        let (slug, field) = match which {
            Some("frontend") => (
                project.sentry_frontend_project.as_deref(),
                "frontend project",
            ),
            _ => (project.sentry_project.as_deref(), "project"),
        };
        let slug = slug.ok_or_else(|| {
            Outcome::not_configured(format!(
                "The Sentry {field} is not set: an admin sets it in the project's settings."
            ))
        })?;
        Ok((sentry, org, slug))
    }

    async fn sentry_project(&self, project: &Project, which: Option<&str>) -> Outcome {
        let (sentry, org, slug) = match self.sentry_target(project, which) {
            Ok(target) => target,
            Err(outcome) => return outcome,
        };
        match sentry.project(org, slug).await {
            Ok(found) => Outcome::passed(format!("Sentry has the project {org}/{slug}."))
                .saw("name", found.name)
                .saw(
                    "platform",
                    found.platform.unwrap_or_else(|| "not set".into()),
                ),
            Err(UpstreamError::NotFound) => Outcome::failed(format!(
                "Sentry has no project “{slug}” in “{org}”: create it (an admin can do it from here), or correct the project's settings."
            )),
            Err(err) => Outcome::upstream("Sentry", &err),
        }
    }

    async fn sentry_dsn(&self, project: &Project, which: Option<&str>) -> Outcome {
        let (sentry, org, slug) = match self.sentry_target(project, which) {
            Ok(target) => target,
            Err(outcome) => return outcome,
        };
        match sentry.client_keys(org, slug).await {
            Ok(keys) => match keys.iter().find(|key| key.is_active) {
                Some(key) => Outcome::passed("The project has an active client key.")
                    .saw("public DSN", key.dsn.public.clone())
                    .saw("keys", keys.len().to_string()),
                None => Outcome::failed(
                    "The project has no active client key: create one in Sentry under Settings → Client Keys (DSN).",
                )
                .saw("keys", keys.len().to_string()),
            },
            Err(err) => Outcome::upstream("Sentry", &err),
        }
    }

    /// Events arrived in the last 24 hours: an issue seen within them, or
    /// transactions counted within them. Watchpost's test event counts (it
    /// came through the DSN) and is named as such.
    async fn sentry_events(&self, project: &Project, which: Option<&str>) -> Outcome {
        let (sentry, org, slug) = match self.sentry_target(project, which) {
            Ok(target) => target,
            Err(outcome) => return outcome,
        };
        let found = match sentry.project(org, slug).await {
            Ok(found) => found,
            Err(err) => return Outcome::upstream("Sentry", &err),
        };
        if found.first_event.is_none() {
            return Outcome::failed(
                "Sentry has received no event yet: check that SENTRY_DSN is set on the host, that the app initializes the SDK, and send a test event.",
            );
        }
        let since = day_ago();
        let environment = project.sentry_environment.as_deref();
        let within = environment.map_or_else(String::new, |name| format!(" in {name}"));
        let latest = match sentry
            .latest_issue(org, &found.id, "24h", environment)
            .await
        {
            Ok(latest) => latest.filter(|issue| !issue.last_seen_before(since)),
            Err(err) => return Outcome::upstream("Sentry", &err),
        };
        let transactions: u64 = match sentry.hourly(org, &found.id, 24, "transaction").await {
            Ok(hours) => hours.iter().map(|(_, count)| count).sum(),
            Err(err) => return Outcome::upstream("Sentry", &err),
        };
        let mut outcome = match &latest {
            Some(issue) => {
                let at = issue.last_seen.clone().unwrap_or_default();
                let whose = if is_test_event(&issue.title) {
                    " (Watchpost's test event: the DSN works; your app's own events will follow it)"
                } else {
                    ""
                };
                Outcome::passed(format!(
                    "Sentry received an event{within} in the last 24 hours, the latest at {}{whose}.",
                    day_and_hour(&at)
                ))
                .saw("latest event", at)
            }
            // Sentry's counts do not tell environments apart: transactions
            // of staging would pass for production's.
            None if transactions > 0 && environment.is_some() => Outcome::new(
                CheckStatus::Unsupported,
                format!(
                    "No error{within} in the last 24 hours, and {transactions} transactions of every environment together: Sentry's counts do not tell which were{within}. Look in Sentry → Performance, filtered to the environment, or send a test event."
                ),
            ),
            None if transactions > 0 => Outcome::passed(format!(
                "Sentry received {transactions} transactions in the last 24 hours, and no error."
            )),
            None => Outcome::failed(format!(
                "Sentry has received no event{within} in the last 24 hours (the first arrived {}): check that the service runs, that SENTRY_DSN is still set on the host, and that the SDK's environment is the project's.",
                found
                    .first_event
                    .as_deref()
                    .map(day_and_hour)
                    .unwrap_or_default()
            )),
        };
        outcome = outcome.saw("transactions, last 24 hours", transactions.to_string());
        if let Some(environment) = environment {
            outcome = outcome.saw("environment", environment);
        }
        outcome
    }

    async fn sentry_slack(&self, project: &Project) -> Outcome {
        let (sentry, org, _) = match self.sentry_target(project, None) {
            Ok(target) => target,
            Err(outcome) => return outcome,
        };
        match sentry.slack_integrations(org).await {
            Ok(found) => match found
                .iter()
                .find(|i| i.provider.key == "slack" && i.status == "active")
            {
                Some(slack) => Outcome::passed("Sentry's Slack integration is installed.")
                    .saw("workspace", slack.name.clone()),
                None => Outcome::failed(
                    "Sentry's Slack integration is not installed: in Sentry, Settings → Integrations → Slack → Install.",
                ),
            },
            Err(err) => Outcome::upstream("Sentry", &err),
        }
    }

    /// New unresolved issues in the last 24 hours; with `markers`, those
    /// any of them matches (one query each, merged), named in the message.
    async fn sentry_new_issues(&self, project: &Project, markers: &[String]) -> Outcome {
        let (sentry, org, id) = match self.sentry_project_id(project).await {
            Ok(target) => target,
            Err(outcome) => return outcome,
        };
        let since = day_ago();
        let mut issues: Vec<Issue> = Vec::new();
        let queries: Vec<Option<&str>> = if markers.is_empty() {
            vec![None]
        } else {
            markers.iter().map(|marker| Some(marker.as_str())).collect()
        };
        for marker in queries {
            match sentry.new_issues(org, &id, since, marker).await {
                Ok(found) => {
                    for issue in found {
                        if !issues.iter().any(|seen| seen.id == issue.id) {
                            issues.push(issue);
                        }
                    }
                }
                Err(err) => return Outcome::upstream("Sentry", &err),
            }
        }
        let what = if markers.is_empty() {
            "new unresolved issues".to_owned()
        } else {
            format!("new critical issues ({})", markers.join(" or "))
        };
        let measure = format!("{what}, last 24 hours");
        let mut outcome = if issues.is_empty() {
            Outcome::passed(format!("No {what} in the last 24 hours."))
        } else {
            Outcome::failed(format!(
                "{} {what} in the last 24 hours: open them in Sentry and decide (the escalation tab helps).",
                issues.len()
            ))
            .with_issues(&issues[..issues.len().min(5)])
        };
        // Seed 001 names each critical error's kind in its `error_type` tag:
        // shown beside the issue, when the server tells.
        if !markers.is_empty() {
            for issue in issues.iter().take(5) {
                if let Ok(types) = sentry.issue_tag_values(org, &issue.id, "error_type").await
                    && !types.is_empty()
                    && let Some(line) = outcome.observed.get(&issue.short_id).cloned()
                {
                    outcome.observed.insert(
                        &issue.short_id,
                        format!("{line}; error_type {}", types.join(", ")),
                    );
                }
            }
        }
        outcome
            .saw("new issues", issues.len().to_string())
            .measured(issues.len() as f64, Unit::Count, measure)
    }

    pub(crate) async fn sentry_project_id<'a>(
        &'a self,
        project: &'a Project,
    ) -> Result<(&'a Sentry, &'a str, String), Outcome> {
        let (sentry, org, slug) = self.sentry_target(project, None)?;
        match sentry.project(org, slug).await {
            Ok(found) => Ok((sentry, org, found.id)),
            Err(err) => Err(Outcome::upstream("Sentry", &err)),
        }
    }

    async fn sentry_error_count(&self, playbook: &Playbook, project: &Project) -> Outcome {
        match self.sentry_project_id(project).await {
            Ok((sentry, org, id)) => errors_per_hour(playbook, sentry, org, &id).await,
            Err(outcome) => outcome,
        }
    }

    /// The share of failed transactions in the last hour (`failure_rate()`);
    /// without transactions, errors per hour, saying so.
    async fn sentry_error_rate(&self, playbook: &Playbook, project: &Project) -> Outcome {
        let (sentry, org, id) = match self.sentry_project_id(project).await {
            Ok(target) => target,
            Err(outcome) => return outcome,
        };
        let values = match sentry
            .transaction_aggregates(org, &id, &["failure_rate()", "count()"], "", "1h")
            .await
        {
            Ok(values) => values,
            Err(
                err @ (UpstreamError::NotFound
                | UpstreamError::Unsupported(_)
                | UpstreamError::NotJson(_)
                | UpstreamError::Status(400 | 422, _)),
            ) => {
                let why = format!("Sentry's events query {err}");
                return errors_per_hour_instead(playbook, sentry, org, &id, &why).await;
            }
            Err(err) => return Outcome::upstream("Sentry", &err),
        };
        let (Some(rate), Some(count)) = (values[0], values[1].filter(|count| *count > 0.0)) else {
            let why = "The project sent no transactions in the last hour (no performance monitoring), so there is no error rate";
            return errors_per_hour_instead(playbook, sentry, org, &id, why).await;
        };
        let percent = rate * 100.0;
        let shown = format!("{}%", Decimal((percent * 100.0).round() / 100.0));
        let bound = target_bound(playbook, CheckKind::SentryErrorRate, &Keyed::default());
        let outcome = match bound {
            Some(bound) if bound.holds(percent) => Outcome::passed(format!(
                "Error rate {shown} in the last hour ({bound} target)."
            )),
            Some(bound) => Outcome::failed(format!(
                "Error rate {shown} in the last hour, over the {bound} target: follow “Error rate above threshold” in the escalation tab."
            )),
            None => Outcome::passed(format!("Error rate {shown} in the last hour.")),
        };
        outcome
            .saw("error rate", shown)
            .saw("transactions", Decimal(count).to_string())
            .saw("measure", "failure_rate() of transactions, last hour")
            .measured(
                percent,
                Unit::Percent,
                "failure_rate() of transactions, last hour",
            )
    }

    /// p99 of the project's transactions in the last hour, or of the one
    /// transaction an `endpoint` maps to in the project's settings.
    async fn sentry_p99(&self, playbook: &Playbook, project: &Project, item: &Item) -> Outcome {
        let endpoint = item.with.get("endpoint").map(String::as_str);
        let transaction = match endpoint {
            None => None,
            Some(endpoint) => match project.transactions.get(endpoint) {
                Some(name) => Some(name.as_str()),
                None => {
                    return Outcome::not_configured(format!(
                        "The {endpoint} endpoint is not mapped to its Sentry transaction: an admin enters it (as Sentry names it, such as POST /api/{endpoint}) under Transactions in the project's settings."
                    ));
                }
            },
        };
        let (sentry, org, id) = match self.sentry_project_id(project).await {
            Ok(target) => target,
            Err(outcome) => return outcome,
        };
        let query = transaction.map_or_else(String::new, |name| {
            format!(
                "transaction:\"{}\"",
                name.replace('\\', "\\\\").replace('"', "\\\"")
            )
        });
        let values = match sentry
            .transaction_aggregates(org, &id, &["p99(span.duration)", "count()"], &query, "1h")
            .await
        {
            Ok(values) => values,
            Err(err) => return Outcome::upstream("Sentry", &err),
        };
        let what = transaction.unwrap_or("all transactions");
        let (Some(p99), Some(count)) = (values[0], values[1].filter(|count| *count > 0.0)) else {
            return Outcome::new(
                CheckStatus::Failed,
                format!(
                    "No transactions of {what} in the last hour: check that performance monitoring is on (SENTRY_TRACES_SAMPLE_RATE) and that the transaction name matches Sentry's."
                ),
            )
            .saw("transaction", what);
        };
        let ms = p99.round();
        let bound = target_bound(playbook, CheckKind::SentryP99, &item.with)
            .or_else(|| target_bound(playbook, CheckKind::SentryP99, &Keyed::default()));
        let outcome = match bound {
            Some(bound) if bound.holds(ms) => Outcome::passed(format!(
                "p99 of {what}: {} ms in the last hour ({bound} target).",
                Decimal(ms)
            )),
            Some(bound) => Outcome::failed(format!(
                "p99 of {what}: {} ms in the last hour, over the {bound} target: look at the slowest spans in Sentry's performance view and at recent deploys.",
                Decimal(ms)
            )),
            None => Outcome::passed(format!(
                "p99 of {what}: {} ms in the last hour.",
                Decimal(ms)
            )),
        };
        outcome
            .saw("p99", format!("{} ms", Decimal(ms)))
            .saw("transactions", Decimal(count).to_string())
            .saw("transaction", what)
            .measured(ms, Unit::Ms, format!("p99 of {what}, last hour"))
    }

    /// The rule the item names (seed 000's, or one of seed 003's), found by
    /// its name or by what it watches through the legacy alert-rule API or,
    /// where the server lacks it, the current one, and compared with its
    /// seed: its aggregate, window, threshold and comparison (a metric rule)
    /// or its conditions (an issue rule), and that it notifies someone. A
    /// rule named right that differs is failed, saying how.
    async fn sentry_alert_rule(&self, project: &Project, rule: &str) -> Outcome {
        let Some(seed) = Wanted::from_param(rule) else {
            return Outcome::new(
                CheckStatus::Error,
                format!("the playbook names an unknown rule “{rule}”"),
            );
        };
        let (sentry, org, slug) = match self.sentry_target(project, None) {
            Ok(target) => target,
            Err(outcome) => return outcome,
        };
        let judged = |found: Found| {
            let name = &found.name;
            let outcome = if found.differences.is_empty() {
                Outcome::passed(format!(
                    "Sentry has “{name}”{}, watching {} and notifying someone.",
                    if seed.named(name) {
                        ""
                    } else {
                        ", recognized by its condition"
                    },
                    seed.condition
                ))
            } else {
                Outcome::failed(format!(
                    "“{name}” exists, but {}: Watchpost's “Create the alert rules” corrects it, or correct it under Alerts in Sentry.",
                    found.differences.join("; ")
                ))
            };
            outcome
                .saw("rule", name.clone())
                .saw("condition", found.condition.clone())
                .saw("via", found.via)
        };
        let missing = || {
            Outcome::failed(format!(
                "Sentry has no alert for “{}” ({}): create it with Watchpost's “Create the alert rules”, or under Alerts in Sentry, notifying by email or Slack.",
                seed.condition,
                seed.name(),
            ))
        };
        let rules = match Rules::read(sentry, org, slug).await {
            Ok(Rules::Neither) => {
                return Outcome::new(
                    CheckStatus::Unsupported,
                    format!(
                        "This server has neither Sentry's alert rules nor its monitors and alerts, so Watchpost cannot read “{}”: set up an alert for {} in the server's own alert settings, notifying by email or Slack, and check it there.",
                        seed.name(),
                        seed.condition
                    ),
                );
            }
            Ok(rules) => rules,
            Err(err) => return Outcome::upstream("Sentry", &err),
        };
        match rules.find(sentry, org, &seed).await {
            Ok(Some(found)) => judged(found),
            Ok(None) => missing(),
            Err(err) => Outcome::upstream("Sentry", &err),
        }
    }

    async fn sentry_top_issues(&self, project: &Project) -> Outcome {
        let (sentry, org, id) = match self.sentry_project_id(project).await {
            Ok(target) => target,
            Err(outcome) => return outcome,
        };
        let since = day_ago();
        match sentry.top_issues(org, &id, "24h", since, 3).await {
            Ok(issues) if issues.is_empty() => {
                Outcome::passed("No unresolved issues in the last 24 hours.")
            }
            Ok(issues) => {
                Outcome::passed(format!(
                    "The {} unresolved issue(s) with the most events in the last 24 hours: review each in Sentry.",
                    issues.len()
                ))
                .with_issues(&issues)
            }
            Err(err) => Outcome::upstream("Sentry", &err),
        }
    }

    pub(crate) fn render_target<'a>(
        &'a self,
        project: &'a Project,
    ) -> Result<(&'a Render, &'a str), Outcome> {
        let render = self.render.as_ref().ok_or_else(|| {
            Outcome::not_configured(
                "No Render API key is configured: set RENDER_API_KEY (or --render-api-key, or [render] api_key in the --config file) and restart Watchpost.",
            )
        })?;
        let service = project.render_service_id.as_deref().ok_or_else(|| {
            Outcome::not_configured(
                "The Render service id is not set: an admin sets it (srv-…) in the project's settings.",
            )
        })?;
        Ok((render, service))
    }

    async fn render_service(&self, project: &Project) -> Outcome {
        let (render, service) = match self.render_target(project) {
            Ok(target) => target,
            Err(outcome) => return outcome,
        };
        match render.service(service).await {
            Ok(found) => Outcome::passed(format!("Render has the service {}.", found.name))
                .saw("name", found.name)
                .saw("type", found.kind)
                .saw("suspended", found.suspended)
                .saw("dashboard", found.dashboard_url),
            Err(UpstreamError::NotFound) => Outcome::failed(format!(
                "Render has no service {service} that this API key can see: correct the service id in the project's settings."
            )),
            Err(err) => Outcome::upstream("Render", &err),
        }
    }

    /// `key` on the service: present, equal to `equals`, or compared with
    /// the platform's seed (`seed`): a team's own value for a setting that
    /// is its choice stays, shown beside the seed's, never relayed.
    async fn render_env_var(
        &self,
        project: &Project,
        key: &str,
        equals: Option<&str>,
        seed: Option<&SdkSetting>,
    ) -> Outcome {
        let (render, service) = match self.render_target(project) {
            Ok(target) => target,
            Err(outcome) => return outcome,
        };
        let vars = match render.env_vars(service).await {
            Ok(vars) => vars,
            Err(err) => return Outcome::upstream("Render", &err),
        };
        let Some(var) = vars.iter().find(|var| var.key == key) else {
            return Outcome::failed(format!(
                "{key} is not set on the Render service: an admin can set it from here, or add it under Environment in Render."
            ))
            .saw(key, "missing");
        };
        let says = |setting: &SdkSetting| format!("{} says {}", setting.seed, setting.value);
        match (equals, seed) {
            (Some(expected), _) if var.value.expose() == expected => {
                Outcome::passed(format!("{key} is {expected}.")).saw(key, "matches")
            }
            (Some(expected), _) => Outcome::failed(format!(
                "{key} is set, but not to {expected}: change it in Render (or from here), then redeploy."
            ))
            .saw(key, "differs"),
            (None, Some(setting)) if var.value.expose() == setting.value => Outcome::passed(
                format!("{key} is {}, as {} says.", setting.value, setting.seed),
            )
            .saw(key, "matches")
            .saw("guide", says(setting)),
            (None, Some(setting)) if setting.team_choice => Outcome::passed(format!(
                "{key} is set to the team's own value; {}.",
                says(setting)
            ))
            .saw(key, "the team's own value")
            .saw("guide", says(setting)),
            (None, Some(setting)) => Outcome::failed(format!(
                "{key} is set, but not as {}: change it in Render (or from here), then redeploy.",
                says(setting)
            ))
            .saw(key, "differs")
            .saw("guide", says(setting)),
            (None, None) => Outcome::passed(format!("{key} is set.")).saw(key, "present"),
        }
    }

    /// The live deploy's commit is a release Sentry has seen events of: the
    /// SDK takes its release from `RENDER_GIT_COMMIT`, so it follows every
    /// deploy; a fixed `SENTRY_RELEASE` on the service would not.
    async fn sentry_release(&self, project: &Project) -> Outcome {
        let (render, service) = match self.render_target(project) {
            Ok(target) => target,
            Err(outcome) => return outcome,
        };
        let (sentry, org, _) = match self.sentry_target(project, None) {
            Ok(target) => target,
            Err(outcome) => return outcome,
        };
        let deploys = match render.deploys(service, 20).await {
            Ok(deploys) => deploys,
            Err(err) => return Outcome::upstream("Render", &err),
        };
        let Some(live) = deploys
            .iter()
            .find(|deploy| deploy.status.as_deref() == Some("live"))
        else {
            return Outcome::failed(
                "The service has no live deploy yet: deploy it, then send an event.",
            );
        };
        let Some(commit) = live.commit.as_ref().and_then(|commit| commit.id.clone()) else {
            return Outcome::new(
                CheckStatus::Unsupported,
                "Render does not say which commit is live, so its release cannot be looked up: check Releases in Sentry by hand.",
            );
        };
        let short = crate::upstream::render::short(&commit);
        match render.env_vars(service).await {
            Ok(vars) if vars.iter().any(|var| var.key == FIXED_RELEASE) => {
                return Outcome::failed(format!(
                    "{FIXED_RELEASE} is fixed on the service, so every event carries that value whatever is deployed: remove it (“Set the env vars” does) and let the SDK take the release from RENDER_GIT_COMMIT."
                ))
                .saw("live commit", short)
                .saw(FIXED_RELEASE, "fixed");
            }
            Ok(_) => {}
            Err(err) => return Outcome::upstream("Render", &err),
        }
        match sentry.release(org, &commit).await {
            Ok(release) => match release.last_event {
                Some(at) => Outcome::passed(format!(
                    "Sentry has events of the live release {short}, the latest at {}.",
                    day_and_hour(&at)
                ))
                .saw("release", short)
                .saw("latest event", at),
                None => Outcome::failed(format!(
                    "Sentry knows the release {short} but has no event of it yet: send one (or wait for the app's first), and check that the SDK sets its release from RENDER_GIT_COMMIT."
                ))
                .saw("release", short),
            },
            Err(UpstreamError::NotFound) => Outcome::failed(format!(
                "Sentry has no release {short}, the live deploy's commit: set the SDK's release from RENDER_GIT_COMMIT (the SDK snippet does), deploy, and send an event."
            ))
            .saw("live commit", short),
            Err(err) => Outcome::upstream("Sentry", &err),
        }
    }

    async fn render_dsn_matches(
        &self,
        project: &Project,
        which: Option<&str>,
        variable: &str,
    ) -> Outcome {
        let (render, service) = match self.render_target(project) {
            Ok(target) => target,
            Err(outcome) => return outcome,
        };
        let (sentry, org, slug) = match self.sentry_target(project, which) {
            Ok(target) => target,
            Err(outcome) => return outcome,
        };
        let keys = match sentry.client_keys(org, slug).await {
            Ok(keys) => keys,
            Err(err) => return Outcome::upstream("Sentry", &err),
        };
        let vars = match render.env_vars(service).await {
            Ok(vars) => vars,
            Err(err) => return Outcome::upstream("Render", &err),
        };
        let sentry_dsns: Vec<Dsn> = keys
            .iter()
            .filter(|key| key.is_active)
            .filter_map(|key| Dsn::parse(&key.dsn.public))
            .collect();
        let Some(expected) = sentry_dsns.first() else {
            return Outcome::failed("The Sentry project has no active client key to compare with.");
        };
        let Some(var) = vars.iter().find(|var| var.key == variable) else {
            return Outcome::failed(format!(
                "{variable} is not set on the Render service: an admin can set it from here to the project's DSN."
            ))
            .saw("Sentry DSN", expected.public());
        };
        match Dsn::parse(var.value.expose()) {
            Some(set) if sentry_dsns.iter().any(|dsn| dsn.same_as(&set)) => {
                Outcome::passed(format!("{variable} on Render is the Sentry project's DSN."))
                    .saw(variable, set.masked())
                    .saw("Sentry DSN", expected.public())
            }
            Some(set) => Outcome::failed(format!(
                "{variable} on Render is another project's or key's DSN: set it to the Sentry project's DSN, then redeploy."
            ))
            .saw(variable, set.masked())
            .saw("Sentry DSN", expected.public()),
            None => Outcome::failed(format!(
                "{variable} on Render is not a DSN: set it to the Sentry project's DSN."
            ))
            .saw(variable, "not a DSN")
                .saw("Sentry DSN", expected.public()),
        }
    }

    /// Log lines at `level` (containing `text`) in the last four hours,
    /// the time between two checkpoints.
    async fn render_logs(&self, project: &Project, level: &str, text: Option<&str>) -> Outcome {
        let (render, service) = match self.render_target(project) {
            Ok(target) => target,
            Err(outcome) => return outcome,
        };
        let service = match render.service(service).await {
            Ok(service) => service,
            Err(err) => return Outcome::upstream("Render", &err),
        };
        let end = jiff::Timestamp::now();
        let start = end - jiff::SignedDuration::from_hours(LOG_WINDOW_HOURS);
        let found = match render
            .logs(
                &service,
                level,
                text,
                (&start.to_string(), &end.to_string()),
            )
            .await
        {
            Ok(found) => found,
            Err(err) => return Outcome::upstream("Render", &err),
        };
        let what = match text {
            Some(text) => format!("{level} lines containing “{text}”"),
            None => format!("{level} lines"),
        };
        let count = if found.has_more {
            format!("{}+", found.logs.len())
        } else {
            found.logs.len().to_string()
        };
        let mut outcome = if found.logs.is_empty() {
            Outcome::passed(format!("No {what} in the last {LOG_WINDOW_HOURS} hours."))
        } else {
            Outcome::failed(format!(
                "{count} {what} in the last {LOG_WINDOW_HOURS} hours: read them in Render's logs; repeated ones are worth an issue, a flood is an escalation."
            ))
        }
        .saw(&what, count);
        for line in found.logs.iter().take(3) {
            let excerpt: String = line.message.chars().take(LOG_EXCERPT_CHARS).collect();
            outcome = outcome.saw(&line.timestamp, excerpt);
        }
        outcome
    }

    /// The latest backup verification, read from the project's status URL.
    async fn backup_recent(&self, project: &Project) -> Outcome {
        let Some(text) = project.backup_status_url.as_deref() else {
            return Outcome::not_configured(
                "No backup status URL is set: an admin enters the URL that reports the latest backup verification in the project's settings.",
            );
        };
        let Ok(url) = Url::parse(text) else {
            return Outcome::failed(
                "The backup status URL is not a URL: correct it in the project's settings.",
            );
        };
        let body = match self.health.fetch(&url).await {
            Ok(fetched) if (200..300).contains(&fetched.status) => fetched.body,
            Ok(fetched) => {
                return Outcome::failed(format!(
                    "The backup status URL answered {}: check the verification job's endpoint.",
                    fetched.status
                ));
            }
            Err(Ok(refused)) => return Outcome::failed(format!("{text}: {refused}.")),
            Err(Err(err)) => return Outcome::upstream("The backup status URL", &err),
        };
        let Some(latest) = BackupVerification::latest(&body) else {
            return Outcome::failed(
                "The backup status URL did not answer a backup verification: it should answer a JSON object, or a list of them, with verified_at and status.",
            );
        };
        latest.judge(
            jiff::Timestamp::now(),
            project
                .backup_min_mb
                .unwrap_or(domain::project::DEFAULT_BACKUP_MIN_MB),
        )
    }

    async fn render_deploy_live(&self, project: &Project) -> Outcome {
        let (render, service) = match self.render_target(project) {
            Ok(target) => target,
            Err(outcome) => return outcome,
        };
        match render.deploys(service, 1).await {
            Ok(deploys) => match deploys.first() {
                None => Outcome::failed(
                    "The service has no deploy yet: deploy it from Render (or from here).",
                ),
                Some(deploy) => {
                    let status = deploy.status.clone().unwrap_or_else(|| "unknown".into());
                    let mut outcome = if status == "live" {
                        Outcome::passed("The latest deploy is live.")
                    } else {
                        Outcome::failed(format!(
                            "The latest deploy is {status}, not live: open it in Render to see why."
                        ))
                    }
                    .saw("status", status)
                    .saw("deploy", deploy.id.clone());
                    if let Some(commit) = &deploy.commit {
                        let id = commit.short();
                        let message = commit.message.as_deref().unwrap_or_default();
                        outcome =
                            outcome.saw("commit", format!("{id} {message}").trim().to_owned());
                    }
                    outcome
                }
            },
            Err(err) => Outcome::upstream("Render", &err),
        }
    }

    /// Every health URL of the project, probed and judged by its conditions.
    pub(crate) async fn probes(
        &self,
        project: &Project,
    ) -> Result<Vec<(String, Result<Probe, String>)>, Outcome> {
        if project.health_urls.is_empty() {
            return Err(Outcome::not_configured(
                "No health URL is set: an admin adds one (https://…/health) in the project's settings.",
            ));
        }
        let conditions = domain::condition::conditions(&project.health_conditions);
        let mut probes = Vec::new();
        for text in &project.health_urls {
            let probe = match Url::parse(text) {
                Ok(url) => self
                    .health
                    .probe(&url, &conditions)
                    .await
                    .map_err(|err| match err {
                        Ok(refused) => refused.to_string(),
                        Err(upstream) => format!("it {upstream}"),
                    }),
                Err(_) => Err("it is not a URL".to_owned()),
            };
            probes.push((text.clone(), probe));
        }
        Ok(probes)
    }

    async fn health_endpoint(&self, project: &Project) -> Outcome {
        let probes = match self.probes(project).await {
            Ok(probes) => probes,
            Err(outcome) => return outcome,
        };
        let mut problems = Vec::new();
        let mut observed = Keyed::default();
        for (url, probe) in probes {
            match probe {
                Ok(probe) => {
                    let summary = format!(
                        "answered {}{} in {} ms",
                        probe.status,
                        probe
                            .status_word()
                            .map(|word| format!(" {word}"))
                            .unwrap_or_default(),
                        probe.latency.as_millis(),
                    );
                    if !probe.is_healthy() {
                        let unmet: Vec<String> =
                            probe.unmet.iter().map(ToString::to_string).collect();
                        problems.push(format!("{url}: {}", unmet.join("; ")));
                        observed.insert(&url, format!("{summary}, but {}", unmet.join("; ")));
                    } else {
                        observed.insert(&url, summary);
                    }
                }
                Err(why) => {
                    problems.push(format!("{url}: {why}"));
                    observed.insert(&url, why);
                }
            }
        }
        let mut outcome = if problems.is_empty() {
            Outcome::passed("Every health endpoint meets its conditions.")
        } else {
            Outcome::failed(format!(
                "{}. Open the service's logs; if it persists for minutes, follow “Health check failing” in the escalation tab.",
                problems.join("; ")
            ))
        };
        outcome.observed = observed;
        outcome
    }

    async fn health_latency(&self, playbook: &Playbook, project: &Project, item: &Item) -> Outcome {
        // Other endpoints are timed by Sentry, from their transaction.
        if item
            .with
            .get("endpoint")
            .is_some_and(|endpoint| endpoint != "health")
        {
            return self.sentry_p99(playbook, project, item).await;
        }
        let probes = match self.probes(project).await {
            Ok(probes) => probes,
            Err(outcome) => return outcome,
        };
        let bound = target_bound(playbook, CheckKind::HealthLatency, &item.with);
        let mut slowest: Option<(String, u128)> = None;
        let mut observed = Keyed::default();
        for (url, probe) in probes {
            match probe {
                Ok(probe) => {
                    let ms = probe.latency.as_millis();
                    observed.insert(&url, format!("{ms} ms"));
                    if slowest.as_ref().is_none_or(|(_, worst)| ms > *worst) {
                        slowest = Some((url, ms));
                    }
                }
                Err(why) => {
                    return Outcome::failed(format!("{url}: {why}.")).saw(&url, why);
                }
            }
        }
        let Some((url, ms)) = slowest else {
            return Outcome::failed("No health endpoint answered.");
        };
        let mut outcome = match bound {
            Some(bound) if bound.holds(ms as f64) => {
                Outcome::passed(format!("{url} answered in {ms} ms ({} target).", bound))
            }
            Some(bound) => Outcome::failed(format!(
                "{url} answered in {ms} ms, over the {} target: look at the service's load and recent deploys.",
                bound
            )),
            None => Outcome::passed(format!("{url} answered in {ms} ms.")),
        };
        outcome.observed = observed;
        outcome.measured(
            ms as f64,
            Unit::Ms,
            format!("GET {url}, the slowest health URL"),
        )
    }

    async fn slack_webhook(&self, project: &Project) -> Outcome {
        let text = format!(
            "Watchpost: a test message for “{}”. The launch alerts will come here.",
            project.name
        );
        slack_tested(&self.notifier, project.id, &text)
            .await
            .outcome()
    }
}

/// What a test message through the notifier says, for the check and the action.
pub(crate) struct SlackTest {
    tested: Tested,
    webhook: String,
}

pub(crate) async fn slack_tested(notifier: &Notifier, project: i64, text: &str) -> SlackTest {
    SlackTest {
        tested: notifier.test(project, text).await,
        webhook: notifier.masked().unwrap_or_default(),
    }
}

impl SlackTest {
    pub(crate) fn outcome(&self) -> Outcome {
        let when = match self.tested.reused_after {
            None => String::new(),
            Some(ago) => format!(
                " {} ago; Watchpost posts one test message every {} at most",
                span(i64::try_from(ago.as_secs()).unwrap_or(i64::MAX)),
                span(i64::try_from(TEST_REUSED_FOR.as_secs()).unwrap_or(i64::MAX)),
            ),
        };
        match &self.tested.posted {
            Posted::NotConfigured => Outcome::not_configured(NO_SLACK),
            Posted::Sent => Outcome::passed(format!("Slack accepted a test message{when}."))
                .saw("webhook", self.webhook.clone()),
            Posted::HeldBack => Outcome::new(
                CheckStatus::Error,
                "Watchpost has posted several messages to this channel in the last minutes; to keep it readable the test message waits: check again in two minutes.",
            )
            .saw("webhook", self.webhook.clone()),
            Posted::Failed(err) => {
                let mut outcome = Outcome::upstream("Slack", err);
                if self.tested.reused_after.is_some() {
                    outcome.message = format!("{} (the test message{when}.)", outcome.message);
                }
                outcome.saw("webhook", self.webhook.clone())
            }
        }
    }
}

/// Accepted errors in the last full hour of the Sentry project `id`, with the
/// busiest hour and the day's total, against the playbook's target.
async fn errors_per_hour(playbook: &Playbook, sentry: &Sentry, org: &str, id: &str) -> Outcome {
    let hours = match hourly_error_counts(sentry, org, id, 24).await {
        Ok(hours) => hours,
        Err(err) => return Outcome::upstream("Sentry", &err),
    };
    let now = jiff::Timestamp::now().as_second();
    let Some((hour, count)) = last_full_hour(&hours, now) else {
        return Outcome::new(
            CheckStatus::Error,
            "Sentry has no complete hour of counts yet: check again in an hour.",
        );
    };
    let total: u64 = hours.iter().map(|(_, count)| count).sum();
    let peak = hours.iter().map(|(_, count)| *count).max().unwrap_or(0);
    let bound = target_bound(playbook, CheckKind::SentryErrorCount, &Keyed::default());
    let outcome = match bound {
        Some(bound) if bound.holds(count as f64) => Outcome::passed(format!(
            "{count} errors in the last full hour ({bound} target)."
        )),
        Some(bound) => Outcome::failed(format!(
            "{count} errors in the last full hour, over the {bound} target: look at the top issues, and escalate if the rate keeps rising."
        )),
        None => Outcome::passed(format!("{count} errors in the last full hour.")),
    };
    outcome
        .saw(
            "last full hour",
            format!(
                "{count} (from {})",
                short_hour(&crate::clock::rfc3339(hour))
            ),
        )
        .saw("last 24 hours", total.to_string())
        .saw("busiest hour", peak.to_string())
        .saw("measure", "accepted error events per hour (Sentry stats)")
        .measured(
            count as f64,
            Unit::PerHour,
            "error events in the last full hour (Sentry stats)",
        )
}

/// Accepted errors per hour (Unix seconds of each hour's start) over the
/// last `hours`, without Watchpost's own test events and without the hours
/// still to come (GlitchTip's series runs an hour past the present).
async fn hourly_error_counts(
    sentry: &Sentry,
    org: &str,
    id: &str,
    hours: u32,
) -> Result<Vec<(i64, u64)>, UpstreamError> {
    let series = sentry.hourly_errors(org, id, hours).await?;
    let tests = sentry
        .test_events(org, id, &format!("{hours}h"))
        .await
        .unwrap_or_default();
    let now = jiff::Timestamp::now().as_second();
    let mut hours: Vec<(i64, u64)> = series
        .into_iter()
        .filter_map(|(at, count)| Some((crate::clock::unix_seconds(&at)?, count)))
        .filter(|(start, _)| *start <= now)
        .collect();
    for (at, events) in tests {
        let at = at.as_second();
        if let Some((_, count)) = hours
            .iter_mut()
            .find(|(start, _)| (*start..*start + 3600).contains(&at))
        {
            *count = count.saturating_sub(events);
        }
    }
    Ok(hours)
}

/// The latest hour that has ended by `now` (Unix seconds): the one the
/// target is judged on, the current hour being still under way.
fn last_full_hour(hours: &[(i64, u64)], now: i64) -> Option<(i64, u64)> {
    hours
        .iter()
        .filter(|(start, _)| start + 3600 <= now)
        .max_by_key(|(start, _)| *start)
        .copied()
}

/// [`errors_per_hour`], saying why it stands in for a rate.
async fn errors_per_hour_instead(
    playbook: &Playbook,
    sentry: &Sentry,
    org: &str,
    id: &str,
    why: &str,
) -> Outcome {
    let outcome = errors_per_hour(playbook, sentry, org, id).await;
    Outcome {
        message: format!("{why}; errors per hour instead: {}", outcome.message),
        ..outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> jiff::Timestamp {
        text.parse().expect("a timestamp")
    }

    #[test]
    fn the_last_full_hour_is_found_by_its_time_not_its_place() {
        let now = at("2026-12-06T01:30:00Z").as_second();
        let hour = |text: &str| at(text).as_second();
        // Sentry: the series ends with the hour under way.
        let sentry = [
            (hour("2026-12-05T23:00:00Z"), 4),
            (hour("2026-12-06T00:00:00Z"), 2),
            (hour("2026-12-06T01:00:00Z"), 9),
        ];
        assert_eq!(
            last_full_hour(&sentry, now),
            Some((hour("2026-12-06T00:00:00Z"), 2))
        );
        // GlitchTip: one hour more, still to come.
        let glitchtip = [
            sentry[0],
            sentry[1],
            sentry[2],
            (hour("2026-12-06T02:00:00Z"), 0),
        ];
        assert_eq!(
            last_full_hour(&glitchtip, now),
            Some((hour("2026-12-06T00:00:00Z"), 2))
        );
        assert_eq!(last_full_hour(&sentry[2..], now), None, "no hour has ended");
    }

    #[test]
    fn a_backup_passes_only_when_every_condition_of_seed_002_is_seen() {
        let now = at("2026-11-23T12:00:00Z");
        let verified = |at: &str, status: &str, fields: &str| {
            BackupVerification::latest(
                format!(r#"{{"verified_at": "{at}", "status": "{status}", {fields}}}"#).as_bytes(),
            )
            .expect("a row")
            .judge(now, 100)
        };
        let row = |fields: &str| verified("2026-11-23T05:00:00Z", "success", fields);
        let good = r#""checks_passed": 5, "checks_failed": 0, "backup_age_hours": 3.5, "backup_size_mb": 812.4"#;
        let fresh = row(good);
        assert_eq!(fresh.status, CheckStatus::Passed, "{}", fresh.message);
        assert_eq!(
            fresh.observed.get("larger than 100 MB").map(String::as_str),
            Some("met: 812.4 MB")
        );
        for (fields, unmet) in [
            (
                good.replace("\"checks_failed\": 0", "\"checks_failed\": 2"),
                "no failed check (saw 2 failed)",
            ),
            (
                good.replace("3.5", "30"),
                "backup younger than 24 h (saw 30 h old when verified)",
            ),
            (
                good.replace("812.4", "42"),
                "larger than 100 MB (saw 42 MB)",
            ),
        ] {
            let judged = row(&fields);
            assert_eq!(judged.status, CheckStatus::Failed, "{fields}");
            assert!(judged.message.contains(unmet), "{}", judged.message);
        }
        let old = verified("2026-11-22T05:00:00Z", "success", good);
        assert!(
            old.message.contains("verified within 24 h (saw 31 h ago)"),
            "{}",
            old.message
        );
        let warned = verified("2026-11-23T05:00:00Z", "warning", good);
        assert!(
            warned.message.contains("status is success (saw warning)"),
            "{}",
            warned.message
        );
        // What the row does not say is not measured: never a pass.
        let silent = row(r#""backup_size_mb": 812.4"#);
        assert_eq!(
            silent.status,
            CheckStatus::Unsupported,
            "{}",
            silent.message
        );
        assert!(
            silent.message.contains("no failed check"),
            "{}",
            silent.message
        );

        // A list, as Supabase's REST API answers: the newest row counts.
        let list = format!(
            r#"[{{"verified_at": "2026-11-21T05:00:00Z", "status": "failure"}}, {{"verified_at": "2026-11-23T05:00:00Z", "status": "success", {good}}}]"#
        );
        let newest = BackupVerification::latest(list.as_bytes()).expect("a row");
        assert_eq!(newest.status, "success");
        assert!(BackupVerification::latest(br#"{"status": "success"}"#).is_none());
        assert!(BackupVerification::latest(b"<html>").is_none());
    }
}
