//! A fake Sentry on 127.0.0.1 whose answers are built from the schemas of
//! Sentry's OpenAPI document (every required field present), with the values
//! a test is about laid over them. Like sentry.io, the organization names a
//! region host (`/us` of the same server) and org data is served there; like
//! some Sentry-compatible servers, an unknown API path answers an HTML page.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{OriginalUri, Path, State};
use axum::http::HeaderMap;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use url::Url;

use crate::specs::{self, SENTRY, SENTRY_LEGACY};

const ORG: &str = "/api/0/organizations/{organization_id_or_slug}/";
const PROJECT: &str = "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/";
const KEYS: &str = "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/keys/";
const INTEGRATIONS: &str = "/api/0/organizations/{organization_id_or_slug}/integrations/";
pub const ISSUES: &str = "/api/0/organizations/{organization_id_or_slug}/issues/";
const STATS: &str = "/api/0/organizations/{organization_id_or_slug}/stats_v2/";
/// In the legacy document only.
pub const ISSUE_RULES: &str =
    "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/rules/";
/// In the legacy document only.
pub const METRIC_RULES: &str = "/api/0/organizations/{organization_id_or_slug}/alert-rules/";
/// In the legacy document only.
pub const ISSUE_RULE: &str =
    "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/rules/{rule_id}/";
/// In the legacy document only.
pub const METRIC_RULE: &str =
    "/api/0/organizations/{organization_id_or_slug}/alert-rules/{alert_rule_id}/";
pub const WORKFLOWS: &str = "/api/0/organizations/{organization_id_or_slug}/workflows/";
pub const WORKFLOW: &str =
    "/api/0/organizations/{organization_id_or_slug}/workflows/{workflow_id}/";
pub const EVENTS: &str = "/api/0/organizations/{organization_id_or_slug}/events/";
pub const DETECTORS: &str =
    "/api/0/organizations/{organization_id_or_slug}/projects/{project_id_or_slug}/detectors/";
pub const ISSUE_TAG: &str =
    "/api/0/organizations/{organization_id_or_slug}/issues/{issue_id}/tags/{key}/";
pub const RELEASE: &str = "/api/0/organizations/{organization_id_or_slug}/releases/{version}/";
pub const DETECTOR: &str =
    "/api/0/organizations/{organization_id_or_slug}/detectors/{detector_id}/";
pub const TEAM_PROJECTS: &str =
    "/api/0/teams/{organization_id_or_slug}/{team_id_or_slug}/projects/";
/// The public key of every client key the fake makes.
pub const PUBLIC_KEY: &str = "publickey";

/// The DSN's secret part in the fixtures: it must never leave the proxy.
pub const DSN_SECRET: &str = "dsnsecret0c4a7f";

/// What the fake knows, and what it was asked.
#[derive(Debug, Default)]
pub struct World {
    pub org: String,
    /// Project slug → its answer.
    pub projects: HashMap<String, Value>,
    pub keys: HashMap<String, Vec<Value>>,
    pub integrations: Vec<Value>,
    pub issues: Vec<Value>,
    /// Accepted errors per hour, oldest first; the last is the hour under way.
    pub hourly_errors: Vec<Option<u64>>,
    /// `None`: the server lacks the legacy alert endpoints (an HTML page, as
    /// some servers answer).
    pub issue_rules: Option<Vec<Value>>,
    pub metric_rules: Option<Vec<Value>>,
    pub workflows: Vec<Value>,
    /// Monitors of the current API, as created.
    pub detectors: Vec<Value>,
    /// Transactions of the last hour, for the events table's aggregates.
    pub transactions: Vec<Transaction>,
    /// The events table ignores `project.id`, and the stats `groupBy=project`
    /// (one row or group for every project asked, as some compatible servers
    /// answer), instead of grouping by project.
    pub ignores_project_grouping: bool,
    /// Teams a project can be created in.
    pub teams: Vec<String>,
    /// Releases that have events, by version.
    pub releases: Vec<String>,
    /// Tags of issues: (issue id, key, value).
    pub issue_tags: Vec<(String, String, String)>,
    /// The environment of an issue's events, by issue id; an issue not
    /// named here is seen in every environment.
    pub issue_environments: HashMap<String, String>,
    /// The organization's accepted events for the quota: (this month, the
    /// last 24 hours) of errors and of transactions.
    pub usage: Usage,
    /// Errors of the last 7 days by tag: (key, value, events); and how many
    /// errors there were in all.
    pub error_tags: Vec<(String, String, u64)>,
    pub errors_week: u64,
    /// Spans of the last 24 hours by operation.
    pub spans: Vec<(String, u64)>,
    /// Events that arrived through a DSN (the envelope endpoint), as sent.
    pub envelopes: Vec<String>,
    /// Every request: the path (with its region prefix) and the query.
    pub requests: Vec<(String, Vec<(String, String)>)>,
    /// Every change: the path and the JSON body.
    pub changes: Vec<(String, Value)>,
}

/// Accepted events of the month and of the last day, by category.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    pub errors: (u64, u64),
    pub transactions: (u64, u64),
}

/// One transaction: its name, how long it took, whether it failed.
#[derive(Debug, Clone, PartialEq)]
pub struct Transaction {
    pub name: String,
    pub duration_ms: f64,
    pub failed: bool,
}

#[derive(Debug, Clone)]
pub struct FakeSentry {
    pub base: Url,
    pub world: Arc<Mutex<World>>,
}

/// A schema-complete answer of `method path` with `fields` over it.
pub fn answer(method: &str, path: &str, fields: Value) -> Value {
    answer_in(SENTRY, method, path, fields)
}

/// The same, from the document named `spec`.
pub fn answer_in(spec: &str, method: &str, path: &str, fields: Value) -> Value {
    let document = specs::document(spec);
    let schema = specs::response_schema(document, method, path, "200");
    let schema = schema.get("items").unwrap_or(schema);
    specs::overlay(specs::example(document, schema), fields)
}

/// A project of the team `launch` (id 2), whose alerts can email it.
pub fn project(id: u64, slug: &str, platform: &str, first_event: Option<&str>) -> Value {
    answer(
        "get",
        PROJECT,
        json!({ "id": id.to_string(), "slug": slug, "name": slug, "platform": platform, "firstEvent": first_event,
            "teams": [{ "id": "2", "slug": "launch", "name": "Launch" }] }),
    )
}

/// The public DSN of project `id` on the fake at `base`, which ingests.
pub fn dsn(base: &Url, id: u64) -> String {
    format!(
        "http://{PUBLIC_KEY}@{}:{}/{id}",
        base.host_str().unwrap_or("127.0.0.1"),
        base.port().unwrap_or(80)
    )
}

pub fn client_key(project_id: u64, public: &str) -> Value {
    let secret = public.replacen('@', &format!(":{DSN_SECRET}@"), 1);
    answer(
        "get",
        KEYS,
        json!({
            "name": "Default", "isActive": true, "projectId": project_id,
            "public": "publickey", "secret": DSN_SECRET,
            "dsn": { "public": public, "secret": secret }
        }),
    )
}

/// A legacy metric alert: `aggregate` over `window` minutes above `threshold`.
pub fn metric_rule(
    name: &str,
    aggregate: &str,
    window: u32,
    threshold: f64,
    delta: Option<u32>,
) -> Value {
    answer_in(
        SENTRY_LEGACY,
        "get",
        METRIC_RULES,
        json!({
            "id": next_rule_id(), "name": name, "aggregate": aggregate, "timeWindow": window, "thresholdType": 0,
            "comparisonDelta": delta, "projects": ["voxanne"], "query": "",
            "triggers": [{ "label": "critical", "alertThreshold": threshold,
                "actions": [{ "type": "email", "targetType": "team", "targetIdentifier": "1" }] }]
        }),
    )
}

/// A legacy issue alert with one condition.
pub fn issue_rule(name: &str, condition: &str) -> Value {
    answer_in(
        SENTRY_LEGACY,
        "get",
        ISSUE_RULES,
        json!({ "id": next_rule_id(), "name": name, "conditions": [{ "id": condition }], "actionMatch": "all", "frequency": 30,
            "actions": [{ "id": "sentry.mail.actions.NotifyEmailAction", "targetType": "IssueOwners" }] }),
    )
}

/// A legacy issue rule on new and regressed issues, letting through an
/// event whose `attribute` contains the text, any one of `filters`.
pub fn filtered_issue_rule(name: &str, filters: &[(&str, &str)]) -> Value {
    let filters: Vec<Value> = filters
        .iter()
        .map(|(attribute, value)| {
            json!({ "id": "sentry.rules.filters.event_attribute.EventAttributeFilter",
                "attribute": attribute, "match": "co", "value": value })
        })
        .collect();
    let mut rule = issue_rule(
        name,
        "sentry.rules.conditions.first_seen_event.FirstSeenEventCondition",
    );
    rule["conditions"] = json!([
        { "id": "sentry.rules.conditions.first_seen_event.FirstSeenEventCondition" },
        { "id": "sentry.rules.conditions.regression_event.RegressionEventCondition" }
    ]);
    rule["filters"] = json!(filters);
    rule["filterMatch"] = json!("any");
    rule
}

/// An alert of the current API, triggered by `condition_type`.
pub fn workflow(name: &str, condition_type: &str) -> Value {
    answer(
        "get",
        WORKFLOWS,
        json!({
            "id": "9", "name": name,
            "triggers": { "id": "1", "organizationId": "1", "logicType": "any-short",
                "conditions": [{ "id": "1", "type": condition_type, "comparison": true, "conditionResult": true }],
                "actions": [] },
            "actionFilters": [{ "id": "2", "organizationId": "1", "logicType": "any", "conditions": [],
                "actions": [{ "id": "3", "type": "email", "integrationId": null, "data": { "fallthroughType": "ActiveMembers" },
                    "config": { "targetType": "issue_owners", "targetDisplay": null, "targetIdentifier": "" }, "status": "active" }] }]
        }),
    )
}

pub fn slack_integration(status: &str) -> Value {
    answer(
        "get",
        INTEGRATIONS,
        json!({ "name": "Acme Slack", "status": status, "provider": { "key": "slack", "name": "Slack" } }),
    )
}

/// An issue of project 4 (the launch's) first seen two hours ago and last
/// seen 30 minutes ago; [`issue_of`] for another project.
pub fn issue(id: u64, level: &str, title: &str) -> Value {
    issue_of(4, id, level, title)
}

/// An issue of the project whose id is `project`.
pub fn issue_of(project: u64, id: u64, level: &str, title: &str) -> Value {
    let ago = |minutes: i64| {
        (jiff::Timestamp::now() - jiff::SignedDuration::from_mins(minutes)).to_string()
    };
    answer(
        "get",
        ISSUES,
        json!({
            "id": id.to_string(), "shortId": format!("VOX-{id}"), "title": title, "level": level,
            "status": "unresolved", "count": "3", "firstSeen": ago(120),
            "lastSeen": ago(30), "permalink": format!("https://acme.sentry.io/issues/{id}/"),
            "project": { "id": project.to_string() }
        }),
    )
}

impl FakeSentry {
    pub async fn start(world: World) -> Self {
        Self::start_with(world, crate::Latency::default()).await
    }

    pub async fn start_with(world: World, latency: crate::Latency) -> Self {
        let world = Arc::new(Mutex::new(world));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base =
            Url::parse(&format!("http://{}/", listener.local_addr().expect("addr"))).expect("url");
        let api = Router::new()
            .route("/api/0/organizations/{org}/", get(organization))
            .route("/api/0/projects/{org}/{project}/", get(show_project))
            .route("/api/0/projects/{org}/{project}/keys/", get(keys))
            .route(
                "/api/0/organizations/{org}/integrations/",
                get(integrations),
            )
            .route(
                "/api/0/organizations/{org}/issues/",
                get(issues).put(update_issues),
            )
            .route("/api/0/organizations/{org}/stats_v2/", get(stats))
            .route("/api/0/projects/{org}/{project}/rules/", get(issue_rules))
            .route("/api/0/organizations/{org}/alert-rules/", get(metric_rules))
            .route(
                "/api/0/organizations/{org}/workflows/",
                get(workflows).post(new_workflow),
            )
            .route("/api/0/organizations/{org}/events/", get(events))
            .route("/api/0/teams/{org}/{team}/projects/", post(new_project))
            .route(
                "/api/0/organizations/{org}/projects/{project}/detectors/",
                post(new_detector),
            )
            .route(
                "/api/0/organizations/{org}/detectors/{id}/",
                get(show_detector).put(update_detector),
            )
            .route(
                "/api/0/organizations/{org}/workflows/{id}/",
                axum::routing::put(update_workflow),
            )
            .route(
                "/api/0/organizations/{org}/releases/{version}/",
                get(show_release),
            )
            .route(
                "/api/0/organizations/{org}/issues/{id}/tags/{key}/",
                get(issue_tag),
            )
            .fallback(web_page);
        let api = api
            .route(
                "/api/0/projects/{org}/{project}/rules/",
                post(new_issue_rule),
            )
            .route(
                "/api/0/organizations/{org}/alert-rules/",
                post(new_metric_rule),
            )
            .route(
                "/api/0/projects/{org}/{project}/rules/{id}/",
                axum::routing::put(update_issue_rule),
            )
            .route(
                "/api/0/organizations/{org}/alert-rules/{id}/",
                axum::routing::put(update_metric_rule),
            )
            // Ingestion, where a DSN points: the fake is its own ingest host.
            .route("/api/{project_id}/envelope/", post(envelope));
        let app = Router::new()
            .nest("/us", api.clone())
            .merge(api)
            .with_state(Fake {
                world: world.clone(),
                base: base.clone(),
            });
        let app = latency.delay(app);
        tokio::spawn(async move { axum::serve(listener, app).await });
        FakeSentry { base, world }
    }

    pub fn requests(&self) -> Vec<(String, Vec<(String, String)>)> {
        crate::lock(&self.world).requests.clone()
    }
}

#[derive(Debug, Clone)]
struct Fake {
    world: Arc<Mutex<World>>,
    base: Url,
}

impl Fake {
    fn record(&self, uri: &OriginalUri) -> std::sync::MutexGuard<'_, World> {
        let mut world = crate::lock(&self.world);
        let query = crate::query_pairs(uri);
        world.requests.push((uri.path().to_owned(), query));
        world
    }

    fn change(&self, uri: &OriginalUri, body: &Value) -> std::sync::MutexGuard<'_, World> {
        let mut world = self.record(uri);
        world.changes.push((uri.path().to_owned(), body.clone()));
        world
    }
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({ "detail": "The requested resource does not exist" })),
    )
        .into_response()
}

async fn organization(
    State(fake): State<Fake>,
    uri: OriginalUri,
    Path(org): Path<String>,
) -> Response {
    let world = fake.record(&uri);
    if org != world.org {
        return not_found();
    }
    let region = format!("{}us", fake.base);
    axum::Json(answer(
        "get",
        ORG,
        json!({ "slug": org, "name": org, "links": { "organizationUrl": fake.base.as_str(), "regionUrl": region } }),
    ))
    .into_response()
}

async fn show_project(
    State(fake): State<Fake>,
    uri: OriginalUri,
    Path((org, project)): Path<(String, String)>,
) -> Response {
    let world = fake.record(&uri);
    match world.projects.get(&project).filter(|_| org == world.org) {
        Some(project) => axum::Json(project.clone()).into_response(),
        None => not_found(),
    }
}

async fn keys(
    State(fake): State<Fake>,
    uri: OriginalUri,
    Path((_, project)): Path<(String, String)>,
) -> Response {
    let world = fake.record(&uri);
    match world.keys.get(&project) {
        Some(keys) => axum::Json(keys.clone()).into_response(),
        None => not_found(),
    }
}

async fn integrations(State(fake): State<Fake>, uri: OriginalUri) -> Response {
    let world = fake.record(&uri);
    axum::Json(world.integrations.clone()).into_response()
}

/// The issues, those of the `environment` asked for only.
async fn issues(State(fake): State<Fake>, uri: OriginalUri) -> Response {
    let world = fake.record(&uri);
    let query = crate::query_pairs(&uri);
    let all = |name: &str| crate::query_values(&query, name);
    let (environments, projects) = (all("environment"), all("project"));
    let issues: Vec<Value> = world
        .issues
        .iter()
        .filter(|issue| {
            let seen_in = issue["id"]
                .as_str()
                .and_then(|id| world.issue_environments.get(id));
            environments.is_empty()
                || seen_in.is_none_or(|seen| environments.contains(&seen.as_str()))
        })
        .filter(|issue| {
            let of = issue["project"]["id"].as_str();
            projects.is_empty() || of.is_none_or(|of| projects.contains(&of))
        })
        .map(|issue| {
            // Some compatible servers do not name the issue's project.
            let mut issue = issue.clone();
            if world.ignores_project_grouping {
                issue.as_object_mut().map(|fields| fields.remove("project"));
            }
            issue
        })
        .collect();
    axum::Json(issues).into_response()
}

/// `PUT …/issues/?id=…`: the issues named take the body's status.
async fn update_issues(
    State(fake): State<Fake>,
    uri: OriginalUri,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let mut world = fake.change(&uri, &body);
    let ids: Vec<String> = crate::query_pairs(&uri)
        .into_iter()
        .filter(|(name, _)| name == "id")
        .map(|(_, id)| id)
        .collect();
    for issue in world.issues.iter_mut().filter(|issue| {
        issue["id"]
            .as_str()
            .is_some_and(|id| ids.iter().any(|wanted| wanted == id))
    }) {
        issue["status"] = body["status"].clone();
    }
    axum::Json(json!({ "status": body["status"] })).into_response()
}

/// Event counts by hour, as `stats_v2` groups them by outcome.
pub fn stats_answer(hourly: &[Option<u64>]) -> Value {
    // The last hour is the one under way, as Sentry answers.
    let now = jiff::Timestamp::now().as_second();
    let current = now - now.rem_euclid(3600);
    let intervals: Vec<String> = (0..hourly.len())
        .map(|hour| {
            let back = i64::try_from(hourly.len() - 1 - hour).unwrap_or(0);
            jiff::Timestamp::from_second(current - back * 3600)
                .map(|at| at.to_string())
                .unwrap_or_default()
        })
        .collect();
    let total: u64 = hourly.iter().flatten().sum();
    answer(
        "get",
        STATS,
        json!({
            "start": "2026-11-21T12:00:00Z", "end": "2026-11-22T12:00:00Z",
            "intervals": intervals,
            "groups": [{ "by": { "outcome": "accepted" }, "totals": { "sum(quantity)": total }, "series": { "sum(quantity)": hourly } }]
        }),
    )
}

async fn stats(State(fake): State<Fake>, uri: OriginalUri) -> Response {
    let world = fake.record(&uri);
    let query = crate::query_pairs(&uri);
    let asked = |name: &str| crate::query_values(&query, name);
    let mut answer = stats_answer(&world.hourly_errors);
    let category = asked("category");
    if asked("groupBy").is_empty() && !category.is_empty() {
        // The quota's question: a window longer than a day is the month's.
        let at = |name: &str| {
            asked(name)
                .first()
                .and_then(|at| at.parse::<jiff::Timestamp>().ok())
                .map_or(0, jiff::Timestamp::as_second)
        };
        let month = at("end") - at("start") > 25 * 3600;
        let (errors, transactions) = (world.usage.errors, world.usage.transactions);
        let pick =
            |(month_count, day_count): (u64, u64)| if month { month_count } else { day_count };
        let total: u64 = category
            .iter()
            .map(|category| match *category {
                "error" => pick(errors),
                "transaction" => pick(transactions),
                _ => 0,
            })
            .sum();
        answer["groups"] = json!([{ "by": {}, "totals": { "sum(quantity)": total }, "series": { "sum(quantity)": [total] } }]);
        answer["intervals"] = json!([asked("start").first().copied().unwrap_or_default()]);
        return axum::Json(answer).into_response();
    }
    if asked("groupBy").contains(&"project") {
        // The hours from `start` on, for each project asked.
        let since = asked("start")
            .first()
            .and_then(|start| start.parse::<jiff::Timestamp>().ok())
            .map_or(0, |start| {
                start.as_second() - start.as_second().rem_euclid(3600)
            });
        let series: Vec<Option<u64>> = answer["intervals"]
            .as_array()
            .into_iter()
            .flatten()
            .zip(&world.hourly_errors)
            .filter(|(at, _)| {
                at.as_str()
                    .and_then(|at| at.parse::<jiff::Timestamp>().ok())
                    .is_some_and(|at| at.as_second() >= since)
            })
            .map(|(_, count)| *count)
            .collect();
        let total: u64 = series.iter().flatten().sum();
        let group = |by: Value| {
            json!({
                "by": by,
                "totals": { "sum(quantity)": total },
                "series": { "sum(quantity)": series },
            })
        };
        answer["groups"] = if world.ignores_project_grouping {
            json!([group(json!({}))])
        } else {
            asked("project")
                .iter()
                .map(|id| group(json!({ "project": id.parse::<u64>().unwrap_or(0) })))
                .collect()
        };
    }
    axum::Json(answer).into_response()
}

async fn issue_rules(State(fake): State<Fake>, uri: OriginalUri) -> Response {
    let world = fake.record(&uri);
    match world.issue_rules.clone() {
        Some(rules) => axum::Json(rules).into_response(),
        None => html_page(),
    }
}

async fn metric_rules(State(fake): State<Fake>, uri: OriginalUri) -> Response {
    let world = fake.record(&uri);
    match world.metric_rules.clone() {
        Some(rules) => axum::Json(rules).into_response(),
        None => html_page(),
    }
}

async fn workflows(State(fake): State<Fake>, uri: OriginalUri) -> Response {
    let world = fake.record(&uri);
    axum::Json(world.workflows.clone()).into_response()
}

fn created(value: Value) -> Response {
    (StatusCode::CREATED, axum::Json(value)).into_response()
}

async fn new_workflow(
    State(fake): State<Fake>,
    uri: OriginalUri,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let mut world = fake.change(&uri, &body);
    let made = workflow_answer(&next_rule_id(), body);
    world.workflows.push(made.clone());
    created(made)
}

/// An alert `id` as Sentry answers it: what was sent, in camel case.
fn workflow_answer(id: &str, body: Value) -> Value {
    let mut answered = body;
    if let Some(fields) = answered.as_object_mut() {
        for (snake, camel) in [
            ("action_filters", "actionFilters"),
            ("detector_ids", "detectorIds"),
            ("logic_type", "logicType"),
        ] {
            if let Some(value) = fields.remove(snake) {
                fields.insert(camel.to_owned(), value);
            }
        }
        if let Some(groups) = fields
            .get_mut("actionFilters")
            .and_then(Value::as_array_mut)
        {
            for group in groups.iter_mut().filter_map(Value::as_object_mut) {
                if let Some(logic) = group.remove("logic_type") {
                    group.insert("logicType".to_owned(), logic);
                }
            }
        }
    }
    let mut made = answer("get", WORKFLOWS, answered);
    made["id"] = json!(id);
    made
}

/// `PUT` of an alert: it becomes what the body says.
async fn update_workflow(
    State(fake): State<Fake>,
    uri: OriginalUri,
    Path((_, id)): Path<(String, String)>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let mut world = fake.change(&uri, &body);
    let made = workflow_answer(&id, body);
    match world.workflows.iter_mut().find(|alert| alert["id"] == id) {
        Some(alert) => {
            *alert = made.clone();
            axum::Json(made).into_response()
        }
        None => not_found(),
    }
}

/// `PUT` of a monitor: it becomes what the body says.
async fn update_detector(
    State(fake): State<Fake>,
    uri: OriginalUri,
    Path((_, id)): Path<(String, String)>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let mut world = fake.change(&uri, &body);
    let made = detector_answer(&id, &body);
    match world
        .detectors
        .iter_mut()
        .find(|monitor| monitor["id"] == id.as_str())
    {
        Some(monitor) => {
            *monitor = made.clone();
            axum::Json(made).into_response()
        }
        None => not_found(),
    }
}

async fn new_issue_rule(
    State(fake): State<Fake>,
    uri: OriginalUri,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let mut world = fake.change(&uri, &body);
    new_legacy_rule(world.issue_rules.as_mut(), ISSUE_RULES, body)
}

async fn new_metric_rule(
    State(fake): State<Fake>,
    uri: OriginalUri,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let mut world = fake.change(&uri, &body);
    new_legacy_rule(world.metric_rules.as_mut(), METRIC_RULES, body)
}

/// A new rule's id: unique across the fakes of a test process.
fn next_rule_id() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(700);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        .to_string()
}

/// A legacy rule added to `rules`, as `template` answers it; without the
/// legacy API (`None`), the web page some servers answer instead.
fn new_legacy_rule(rules: Option<&mut Vec<Value>>, template: &str, body: Value) -> Response {
    let Some(rules) = rules else {
        return html_page();
    };
    let mut made = answer_in(SENTRY_LEGACY, "get", template, body);
    made["id"] = json!(next_rule_id());
    rules.push(made.clone());
    created(made)
}

/// `PUT` of a legacy rule: the rule `id` becomes what the body says.
fn replaced_legacy_rule(
    rules: Option<&mut Vec<Value>>,
    template: &str,
    id: &str,
    body: Value,
) -> Response {
    let Some(rules) = rules else {
        return html_page();
    };
    let Some(rule) = rules.iter_mut().find(|rule| rule["id"] == id) else {
        return not_found();
    };
    let mut made = answer_in(SENTRY_LEGACY, "get", template, body);
    made["id"] = json!(id);
    *rule = made.clone();
    axum::Json(made).into_response()
}

async fn update_issue_rule(
    State(fake): State<Fake>,
    uri: OriginalUri,
    Path((_, _, id)): Path<(String, String, String)>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let mut world = fake.change(&uri, &body);
    replaced_legacy_rule(world.issue_rules.as_mut(), ISSUE_RULES, &id, body)
}

async fn update_metric_rule(
    State(fake): State<Fake>,
    uri: OriginalUri,
    Path((_, id)): Path<(String, String)>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let mut world = fake.change(&uri, &body);
    replaced_legacy_rule(world.metric_rules.as_mut(), METRIC_RULES, &id, body)
}

async fn new_detector(
    State(fake): State<Fake>,
    uri: OriginalUri,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let mut world = fake.change(&uri, &body);
    let id = (500 + world.detectors.len()).to_string();
    let made = detector_answer(&id, &body);
    world.detectors.push(made.clone());
    created(made)
}

/// A monitor `id` as Sentry answers it: the query under its subscription,
/// in camel case.
fn detector_answer(id: &str, body: &Value) -> Value {
    let document = specs::document(SENTRY);
    let schema = specs::response_schema(document, "post", DETECTORS, "201");
    let source = &body["data_sources"][0];
    specs::overlay(
        specs::example(document, schema),
        json!({
            "id": id, "name": body["name"], "type": body["type"],
            "dataSources": [{ "type": "snuba_query_subscription", "queryObj": { "snubaQuery": {
                "dataset": source["dataset"], "query": source["query"],
                "aggregate": source["aggregate"], "timeWindow": source["timeWindow"]
            } } }],
            "conditionGroup": { "logicType": "any", "conditions": body["condition_group"]["conditions"], "actions": [] },
            "config": body["config"],
        }),
    )
}

async fn issue_tag(
    State(fake): State<Fake>,
    uri: OriginalUri,
    Path((_, id, key)): Path<(String, String, String)>,
) -> Response {
    let world = fake.record(&uri);
    let values: Vec<Value> = world
        .issue_tags
        .iter()
        .filter(|(issue, tag, _)| *issue == id && *tag == key)
        .map(|(_, _, value)| {
            let now = jiff::Timestamp::now().to_string();
            json!({ "key": key, "name": value, "value": value, "count": 1, "firstSeen": now, "lastSeen": now })
        })
        .collect();
    if values.is_empty() {
        return not_found();
    }
    axum::Json(answer(
        "get",
        ISSUE_TAG,
        json!({ "key": key, "name": key, "topValues": values }),
    ))
    .into_response()
}

async fn show_release(
    State(fake): State<Fake>,
    uri: OriginalUri,
    Path((_, version)): Path<(String, String)>,
) -> Response {
    let world = fake.record(&uri);
    if !world.releases.contains(&version) {
        return not_found();
    }
    axum::Json(answer(
        "get",
        RELEASE,
        json!({ "version": version, "lastEvent": jiff::Timestamp::now().to_string() }),
    ))
    .into_response()
}

async fn show_detector(
    State(fake): State<Fake>,
    uri: OriginalUri,
    Path((_, id)): Path<(String, String)>,
) -> Response {
    let world = fake.record(&uri);
    match world
        .detectors
        .iter()
        .find(|detector| detector["id"] == id.as_str())
    {
        Some(detector) => axum::Json(detector.clone()).into_response(),
        None => not_found(),
    }
}

/// A project made in a team, with a default client key whose DSN points at
/// this fake, as sentry.io makes one.
async fn new_project(
    State(fake): State<Fake>,
    uri: OriginalUri,
    Path((org, team)): Path<(String, String)>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let mut world = fake.change(&uri, &body);
    if org != world.org || !world.teams.contains(&team) {
        return not_found();
    }
    let name = body["name"].as_str().unwrap_or_default().to_owned();
    let slug = body["slug"].as_str().unwrap_or(&name).to_owned();
    if world.projects.contains_key(&slug) {
        return (
            StatusCode::CONFLICT,
            axum::Json(json!({ "detail": "A project with this slug already exists." })),
        )
            .into_response();
    }
    let id = 100 + world.projects.len() as u64;
    let platform = body["platform"].as_str().unwrap_or("other");
    let made = project(id, &slug, platform, None);
    world.projects.insert(slug.clone(), made.clone());
    world
        .keys
        .insert(slug, vec![client_key(id, &dsn(&fake.base, id))]);
    created(made)
}

/// The events table counted by a field other than the project: spans by
/// `span.op` (those a `span.op:[…]` query lists), errors by `event.type`,
/// or by a tag (those a `has:` query asks for). `None` for the other
/// questions.
fn counted_by(world: &World, query: &[(String, String)], text: &str) -> Option<Vec<Value>> {
    let fields = crate::query_values(query, "field");
    let field = fields
        .iter()
        .copied()
        .find(|field| *field != "count()" && !field.contains('(') && *field != "project.id")?;
    let row = |value: &str, count: u64| json!({ field: value, "count()": count });
    Some(match field {
        "span.op" => {
            let listed = text
                .strip_prefix("span.op:[")
                .and_then(|rest| rest.strip_suffix(']'))
                .unwrap_or_default();
            let listed: Vec<&str> = listed.split(',').collect();
            world
                .spans
                .iter()
                .filter(|(op, _)| listed.contains(&op.as_str()))
                .map(|(op, count)| row(op, *count))
                .collect()
        }
        "event.type" if world.errors_week > 0 => vec![row("error", world.errors_week)],
        "event.type" => Vec::new(),
        tag => world
            .error_tags
            .iter()
            .filter(|(key, _, _)| key == tag && text == format!("has:{tag}"))
            .map(|(_, value, count)| row(value, *count))
            .collect(),
    })
}

/// The events table: `count()`, `failure_rate()` and `p99(span.duration)`
/// of the transactions a `transaction:"…"` query selects.
async fn events(State(fake): State<Fake>, uri: OriginalUri) -> Response {
    let world = fake.record(&uri);
    let query = crate::query_pairs(&uri);
    let text = query
        .iter()
        .find(|(name, _)| name == "query")
        .map_or("", |(_, value)| value.as_str());
    if let Some(rows) = counted_by(&world, &query, text) {
        return axum::Json(answer(
            "get",
            EVENTS,
            json!({ "data": rows, "meta": { "fields": {} } }),
        ))
        .into_response();
    }
    let wanted = text
        .split_once("transaction:\"")
        .and_then(|(_, rest)| rest.strip_suffix('"'))
        .map(|name| name.replace("\\\"", "\"").replace("\\\\", "\\"));
    let selected: Vec<&Transaction> = world
        .transactions
        .iter()
        .filter(|t| wanted.as_ref().is_none_or(|name| *name == t.name))
        .collect();
    let count = selected.len() as f64;
    let mut durations: Vec<f64> = selected.iter().map(|t| t.duration_ms).collect();
    durations.sort_by(f64::total_cmp);
    let mut row = serde_json::Map::new();
    let projects: Vec<&String> = query
        .iter()
        .filter(|(name, _)| name == "project")
        .map(|(_, id)| id)
        .collect();
    for (name, field) in query.iter().filter(|(name, _)| name == "field") {
        let _ = name;
        let value = match field.as_str() {
            "project.id" if world.ignores_project_grouping => continue,
            "count()" => json!(count),
            "failure_rate()" if count > 0.0 => {
                json!(selected.iter().filter(|t| t.failed).count() as f64 / count)
            }
            "p99(span.duration)" if count > 0.0 => {
                let at = ((count * 0.99).ceil() as usize).clamp(1, durations.len()) - 1;
                json!(durations[at])
            }
            _ => Value::Null,
        };
        row.insert(field.clone(), value);
    }
    // Grouped by project: one row each, every project seeing this traffic.
    let rows: Vec<Value> = if row.contains_key("project.id") {
        projects
            .iter()
            .map(|id| {
                let mut row = row.clone();
                row.insert("project.id".into(), json!(id.parse::<u64>().unwrap_or(0)));
                Value::Object(row)
            })
            .collect()
    } else {
        vec![Value::Object(row)]
    };
    axum::Json(answer(
        "get",
        EVENTS,
        json!({ "data": rows, "meta": { "fields": {} } }),
    ))
    .into_response()
}

/// Ingestion: an envelope from an SDK (or Watchpost's test event) becomes an
/// issue, and the project has its first event.
async fn envelope(
    State(fake): State<Fake>,
    uri: OriginalUri,
    Path(project_id): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let mut world = fake.record(&uri);
    let auth = headers
        .get("x-sentry-auth")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    if !auth.contains(&format!("sentry_key={PUBLIC_KEY}")) {
        return (StatusCode::UNAUTHORIZED, "bad sentry_key").into_response();
    }
    let Some(slug) = world
        .projects
        .iter()
        .find(|(_, p)| p["id"] == project_id.as_str())
        .map(|(slug, _)| slug.clone())
    else {
        return not_found();
    };
    let event: Value = body
        .lines()
        .nth(2)
        .and_then(|line| serde_json::from_str(line).ok())
        .unwrap_or(Value::Null);
    let title = event["message"]["formatted"]
        .as_str()
        .or_else(|| event["message"].as_str())
        .unwrap_or("event")
        .to_owned();
    let level = event["level"].as_str().unwrap_or("error").to_owned();
    let id = 1000 + world.issues.len() as u64;
    let of = project_id.parse::<u64>().unwrap_or(0);
    world.issues.insert(0, issue_of(of, id, &level, &title));
    if let Some(project) = world.projects.get_mut(&slug) {
        project["firstEvent"] = json!("2026-11-22T12:10:00Z");
    }
    world.envelopes.push(body);
    axum::Json(json!({ "id": event["event_id"] })).into_response()
}

/// What some Sentry-compatible servers answer for an API path they lack.
async fn web_page(State(fake): State<Fake>, uri: OriginalUri) -> Response {
    drop(fake.record(&uri));
    html_page()
}

fn html_page() -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        "<!doctype html><title>Sentry</title><div id=app></div>",
    )
        .into_response()
}

/// The document's template for a path the fake was asked, and its query
/// parameters: for checking requests against the document.
pub fn template_of(path: &str) -> Option<&'static str> {
    let path = path.strip_prefix("/us").unwrap_or(path);
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    match parts.as_slice() {
        ["api", "0", "organizations", _] => Some(ORG),
        ["api", "0", "projects", _, _] => Some(PROJECT),
        ["api", "0", "projects", _, _, "keys"] => Some(KEYS),
        ["api", "0", "organizations", _, "integrations"] => Some(INTEGRATIONS),
        ["api", "0", "organizations", _, "issues"] => Some(ISSUES),
        ["api", "0", "organizations", _, "stats_v2"] => Some(STATS),
        ["api", "0", "projects", _, _, "rules"] => Some(ISSUE_RULES),
        ["api", "0", "projects", _, _, "rules", _] => Some(ISSUE_RULE),
        ["api", "0", "organizations", _, "alert-rules"] => Some(METRIC_RULES),
        ["api", "0", "organizations", _, "alert-rules", _] => Some(METRIC_RULE),
        ["api", "0", "organizations", _, "workflows"] => Some(WORKFLOWS),
        ["api", "0", "organizations", _, "workflows", _] => Some(WORKFLOW),
        ["api", "0", "organizations", _, "events"] => Some(EVENTS),
        ["api", "0", "teams", _, _, "projects"] => Some(TEAM_PROJECTS),
        ["api", "0", "organizations", _, "projects", _, "detectors"] => Some(DETECTORS),
        ["api", "0", "organizations", _, "detectors", _] => Some(DETECTOR),
        ["api", "0", "organizations", _, "releases", _] => Some(RELEASE),
        ["api", "0", "organizations", _, "issues", _, "tags", _] => Some(ISSUE_TAG),
        _ => None,
    }
}
