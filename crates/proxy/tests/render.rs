//! The Render client against a fake Render that follows Render's OpenAPI
//! document: answers, requests and request bodies checked against it.

mod common;

use common::fake_render::{self, FakeRender, World, template_of};
use common::specs::{self, RENDER};
use serde_json::{Value, json};
use watchpost_proxy::secret::Secret;
use watchpost_proxy::upstream::render::Render;
use watchpost_proxy::upstream::{CallLimits, Upstream, UpstreamError};

const SERVICE: &str = "srv-d4voxanne";
const DSN_VALUE: &str = "https://publickey:envsecret55@o1.ingest.sentry.io/4";

fn world() -> World {
    let mut world = World::default();
    world.services.insert(
        SERVICE.into(),
        fake_render::service(SERVICE, "voxanne-backend"),
    );
    let mut env: Vec<(String, String)> = (0..150)
        .map(|n| (format!("FEATURE_{n:03}"), "on".to_owned()))
        .collect();
    env.push(("SENTRY_DSN".into(), DSN_VALUE.into()));
    world.env.insert(SERVICE.into(), env);
    world.deploys.insert(
        SERVICE.into(),
        vec![
            fake_render::deploy("dep-2", "live", "b2c3"),
            fake_render::deploy("dep-1", "deactivated", "a1b2"),
        ],
    );
    world
}

fn client(fake: &FakeRender) -> Render {
    Render::new(
        Upstream::new(CallLimits::default()).expect("client"),
        fake.base.clone(),
        Secret::new("render-key"),
    )
}

#[test]
fn the_fakes_answers_fit_renders_document() {
    let document = specs::document(RENDER);
    let world = world();
    let service = specs::response_schema(document, "get", fake_render::SERVICE, "200");
    specs::validate(document, service, &world.services[SERVICE]).expect("a service");
    let deploys = specs::response_schema(document, "get", fake_render::DEPLOYS, "200");
    let listed: Vec<Value> = world.deploys[SERVICE]
        .iter()
        .map(|deploy| json!({ "deploy": deploy, "cursor": deploy["id"] }))
        .collect();
    specs::validate(document, deploys, &Value::Array(listed)).expect("deploys");
    let env = specs::response_schema(document, "get", fake_render::ENV_VARS, "200");
    specs::validate(
        document,
        env,
        &json!([{ "envVar": { "key": "A", "value": "b" }, "cursor": "A" }]),
    )
    .expect("env vars");
    assert!(specs::validate(document, env, &json!([{ "envVar": { "key": "A" } }])).is_err());
}

#[tokio::test]
async fn the_client_reads_a_service_its_variables_and_deploys() {
    let fake = FakeRender::start(world()).await;
    let render = client(&fake);
    let service = render.service(SERVICE).await.expect("service");
    assert_eq!(service.name, "voxanne-backend");
    let env = render.env_vars(SERVICE).await.expect("env vars");
    assert_eq!(env.len(), 151, "every page, by cursor");
    let dsn = env
        .iter()
        .find(|var| var.key == "SENTRY_DSN")
        .expect("SENTRY_DSN");
    assert_eq!(dsn.value.expose(), DSN_VALUE);
    assert!(
        !format!("{env:?}").contains("envsecret55"),
        "values never print"
    );
    let deploys = render.deploys(SERVICE, 5).await.expect("deploys");
    assert_eq!(deploys[0].status.as_deref(), Some("live"));
    assert_eq!(
        deploys[0].commit.as_ref().and_then(|c| c.id.as_deref()),
        Some("b2c3")
    );
    assert_eq!(
        render.service("srv-nope").await,
        Err(UpstreamError::NotFound)
    );
}

#[tokio::test]
async fn changes_are_sent_as_renders_document_says() {
    let fake = FakeRender::start(world()).await;
    let render = client(&fake);
    render
        .set_env_var(SERVICE, "SENTRY_ENVIRONMENT", &Secret::new("production"))
        .await
        .expect("set");
    let deploy = render.trigger_deploy(SERVICE).await.expect("deploy");
    assert_eq!(deploy.status.as_deref(), Some("created"));
    let rolled = render.rollback(SERVICE, "dep-1").await.expect("rollback");
    assert_eq!(rolled.commit.and_then(|c| c.id).as_deref(), Some("a1b2"));
    let document = specs::document(RENDER);
    for (method, path, query, body) in fake.requests() {
        let template =
            template_of(&path).unwrap_or_else(|| panic!("{path} is not in the document"));
        let method = method.to_lowercase();
        let declared = specs::query_parameters(document, &method, template);
        for (name, _) in &query {
            assert!(
                declared.contains(name),
                "{path}: `{name}` is not a parameter"
            );
        }
        if let Some(body) = body {
            let schema = specs::request_schema(document, &method, template);
            specs::validate(document, schema, &body)
                .unwrap_or_else(|err| panic!("{method} {path}: {err}\n{body}"));
        }
    }
    let world = fake.world.lock().expect("lock");
    assert!(
        world.env[SERVICE]
            .iter()
            .any(|(key, value)| key == "SENTRY_ENVIRONMENT" && value == "production")
    );
}

/// Render's metrics in megabytes whatever their unit, and the fake's answer
/// as Render's document describes a time series.
#[tokio::test]
async fn the_client_reads_memory_metrics_in_megabytes() {
    let fake = FakeRender::start(world()).await;
    let render = client(&fake);
    let end = jiff::Timestamp::now();
    let start = end - jiff::SignedDuration::from_hours(1);
    let series = render
        .metric("memory", SERVICE, (start, end), 600, &[])
        .await
        .expect("memory");
    assert_eq!(series.len(), 1);
    assert_eq!(series[0].label("resource"), Some(SERVICE));
    let readings = &series[0].readings;
    assert_eq!(readings.len(), 7, "a reading every 10 minutes, both ends");
    assert!((readings[0].1 - 180.0).abs() < 1e-6, "{readings:?}");
    assert!((readings[6].1 - 180.5).abs() < 1e-6, "{readings:?}");

    let asked = format!("resource={SERVICE}&startTime={start}&endTime={end}&resolutionSeconds=600");
    fits_the_document(&fake, fake_render::MEMORY, &asked).await;
}

/// The fake's answer to `GET {template}?{query}` (of the test's service)
/// as Render's document describes it.
async fn fits_the_document(fake: &FakeRender, template: &str, query: &str) {
    let answer = answer_of(fake, template, query).await;
    let document = specs::document(RENDER);
    let schema = specs::response_schema(document, "get", template, "200");
    specs::validate(document, schema, &answer).expect("as the document says");
}

/// The fake's answer to `GET {template}?{query}` of the test's service.
async fn answer_of(fake: &FakeRender, template: &str, query: &str) -> Value {
    let path = template.replace("{serviceId}", SERVICE);
    let url = format!("{}{path}?{query}", fake.base);
    reqwest::get(url)
        .await
        .expect("get")
        .json()
        .await
        .expect("json")
}

/// Requests by status code, as `aggregateBy=statusCode` answers: one series
/// per code, labelled with it, fitting Render's document.
#[tokio::test]
async fn the_client_reads_requests_by_status_code() {
    let fake = FakeRender::start(world()).await;
    let render = client(&fake);
    let end = jiff::Timestamp::now();
    let window = (end - jiff::SignedDuration::from_hours(1), end);
    let filter = [("aggregateBy", "statusCode")];
    let series = render
        .metric("http-requests", SERVICE, window, 300, &filter)
        .await
        .expect("requests");
    let codes: Vec<Option<&str>> = series.iter().map(|s| s.label("statusCode")).collect();
    assert_eq!(codes, [Some("200"), Some("404")]);
    assert!((series[0].readings[0].1 - 199.0).abs() < 1e-9);

    let asked = format!(
        "resource={SERVICE}&startTime={}&endTime={}&aggregateBy=statusCode",
        window.0, window.1
    );
    fits_the_document(&fake, fake_render::HTTP_REQUESTS, &asked).await;
}

/// Response times by path and quantile, in ms, fitting Render's document.
#[tokio::test]
async fn the_client_reads_response_times_by_path_and_quantile() {
    let mut world = world();
    world.latency = fake_render::healthy_latency();
    let fake = FakeRender::start(world).await;
    let render = client(&fake);
    let end = jiff::Timestamp::now();
    let window = (end - jiff::SignedDuration::from_hours(1), end);
    let filter = [
        ("quantile", "0.95"),
        ("quantile", "0.99"),
        ("path", "/api/calls"),
    ];
    let series = render
        .metric("http-latency", SERVICE, window, 3600, &filter)
        .await
        .expect("latency");
    let seen: Vec<(Option<&str>, Option<&str>, f64)> = series
        .iter()
        .map(|s| (s.label("path"), s.label("quantile"), s.readings[0].1))
        .collect();
    assert_eq!(
        seen,
        [
            (Some("/api/calls"), Some("0.95"), 180.0),
            (Some("/api/calls"), Some("0.99"), 320.0)
        ]
    );
    let asked = format!(
        "resource={SERVICE}&startTime={}&endTime={}&resolutionSeconds=3600&quantile=0.99&path=/api/calls",
        window.0, window.1
    );
    fits_the_document(&fake, fake_render::HTTP_LATENCY, &asked).await;
}

/// The service's events in a window and its instances, as Render's
/// document describes them; an event's details are read where used.
#[tokio::test]
async fn the_client_reads_a_service_s_events_and_instances() {
    let mut world = world();
    let oom = json!({ "instanceID": format!("{SERVICE}-x1y2z"), "reason": { "evicted": false, "oomKilled": { "memoryLimit": "512 MB" } } });
    world.events.insert(
        SERVICE.into(),
        vec![
            fake_render::event(SERVICE, "server_failed", "2026-12-06T09:00:00Z", oom),
            fake_render::event(
                SERVICE,
                "deploy_started",
                "2026-12-01T09:00:00Z",
                json!({ "deployId": "dep-2", "trigger": {} }),
            ),
        ],
    );
    world.instances.insert(
        SERVICE.into(),
        vec![(format!("{SERVICE}-x1y2z"), "2026-12-06T09:01:00Z".into())],
    );
    let fake = FakeRender::start(world).await;
    let render = client(&fake);
    let at = |text: &str| text.parse::<jiff::Timestamp>().expect("a time");
    let events = render
        .events(
            SERVICE,
            (at("2026-12-05T12:00:00Z"), at("2026-12-06T12:00:00Z")),
        )
        .await
        .expect("events");
    assert_eq!(events.len(), 1, "only the window's: {events:?}");
    assert_eq!(events[0].kind, "server_failed");
    assert_eq!(
        events[0].details["reason"]["oomKilled"]["memoryLimit"],
        "512 MB"
    );
    let instances = render.instances(SERVICE).await.expect("instances");
    assert_eq!(instances[0].created_at, "2026-12-06T09:01:00Z");

    let document = specs::document(RENDER);
    for (_, path, query, _) in fake.requests() {
        let template = template_of(&path).expect("in the document");
        let declared = specs::query_parameters(document, "get", template);
        for (name, _) in query {
            assert!(declared.contains(&name), "{path}: `{name}` is not declared");
        }
    }
    fits_the_document(&fake, fake_render::INSTANCES, "").await;
    // Render's document gives an event's details as a oneOf of its types,
    // several of which take any object ("Server Available"): no answer can
    // match exactly one, so the details are held to any one of them.
    let window = "startTime=2026-12-05T12:00:00Z&endTime=2026-12-06T12:00:00Z";
    let answer = answer_of(&fake, fake_render::EVENTS, window).await;
    let root = json!({ "components": document["components"], "paths": document["paths"] });
    // The details' oneOf becomes an anyOf, and the references into it follow.
    let mut root: Value = serde_json::from_str(
        &root
            .to_string()
            .replace("/details/oneOf/", "/details/anyOf/"),
    )
    .expect("json");
    let details = &mut root["components"]["schemas"]["serviceEventWithCursor"]["properties"]["event"]
        ["properties"]["details"];
    details["anyOf"] = details["oneOf"].take();
    details.as_object_mut().expect("a schema").remove("oneOf");
    let schema = specs::response_schema(document, "get", fake_render::EVENTS, "200");
    specs::validate_in(root, schema, &answer).expect("as the document says");
}
