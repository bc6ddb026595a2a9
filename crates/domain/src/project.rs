//! A project: one launch a team keeps watch over, with the non-secret settings
//! the live checks need, and the rules that say which settings are acceptable.
//!
//! Settings may stay unset (`null`) after creation: teams often create the
//! project in Watchpost before the Sentry project or the Render service exists,
//! and the setup wizard then asks for what is missing.

use nanoserde::{DeBin, SerBin};
use serde::{Deserialize, Deserializer, Serialize};

use crate::CheckKind;
use crate::keyed::Keyed;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, SerBin, DeBin)]
pub struct Project {
    pub id: i64,
    pub name: String,
    pub archived: bool,
    /// The Sentry organization slug; `None` means the proxy's `SENTRY_ORG`.
    pub sentry_org: Option<String>,
    pub sentry_project: Option<String>,
    pub sentry_frontend_project: Option<String>,
    /// The Sentry team a project created from Watchpost belongs to.
    pub sentry_team: Option<String>,
    /// The Sentry environment the launch runs in (`production`); `None`
    /// reads events of every environment.
    pub sentry_environment: Option<String>,
    pub render_service_id: Option<String>,
    pub health_urls: Vec<String>,
    /// A page of the frontend, sampled with the health URLs and judged on
    /// its status and load time (seed 003: pages load within 2 s).
    pub frontend_url: Option<String>,
    pub platform: Option<Platform>,
    /// With its `#`, as people write it: `#production-alerts`.
    pub slack_channel: Option<String>,
    /// An IANA time zone name, for showing checkpoint times.
    pub timezone: String,
    /// Each of [`MAPPED_ENDPOINTS`] to its Sentry transaction name, such as
    /// `POST /api/calls`, for `sentry.p99` with an `endpoint`.
    pub transactions: Keyed<String>,
    /// Each of [`MAPPED_ENDPOINTS`] to the path Render counts its requests
    /// under, such as `/api/calls`, for `render.latency` with an `endpoint`.
    pub render_paths: Keyed<String>,
    /// The read-only connection string of the team's database, as shown:
    /// masked ([`crate::database::masked`]). The proxy alone holds it whole.
    pub database: Option<String>,
    /// The plan's database size in MB; `None` is Supabase's free 500 MB.
    pub database_size_limit_mb: Option<u32>,
    /// Sentry's plan: errors a month; `None` is the free plan's 5,000.
    pub plan_errors_per_month: Option<u32>,
    /// Sentry's plan: transactions a month; `None` is the free plan's 10,000.
    pub plan_transactions_per_month: Option<u32>,
    /// Where the latest backup verification can be read (`backup.recent`).
    pub backup_status_url: Option<String>,
    /// The smallest backup, in MB, that counts; `None` is seed 002's 100 MB.
    pub backup_min_mb: Option<u32>,
    /// Sentry search terms that each mark an issue critical (`severity:critical`);
    /// empty means the seeds' ([`DEFAULT_CRITICAL`]).
    pub critical: Vec<String>,
    /// What a health URL's answer must show ([`crate::condition`]); empty
    /// means the defaults.
    pub health_conditions: Vec<String>,
}

/// What marks a critical issue when a project names nothing: seed 001 tags
/// its critical errors `severity:critical` at level error; a crash is `fatal`.
pub const DEFAULT_CRITICAL: [&str; 2] = ["severity:critical", "level:fatal"];
/// Seed 002's smallest healthy backup.
pub const DEFAULT_BACKUP_MIN_MB: u32 = 100;
const CRITICAL_MAX: usize = 5;

/// The seeds' endpoints whose response time comes from a Sentry transaction
/// (the health endpoint is timed by probing it).
pub const MAPPED_ENDPOINTS: [&str; 3] = ["calls", "webhooks", "assistants"];
const TRANSACTION_MAX: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, SerBin, DeBin)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    Node,
    Fastapi,
    Nextjs,
}

impl Platform {
    pub const ALL: [Platform; 3] = [Platform::Node, Platform::Fastapi, Platform::Nextjs];

    pub fn name(self) -> &'static str {
        match self {
            Platform::Node => "node",
            Platform::Fastapi => "fastapi",
            Platform::Nextjs => "nextjs",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Platform::Node => "Node.js",
            Platform::Fastapi => "Python / FastAPI",
            Platform::Nextjs => "Next.js",
        }
    }

    /// The platform Sentry gives a new project for it.
    pub fn sentry_platform(self) -> &'static str {
        match self {
            Platform::Node => "node-express",
            Platform::Fastapi => "python-fastapi",
            Platform::Nextjs => "javascript-nextjs",
        }
    }

    pub fn from_name(name: &str) -> Option<Platform> {
        Platform::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// `POST /api/projects` and `PATCH /api/projects/{id}`: the fields to change.
/// An absent field stays as it is; `null` clears an optional setting.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectPatch {
    #[serde(default, deserialize_with = "present")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub archived: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    pub sentry_org: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub sentry_project: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub sentry_frontend_project: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub sentry_team: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub sentry_environment: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub render_service_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub health_urls: Option<Vec<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub frontend_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub platform: Option<Option<Platform>>,
    #[serde(default, deserialize_with = "nullable")]
    pub slack_channel: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub timezone: Option<String>,
    /// Replaces the whole mapping; an empty name removes an endpoint.
    #[serde(default, deserialize_with = "present")]
    pub transactions: Option<Keyed<String>>,
    /// Replaces the whole mapping; an empty path removes an endpoint.
    #[serde(default, deserialize_with = "present")]
    pub render_paths: Option<Keyed<String>>,
    /// Write-only: answers show [`Project::database`], masked; `null`
    /// forgets it.
    #[serde(default, deserialize_with = "nullable")]
    pub database_url: Option<Option<crate::database::ConnectionString>>,
    #[serde(default, deserialize_with = "nullable")]
    pub database_size_limit_mb: Option<Option<u32>>,
    #[serde(default, deserialize_with = "nullable")]
    pub plan_errors_per_month: Option<Option<u32>>,
    #[serde(default, deserialize_with = "nullable")]
    pub plan_transactions_per_month: Option<Option<u32>>,
    #[serde(default, deserialize_with = "nullable")]
    pub backup_status_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub backup_min_mb: Option<Option<u32>>,
    /// Replaces the whole list; empty means the seeds'.
    #[serde(default, deserialize_with = "present")]
    pub critical: Option<Vec<String>>,
    /// Replaces the whole list; empty means the defaults.
    #[serde(default, deserialize_with = "present")]
    pub health_conditions: Option<Vec<String>>,
}

impl ProjectPatch {
    /// What is wrong with the patch's write-only settings, which the
    /// patched project keeps only masked.
    pub fn problems(&self) -> Vec<FieldProblem> {
        let url = self.database_url.as_ref().and_then(Option::as_ref);
        url.map(|url| url.expose().trim())
            .filter(|url| !url.is_empty())
            .and_then(crate::database::url_problem)
            .map(|message| FieldProblem {
                field: "database_url",
                message,
            })
            .into_iter()
            .collect()
    }
}

/// A field that may be absent but never `null` (it has no "unset").
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

/// Tells a present `null` (`Some(None)`) from an absent field (`None`).
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

/// One setting that cannot be used, and why, for the form to show beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: &'static str,
    pub message: String,
}

pub const PROJECT_NAME_MAX: usize = 80;
pub const HEALTH_URLS_MAX: usize = 5;
const SLUG_MAX: usize = 50;
const URL_MAX: usize = 500;
const SLACK_CHANNEL_MAX: usize = 80;
const ENVIRONMENT_MAX: usize = 64;

/// A project's setting, as the settings page names its field and labels it:
/// where a "not configured" result and the first-run guide send an admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    pub field: &'static str,
    pub label: &'static str,
}

pub const SENTRY_PROJECT: Setting = Setting {
    field: "sentry_project",
    label: "Sentry project (backend)",
};
pub const SENTRY_FRONTEND_PROJECT: Setting = Setting {
    field: "sentry_frontend_project",
    label: "Sentry project (frontend)",
};
pub const PLATFORM: Setting = Setting {
    field: "platform",
    label: "Platform",
};
pub const RENDER_SERVICE: Setting = Setting {
    field: "render_service_id",
    label: "Render service id",
};
pub const RENDER_PATHS: Setting = Setting {
    field: "render_paths",
    label: "Render paths",
};
pub const DATABASE: Setting = Setting {
    field: "database_url",
    label: "Database connection",
};
pub const FRONTEND_URL: Setting = Setting {
    field: "frontend_url",
    label: "Frontend URL",
};
pub const HEALTH_URLS: Setting = Setting {
    field: "health_urls",
    label: "Health URLs",
};
pub const BACKUP_STATUS_URL: Setting = Setting {
    field: "backup_status_url",
    label: "Backup status URL",
};

impl Project {
    /// The settings the setup cannot do without that are not filled in:
    /// what a new admin fills in first.
    pub fn missing_settings(&self) -> Vec<Setting> {
        [
            (self.sentry_project.is_none(), SENTRY_PROJECT),
            (self.platform.is_none(), PLATFORM),
            (self.render_service_id.is_none(), RENDER_SERVICE),
            (self.health_urls.is_empty(), HEALTH_URLS),
        ]
        .into_iter()
        .filter_map(|(missing, setting)| missing.then_some(setting))
        .collect()
    }

    /// The setting of this project that `check` (with its item's `with`)
    /// cannot run without and finds empty, in the order the proxy asks for
    /// them: what its "not configured" result links to. `None` when what is
    /// missing is the server's (a token), not the project's.
    pub fn missing_for(&self, check: CheckKind, with: &Keyed<String>) -> Option<Setting> {
        let sentry = || {
            if with.get("project").map(String::as_str) == Some("frontend") {
                (
                    self.sentry_frontend_project.is_none(),
                    SENTRY_FRONTEND_PROJECT,
                )
            } else {
                (self.sentry_project.is_none(), SENTRY_PROJECT)
            }
        };
        let render = (self.render_service_id.is_none(), RENDER_SERVICE);
        let needs: Vec<(bool, Setting)> = match check {
            CheckKind::SentryRelease | CheckKind::RenderDsnMatches => vec![render, sentry()],
            CheckKind::RenderService
            | CheckKind::RenderEnvVar
            | CheckKind::RenderDeployLive
            | CheckKind::RenderLogs
            | CheckKind::RenderMemory
            | CheckKind::RenderErrorRate
            | CheckKind::RenderRestarts => vec![render],
            CheckKind::RenderLatency => {
                let endpoint = with.get("endpoint").map_or("", String::as_str);
                vec![
                    render,
                    (self.render_paths.get(endpoint).is_none(), RENDER_PATHS),
                ]
            }
            CheckKind::HealthFrontend => vec![(self.frontend_url.is_none(), FRONTEND_URL)],
            CheckKind::HealthEndpoint | CheckKind::HealthLatency | CheckKind::HealthService => {
                vec![(self.health_urls.is_empty(), HEALTH_URLS)]
            }
            CheckKind::BackupRecent => {
                vec![(self.backup_status_url.is_none(), BACKUP_STATUS_URL)]
            }
            CheckKind::SlackWebhook => Vec::new(),
            CheckKind::DatabaseReachable
            | CheckKind::DatabaseConnections
            | CheckKind::DatabaseSlowQueries
            | CheckKind::DatabaseLongRunning
            | CheckKind::DatabaseSize => vec![(self.database.is_none(), DATABASE)],
            CheckKind::SentryProject
            | CheckKind::SentryDsn
            | CheckKind::SentryAlertRule
            | CheckKind::SentryEvents
            | CheckKind::SentrySlack
            | CheckKind::SentryErrorRate
            | CheckKind::SentryErrorCount
            | CheckKind::SentryNewIssues
            | CheckKind::SentryTopIssues
            | CheckKind::SentryP99
            | CheckKind::SentryTags
            | CheckKind::SentrySpans => vec![sentry()],
            // The quota is the organization's.
            CheckKind::SentryQuota => Vec::new(),
        };
        needs
            .into_iter()
            .find_map(|(missing, setting)| missing.then_some(setting))
    }

    /// A project as `POST /api/projects` starts it, before the patch is applied.
    pub fn blank(id: i64) -> Self {
        Project {
            id,
            name: String::new(),
            archived: false,
            sentry_org: None,
            sentry_project: None,
            sentry_frontend_project: None,
            sentry_team: None,
            sentry_environment: None,
            render_service_id: None,
            health_urls: Vec::new(),
            frontend_url: None,
            platform: None,
            slack_channel: None,
            timezone: "UTC".to_owned(),
            transactions: Keyed::default(),
            render_paths: Keyed::default(),
            database: None,
            database_size_limit_mb: None,
            plan_errors_per_month: None,
            plan_transactions_per_month: None,
            backup_status_url: None,
            backup_min_mb: None,
            critical: Vec::new(),
            health_conditions: Vec::new(),
        }
    }

    /// A project whose essential settings are filled in, for tests.
    #[cfg(test)]
    pub(crate) fn set_up(id: i64) -> Self {
        Project {
            sentry_project: Some("voxanne".into()),
            platform: Some(Platform::Node),
            render_service_id: Some("srv-1".into()),
            health_urls: vec!["https://api.example.com/health".into()],
            ..Project::blank(id)
        }
    }

    /// The search terms that mark a critical issue: the project's, or the seeds'.
    pub fn critical_markers(&self) -> Vec<String> {
        if self.critical.is_empty() {
            DEFAULT_CRITICAL.iter().map(|m| (*m).to_owned()).collect()
        } else {
            self.critical.clone()
        }
    }

    /// The project with `patch` applied, text trimmed and empty text meaning unset.
    pub fn patched(&self, patch: ProjectPatch) -> Project {
        let text = |value: Option<Option<String>>, current: &Option<String>| match value {
            None => current.clone(),
            Some(value) => value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()),
        };
        Project {
            id: self.id,
            name: patch
                .name
                .map_or_else(|| self.name.clone(), |n| n.trim().to_owned()),
            archived: patch.archived.unwrap_or(self.archived),
            sentry_org: text(patch.sentry_org, &self.sentry_org),
            sentry_project: text(patch.sentry_project, &self.sentry_project),
            sentry_frontend_project: text(
                patch.sentry_frontend_project,
                &self.sentry_frontend_project,
            ),
            sentry_team: text(patch.sentry_team, &self.sentry_team),
            sentry_environment: text(patch.sentry_environment, &self.sentry_environment),
            render_service_id: text(patch.render_service_id, &self.render_service_id),
            health_urls: patch.health_urls.map_or_else(
                || self.health_urls.clone(),
                |urls| {
                    urls.iter()
                        .map(|u| u.trim().to_owned())
                        .filter(|u| !u.is_empty())
                        .collect()
                },
            ),
            frontend_url: text(patch.frontend_url, &self.frontend_url),
            platform: patch.platform.unwrap_or(self.platform),
            slack_channel: text(patch.slack_channel, &self.slack_channel).map(|channel| {
                if channel.starts_with('#') {
                    channel
                } else {
                    format!("#{channel}")
                }
            }),
            timezone: patch
                .timezone
                .map_or_else(|| self.timezone.clone(), |t| t.trim().to_owned()),
            transactions: mapping(patch.transactions, &self.transactions),
            render_paths: mapping(patch.render_paths, &self.render_paths),
            database: match patch.database_url {
                None => self.database.clone(),
                Some(url) => url
                    .map(|url| url.expose().trim().to_owned())
                    .filter(|url| !url.is_empty())
                    .map(|url| crate::database::masked(&url)),
            },
            database_size_limit_mb: patch
                .database_size_limit_mb
                .unwrap_or(self.database_size_limit_mb),
            plan_errors_per_month: patch
                .plan_errors_per_month
                .unwrap_or(self.plan_errors_per_month),
            plan_transactions_per_month: patch
                .plan_transactions_per_month
                .unwrap_or(self.plan_transactions_per_month),
            backup_status_url: text(patch.backup_status_url, &self.backup_status_url),
            backup_min_mb: patch.backup_min_mb.unwrap_or(self.backup_min_mb),
            critical: patch
                .critical
                .map_or_else(|| self.critical.clone(), |terms| lines(&terms)),
            health_conditions: patch
                .health_conditions
                .map_or_else(|| self.health_conditions.clone(), |texts| lines(&texts)),
        }
    }

    /// Every setting that cannot be used. `is_timezone` says whether a name is
    /// in the time zone database, which only the proxy carries.
    pub fn problems(&self, is_timezone: impl Fn(&str) -> bool) -> Vec<FieldProblem> {
        let mut problems = Vec::new();
        let mut add = |field, message: String| problems.push(FieldProblem { field, message });
        if let Err(message) = validated_name(&self.name) {
            add("name", message);
        }
        for (field, slug) in [
            ("sentry_org", &self.sentry_org),
            ("sentry_project", &self.sentry_project),
            ("sentry_frontend_project", &self.sentry_frontend_project),
            ("sentry_team", &self.sentry_team),
        ] {
            if let Some(message) = slug.as_deref().and_then(slug_problem) {
                add(field, message);
            }
        }
        if let Some(environment) = &self.sentry_environment {
            // Sentry's own rule for an environment's name.
            let valid = environment.chars().count() <= ENVIRONMENT_MAX
                && !environment
                    .chars()
                    .any(|c| c == '/' || c.is_whitespace() || c.is_control());
            if !valid {
                add(
                    "sentry_environment",
                    format!(
                        "a Sentry environment is one word of at most {ENVIRONMENT_MAX} characters, without /, as in production"
                    ),
                );
            }
        }
        if self.sentry_frontend_project.is_some()
            && self.sentry_frontend_project == self.sentry_project
        {
            add(
                "sentry_frontend_project",
                "the frontend needs its own Sentry project, not the backend's".to_owned(),
            );
        }
        if let Some(id) = &self.render_service_id {
            let valid = id.strip_prefix("srv-").is_some_and(|rest| {
                !rest.is_empty()
                    && rest.len() <= 40
                    && rest
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            });
            if !valid {
                add(
                    "render_service_id",
                    "a Render service id looks like srv-d0abc123xyz; copy it from the service's URL or Settings page".to_owned(),
                );
            }
        }
        if let Some(message) = health_urls_problem(&self.health_urls) {
            add("health_urls", message);
        }
        for (field, quota) in [
            ("plan_errors_per_month", self.plan_errors_per_month),
            (
                "plan_transactions_per_month",
                self.plan_transactions_per_month,
            ),
        ] {
            if quota.is_some_and(|quota| quota == 0 || quota > 1_000_000_000) {
                add(
                    field,
                    "a plan's quota is a whole number of events a month, such as 5000 or 50000"
                        .to_owned(),
                );
            }
        }
        if self
            .database_size_limit_mb
            .is_some_and(|mb| mb == 0 || mb > 10_000_000)
        {
            add(
                "database_size_limit_mb",
                "the plan's database size is a whole number of MB, such as 500 (Supabase's free plan) or 8192".to_owned(),
            );
        }
        if let Some(why) = self.frontend_url.as_deref().and_then(url_problem) {
            add("frontend_url", format!("the frontend URL: {why}"));
        }
        if let Some(why) = self.backup_status_url.as_deref().and_then(url_problem) {
            add("backup_status_url", format!("the backup status URL: {why}"));
        }
        for (endpoint, name) in self.transactions.iter() {
            if let Some(message) = mapping_problem(
                endpoint,
                name,
                "the transaction",
                "as Sentry shows it (POST /api/calls)",
            ) {
                add("transactions", message);
            }
        }
        for (endpoint, path) in self.render_paths.iter() {
            let message = mapping_problem(endpoint, path, "the path", "as Render counts it (/api/calls)")
                .or_else(|| {
                    (!path.starts_with('/') || path.contains(char::is_whitespace)).then(|| {
                        format!("the path for {endpoint} starts with / and has no spaces, as in /api/{endpoint}")
                    })
                });
            if let Some(message) = message {
                add("render_paths", message);
            }
        }
        if let Some(channel) = &self.slack_channel {
            let name = channel.trim_start_matches('#');
            let valid = !name.is_empty()
                && name.len() <= SLACK_CHANNEL_MAX
                && name.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'
                });
            if !valid {
                add(
                    "slack_channel",
                    format!(
                        "a Slack channel name has at most {SLACK_CHANNEL_MAX} lowercase letters, digits, - and _, as in #production-alerts"
                    ),
                );
            }
        }
        if let Some(message) = critical_problem(&self.critical) {
            add("critical", message);
        }
        if let Some(message) = crate::condition::conditions_problem(&self.health_conditions) {
            add("health_conditions", message);
        }
        if self.backup_min_mb.is_some_and(|mb| mb > 10_000_000) {
            add(
                "backup_min_mb",
                "the smallest backup is given in MB, at most 10,000,000".to_owned(),
            );
        }
        if !is_timezone(&self.timezone) {
            add(
                "timezone",
                format!(
                    "“{}” is not a time zone name; use one like Europe/London, America/New_York or UTC",
                    self.timezone
                ),
            );
        }
        problems
    }
}

/// Trimmed, without the empty ones.
fn lines(texts: &[String]) -> Vec<String> {
    texts
        .iter()
        .map(|text| text.trim().to_owned())
        .filter(|text| !text.is_empty())
        .collect()
}

/// Each marker is one Sentry search term, `key:value`, as seed 001 writes
/// them (`severity:critical`, `level:fatal`, `error_type:bolna_api_failure`).
fn critical_problem(terms: &[String]) -> Option<String> {
    if terms.len() > CRITICAL_MAX {
        return Some(format!(
            "at most {CRITICAL_MAX} search terms mark a critical issue"
        ));
    }
    terms.iter().find_map(|term| {
        let valid = term.split_once(':').is_some_and(|(key, value)| {
            !key.is_empty()
                && !value.is_empty()
                && term.len() <= 100
                && !term.starts_with('!')
                && term.chars().all(|c| c.is_ascii_graphic())
        });
        (!valid).then(|| {
            format!("“{term}” is not a Sentry search term like severity:critical or level:fatal")
        })
    })
}

/// A trimmed project name, or why it cannot be used.
pub fn validated_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() {
        Err("a project needs a name".to_owned())
    } else if name.chars().count() > PROJECT_NAME_MAX {
        Err(format!(
            "a project name has at most {PROJECT_NAME_MAX} characters"
        ))
    } else if name.chars().any(char::is_control) {
        Err("a project name cannot contain control characters".to_owned())
    } else {
        Ok(name.to_owned())
    }
}

/// Sentry's own rule for slugs: lowercase letters, digits, `-` and `_`, not only digits.
fn slug_problem(slug: &str) -> Option<String> {
    let valid = slug.len() <= SLUG_MAX
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && !slug.bytes().all(|b| b.is_ascii_digit());
    (!valid).then(|| {
        format!("“{slug}” is not a Sentry slug: use the lowercase name from the project's URL, such as voxanne-backend (letters, digits, - and _, at most {SLUG_MAX})")
    })
}

fn health_urls_problem(urls: &[String]) -> Option<String> {
    if urls.len() > HEALTH_URLS_MAX {
        return Some(format!("at most {HEALTH_URLS_MAX} health URLs"));
    }
    for (index, url) in urls.iter().enumerate() {
        if let Some(why) = url_problem(url) {
            return Some(format!("URL {} ({url}): {why}", index + 1));
        }
        if urls[..index].contains(url) {
            return Some(format!("URL {} ({url}) is listed twice", index + 1));
        }
    }
    None
}

fn url_problem(url: &str) -> Option<&'static str> {
    let Some(rest) = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
    else {
        return Some("it must start with https:// or http://");
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() || host.starts_with(':') {
        Some("it has no host name")
    } else if url.len() > URL_MAX {
        Some("it is too long")
    } else if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some("it contains spaces")
    } else if host.contains('@') {
        // Credentials in a URL would be shown to everyone who opens the settings.
        Some("it must not contain a user name or password")
    } else {
        None
    }
}

/// An endpoint mapping as patched: trimmed, an empty value removing its
/// endpoint; absent, the current one.
fn mapping(patch: Option<Keyed<String>>, current: &Keyed<String>) -> Keyed<String> {
    patch.map_or_else(
        || current.clone(),
        |values| {
            values
                .iter()
                .map(|(endpoint, value)| (endpoint.to_owned(), value.trim().to_owned()))
                .filter(|(_, value)| !value.is_empty())
                .collect()
        },
    )
}

/// What is wrong with mapping `endpoint` to `value`: an endpoint the
/// playbook lacks, or a value longer than one line of [`TRANSACTION_MAX`].
fn mapping_problem(endpoint: &str, value: &str, what: &str, example: &str) -> Option<String> {
    if !MAPPED_ENDPOINTS.contains(&endpoint) {
        Some(format!(
            "“{endpoint}” is not an endpoint of the playbook; map one of: {}",
            MAPPED_ENDPOINTS.join(", ")
        ))
    } else if value.chars().count() > TRANSACTION_MAX || value.chars().any(char::is_control) {
        Some(format!(
            "{what} for {endpoint} must be one line of at most {TRANSACTION_MAX} characters, {example}"
        ))
    } else {
        None
    }
}

/// The settings form as people fill it in: one text per field, the health
/// URLs one per line. An empty optional field means "not set".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectForm {
    pub name: String,
    pub sentry_org: String,
    pub sentry_project: String,
    pub sentry_frontend_project: String,
    pub render_service_id: String,
    pub health_urls: String,
    pub frontend_url: String,
    /// A [`Platform::name`], or empty.
    pub platform: String,
    pub slack_channel: String,
    pub timezone: String,
    pub sentry_team: String,
    pub sentry_environment: String,
    pub backup_status_url: String,
    /// One per [`MAPPED_ENDPOINTS`], in that order.
    pub transactions: [String; 3],
    /// One per [`MAPPED_ENDPOINTS`], in that order.
    pub render_paths: [String; 3],
    /// A new connection string, or empty to keep the one set.
    pub database_url: String,
    /// Forget the connection string set.
    pub forget_database: bool,
    /// Whole megabytes, or empty for the free plan's.
    pub database_size_limit_mb: String,
    /// Events a month, or empty for Sentry's free plan.
    pub plan_errors_per_month: String,
    pub plan_transactions_per_month: String,
    /// Whole megabytes, or empty for the seed's.
    pub backup_min_mb: String,
    /// One search term per line.
    pub critical: String,
    /// One condition per line.
    pub health_conditions: String,
}

impl ProjectForm {
    pub fn new(project: &Project) -> Self {
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        ProjectForm {
            name: project.name.clone(),
            sentry_org: text(&project.sentry_org),
            sentry_project: text(&project.sentry_project),
            sentry_frontend_project: text(&project.sentry_frontend_project),
            render_service_id: text(&project.render_service_id),
            health_urls: project.health_urls.join("\n"),
            frontend_url: text(&project.frontend_url),
            platform: project
                .platform
                .map(Platform::name)
                .unwrap_or_default()
                .to_owned(),
            slack_channel: text(&project.slack_channel),
            timezone: project.timezone.clone(),
            sentry_team: text(&project.sentry_team),
            sentry_environment: text(&project.sentry_environment),
            backup_status_url: text(&project.backup_status_url),
            transactions: by_endpoint(&project.transactions),
            render_paths: by_endpoint(&project.render_paths),
            database_url: String::new(),
            forget_database: false,
            database_size_limit_mb: number(project.database_size_limit_mb),
            plan_errors_per_month: number(project.plan_errors_per_month),
            plan_transactions_per_month: number(project.plan_transactions_per_month),
            backup_min_mb: project
                .backup_min_mb
                .map(|mb| mb.to_string())
                .unwrap_or_default(),
            critical: project.critical.join("\n"),
            health_conditions: project.health_conditions.join("\n"),
        }
    }

    /// Every field, as a `PATCH`: the proxy validates and answers per field.
    /// A size that is not a whole number is sent as one no backup can reach,
    /// which the proxy refuses beside its field.
    pub fn patch(&self) -> ProjectPatch {
        let split = |text: &str| -> Vec<String> {
            text.lines()
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let optional = |text: &str| Some(Some(text.trim().to_owned()).filter(|t| !t.is_empty()));
        ProjectPatch {
            name: Some(self.name.clone()),
            archived: None,
            sentry_org: optional(&self.sentry_org),
            sentry_project: optional(&self.sentry_project),
            sentry_frontend_project: optional(&self.sentry_frontend_project),
            render_service_id: optional(&self.render_service_id),
            health_urls: Some(split(&self.health_urls)),
            frontend_url: optional(&self.frontend_url),
            platform: Some(Platform::from_name(&self.platform)),
            slack_channel: optional(&self.slack_channel),
            timezone: Some(self.timezone.trim().to_owned()),
            sentry_team: optional(&self.sentry_team),
            sentry_environment: optional(&self.sentry_environment),
            transactions: Some(endpoints_of(&self.transactions)),
            render_paths: Some(endpoints_of(&self.render_paths)),
            backup_status_url: optional(&self.backup_status_url),
            database_url: match self.database_url.trim() {
                _ if self.forget_database => Some(None),
                "" => None,
                url => Some(Some(crate::database::ConnectionString::new(url))),
            },
            database_size_limit_mb: Some(whole_number(&self.database_size_limit_mb)),
            plan_errors_per_month: Some(whole_number(&self.plan_errors_per_month)),
            plan_transactions_per_month: Some(whole_number(&self.plan_transactions_per_month)),
            backup_min_mb: Some(whole_number(&self.backup_min_mb)),
            critical: Some(split(&self.critical)),
            health_conditions: Some(split(&self.health_conditions)),
        }
    }
}

/// A number as its field shows it: empty for the default.
fn number(value: Option<u32>) -> String {
    value.map(|value| value.to_string()).unwrap_or_default()
}

/// A number field (a size, a quota): empty for the default; one that is not
/// a whole number is sent as one no setting accepts, which the proxy
/// refuses beside its field.
fn whole_number(text: &str) -> Option<u32> {
    match text.trim() {
        "" => None,
        mb => Some(mb.parse().unwrap_or(u32::MAX)),
    }
}

/// A mapping as the form's fields, one per [`MAPPED_ENDPOINTS`].
fn by_endpoint(mapping: &Keyed<String>) -> [String; 3] {
    MAPPED_ENDPOINTS.map(|endpoint| mapping.get(endpoint).cloned().unwrap_or_default())
}

/// The form's fields as a mapping, the empty ones left out.
fn endpoints_of(fields: &[String; 3]) -> Keyed<String> {
    MAPPED_ENDPOINTS
        .iter()
        .zip(fields)
        .map(|(endpoint, value)| ((*endpoint).to_owned(), value.trim().to_owned()))
        .filter(|(_, value)| !value.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zones(name: &str) -> bool {
        ["UTC", "Europe/London", "America/New_York"].contains(&name)
    }

    fn configured() -> Project {
        Project::blank(1).patched(ProjectPatch {
            name: Some("  Voxanne  ".into()),
            sentry_project: Some(Some("voxanne-backend".into())),
            sentry_frontend_project: Some(Some("voxanne-frontend".into())),
            render_service_id: Some(Some("srv-d0abc123xyz".into())),
            health_urls: Some(vec![" https://api.voxanne.ai/health ".into(), "".into()]),
            platform: Some(Some(Platform::Fastapi)),
            slack_channel: Some(Some("production-alerts".into())),
            timezone: Some("Europe/London".into()),
            ..ProjectPatch::default()
        })
    }

    fn fields(project: &Project) -> Vec<&'static str> {
        project.problems(zones).iter().map(|p| p.field).collect()
    }

    #[test]
    fn render_paths_map_the_playbook_s_endpoints_to_paths() {
        let with = |paths: &[(&str, &str)]| {
            configured().patched(ProjectPatch {
                render_paths: Some(
                    paths
                        .iter()
                        .map(|(e, p)| ((*e).to_owned(), (*p).to_owned()))
                        .collect(),
                ),
                ..ProjectPatch::default()
            })
        };
        let mapped = with(&[("calls", " /api/calls "), ("webhooks", "")]);
        assert_eq!(
            mapped.render_paths.get("calls").map(String::as_str),
            Some("/api/calls")
        );
        assert_eq!(
            mapped.render_paths.get("webhooks"),
            None,
            "empty removes it"
        );
        assert!(fields(&mapped).is_empty());
        assert_eq!(
            fields(&with(&[("checkout", "/api/checkout")])),
            ["render_paths"]
        );
        assert_eq!(fields(&with(&[("calls", "api/calls")])), ["render_paths"]);
        assert_eq!(fields(&with(&[("calls", "/api/ calls")])), ["render_paths"]);
        let form = ProjectForm::new(&mapped);
        assert_eq!(
            form.render_paths,
            ["/api/calls".to_owned(), String::new(), String::new()]
        );
        assert_eq!(form.patch().render_paths, Some(mapped.render_paths.clone()));
    }

    #[test]
    fn a_check_names_the_project_setting_it_lacks_first() {
        let blank = Project::blank(1);
        let with = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<Keyed<String>>()
        };
        let none = with(&[]);
        assert_eq!(
            blank.missing_for(CheckKind::SentryDsn, &with(&[("project", "frontend")])),
            Some(SENTRY_FRONTEND_PROJECT)
        );
        assert_eq!(
            blank.missing_for(CheckKind::SentryErrorRate, &none),
            Some(SENTRY_PROJECT)
        );
        // Render is asked first where both are needed, as the proxy does.
        assert_eq!(
            blank.missing_for(CheckKind::SentryRelease, &none),
            Some(RENDER_SERVICE)
        );
        assert_eq!(
            blank.missing_for(CheckKind::HealthLatency, &none),
            Some(HEALTH_URLS)
        );
        assert_eq!(blank.missing_for(CheckKind::SlackWebhook, &none), None);
        let render = Project {
            render_service_id: Some("srv-1".into()),
            ..Project::blank(1)
        };
        assert_eq!(
            render.missing_for(
                CheckKind::RenderDsnMatches,
                &with(&[("project", "backend")])
            ),
            Some(SENTRY_PROJECT)
        );
        assert_eq!(render.missing_for(CheckKind::RenderLogs, &none), None);
    }

    #[test]
    fn a_patch_tells_absent_null_and_a_value_apart() {
        let patch: ProjectPatch =
            serde_json::from_str(r#"{"sentry_org":null,"name":"V"}"#).unwrap();
        assert_eq!(patch.sentry_org, Some(None));
        assert_eq!(patch.name.as_deref(), Some("V"));
        assert_eq!(patch.timezone, None);
        // Settings that cannot be unset refuse null rather than ignore it.
        for field in ["name", "archived", "health_urls", "timezone"] {
            let json = format!(r#"{{"{field}":null}}"#);
            assert!(
                serde_json::from_str::<ProjectPatch>(&json).is_err(),
                "{json}"
            );
        }
    }

    #[test]
    fn a_patch_trims_normalises_and_keeps_what_it_does_not_name() {
        let project = configured();
        assert_eq!(project.name, "Voxanne");
        assert_eq!(project.health_urls, ["https://api.voxanne.ai/health"]);
        assert_eq!(project.slack_channel.as_deref(), Some("#production-alerts"));
        assert!(fields(&project).is_empty(), "{:?}", project.problems(zones));

        let renamed = project.patched(ProjectPatch {
            name: Some("Voxanne 2".into()),
            sentry_frontend_project: Some(None),
            render_service_id: Some(Some("  ".into())),
            ..ProjectPatch::default()
        });
        assert_eq!(renamed.name, "Voxanne 2");
        assert_eq!(renamed.sentry_frontend_project, None);
        assert_eq!(renamed.render_service_id, None, "blank text means unset");
        assert_eq!(renamed.sentry_project, project.sentry_project);
        assert_eq!(renamed.platform, Some(Platform::Fastapi));
    }

    #[test]
    fn each_bad_setting_is_reported_against_its_field() {
        let bad = configured().patched(ProjectPatch {
            name: Some(" ".into()),
            sentry_org: Some(Some("My Org".into())),
            sentry_project: Some(Some("12345".into())),
            sentry_environment: Some(Some("prod/eu west".into())),
            render_service_id: Some(Some("d0abc123".into())),
            health_urls: Some(vec!["ftp://x".into()]),
            slack_channel: Some(Some("#Production Alerts".into())),
            timezone: Some("Mars/Olympus".into()),
            ..ProjectPatch::default()
        });
        assert_eq!(
            fields(&bad),
            [
                "name",
                "sentry_org",
                "sentry_project",
                "sentry_environment",
                "render_service_id",
                "health_urls",
                "slack_channel",
                "timezone"
            ]
        );
        let same = configured().patched(ProjectPatch {
            sentry_frontend_project: Some(Some("voxanne-backend".into())),
            ..ProjectPatch::default()
        });
        assert_eq!(fields(&same), ["sentry_frontend_project"]);
    }

    #[test]
    fn health_urls_must_be_plain_web_addresses() {
        let check = |urls: &[&str]| {
            health_urls_problem(&urls.iter().map(|u| (*u).to_owned()).collect::<Vec<_>>())
        };
        assert_eq!(
            check(&["https://a.example/health", "http://b.example:8000/h"]),
            None
        );
        assert!(check(&["https:///health"]).is_some());
        assert!(check(&["https://user:pw@a.example/health"]).is_some());
        assert!(check(&["https://a.example/he alth"]).is_some());
        assert!(check(&["https://a.example", "https://a.example"]).is_some());
        assert!(check(&["https://a.example/1"; HEALTH_URLS_MAX + 1]).is_some());
    }

    #[test]
    fn a_patch_reads_absent_null_and_value_apart() {
        let patch: ProjectPatch =
            serde_json::from_str(r#"{"sentry_org":null,"platform":"nextjs"}"#).unwrap();
        assert_eq!(patch.sentry_org, Some(None));
        assert_eq!(patch.sentry_project, None);
        assert_eq!(patch.platform, Some(Some(Platform::Nextjs)));
        assert!(serde_json::from_str::<ProjectPatch>(r#"{"platform":"django"}"#).is_err());
        assert!(serde_json::from_str::<ProjectPatch>(r#"{"colour":"red"}"#).is_err());
    }

    #[test]
    fn the_app_decodes_the_project_the_proxy_sends() {
        let project = configured();
        assert_eq!(
            Project::deserialize_bin(&project.serialize_bin()).ok(),
            Some(project)
        );
    }

    #[test]
    fn the_settings_form_round_trips_and_empty_fields_clear_settings() {
        let project = configured();
        let form = ProjectForm::new(&project);
        assert_eq!(form.platform, "fastapi");
        assert_eq!(
            project.patched(form.patch()),
            project,
            "an unchanged form changes nothing"
        );

        let cleared = ProjectForm {
            sentry_frontend_project: "  ".into(),
            health_urls: "https://a.example/health\n\n  https://b.example/health  \n".into(),
            platform: String::new(),
            ..form
        };
        let patch = cleared.patch();
        assert_eq!(patch.sentry_frontend_project, Some(None));
        assert_eq!(patch.platform, Some(None));
        assert_eq!(
            patch.health_urls,
            Some(vec![
                "https://a.example/health".into(),
                "https://b.example/health".into()
            ])
        );
        assert_eq!(patch.archived, None, "the form never archives");
    }

    #[test]
    fn project_names_are_trimmed_and_bounded() {
        assert_eq!(validated_name("  Voxanne  "), Ok("Voxanne".to_owned()));
        assert!(validated_name("   ").is_err());
        assert!(validated_name(&"x".repeat(PROJECT_NAME_MAX + 1)).is_err());
        assert!(validated_name(&"é".repeat(PROJECT_NAME_MAX)).is_ok());
        assert!(validated_name("a\u{7}b").is_err());
    }
}
