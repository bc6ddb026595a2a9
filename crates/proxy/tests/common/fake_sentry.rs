//! A fake Sentry on 127.0.0.1 whose answers are built from the schemas of
//! Sentry's OpenAPI document (every required field present), with the values
//! a test is about laid over them. Like sentry.io, the organization names a
//! region host (`/us` of the same server) and org data is served there; like
//! some Sentry-compatible servers, an unknown API path answers an HTML page.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use url::Url;

use super::specs::{self, SENTRY, SENTRY_LEGACY};

const ORG: &str = "/api/0/organizations/{organization_id_or_slug}/";
const PROJECT: &str = "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/";
const KEYS: &str = "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/keys/";
const INTEGRATIONS: &str = "/api/0/organizations/{organization_id_or_slug}/integrations/";
const ISSUES: &str = "/api/0/organizations/{organization_id_or_slug}/issues/";
const STATS: &str = "/api/0/organizations/{organization_id_or_slug}/stats_v2/";
/// In the legacy document only.
pub const ISSUE_RULES: &str =
    "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/rules/";
/// In the legacy document only.
pub const METRIC_RULES: &str = "/api/0/organizations/{organization_id_or_slug}/alert-rules/";
pub const WORKFLOWS: &str = "/api/0/organizations/{organization_id_or_slug}/workflows/";

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
    /// Every request: the path (with its region prefix) and the query.
    pub requests: Vec<(String, Vec<(String, String)>)>,
}

#[derive(Clone)]
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

pub fn project(id: u64, slug: &str, platform: &str, first_event: Option<&str>) -> Value {
    answer(
        "get",
        PROJECT,
        json!({ "id": id.to_string(), "slug": slug, "name": slug, "platform": platform, "firstEvent": first_event }),
    )
}

pub fn client_key(project_id: u64, public: &str) -> Value {
    let secret = public.replacen("@", &format!(":{DSN_SECRET}@"), 1);
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
            "id": "7", "name": name, "aggregate": aggregate, "timeWindow": window, "thresholdType": 0,
            "comparisonDelta": delta, "projects": ["voxanne"], "query": "",
            "triggers": [{ "label": "critical", "alertThreshold": threshold }]
        }),
    )
}

/// A legacy issue alert with one condition.
pub fn issue_rule(name: &str, condition: &str) -> Value {
    answer_in(
        SENTRY_LEGACY,
        "get",
        ISSUE_RULES,
        json!({ "id": "8", "name": name, "conditions": [{ "id": condition }], "actionMatch": "all", "frequency": 30 }),
    )
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
                "actions": [] }
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

pub fn issue(id: u64, level: &str, title: &str) -> Value {
    answer(
        "get",
        ISSUES,
        json!({
            "id": id.to_string(), "shortId": format!("VOX-{id}"), "title": title, "level": level,
            "status": "unresolved", "count": "3", "firstSeen": "2026-11-22T12:00:00Z",
            "lastSeen": "2026-11-22T12:30:00Z", "permalink": format!("https://acme.sentry.io/issues/{id}/")
        }),
    )
}

impl FakeSentry {
    pub async fn start(world: World) -> Self {
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
            .route("/api/0/organizations/{org}/issues/", get(issues))
            .route("/api/0/organizations/{org}/stats_v2/", get(stats))
            .route("/api/0/projects/{org}/{project}/rules/", get(issue_rules))
            .route("/api/0/organizations/{org}/alert-rules/", get(metric_rules))
            .route("/api/0/organizations/{org}/workflows/", get(workflows))
            .fallback(web_page);
        let app = Router::new()
            .nest("/us", api.clone())
            .merge(api)
            .with_state(Fake {
                world: world.clone(),
                base: base.clone(),
            });
        tokio::spawn(async move { axum::serve(listener, app).await });
        FakeSentry { base, world }
    }

    pub fn requests(&self) -> Vec<(String, Vec<(String, String)>)> {
        self.world.lock().expect("lock").requests.clone()
    }
}

#[derive(Clone)]
struct Fake {
    world: Arc<Mutex<World>>,
    base: Url,
}

impl Fake {
    fn record(&self, uri: &OriginalUri) -> std::sync::MutexGuard<'_, World> {
        let mut world = self.world.lock().expect("lock");
        let query = super::query_pairs(uri);
        world.requests.push((uri.path().to_owned(), query));
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

async fn issues(State(fake): State<Fake>, uri: OriginalUri) -> Response {
    let world = fake.record(&uri);
    axum::Json(world.issues.clone()).into_response()
}

/// Event counts by hour, as `stats_v2` groups them by outcome.
pub fn stats_answer(hourly: &[Option<u64>]) -> Value {
    let intervals: Vec<String> = (0..hourly.len())
        .map(|hour| format!("2026-11-22T{:02}:00:00Z", hour % 24))
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
    axum::Json(stats_answer(&world.hourly_errors)).into_response()
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
        ["api", "0", "organizations", _, "alert-rules"] => Some(METRIC_RULES),
        ["api", "0", "organizations", _, "workflows"] => Some(WORKFLOWS),
        _ => None,
    }
}
