//! The services Watchpost asks on a team's behalf (Sentry, Render, Slack,
//! the health endpoints, the backup status URL): their clients, and each
//! named check of the catalogue asked of the real service, its answer
//! turned into a result a person can act on: `passed`, `failed`, `error`,
//! `not_configured` (which setting, and how to set it) or `unsupported`
//! (this server lacks the endpoint). One file per service, as `upstream/`;
//! this one holds what they share (the outcome, the cache of recent results,
//! the dispatch by check), and `record.rs` runs checks and snapshots and
//! records them, for the routes and the watcher alike: the service layer,
//! so that neither calls the other. The actions on the same clients are
//! `actions.rs`.
//!
//! Secrets are compared here and never put in a result: a DSN's secret part,
//! env var values (but the public DSN), the webhook URL.

mod backup;
mod database;
mod errors;
mod health;
mod instrumentation;
mod quota;
mod record;
mod render;
mod sentry;
mod slack;

pub(crate) use record::check_result;
pub use record::{CheckReport, SnapshotReport, run_all, run_and_record, take_snapshot};
pub(crate) use slack::slack_tested;

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
use crate::config::ServiceSettings;
use crate::lock;
use crate::metrics::Metrics;
use crate::notify::{Notifier, Posted, TEST_REUSED_FOR, Tested};
use crate::store::Store;
use crate::upstream::health::{HealthProber, Probe};
use crate::upstream::postgres::Postgres;
use crate::upstream::render::Render;
use crate::upstream::sentry::{Issue, Sentry};
use crate::upstream::slack::Slack;
use crate::upstream::{Upstream, UpstreamError};

/// Text from a service (a log line, a backup's error) is its own words:
/// only a short excerpt is shown.
const LOG_EXCERPT_CHARS: usize = 120;

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

/// The start of the 24 hours before `now`, which the issue and event
/// checks look at.
fn day_before(now: jiff::Timestamp) -> jiff::Timestamp {
    now - jiff::SignedDuration::from_hours(24)
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

/// The bound an endpoint's response time is held to: the routine target of
/// either source measuring it with the same `with` (the Sentry one, which
/// the seeds name), or the p99 most endpoints are held to.
fn latency_bound(playbook: &Playbook, with: &Keyed<String>) -> Option<Bound> {
    [CheckKind::SentryP99, CheckKind::RenderLatency]
        .into_iter()
        .find_map(|kind| target_bound(playbook, kind, with))
        .or_else(|| target_bound(playbook, CheckKind::SentryP99, &Keyed::default()))
}

/// What to do when an endpoint has no Render path.
fn no_render_path(endpoint: &str) -> String {
    format!(
        "The {endpoint} endpoint has no Render path: an admin enters it (such as /api/{endpoint}) under Render paths in the project's settings."
    )
}

/// What to do when no Slack webhook is configured.
pub(crate) const NO_SLACK: &str = "No Slack webhook is configured: set SLACK_WEBHOOK_URL (or --slack-webhook-url, or [slack] webhook_url in the --config file) and restart Watchpost.";

/// What a frontend page must show to be up: any answer but an error.
const FRONTEND_CONDITION: &str = "[STATUS] < 400";

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

/// A project's latest memory readings for the chart: when (ms), with which
/// settings, of which window (ms, to the minute), and what Render said.
type MemorySlot = Arc<tokio::sync::Mutex<Option<(i64, Project, (i64, i64), MemoryReadings)>>>;

/// Memory readings (Unix ms, MB) and the limit, or why there are none.
pub(crate) type MemoryReadings = Result<(Vec<(i64, f64)>, Option<f64>), String>;

/// Keeps the slots whose latest result is still `fresh`, and those in use:
/// a caller clones a slot before it locks it, under the map's lock.
fn retain_fresh<K, T>(
    slots: &mut HashMap<K, Arc<tokio::sync::Mutex<Option<T>>>>,
    fresh: impl Fn(&T) -> bool,
) {
    slots.retain(|_, slot| {
        Arc::strong_count(slot) > 1
            || slot
                .try_lock()
                .map_or(true, |latest| latest.as_ref().is_some_and(&fresh))
    });
}

/// Whether a result made at `at` (the server clock's ms) is still within
/// `fresh_for` at `now`.
fn fresh(now: i64, at: i64, fresh_for: Duration) -> bool {
    now - at < i64::try_from(fresh_for.as_millis()).unwrap_or(i64::MAX)
}

/// The clients of the configured services, and the results of recent runs.
#[derive(Debug, Clone)]
pub struct Services {
    sentry: Option<Sentry>,
    default_org: Option<String>,
    render: Option<Render>,
    /// Slack, behind the one rate-limited notifier.
    pub(crate) notifier: Arc<Notifier>,
    health: HealthProber,
    postgres: Postgres,
    /// Where the projects' database connection strings are kept.
    pub(crate) store: Store,
    /// One lock per (project, item): a check asked for by several people at
    /// once runs once, and its result is reused while fresh.
    recent: Arc<Mutex<HashMap<Key, Slot>>>,
    /// Each project's hourly error counts, reused while fresh.
    counts: Arc<Mutex<HashMap<i64, Counts>>>,
    /// Each project's memory readings, reused while fresh.
    memory: Arc<Mutex<HashMap<i64, MemorySlot>>>,
    /// Sentry project ids by organization and slug, for the error watch.
    sentry_ids: Arc<Mutex<HashMap<(String, String), String>>>,
    /// What "fresh" is read by.
    pub(crate) clock: Clock,
    /// The actions under way (see `actions`).
    pub(crate) under_way: Arc<Mutex<std::collections::HashSet<String>>>,
    /// Where the calls, checks and actions are counted.
    pub(crate) metrics: Metrics,
}

impl Services {
    pub fn new(
        services: &ServiceSettings,
        store: Store,
        metrics: &Metrics,
    ) -> Result<Self, String> {
        let clock = store.clock().clone();
        let upstream = Upstream::new(services.call_limits)?;
        Ok(Services {
            sentry: services.sentry_auth_token.as_ref().map(|token| {
                Sentry::new(
                    upstream.measured("sentry", metrics),
                    services.sentry_base_url.clone(),
                    token.clone(),
                )
            }),
            default_org: services.sentry_org.clone(),
            render: services.render_api_key.as_ref().map(|key| {
                Render::new(
                    upstream.measured("render", metrics),
                    services.render_base_url.clone(),
                    key.clone(),
                )
            }),
            notifier: Arc::new(Notifier::new(
                services.slack_webhook_url.as_ref().map(|webhook| {
                    Slack::new(upstream.measured("slack", metrics), webhook.clone())
                }),
                clock.clone(),
            )),
            health: HealthProber::new(
                services.call_limits.deadline.min(HEALTH_TIMEOUT),
                services.allow_private_targets,
            )?,
            postgres: Postgres::default(),
            store,
            recent: Arc::default(),
            counts: Arc::default(),
            memory: Arc::default(),
            sentry_ids: Arc::default(),
            clock,
            under_way: Arc::default(),
            metrics: metrics.clone(),
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
        if let Some((at, settings, outcome, entry)) = slot.as_ref()
            && fresh(self.clock.now_ms(), *at, FRESH_FOR)
            && settings == project
        {
            return Ok((outcome.clone(), entry.clone()));
        }
        let started = Instant::now();
        let outcome = self.check(playbook, project, item).await;
        let elapsed = started.elapsed();
        if let Some(kind) = item.verify.check() {
            self.metrics.check(kind.name(), elapsed);
        }
        let took = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
        let entry = record(&outcome, took).await?;
        *slot = Some((
            self.clock.now_ms(),
            project.clone(),
            outcome.clone(),
            entry.clone(),
        ));
        Ok((outcome, entry))
    }

    /// Drops the results no one can reuse any more (the watcher calls it
    /// every round). Kept, they held a copy of every check's evidence and
    /// settings per project: 50 watches' snapshots left 4.5 MB behind.
    pub fn drop_stale(&self) {
        let now = self.clock.now_ms();
        retain_fresh(&mut lock(&self.recent), |(at, ..)| {
            fresh(now, *at, FRESH_FOR)
        });
        retain_fresh(&mut lock(&self.counts), |(at, ..)| {
            fresh(now, *at, COUNTS_FRESH_FOR)
        });
        retain_fresh(&mut lock(&self.memory), |(at, ..)| {
            fresh(now, *at, COUNTS_FRESH_FOR)
        });
    }

    /// Forgets `project`'s recent results: after an action changed a
    /// service, a check must ask again, not repeat what it saw before.
    pub fn forget(&self, project: i64) {
        lock(&self.recent).retain(|(id, _), _| *id != project);
        lock(&self.counts).remove(&project);
        lock(&self.memory).remove(&project);
        lock(&self.sentry_ids).clear();
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
                self.sentry_new_issues(project, param("project"), &markers)
                    .await
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
            CheckKind::RenderMemory => self.render_memory(project).await,
            CheckKind::RenderErrorRate => self.render_error_rate(playbook, project).await,
            CheckKind::RenderLatency => {
                let endpoint = param("endpoint").unwrap_or_default();
                match project.render_paths.get(endpoint) {
                    Some(path) => {
                        let bound = latency_bound(playbook, &item.with);
                        self.render_latency(project, Some(path), bound).await
                    }
                    None => Outcome::not_configured(no_render_path(endpoint)),
                }
            }
            CheckKind::RenderRestarts => self.render_restarts(project).await,
            CheckKind::SentryQuota => self.sentry_quota(project).await,
            CheckKind::SentryTags => {
                self.sentry_tags(project, param("project"), param("tags").unwrap_or_default())
                    .await
            }
            CheckKind::SentrySpans => {
                self.sentry_spans(project, param("project"), param("ops").unwrap_or_default())
                    .await
            }
            CheckKind::DatabaseReachable
            | CheckKind::DatabaseConnections
            | CheckKind::DatabaseSlowQueries
            | CheckKind::DatabaseLongRunning
            | CheckKind::DatabaseSize => self.database(project, kind).await,
            CheckKind::HealthEndpoint => self.health_endpoint(project).await,
            CheckKind::HealthLatency => self.health_latency(playbook, project, item).await,
            CheckKind::HealthFrontend => self.health_frontend(playbook, project).await,
            CheckKind::HealthService => {
                self.health_service(project, param("service").unwrap_or_default())
                    .await
            }
            CheckKind::SlackWebhook => self.slack_webhook(project).await,
            CheckKind::SentryErrorCount => {
                self.sentry_error_count(playbook, project, param("project"))
                    .await
            }
            CheckKind::SentryTopIssues => self.sentry_top_issues(project).await,
            CheckKind::SentryAlertRule => {
                self.sentry_alert_rule(project, param("rule").unwrap_or_default())
                    .await
            }
            CheckKind::SentryErrorRate => self.sentry_error_rate(playbook, project).await,
            CheckKind::SentryP99 => self.endpoint_latency(playbook, project, item).await,
            CheckKind::RenderLogs => {
                self.render_logs(project, param("level").unwrap_or("error"), param("text"))
                    .await
            }
            CheckKind::BackupRecent => self.backup_recent(project).await,
        }
    }

    /// An endpoint's p99 (or most endpoints') from Sentry's transactions,
    /// or, where Sentry cannot measure it (no transactions, no transaction
    /// mapped, no Sentry project), from Render's response times for the
    /// endpoint's path. Each says its source; Sentry's reason stays beside
    /// Render's figure.
    async fn endpoint_latency(
        &self,
        playbook: &Playbook,
        project: &Project,
        item: &Item,
    ) -> Outcome {
        let sentry = self.sentry_p99(playbook, project, item).await;
        if sentry.measure.is_some() {
            return sentry.saw("source", "Sentry's transactions, last hour");
        }
        let path = match item.with.get("endpoint") {
            None => None,
            Some(endpoint) => match project.render_paths.get(endpoint) {
                Some(path) => Some(path.as_str()),
                None => return sentry.saw("Render", no_render_path(endpoint)),
            },
        };
        let host = self
            .render_latency(project, path, latency_bound(playbook, &item.with))
            .await;
        if host.measure.is_some() {
            host.saw("Sentry", sentry.message)
        } else {
            sentry.saw("Render", host.message)
        }
    }

    /// Accepted errors per hour over the last `hours` hours, for the watch's
    /// chart; what went wrong instead, in the checks' words. Reused for
    /// [`COUNTS_FRESH_FOR`] with the same settings: many viewers, one call.
    pub(crate) async fn error_hours(&self, project: &Project, hours: u32) -> ErrorHours {
        let slot = lock(&self.counts).entry(project.id).or_default().clone();
        let mut slot = slot.lock().await;
        if let Some((at, settings, asked, counted)) = slot.as_ref()
            && fresh(self.clock.now_ms(), *at, COUNTS_FRESH_FOR)
            && settings == project
            && *asked == hours
        {
            return counted.clone();
        }
        let counted = self.count_errors(project, hours).await;
        *slot = Some((self.clock.now_ms(), project.clone(), hours, counted.clone()));
        counted
    }

    /// The backend's Sentry project, by its id.
    pub(crate) async fn sentry_project_id<'a>(
        &'a self,
        project: &'a Project,
    ) -> Result<(&'a Sentry, &'a str, String), Outcome> {
        self.sentry_id_of(project, None).await
    }

    /// The Sentry project `which` names (`frontend`, or the backend's), by
    /// its id.
    pub(crate) async fn sentry_id_of<'a>(
        &'a self,
        project: &'a Project,
        which: Option<&str>,
    ) -> Result<(&'a Sentry, &'a str, String), Outcome> {
        let (sentry, org, slug) = self.sentry_target(project, which)?;
        match sentry.project(org, slug).await {
            Ok(found) => Ok((sentry, org, found.id)),
            Err(err) => Err(Outcome::upstream("Sentry", &err)),
        }
    }

    /// The frontend's page, probed and judged on its status alone (its
    /// load time is the check's to judge); `None` without one.
    pub(crate) async fn frontend_probe(
        &self,
        project: &Project,
    ) -> Option<(String, Result<Probe, String>)> {
        let text = project.frontend_url.as_ref()?;
        let conditions = domain::condition::conditions(&[FRONTEND_CONDITION.to_owned()]);
        Some((text.clone(), self.probe(text, &conditions).await))
    }

    /// One URL as typed, probed and judged by `conditions`; why not, in
    /// words, when it could not be.
    async fn probe(
        &self,
        text: &str,
        conditions: &[domain::condition::Condition],
    ) -> Result<Probe, String> {
        match Url::parse(text) {
            Ok(url) => self
                .health
                .probe(&url, conditions)
                .await
                .map_err(|err| match err {
                    Ok(refused) => refused.to_string(),
                    Err(upstream) => format!("it {upstream}"),
                }),
            Err(_) => Err("it is not a URL".to_owned()),
        }
    }

    /// What the sampler probes: the health URLs and the frontend's page.
    pub(crate) async fn sampled(&self, project: &Project) -> Vec<(String, Result<Probe, String>)> {
        let mut probes = self.probes(project).await.unwrap_or_default();
        probes.extend(self.frontend_probe(project).await);
        probes
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
            probes.push((text.clone(), self.probe(text, &conditions).await));
        }
        Ok(probes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(value: Option<i64>) -> Arc<tokio::sync::Mutex<Option<i64>>> {
        Arc::new(tokio::sync::Mutex::new(value))
    }

    #[test]
    fn only_fresh_results_and_slots_in_use_are_kept() {
        let mut slots = HashMap::from([
            ("fresh", slot(Some(10))),
            ("stale", slot(Some(1))),
            ("never filled", slot(None)),
            ("stale, held by a caller", slot(Some(1))),
        ]);
        let held = slots["stale, held by a caller"].clone();

        retain_fresh(&mut slots, |at| *at >= 5);

        let mut kept: Vec<_> = slots.keys().copied().collect();
        kept.sort_unstable();
        assert_eq!(kept, ["fresh", "stale, held by a caller"]);
        drop(held);
    }
}
