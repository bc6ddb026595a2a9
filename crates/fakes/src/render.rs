//! A fake Render API on 127.0.0.1 (`/v1/...`), its answers built from the
//! schemas of Render's OpenAPI document with the test's values over them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde_json::{Value, json};
use url::Url;

use crate::specs::{self, RENDER};

pub const SERVICE: &str = "/services/{serviceId}";
pub const ENV_VARS: &str = "/services/{serviceId}/env-vars";
pub const ENV_VAR: &str = "/services/{serviceId}/env-vars/{envVarKey}";
pub const DEPLOYS: &str = "/services/{serviceId}/deploys";
pub const ROLLBACK: &str = "/services/{serviceId}/rollback";
pub const LOGS: &str = "/logs";
pub const MEMORY: &str = "/metrics/memory";
pub const MEMORY_LIMIT: &str = "/metrics/memory-limit";
pub const HTTP_REQUESTS: &str = "/metrics/http-requests";
pub const HTTP_LATENCY: &str = "/metrics/http-latency";
pub const EVENTS: &str = "/services/{serviceId}/events";
pub const INSTANCES: &str = "/services/{serviceId}/instances";
/// The owner (workspace) of every service the fake makes.
pub const OWNER: &str = "tea-d0acme";

/// A schema-complete value of the component `name`, with `fields` over it.
pub fn component(name: &str, fields: Value) -> Value {
    let document = specs::document(RENDER);
    let schema = &document["components"]["schemas"][name];
    specs::overlay(specs::example(document, schema), fields)
}

pub fn service(id: &str, name: &str) -> Value {
    component(
        "service",
        json!({ "id": id, "name": name, "type": "web_service", "ownerId": OWNER, "dashboardUrl": format!("https://dashboard.render.com/web/{id}"), "suspended": "not_suspended" }),
    )
}

pub fn deploy(id: &str, status: &str, commit: &str) -> Value {
    component(
        "deploy",
        json!({ "id": id, "status": status, "commit": { "id": commit, "message": "Ship it" }, "createdAt": "2026-11-22T12:00:00Z" }),
    )
}

/// A request the fake was sent: method, path, query, body.
pub type Request = (String, String, Vec<(String, String)>, Option<Value>);

#[derive(Debug, Default)]
pub struct World {
    pub services: HashMap<String, Value>,
    /// Service → its variables, in order.
    pub env: HashMap<String, Vec<(String, String)>>,
    /// Service → its deploys, newest first.
    pub deploys: HashMap<String, Vec<Value>>,
    /// Log lines of every service, newest first: service, level, message.
    pub logs: Vec<(String, String, String)>,
    /// Every service's memory, as its metrics tell it.
    pub memory: Memory,
    /// Every service's requests by status code, in each reading.
    pub traffic: Traffic,
    /// Response times by path: p95 and p99 in ms; a path not listed had
    /// no request.
    pub latency: Vec<(String, f64, f64)>,
    /// Service → its events, newest first, each as `event(…)` makes it.
    pub events: HashMap<String, Vec<Value>>,
    /// Service → its running instances: id and when each started.
    pub instances: HashMap<String, Vec<(String, String)>>,
    pub requests: Vec<Request>,
}

/// The seeds' endpoints as a healthy service answers them.
pub fn healthy_latency() -> Vec<(String, f64, f64)> {
    [
        ("/api/calls", 180.0, 320.0),
        ("/api/webhooks", 60.0, 110.0),
        ("/api/assistants", 420.0, 780.0),
    ]
    .map(|(path, p95, p99)| (path.to_owned(), p95, p99))
    .into()
}

/// A service event of `kind` at `at` with its `details`, as Render's
/// document describes one.
pub fn event(service: &str, kind: &str, at: &str, details: Value) -> Value {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (kind, at).hash(&mut hasher);
    json!({
        "id": format!("evt-{:020}", hasher.finish()), "timestamp": at, "serviceId": service,
        "type": kind, "details": details,
    })
}

/// Memory over time: `start_mb` at the window's start, growing by
/// `growth_mb_per_hour`, within `limit_mb`; `None` limit: Render has none.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Memory {
    pub start_mb: f64,
    pub growth_mb_per_hour: f64,
    pub limit_mb: Option<f64>,
}

impl Default for Memory {
    fn default() -> Self {
        Memory {
            start_mb: 180.0,
            growth_mb_per_hour: 0.5,
            limit_mb: Some(512.0),
        }
    }
}

/// Requests per reading by status code: 199 answered 200 and one 404 by
/// default, so the host's error rate is 0%.
#[derive(Debug, Clone, PartialEq)]
pub struct Traffic(pub Vec<(u16, f64)>);

impl Default for Traffic {
    fn default() -> Self {
        Traffic(vec![(200, 199.0), (404, 1.0)])
    }
}

#[derive(Debug, Clone)]
pub struct FakeRender {
    /// The API's root, as `RENDER_BASE_URL` names it.
    pub base: Url,
    pub world: Arc<Mutex<World>>,
}

impl FakeRender {
    pub async fn start(world: World) -> Self {
        Self::start_with(world, crate::Latency::default()).await
    }

    pub async fn start_with(world: World, latency: crate::Latency) -> Self {
        let world = Arc::new(Mutex::new(world));
        let app = Router::new()
            .route("/v1/services/{id}", get(show_service))
            .route("/v1/services/{id}/env-vars", get(env_vars))
            .route(
                "/v1/services/{id}/env-vars/{key}",
                put(set_env_var).delete(delete_env_var),
            )
            .route("/v1/services/{id}/deploys", get(deploys).post(new_deploy))
            .route("/v1/services/{id}/rollback", post(rollback))
            .route("/v1/logs", get(logs))
            .route("/v1/metrics/memory", get(memory))
            .route("/v1/metrics/memory-limit", get(memory_limit))
            .route("/v1/metrics/http-requests", get(http_requests))
            .route("/v1/metrics/http-latency", get(http_latency))
            .route("/v1/services/{id}/events", get(events))
            .route("/v1/services/{id}/instances", get(instances))
            .with_state(world.clone());
        // The API's root, without a trailing slash, as RENDER_BASE_URL names it.
        let base = crate::serve_on_loopback(latency.delay(app))
            .await
            .join("v1")
            .expect("url");
        FakeRender { base, world }
    }

    pub fn requests(&self) -> Vec<Request> {
        crate::lock(&self.world).requests.clone()
    }
}

type Shared = State<Arc<Mutex<World>>>;

fn record(world: &mut World, method: &str, uri: &OriginalUri, body: Option<Value>) {
    let query = crate::query_pairs(uri);
    world
        .requests
        .push((method.to_owned(), uri.path().to_owned(), query, body));
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({ "id": "not_found", "message": "not found" })),
    )
        .into_response()
}

async fn show_service(State(world): Shared, uri: OriginalUri, Path(id): Path<String>) -> Response {
    let mut world = crate::lock(&world);
    record(&mut world, "GET", &uri, None);
    world
        .services
        .get(&id)
        .map_or_else(not_found, |s| axum::Json(s.clone()).into_response())
}

async fn env_vars(
    State(world): Shared,
    uri: OriginalUri,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let mut world = crate::lock(&world);
    record(&mut world, "GET", &uri, None);
    let Some(vars) = world.env.get(&id) else {
        return not_found();
    };
    let limit: usize = query
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(20);
    let start = query
        .get("cursor")
        .and_then(|cursor| vars.iter().position(|(key, _)| key == cursor))
        .map_or(0, |at| at + 1);
    let page: Vec<Value> = vars
        .iter()
        .skip(start)
        .take(limit)
        .map(|(key, value)| json!({ "envVar": { "key": key, "value": value }, "cursor": key }))
        .collect();
    axum::Json(page).into_response()
}

async fn set_env_var(
    State(world): Shared,
    uri: OriginalUri,
    Path((id, key)): Path<(String, String)>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let mut world = crate::lock(&world);
    record(&mut world, "PUT", &uri, Some(body.clone()));
    let value = body["value"].as_str().unwrap_or_default().to_owned();
    let Some(vars) = world.env.get_mut(&id) else {
        return not_found();
    };
    match vars.iter_mut().find(|(k, _)| *k == key) {
        Some(var) => var.1.clone_from(&value),
        None => vars.push((key.clone(), value.clone())),
    }
    axum::Json(json!({ "key": key, "value": value })).into_response()
}

async fn delete_env_var(
    State(world): Shared,
    uri: OriginalUri,
    Path((id, key)): Path<(String, String)>,
) -> Response {
    let mut world = crate::lock(&world);
    record(&mut world, "DELETE", &uri, None);
    let Some(vars) = world.env.get_mut(&id) else {
        return not_found();
    };
    let before = vars.len();
    vars.retain(|(k, _)| *k != key);
    if vars.len() == before {
        return not_found();
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn deploys(State(world): Shared, uri: OriginalUri, Path(id): Path<String>) -> Response {
    let mut world = crate::lock(&world);
    record(&mut world, "GET", &uri, None);
    let Some(deploys) = world.deploys.get(&id) else {
        return not_found();
    };
    let listed: Vec<Value> = deploys
        .iter()
        .map(|deploy| json!({ "deploy": deploy, "cursor": deploy["id"] }))
        .collect();
    axum::Json(listed).into_response()
}

async fn new_deploy(
    State(world): Shared,
    uri: OriginalUri,
    Path(id): Path<String>,
    body: Option<axum::Json<Value>>,
) -> Response {
    let mut world = crate::lock(&world);
    record(&mut world, "POST", &uri, body.map(|b| b.0));
    let Some(deploys) = world.deploys.get_mut(&id) else {
        return not_found();
    };
    let deploy = deploy(&format!("dep-{}", deploys.len() + 1), "created", "HEAD");
    deploys.insert(0, deploy.clone());
    (StatusCode::CREATED, axum::Json(deploy)).into_response()
}

async fn rollback(
    State(world): Shared,
    uri: OriginalUri,
    Path(id): Path<String>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let mut world = crate::lock(&world);
    record(&mut world, "POST", &uri, Some(body.clone()));
    let Some(deploys) = world.deploys.get_mut(&id) else {
        return not_found();
    };
    let target = body["deployId"].as_str().unwrap_or_default();
    let Some(commit) = deploys
        .iter()
        .find(|d| d["id"] == target)
        .map(|d| d["commit"]["id"].clone())
    else {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({ "message": "no such deploy" })),
        )
            .into_response();
    };
    let deploy = deploy(
        &format!("dep-{}", deploys.len() + 1),
        "created",
        commit.as_str().unwrap_or_default(),
    );
    deploys.insert(0, deploy.clone());
    (StatusCode::CREATED, axum::Json(deploy)).into_response()
}

/// Log lines of the asked resource at the asked level, containing the
/// asked text, newest first.
async fn logs(State(world): Shared, uri: OriginalUri) -> Response {
    let mut world = crate::lock(&world);
    record(&mut world, "GET", &uri, None);
    let query = crate::query_pairs(&uri);
    let all = |name: &str| crate::query_values(&query, name);
    if all("ownerId") != [OWNER] {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({ "message": "ownerId is required" })),
        )
            .into_response();
    }
    let (resources, levels, texts) = (all("resource"), all("level"), all("text"));
    let lines: Vec<Value> = world
        .logs
        .iter()
        .filter(|(service, level, message)| {
            resources.contains(&service.as_str())
                && (levels.is_empty() || levels.contains(&level.as_str()))
                && texts.iter().all(|text| message.contains(text))
        })
        .enumerate()
        .map(|(at, (_, level, message))| {
            json!({
                "id": format!("log-{at}"), "message": message,
                "timestamp": "2026-11-22T12:00:00Z",
                "labels": [{ "name": "level", "value": level }]
            })
        })
        .collect();
    axum::Json(json!({
        "hasMore": false, "nextStartTime": "2026-11-22T08:00:00Z",
        "nextEndTime": "2026-11-22T12:00:00Z", "logs": lines
    }))
    .into_response()
}

/// The document's template for a path the fake was asked.
pub fn template_of(path: &str) -> Option<&'static str> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    match parts.as_slice() {
        ["v1", "services", _] => Some(SERVICE),
        ["v1", "services", _, "env-vars"] => Some(ENV_VARS),
        ["v1", "services", _, "env-vars", _] => Some(ENV_VAR),
        ["v1", "services", _, "deploys"] => Some(DEPLOYS),
        ["v1", "services", _, "rollback"] => Some(ROLLBACK),
        ["v1", "logs"] => Some(LOGS),
        ["v1", "services", _, "events"] => Some(EVENTS),
        ["v1", "services", _, "instances"] => Some(INSTANCES),
        ["v1", "metrics", "http-latency"] => Some(HTTP_LATENCY),
        _ => None,
    }
}

/// A metric's answer: one series for the service asked, a reading every
/// `resolutionSeconds` from `startTime` to `endTime`, in bytes as Render
/// counts memory; `value` gives each reading from the hours since the start.
fn series(uri: &OriginalUri, value: impl Fn(f64) -> f64) -> Value {
    let query = crate::query_pairs(uri);
    let get = |name: &str| crate::query_values(&query, name).first().copied();
    let at = |name: &str| {
        get(name)
            .and_then(|text| text.parse::<jiff::Timestamp>().ok())
            .map(jiff::Timestamp::as_second)
    };
    let (Some(start), Some(end)) = (at("startTime"), at("endTime")) else {
        return json!([]);
    };
    let step = get("resolutionSeconds")
        .and_then(|text| text.parse::<i64>().ok())
        .unwrap_or(60)
        .max(30);
    let values: Vec<Value> = (0..)
        .map(|n| start + n * step)
        .take_while(|t| *t <= end)
        .map(|t| {
            let hours = (t - start) as f64 / 3600.0;
            json!({
                "timestamp": jiff::Timestamp::from_second(t).map(|t| t.to_string()).unwrap_or_default(),
                "value": value(hours) * 1_048_576.0,
                "unit": "bytes",
            })
        })
        .collect();
    let resource = get("resource").unwrap_or_default();
    json!([{ "labels": [{ "field": "resource", "value": resource }], "values": values, "unit": "bytes" }])
}

async fn http_requests(State(world): Shared, uri: OriginalUri) -> Response {
    let mut world = crate::lock(&world);
    record(&mut world, "GET", &uri, None);
    // One series per status code, as `aggregateBy=statusCode` answers.
    let answer: Vec<Value> = world
        .traffic
        .0
        .iter()
        .filter_map(|(status, count)| {
            let mut one = series(&uri, |_| *count / 1_048_576.0);
            let series = one.get_mut(0)?;
            series["labels"] = json!([{ "field": "statusCode", "value": status.to_string() }]);
            series["unit"] = json!("requests");
            for value in series["values"].as_array_mut()? {
                value["unit"] = json!("requests");
            }
            Some(series.take())
        })
        .collect();
    axum::Json(answer).into_response()
}

async fn memory(State(world): Shared, uri: OriginalUri) -> Response {
    let mut world = crate::lock(&world);
    record(&mut world, "GET", &uri, None);
    let memory = world.memory;
    axum::Json(series(&uri, |hours| {
        memory.start_mb + memory.growth_mb_per_hour * hours
    }))
    .into_response()
}

async fn memory_limit(State(world): Shared, uri: OriginalUri) -> Response {
    let mut world = crate::lock(&world);
    record(&mut world, "GET", &uri, None);
    match world.memory.limit_mb {
        Some(limit) => axum::Json(series(&uri, |_| limit)).into_response(),
        None => axum::Json(json!([])).into_response(),
    }
}

/// p95 and p99 (as `quantile` asks) of the paths asked, one series per
/// path and quantile, in ms.
async fn http_latency(State(world): Shared, uri: OriginalUri) -> Response {
    let mut world = crate::lock(&world);
    record(&mut world, "GET", &uri, None);
    let query = crate::query_pairs(&uri);
    let paths = crate::query_values(&query, "path");
    let quantiles = crate::query_values(&query, "quantile");
    let mut answer = Vec::new();
    for (path, p95, p99) in &world.latency {
        if !paths.is_empty() && !paths.contains(&path.as_str()) {
            continue;
        }
        for quantile in &quantiles {
            let ms = match *quantile {
                "0.95" => *p95,
                "0.99" => *p99,
                _ => continue,
            };
            let mut one = series(&uri, |_| ms / 1_048_576.0);
            let Some(series) = one.get_mut(0) else {
                continue;
            };
            series["labels"] = json!([
                { "field": "path", "value": path },
                { "field": "quantile", "value": quantile },
            ]);
            series["unit"] = json!("ms");
            if let Some(values) = series["values"].as_array_mut() {
                for value in values {
                    value["unit"] = json!("ms");
                }
            }
            answer.push(series.take());
        }
    }
    axum::Json(answer).into_response()
}

/// The service's events between `startTime` and `endTime`, newest first.
async fn events(State(world): Shared, uri: OriginalUri, Path(id): Path<String>) -> Response {
    let mut world = crate::lock(&world);
    record(&mut world, "GET", &uri, None);
    if !world.services.contains_key(&id) {
        return not_found();
    }
    let query = crate::query_pairs(&uri);
    let at = |name: &str| {
        crate::query_values(&query, name)
            .first()
            .and_then(|text| text.parse::<jiff::Timestamp>().ok())
    };
    let (start, end) = (at("startTime"), at("endTime"));
    let listed: Vec<Value> = world
        .events
        .get(&id)
        .into_iter()
        .flatten()
        .filter(|event| {
            let Some(when) = event["timestamp"]
                .as_str()
                .and_then(|t| t.parse::<jiff::Timestamp>().ok())
            else {
                return false;
            };
            start.is_none_or(|start| when >= start) && end.is_none_or(|end| when <= end)
        })
        .map(|event| json!({ "event": event, "cursor": event["id"] }))
        .collect();
    axum::Json(listed).into_response()
}

async fn instances(State(world): Shared, uri: OriginalUri, Path(id): Path<String>) -> Response {
    let mut world = crate::lock(&world);
    record(&mut world, "GET", &uri, None);
    if !world.services.contains_key(&id) {
        return not_found();
    }
    let listed: Vec<Value> = world
        .instances
        .get(&id)
        .into_iter()
        .flatten()
        .map(|(id, at)| json!({ "id": id, "createdAt": at }))
        .collect();
    axum::Json(listed).into_response()
}
