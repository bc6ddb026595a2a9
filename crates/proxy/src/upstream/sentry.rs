//! Sentry's web API (sentry.io with its region hosts, self-hosted Sentry, or
//! a Sentry-compatible server at any base URL): the reads and changes the
//! checks and actions need, and nothing else.
//!
//! Only the fields Watchpost uses are read; a client key's secret is never
//! deserialized, so it cannot be relayed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use reqwest::Method;
use serde::{Deserialize, Deserializer};
use serde_json::json;
use url::Url;

use domain::action::{TEST_EVENT_TITLE, is_test_event};
use domain::alerts::{IssueRule, MetricRule};

use super::{Paging, Upstream, UpstreamError};
use crate::lock;
use crate::secret::Secret;

#[derive(Debug, Clone)]
pub struct Sentry {
    upstream: Upstream,
    base: Url,
    token: Secret,
    /// Each organization's region host (`links.regionUrl`), once asked.
    regions: Arc<Mutex<HashMap<String, Url>>>,
    /// Whether the server names the issue list's orders as GlitchTip does
    /// (`-first_seen`), learned from its refusal of Sentry's (`new`).
    ninja_sorts: Arc<AtomicBool>,
}

/// An order of the issue list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// Newest first seen first.
    New,
    /// Most events first.
    Freq,
    /// Latest event first.
    Date,
}

impl Sort {
    fn name(self, ninja: bool) -> &'static str {
        match (self, ninja) {
            (Sort::New, false) => "new",
            (Sort::Freq, false) => "freq",
            (Sort::New, true) => "-first_seen",
            (Sort::Freq, true) => "-count",
            (Sort::Date, false) => "date",
            (Sort::Date, true) => "-last_seen",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Organization {
    pub slug: String,
    #[serde(default)]
    pub links: OrganizationLinks,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationLinks {
    pub region_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Project {
    #[serde(deserialize_with = "id")]
    pub id: String,
    pub slug: String,
    pub name: String,
    pub platform: Option<String>,
    /// `None` until the first event arrives.
    pub first_event: Option<String>,
    /// The teams the project belongs to: whom its alerts can email.
    #[serde(default)]
    pub teams: Vec<TeamRef>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TeamRef {
    #[serde(deserialize_with = "id")]
    pub id: String,
    #[serde(default)]
    pub slug: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientKey {
    #[serde(default)]
    pub name: String,
    /// Absent in GlitchTip's answers, whose keys are all active.
    #[serde(default = "active")]
    pub is_active: bool,
    pub dsn: Dsn,
}

fn active() -> bool {
    true
}

/// A key's DSNs: only the public one, which SDKs embed.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Dsn {
    pub public: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Integration {
    #[serde(deserialize_with = "id")]
    pub id: String,
    pub name: String,
    pub status: String,
    pub provider: Provider,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Provider {
    pub key: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Issue {
    #[serde(deserialize_with = "id")]
    pub id: String,
    pub short_id: String,
    pub title: String,
    pub level: String,
    pub status: String,
    /// Events in the issue; a string in Sentry's answers, a number in some others.
    #[serde(deserialize_with = "id")]
    pub count: String,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    pub permalink: String,
    /// The issue's project, which an organization-wide list names.
    #[serde(default)]
    pub project: Option<IssueProject>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct IssueProject {
    #[serde(deserialize_with = "id")]
    pub id: String,
}

impl Issue {
    /// Whether the issue was first seen before `at`; one whose first
    /// sighting cannot be read counts as new, never as old.
    fn seen_before(&self, at: jiff::Timestamp) -> bool {
        seen(self.first_seen.as_deref()).is_some_and(|first| first < at)
    }

    pub fn last_seen_before(&self, at: jiff::Timestamp) -> bool {
        seen(self.last_seen.as_deref()).is_some_and(|last| last < at)
    }
}

fn seen(text: Option<&str>) -> Option<jiff::Timestamp> {
    text?.parse().ok()
}

/// A legacy metric alert rule (`/organizations/{org}/alert-rules/`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LegacyMetricRule {
    #[serde(default, deserialize_with = "id")]
    pub id: String,
    pub name: String,
    pub aggregate: String,
    pub time_window: f64,
    #[serde(default)]
    pub threshold_type: Option<u8>,
    #[serde(default)]
    pub comparison_delta: Option<f64>,
    #[serde(default)]
    pub projects: Vec<String>,
    #[serde(default)]
    pub triggers: Vec<LegacyTrigger>,
    #[serde(default)]
    pub dataset: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LegacyTrigger {
    pub label: String,
    pub alert_threshold: Option<f64>,
    /// Only counted: what each notifies is Sentry's to know.
    #[serde(default)]
    pub actions: Vec<serde_json::Value>,
}

impl LegacyMetricRule {
    pub fn facts(&self) -> MetricRule {
        MetricRule {
            name: self.name.clone(),
            aggregate: self.aggregate.clone(),
            time_window_minutes: self.time_window as u32,
            above: self.threshold_type.unwrap_or(0) == 0,
            threshold: self
                .triggers
                .iter()
                .find(|trigger| trigger.label == "critical")
                .and_then(|trigger| trigger.alert_threshold),
            comparison_delta: self.comparison_delta.map(|delta| delta as u32),
            dataset: self.dataset.clone(),
            actions: self
                .triggers
                .iter()
                .map(|trigger| trigger.actions.len())
                .sum(),
        }
    }
}

/// A legacy issue alert rule (`/projects/{org}/{project}/rules/`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LegacyIssueRule {
    #[serde(default, deserialize_with = "id")]
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub conditions: Vec<serde_json::Map<String, serde_json::Value>>,
    #[serde(default)]
    pub filters: Vec<serde_json::Map<String, serde_json::Value>>,
    #[serde(default, rename = "filterMatch")]
    pub filter_match: Option<String>,
    #[serde(default)]
    pub actions: Vec<serde_json::Value>,
}

impl LegacyIssueRule {
    pub fn facts(&self) -> IssueRule {
        IssueRule {
            name: self.name.clone(),
            conditions: self
                .conditions
                .iter()
                .filter_map(|condition| condition.get("id")?.as_str().map(str::to_owned))
                .collect(),
            // Older rules keep the event's attributes among the conditions.
            filters: self
                .filters
                .iter()
                .chain(&self.conditions)
                .filter_map(|filter| {
                    let id = filter.get("id")?.as_str()?;
                    filter_words(id, filter, filter)
                })
                .collect(),
            any_filter: self.filter_match.as_deref() == Some("any"),
            actions: self.actions.len(),
        }
    }
}

/// A filter in words ([`domain::alerts::filter_words`]), from its kind
/// (`…TaggedEventFilter`, `tagged_event`, `…EventAttributeCondition`) and
/// where its key and comparison are: the filter itself (legacy) or its
/// `comparison` (current).
fn filter_words(
    kind: &str,
    keyed: &serde_json::Map<String, serde_json::Value>,
    compared: &serde_json::Map<String, serde_json::Value>,
) -> Option<String> {
    let text = |map: &serde_json::Map<String, serde_json::Value>, key: &str| {
        map.get(key)
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let on = if kind.contains("tagged_event") || kind.contains("TaggedEvent") {
        format!("tag {}", text(keyed, "key"))
    } else if kind.contains("event_attribute") || kind.contains("EventAttribute") {
        text(keyed, "attribute")
    } else {
        return None;
    };
    Some(domain::alerts::filter_words(
        &on,
        &text(compared, "match"),
        &text(compared, "value"),
    ))
}

/// An alert of the current "monitors and alerts" API (`/workflows/`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Workflow {
    #[serde(default, deserialize_with = "id")]
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub triggers: Option<WorkflowTriggers>,
    #[serde(default, alias = "action_filters", rename = "actionFilters")]
    pub action_filters: Vec<WorkflowActionFilter>,
    /// The monitors whose issues it alerts on.
    #[serde(default, alias = "detector_ids", rename = "detectorIds")]
    pub detector_ids: Option<Vec<serde_json::Value>>,
}

/// A monitor of the current API: what a metric alert watches.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Detector {
    pub name: String,
    #[serde(default)]
    pub data_sources: Option<Vec<serde_json::Value>>,
    #[serde(default)]
    pub condition_group: Option<serde_json::Value>,
    #[serde(default)]
    pub config: serde_json::Value,
}

impl Detector {
    /// The monitor as a metric rule, alerting through `actions` notifications.
    pub fn facts(&self, actions: usize) -> MetricRule {
        let query = self
            .data_sources
            .iter()
            .flatten()
            .find_map(|source| source.pointer("/queryObj/snubaQuery"))
            .cloned()
            .unwrap_or_default();
        // The condition that raises the issue: above (gt, gte) or below.
        let raises = self
            .condition_group
            .as_ref()
            .and_then(|group| group["conditions"].as_array())
            .and_then(|conditions| {
                conditions.iter().find(|condition| {
                    condition["conditionResult"]
                        .as_u64()
                        .is_some_and(|result| result > 0)
                })
            })
            .cloned()
            .unwrap_or_default();
        let seconds = |value: &serde_json::Value| value.as_f64().map(|s| (s / 60.0) as u32);
        MetricRule {
            name: self.name.clone(),
            aggregate: query["aggregate"]
                .as_str()
                .unwrap_or_default()
                .replace("span.duration", "transaction.duration"),
            time_window_minutes: seconds(&query["timeWindow"]).unwrap_or(0),
            above: matches!(raises["type"].as_str(), Some("gt" | "gte")),
            threshold: raises["comparison"].as_f64(),
            comparison_delta: (self.config["detectionType"] == "percent")
                .then(|| seconds(&self.config["comparisonDelta"]))
                .flatten(),
            // The current API keeps transactions as spans.
            dataset: query["dataset"].as_str().map(|dataset| {
                if dataset == "events_analytics_platform" {
                    "transactions".to_owned()
                } else {
                    dataset.to_owned()
                }
            }),
            actions,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct WorkflowActionFilter {
    #[serde(default, alias = "logic_type", rename = "logicType")]
    pub logic_type: Option<String>,
    #[serde(default)]
    pub conditions: Vec<serde_json::Map<String, serde_json::Value>>,
    #[serde(default)]
    pub actions: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct WorkflowTriggers {
    #[serde(default)]
    pub conditions: Vec<serde_json::Map<String, serde_json::Value>>,
}

impl Workflow {
    /// The ids of the monitors whose issues it alerts on.
    pub fn monitors(&self) -> Vec<String> {
        self.detector_ids
            .iter()
            .flatten()
            .map(|id| id.as_str().map_or_else(|| id.to_string(), str::to_owned))
            .collect()
    }

    pub fn facts(&self) -> IssueRule {
        IssueRule {
            name: self.name.clone(),
            conditions: self
                .triggers
                .iter()
                .flat_map(|triggers| &triggers.conditions)
                .filter_map(|condition| condition.get("type")?.as_str().map(str::to_owned))
                .collect(),
            filters: self
                .action_filters
                .iter()
                .flat_map(|group| &group.conditions)
                .filter_map(|condition| {
                    let kind = condition.get("type")?.as_str()?;
                    let compared = condition.get("comparison")?.as_object()?;
                    filter_words(kind, compared, compared)
                })
                .collect(),
            any_filter: self.action_filters.iter().all(|group| {
                group
                    .logic_type
                    .as_deref()
                    .is_none_or(|logic| logic.starts_with("any"))
            }),
            actions: self.action_filters.iter().map(|f| f.actions.len()).sum(),
        }
    }
}

/// A tag of an issue and its most frequent values.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
struct IssueTag {
    #[serde(default)]
    top_values: Option<Vec<TagValue>>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct TagValue {
    #[serde(default)]
    value: Option<String>,
}

/// A release, as far as Watchpost reads it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Release {
    pub version: String,
    /// When its latest event arrived; `None` before any.
    #[serde(default)]
    pub last_event: Option<String>,
}

/// What a create answers that Watchpost uses: the new thing's id.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Created {
    #[serde(deserialize_with = "id")]
    pub id: String,
}

/// One project's row of [`Sentry::failure_rates`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FailureRate {
    pub transactions: u64,
    /// A fraction; `None` without transactions.
    pub failure_rate: Option<f64>,
}

#[derive(Debug, Deserialize)]
struct EventsTable {
    data: Vec<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Deserialize)]
struct Stats {
    intervals: Vec<String>,
    groups: Vec<StatsGroup>,
}

#[derive(Debug, Deserialize)]
struct StatsGroup {
    #[serde(default)]
    by: serde_json::Map<String, serde_json::Value>,
    series: serde_json::Map<String, serde_json::Value>,
}

/// A project id as a row or group names it, a number or a string.
fn project_of(value: Option<&serde_json::Value>) -> Option<String> {
    match value? {
        serde_json::Value::Number(id) => Some(id.to_string()),
        serde_json::Value::String(id) => Some(id.clone()),
        _ => None,
    }
}

/// Ids arrive as strings from Sentry and as numbers from some compatible servers.
fn id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Text(String),
        Number(u64),
    }
    Ok(match Id::deserialize(deserializer)? {
        Id::Text(text) => text,
        Id::Number(number) => number.to_string(),
    })
}

/// `region` when the token may go there: the configured server itself, or,
/// for sentry.io, one of its region hosts (`https://us.sentry.io`) over https.
fn region_of(base: &Url, region: Url) -> Result<Url, UpstreamError> {
    let on_sentry_io = |url: &Url| {
        url.host_str()
            .is_some_and(|host| host == "sentry.io" || host.ends_with(".sentry.io"))
    };
    let same_deployment = region.origin() == base.origin()
        || (on_sentry_io(base)
            && on_sentry_io(&region)
            && region.scheme() == "https"
            && region.port().is_none());
    if same_deployment {
        Ok(region)
    } else {
        Err(UpstreamError::ForeignHost(
            region.host_str().unwrap_or("an unnamed host").to_owned(),
        ))
    }
}

/// A 403 with the scope the request needs, as Sentry's token settings name
/// it: read by the request's method and path.
fn scoped(err: UpstreamError, method: &Method, url: &Url) -> UpstreamError {
    let UpstreamError::Forbidden(None) = err else {
        return err;
    };
    let path = url.path();
    let has = |part: &str| path.contains(part);
    let write = *method != Method::GET;
    let scope =
        if has("/rules/") || has("/alert-rules/") || has("/workflows/") || has("/detectors/") {
            if write { "alerts:write" } else { "alerts:read" }
        } else if has("/issues/") {
            if write { "event:write" } else { "event:read" }
        } else if has("/releases/") {
            "project:releases"
        } else if has("/integrations/") {
            "org:integrations"
        } else if has("/teams/") && write {
            "project:write"
        } else if has("/projects/") {
            "project:read"
        } else {
            "org:read"
        };
    UpstreamError::Forbidden(Some(scope))
}

impl Sentry {
    /// `base` is the server's address (`https://sentry.io`); the API is under `/api/0/`.
    pub fn new(upstream: Upstream, base: Url, token: Secret) -> Self {
        Sentry {
            upstream,
            base,
            token,
            regions: Arc::default(),
            ninja_sorts: Arc::default(),
        }
    }

    /// `{base}/api/0/{segments}/`, each segment escaped as one path segment.
    fn url(base: &Url, segments: &[&str]) -> Url {
        let mut url = base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty()
                .extend(["api", "0"])
                .extend(segments)
                .push("");
        }
        url
    }

    pub async fn organization(&self, org: &str) -> Result<Organization, UpstreamError> {
        let url = Self::url(&self.base, &["organizations", org]);
        self.get(&url).await
    }

    /// Where `org`'s data lives: its region host on sentry.io, else the base.
    async fn region(&self, org: &str) -> Result<Url, UpstreamError> {
        if let Some(url) = lock(&self.regions).get(org) {
            return Ok(url.clone());
        }
        let region = match self.organization(org).await?.links.region_url {
            Some(url) => {
                let url = Url::parse(&url).map_err(|_| {
                    UpstreamError::Malformed(
                        "the organization's region URL is not a URL".to_owned(),
                    )
                })?;
                region_of(&self.base, url)?
            }
            None => self.base.clone(),
        };
        lock(&self.regions).insert(org.to_owned(), region.clone());
        Ok(region)
    }

    /// `GET url` as JSON; a 403 names the scope the request needs.
    async fn get<T: serde::de::DeserializeOwned>(&self, url: &Url) -> Result<T, UpstreamError> {
        self.upstream
            .get(url, Some(&self.token))
            .await
            .map_err(|err| scoped(err, &Method::GET, url))
    }

    async fn org_url(&self, org: &str, segments: &[&str]) -> Result<Url, UpstreamError> {
        Ok(Self::url(&self.region(org).await?, segments))
    }

    /// Every page of a listing, as Sentry's `Link` headers lead.
    async fn list<T: serde::de::DeserializeOwned>(
        &self,
        url: &Url,
    ) -> Result<Vec<T>, UpstreamError> {
        self.upstream
            .get_all(url, Some(&self.token), Paging::LinkHeader)
            .await
            .map_err(|err| scoped(err, &Method::GET, url))
    }

    /// A change under `org`'s region: `POST` of `body` to `segments`.
    async fn create<T: serde::de::DeserializeOwned>(
        &self,
        org: &str,
        segments: &[&str],
        body: &serde_json::Value,
    ) -> Result<T, UpstreamError> {
        self.change(Method::POST, org, segments, body).await
    }

    async fn change<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        org: &str,
        segments: &[&str],
        body: &serde_json::Value,
    ) -> Result<T, UpstreamError> {
        let url = self.org_url(org, segments).await?;
        self.upstream
            .send(method.clone(), &url, Some(&self.token), body)
            .await
            .map_err(|err| scoped(err, &method, &url))
    }

    /// Replaces the legacy issue rule `id` with `body`.
    pub async fn update_issue_rule(
        &self,
        org: &str,
        project: &str,
        id: &str,
        body: &serde_json::Value,
    ) -> Result<Created, UpstreamError> {
        self.change(
            Method::PUT,
            org,
            &["projects", org, project, "rules", id],
            body,
        )
        .await
    }

    /// Replaces the legacy metric rule `id` with `body`.
    pub async fn update_metric_rule(
        &self,
        org: &str,
        id: &str,
        body: &serde_json::Value,
    ) -> Result<Created, UpstreamError> {
        self.change(
            Method::PUT,
            org,
            &["organizations", org, "alert-rules", id],
            body,
        )
        .await
    }

    /// Replaces the current API's alert `id` with `body`.
    pub async fn update_workflow(
        &self,
        org: &str,
        id: &str,
        body: &serde_json::Value,
    ) -> Result<Created, UpstreamError> {
        self.change(
            Method::PUT,
            org,
            &["organizations", org, "workflows", id],
            body,
        )
        .await
    }

    /// Replaces the current API's monitor `id` with `body`.
    pub async fn update_detector(
        &self,
        org: &str,
        id: &str,
        body: &serde_json::Value,
    ) -> Result<Created, UpstreamError> {
        self.change(
            Method::PUT,
            org,
            &["organizations", org, "detectors", id],
            body,
        )
        .await
    }

    pub async fn project(&self, org: &str, project: &str) -> Result<Project, UpstreamError> {
        let url = self.org_url(org, &["projects", org, project]).await?;
        self.get(&url).await
    }

    pub async fn client_keys(
        &self,
        org: &str,
        project: &str,
    ) -> Result<Vec<ClientKey>, UpstreamError> {
        let url = self
            .org_url(org, &["projects", org, project, "keys"])
            .await?;
        self.list(&url).await
    }

    /// The organization's Slack integrations.
    pub async fn slack_integrations(&self, org: &str) -> Result<Vec<Integration>, UpstreamError> {
        let mut url = self
            .org_url(org, &["organizations", org, "integrations"])
            .await?;
        url.query_pairs_mut().append_pair("providerKey", "slack");
        self.list(&url).await
    }

    /// Unresolved issues of the projects first seen since `since` (one
    /// request for all: each issue names its project), matching `marker`
    /// (`level:fatal`, `severity:critical`) when given, newest first, a
    /// hundred at most. The window goes as `start` and `end`, and is applied again
    /// to each issue's `firstSeen` here: GlitchTip reads `start` as "first
    /// seen since" and a `firstSeen:` search term as a tag, Sentry reads
    /// `start` as the window of events.
    pub async fn new_issues(
        &self,
        org: &str,
        project_ids: &[&str],
        since: jiff::Timestamp,
        marker: Option<&str>,
    ) -> Result<Vec<Issue>, UpstreamError> {
        let query = match marker {
            Some(marker) => format!("is:unresolved {marker}"),
            None => "is:unresolved".to_owned(),
        };
        let window = [
            ("start", since.to_string()),
            ("end", jiff::Timestamp::now().to_string()),
        ];
        let issues = self
            .issues(org, project_ids, &query, &window, Sort::New, 100)
            .await?;
        Ok(issues
            .into_iter()
            .filter(|issue| !issue.seen_before(since) && !is_test_event(&issue.title))
            .collect())
    }

    /// The unresolved issues with the most events within `period`; an
    /// issue last seen before it is left out (servers that do not window
    /// the list count an issue's whole life).
    pub async fn top_issues(
        &self,
        org: &str,
        project_id: &str,
        period: &str,
        since: jiff::Timestamp,
        limit: usize,
    ) -> Result<Vec<Issue>, UpstreamError> {
        let window = [("statsPeriod", period.to_owned())];
        let mut issues = self
            .issues(
                org,
                &[project_id],
                "is:unresolved",
                &window,
                Sort::Freq,
                limit,
            )
            .await?;
        issues.retain(|issue| !issue.last_seen_before(since) && !is_test_event(&issue.title));
        issues.truncate(limit);
        Ok(issues)
    }

    /// The first page of the issue list, in Sentry's names; a server that
    /// refuses the name of the order is asked again in GlitchTip's, and
    /// remembered.
    async fn issues(
        &self,
        org: &str,
        project_ids: &[&str],
        query: &str,
        window: &[(&str, String)],
        sort: Sort,
        limit: usize,
    ) -> Result<Vec<Issue>, UpstreamError> {
        let base = self.org_url(org, &["organizations", org, "issues"]).await?;
        let url = |ninja: bool| {
            let mut url = base.clone();
            url.query_pairs_mut()
                .extend_pairs(project_ids.iter().map(|id| ("project", id)))
                .append_pair("query", query)
                .extend_pairs(window)
                .append_pair("sort", sort.name(ninja))
                .append_pair("limit", &limit.to_string());
            url
        };
        // One page: `limit` is all any check reads.
        let page = |url: Url| async move { self.get(&url).await };
        let ninja = self.ninja_sorts.load(Ordering::Relaxed);
        match page(url(ninja)).await {
            Err(UpstreamError::Status(400 | 422, refused))
                if !ninja && refused.contains("sort") =>
            {
                self.ninja_sorts.store(true, Ordering::Relaxed);
                page(url(true)).await
            }
            answer => answer,
        }
    }

    /// Issue alert rules of a project, from the legacy API.
    pub async fn legacy_issue_rules(
        &self,
        org: &str,
        project: &str,
    ) -> Result<Vec<LegacyIssueRule>, UpstreamError> {
        let url = self
            .org_url(org, &["projects", org, project, "rules"])
            .await?;
        self.list(&url).await
    }

    /// Metric alert rules of an organization, from the legacy API.
    pub async fn legacy_metric_rules(
        &self,
        org: &str,
    ) -> Result<Vec<LegacyMetricRule>, UpstreamError> {
        let url = self
            .org_url(org, &["organizations", org, "alert-rules"])
            .await?;
        self.list(&url).await
    }

    /// The values of the tag `key` on the issue `id`, most frequent first;
    /// none when the issue has no such tag. GlitchTip keeps them elsewhere
    /// (`/issues/{id}/tags/?key=`), asked where Sentry's path is a web page.
    pub async fn issue_tag_values(
        &self,
        org: &str,
        id: &str,
        key: &str,
    ) -> Result<Vec<String>, UpstreamError> {
        let url = self
            .org_url(org, &["organizations", org, "issues", id, "tags", key])
            .await?;
        let values = |tags: Vec<IssueTag>| -> Vec<String> {
            tags.into_iter()
                .flat_map(|tag| tag.top_values.unwrap_or_default())
                .filter_map(|value| value.value)
                .collect()
        };
        match self.get::<IssueTag>(&url).await {
            Ok(tag) => Ok(values(vec![tag])),
            Err(UpstreamError::NotFound) => Ok(Vec::new()),
            Err(UpstreamError::Unsupported(_) | UpstreamError::NotJson(_)) => {
                let mut url = Self::url(&self.region(org).await?, &["issues", id, "tags"]);
                url.query_pairs_mut().append_pair("key", key);
                Ok(values(self.get(&url).await?))
            }
            Err(err) => Err(err),
        }
    }

    /// Marks the issue `id` of the project resolved.
    pub async fn resolve_issue(
        &self,
        org: &str,
        project_id: &str,
        id: &str,
    ) -> Result<(), UpstreamError> {
        let mut url = self.org_url(org, &["organizations", org, "issues"]).await?;
        url.query_pairs_mut()
            .append_pair("project", project_id)
            .append_pair("id", id);
        let _: serde_json::Value = self
            .upstream
            .send(
                Method::PUT,
                &url,
                Some(&self.token),
                &json!({ "status": "resolved" }),
            )
            .await?;
        Ok(())
    }

    /// The release `version` of the organization.
    pub async fn release(&self, org: &str, version: &str) -> Result<Release, UpstreamError> {
        let url = self
            .org_url(org, &["organizations", org, "releases", version])
            .await?;
        self.get(&url).await
    }

    /// One monitor of the current API.
    pub async fn detector(&self, org: &str, id: &str) -> Result<Detector, UpstreamError> {
        let url = self
            .org_url(org, &["organizations", org, "detectors", id])
            .await?;
        self.get(&url).await
    }

    /// Alerts of the current API.
    pub async fn workflows(&self, org: &str) -> Result<Vec<Workflow>, UpstreamError> {
        let url = self
            .org_url(org, &["organizations", org, "workflows"])
            .await?;
        self.list(&url).await
    }

    /// Aggregates over `period` of a project's transactions (the `spans`
    /// dataset, transactions only) from the events table: one value per
    /// field, `None` where Sentry has none (no transactions).
    pub async fn transaction_aggregates(
        &self,
        org: &str,
        project_id: &str,
        fields: &[&str],
        query: &str,
        period: &str,
    ) -> Result<Vec<Option<f64>>, UpstreamError> {
        let mut url = self.org_url(org, &["organizations", org, "events"]).await?;
        {
            let mut pairs = url.query_pairs_mut();
            pairs.append_pair("dataset", "spans");
            for field in fields {
                pairs.append_pair("field", field);
            }
            pairs
                .append_pair("project", project_id)
                .append_pair("query", format!("is_transaction:true {query}").trim())
                .append_pair("statsPeriod", period)
                .append_pair("per_page", "1");
        }
        let table: EventsTable = self.get(&url).await?;
        let row = table.data.first();
        Ok(fields
            .iter()
            .map(|field| row.and_then(|row| row.get(*field)?.as_f64()))
            .collect())
    }

    /// Events of a project in `period` counted by the value of `field` (a
    /// tag of the `errors` dataset, `span.op` of `spans`), those `query`
    /// selects: each value and its count, most first (at most 100).
    pub async fn counts_by(
        &self,
        org: &str,
        project_id: &str,
        (dataset, field): (&str, &str),
        query: &str,
        period: &str,
    ) -> Result<Vec<(String, u64)>, UpstreamError> {
        let mut url = self.org_url(org, &["organizations", org, "events"]).await?;
        url.query_pairs_mut()
            .append_pair("dataset", dataset)
            .append_pair("field", field)
            .append_pair("field", "count()")
            .append_pair("project", project_id)
            .append_pair("query", query)
            .append_pair("statsPeriod", period)
            .append_pair("sort", "-count()")
            .append_pair("per_page", "100");
        let table: EventsTable = self.get(&url).await?;
        Ok(table
            .data
            .iter()
            .filter_map(|row| {
                let value = match row.get(field)? {
                    serde_json::Value::String(text) => text.clone(),
                    serde_json::Value::Null => return None,
                    other => other.to_string(),
                };
                let count = row.get("count()")?.as_f64()?;
                Some((value, count.max(0.0) as u64))
            })
            .collect())
    }

    /// Accepted events of `category` (`error`, `transaction`) of the whole
    /// organization between `start` and `end`, by day: the quota's count.
    pub async fn accepted(
        &self,
        org: &str,
        category: &str,
        (start, end): (jiff::Timestamp, jiff::Timestamp),
    ) -> Result<u64, UpstreamError> {
        let mut url = self
            .org_url(org, &["organizations", org, "stats_v2"])
            .await?;
        url.query_pairs_mut()
            .append_pair("field", "sum(quantity)")
            .append_pair("category", category)
            .append_pair("outcome", "accepted")
            .append_pair("interval", "1h")
            .append_pair("start", &start.to_string())
            .append_pair("end", &end.to_string());
        let stats: Stats = self.get(&url).await?;
        Ok(stats
            .groups
            .iter()
            .filter_map(|group| group.series.get("sum(quantity)")?.as_array())
            .flatten()
            .filter_map(serde_json::Value::as_u64)
            .sum())
    }

    /// Each project's transactions and the share that failed between
    /// `start` and `end`, for all of `project_ids` in one request (the
    /// events table grouped by `project.id`), each row with its project; a
    /// server that does not group by project answers one row without it.
    pub async fn failure_rates(
        &self,
        org: &str,
        project_ids: Vec<String>,
        start: jiff::Timestamp,
        end: jiff::Timestamp,
    ) -> Result<Vec<(Option<String>, FailureRate)>, UpstreamError> {
        let mut url = self.org_url(org, &["organizations", org, "events"]).await?;
        {
            let mut pairs = url.query_pairs_mut();
            pairs
                .append_pair("dataset", "spans")
                .append_pair("field", "project.id")
                .append_pair("field", "failure_rate()")
                .append_pair("field", "count()");
            for id in &project_ids {
                pairs.append_pair("project", id);
            }
            pairs
                .append_pair("query", "is_transaction:true")
                .append_pair("start", &start.to_string())
                .append_pair("end", &end.to_string())
                .append_pair("per_page", "100");
        }
        let table: EventsTable = self.get(&url).await?;
        Ok(table
            .data
            .iter()
            .map(|row| {
                let count = row.get("count()").and_then(serde_json::Value::as_f64);
                let rate = FailureRate {
                    transactions: count.map_or(0, |count| count.max(0.0) as u64),
                    failure_rate: row
                        .get("failure_rate()")
                        .and_then(serde_json::Value::as_f64),
                };
                (project_of(row.get("project.id")), rate)
            })
            .collect())
    }

    /// Accepted errors of each of `project_ids` between `start` and `end`,
    /// in one request (`stats_v2` grouped by project). A server that does
    /// not group by project answers one group without it (`None`).
    pub async fn errors_by_project(
        &self,
        org: &str,
        project_ids: Vec<String>,
        start: jiff::Timestamp,
        end: jiff::Timestamp,
    ) -> Result<Vec<(Option<String>, u64)>, UpstreamError> {
        let mut url = self
            .org_url(org, &["organizations", org, "stats_v2"])
            .await?;
        {
            let mut pairs = url.query_pairs_mut();
            pairs
                .append_pair("field", "sum(quantity)")
                .append_pair("groupBy", "project")
                .append_pair("category", "error")
                .append_pair("outcome", "accepted")
                .append_pair("interval", "1h")
                .append_pair("start", &start.to_string())
                .append_pair("end", &end.to_string());
            for id in &project_ids {
                pairs.append_pair("project", id);
            }
        }
        let stats: Stats = self.get(&url).await?;
        Ok(stats
            .groups
            .iter()
            .map(|group| {
                let project = project_of(group.by.get("project"));
                // Null buckets count as none, as some compatible servers send.
                let errors = group
                    .series
                    .get("sum(quantity)")
                    .and_then(serde_json::Value::as_array)
                    .map_or(0, |values| {
                        values.iter().filter_map(serde_json::Value::as_u64).sum()
                    });
                (project, errors)
            })
            .collect())
    }

    /// Creates a project in `team`; Sentry gives it a client key.
    pub async fn create_project(
        &self,
        org: &str,
        team: &str,
        slug: &str,
        platform: &str,
    ) -> Result<Project, UpstreamError> {
        let body = json!({ "name": slug, "slug": slug, "platform": platform });
        self.create(org, &["teams", org, team, "projects"], &body)
            .await
    }

    /// Creates a legacy issue alert rule (`/rules/`).
    pub async fn create_issue_rule(
        &self,
        org: &str,
        project: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, UpstreamError> {
        self.create(org, &["projects", org, project, "rules"], body)
            .await
    }

    /// Creates a legacy metric alert rule (`/alert-rules/`).
    pub async fn create_metric_rule(
        &self,
        org: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, UpstreamError> {
        self.create(org, &["organizations", org, "alert-rules"], body)
            .await
    }

    /// Creates a metric monitor of the current API (`/detectors/`).
    pub async fn create_detector(
        &self,
        org: &str,
        project: &str,
        body: &serde_json::Value,
    ) -> Result<Created, UpstreamError> {
        self.create(
            org,
            &["organizations", org, "projects", project, "detectors"],
            body,
        )
        .await
    }

    /// Creates an alert of the current API (`/workflows/`).
    pub async fn create_workflow(
        &self,
        org: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, UpstreamError> {
        self.create(org, &["organizations", org, "workflows"], body)
            .await
    }

    /// Unresolved issues of the last hour whose title holds `text`.
    pub async fn issues_titled(
        &self,
        org: &str,
        project_id: &str,
        text: &str,
        period: &str,
    ) -> Result<Vec<Issue>, UpstreamError> {
        let query = format!("is:unresolved \"{text}\"");
        let window = [("statsPeriod", period.to_owned())];
        let issues = self
            .issues(org, &[project_id], &query, &window, Sort::New, 25)
            .await?;
        Ok(issues
            .into_iter()
            .filter(|issue| issue.title.contains(text))
            .collect())
    }

    /// The issue with the latest event, resolved or not, when one had an
    /// event within `period` (in `environment`, when given).
    pub async fn latest_issue(
        &self,
        org: &str,
        project_id: &str,
        period: &str,
        environment: Option<&str>,
    ) -> Result<Option<Issue>, UpstreamError> {
        let mut window = vec![("statsPeriod", period.to_owned())];
        if let Some(environment) = environment {
            window.push(("environment", environment.to_owned()));
        }
        let issues = self
            .issues(org, &[project_id], "", &window, Sort::Date, 1)
            .await?;
        Ok(issues.into_iter().next())
    }

    /// Watchpost's own test events within `period`, resolved or not, with
    /// when each was first seen and how many events it holds: what the
    /// hourly counts leave out.
    pub async fn test_events(
        &self,
        org: &str,
        project_id: &str,
        period: &str,
    ) -> Result<Vec<(jiff::Timestamp, u64)>, UpstreamError> {
        let query = format!("\"{TEST_EVENT_TITLE}\"");
        let window = [("statsPeriod", period.to_owned())];
        let issues = self
            .issues(org, &[project_id], &query, &window, Sort::New, 100)
            .await?;
        Ok(issues
            .iter()
            .filter(|issue| is_test_event(&issue.title))
            .filter_map(|issue| {
                Some((
                    seen(issue.first_seen.as_deref())?,
                    issue.count.parse().unwrap_or(1),
                ))
            })
            .collect())
    }

    /// Sends `event` to the project's ingest endpoint as an SDK would, with
    /// the DSN's public key: what arrives proves the DSN works.
    pub async fn send_event(
        &self,
        dsn: &domain::dsn::Dsn,
        event_id: &str,
        event: &serde_json::Value,
    ) -> Result<(), UpstreamError> {
        let path = if dsn.path.is_empty() {
            String::new()
        } else {
            format!("/{}", dsn.path)
        };
        let url = Url::parse(&format!(
            "{}://{}{path}/api/{}/envelope/",
            dsn.scheme, dsn.host, dsn.project_id
        ))
        .map_err(|_| UpstreamError::Unreachable("the DSN does not make a URL".to_owned()))?;
        let auth = format!(
            "Sentry sentry_version=7, sentry_key={}, sentry_client=watchpost/{}",
            dsn.public_key,
            env!("CARGO_PKG_VERSION")
        );
        let envelope = format!(
            "{}\n{}\n{}\n",
            json!({ "event_id": event_id }),
            json!({ "type": "event" }),
            event
        );
        let _: serde_json::Value = self
            .upstream
            .send_bytes(
                &url,
                &[("x-sentry-auth", auth)],
                "application/x-sentry-envelope",
                envelope.into_bytes(),
            )
            .await?;
        Ok(())
    }

    /// Accepted error events per hour over the last `hours`, oldest first;
    /// the last hour is the current one, still counting. The window goes
    /// as `start` and `end`, which GlitchTip requires and Sentry accepts.
    pub async fn hourly_errors(
        &self,
        org: &str,
        project_id: &str,
        hours: u32,
    ) -> Result<Vec<(String, u64)>, UpstreamError> {
        self.hourly(org, project_id, hours, "error").await
    }

    /// Accepted events of `category` (`error`, `transaction`) per hour, as
    /// [`Sentry::hourly_errors`].
    pub async fn hourly(
        &self,
        org: &str,
        project_id: &str,
        hours: u32,
        category: &str,
    ) -> Result<Vec<(String, u64)>, UpstreamError> {
        let end = jiff::Timestamp::now();
        let start = end - jiff::SignedDuration::from_hours(i64::from(hours.max(1)) - 1);
        let start = start
            .round(
                jiff::TimestampRound::new()
                    .smallest(jiff::Unit::Hour)
                    .mode(jiff::RoundMode::Trunc),
            )
            .unwrap_or(start);
        let mut url = self
            .org_url(org, &["organizations", org, "stats_v2"])
            .await?;
        url.query_pairs_mut()
            .append_pair("field", "sum(quantity)")
            .append_pair("groupBy", "outcome")
            .append_pair("category", category)
            .append_pair("outcome", "accepted")
            .append_pair("interval", "1h")
            .append_pair("start", &start.to_string())
            .append_pair("end", &end.to_string())
            .append_pair("project", project_id);
        let stats: Stats = self.get(&url).await?;
        // GlitchTip does not group by outcome: its one group is the count.
        let accepted = stats
            .groups
            .iter()
            .find(|group| match group.by.get("outcome") {
                Some(outcome) => outcome.as_str() == Some("accepted"),
                None => true,
            });
        let series: Vec<u64> = accepted
            .and_then(|group| group.series.get("sum(quantity)"))
            .and_then(|series| series.as_array())
            .map(|values| {
                // Some compatible servers leave empty buckets null.
                values
                    .iter()
                    .map(|value| value.as_u64().unwrap_or(0))
                    .collect()
            })
            .unwrap_or_default();
        Ok(stats
            .intervals
            .into_iter()
            .zip(series.into_iter().chain(std::iter::repeat(0)))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_names_the_scope_the_request_needs() {
        let at = |path: &str| Url::parse(&format!("https://sentry.io{path}")).unwrap();
        let forbidden = || UpstreamError::Forbidden(None);
        for (method, path, scope) in [
            (
                Method::GET,
                "/api/0/projects/acme/voxanne/keys/",
                "project:read",
            ),
            (
                Method::GET,
                "/api/0/organizations/acme/issues/",
                "event:read",
            ),
            (
                Method::PUT,
                "/api/0/organizations/acme/issues/",
                "event:write",
            ),
            (
                Method::GET,
                "/api/0/organizations/acme/alert-rules/",
                "alerts:read",
            ),
            (
                Method::POST,
                "/api/0/projects/acme/voxanne/rules/",
                "alerts:write",
            ),
            (
                Method::POST,
                "/api/0/teams/acme/backend/projects/",
                "project:write",
            ),
            (
                Method::GET,
                "/api/0/organizations/acme/stats_v2/",
                "org:read",
            ),
            (
                Method::GET,
                "/api/0/organizations/acme/releases/abc/",
                "project:releases",
            ),
        ] {
            assert_eq!(
                scoped(forbidden(), &method, &at(path)).to_string(),
                format!(
                    "refused access (403): the token lacks the scope {scope}, which this needs"
                ),
                "{method} {path}"
            );
        }
        assert_eq!(
            scoped(UpstreamError::NotFound, &Method::GET, &at("/x/")),
            UpstreamError::NotFound
        );
    }

    #[test]
    fn the_token_goes_only_to_the_server_or_sentry_io_s_regions() {
        let region = |base: &str, region: &str| {
            region_of(&Url::parse(base).unwrap(), Url::parse(region).unwrap())
        };
        assert!(region("https://sentry.io", "https://us.sentry.io").is_ok());
        assert!(region("https://sentry.io", "https://de.sentry.io/").is_ok());
        assert!(region("https://ops.example.com", "https://ops.example.com/us").is_ok());
        for (base, foreign, host) in [
            ("https://sentry.io", "https://evil.example", "evil.example"),
            ("https://sentry.io", "http://us.sentry.io", "us.sentry.io"),
            (
                "https://sentry.io",
                "https://us.sentry.io:8443",
                "us.sentry.io",
            ),
            (
                "https://sentry.io",
                "https://sentry.io.evil.example",
                "sentry.io.evil.example",
            ),
            (
                "https://ops.example.com",
                "https://us.sentry.io",
                "us.sentry.io",
            ),
            (
                "https://ops.example.com",
                "https://ops.example.com:444",
                "ops.example.com",
            ),
        ] {
            assert_eq!(
                region(base, foreign),
                Err(UpstreamError::ForeignHost(host.to_owned())),
                "{base} -> {foreign}"
            );
        }
    }

    #[test]
    fn urls_escape_each_segment_and_keep_a_base_path() {
        let base = Url::parse("https://sentry.io").unwrap();
        assert_eq!(
            Sentry::url(&base, &["projects", "acme", "voxanne"]).as_str(),
            "https://sentry.io/api/0/projects/acme/voxanne/"
        );
        let hosted = Url::parse("https://ops.example.com/sentry/").unwrap();
        assert_eq!(
            Sentry::url(&hosted, &["organizations", "../x/y"]).as_str(),
            "https://ops.example.com/sentry/api/0/organizations/..%2Fx%2Fy/"
        );
    }
}
