//! The proxy over real HTTP on 127.0.0.1:0: health, the app's files and
//! headers, the API's error format, projects and the playbook.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use reqwest::StatusCode;
use reqwest::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_SECURITY_POLICY, CONTENT_TYPE,
};
use serde_json::{Value, json};
use tempfile::TempDir;
use watchpost_proxy::store::Store;
use watchpost_proxy::web::WebApp;
use watchpost_proxy::{AppState, app, load_playbook};

const INDEX: &str = r#"<!doctype html><html><head><link rel="stylesheet" href="/style-0123456789abcdef.css"><script type="module">import init from '/watchpost-app-0123456789abcdef.js';await init();</script></head><body></body></html>"#;

struct Server {
    base: String,
    state: AppState,
    http: reqwest::Client,
    _dirs: (TempDir, TempDir),
}

impl Server {
    async fn start() -> Self {
        let data = TempDir::new().expect("temp dir");
        let dist = TempDir::new().expect("temp dir");
        write_dist(dist.path());
        let store = Store::open(data.path()).await.expect("store opens");
        let state = AppState {
            store,
            playbook: Arc::new(load_playbook(None).expect("built-in playbook")),
            web: Arc::new(WebApp::load(dist.path())),
            started: Instant::now(),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let router = app(state.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Server {
            base,
            state,
            http: reqwest::Client::new(),
            _dirs: (data, dist),
        }
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("request")
    }

    async fn post(&self, path: &str, body: &str) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_owned())
            .send()
            .await
            .expect("request")
    }
}

fn write_dist(dir: &Path) {
    std::fs::write(dir.join("index.html"), INDEX).expect("write");
    std::fs::write(
        dir.join("style-0123456789abcdef.css"),
        "body{color:black}".repeat(100),
    )
    .expect("write");
    std::fs::write(dir.join("manifest.webmanifest"), "{}").expect("write");
}

async fn json(response: reqwest::Response) -> Value {
    response.json().await.expect("a JSON body")
}

fn header(response: &reqwest::Response, name: reqwest::header::HeaderName) -> &str {
    response
        .headers()
        .get(&name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

#[tokio::test]
async fn health_answers_in_the_seed_format() {
    let server = Server::start().await;
    let response = server.get("/api/health").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = json(response).await;
    assert_eq!(body["status"], "ok");
    assert_eq!(body["services"], json!({ "store": true }));
    assert!(body["uptime"].is_u64(), "{body}");
    let timestamp = body["timestamp"].as_str().unwrap_or_default();
    assert!(
        time::OffsetDateTime::parse(timestamp, &time::format_description::well_known::Rfc3339)
            .is_ok(),
        "timestamp `{timestamp}` is RFC 3339"
    );
}

#[tokio::test]
async fn health_is_503_degraded_when_the_store_is_down() {
    let server = Server::start().await;
    server.state.store.close().await;
    let response = server.get("/api/health").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = json(response).await;
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["services"]["store"], false);
}

#[tokio::test]
async fn app_routes_fall_back_to_the_app_uncached() {
    let server = Server::start().await;
    for path in ["/", "/projects/1/setup", "/projects/1/watch", "/index.html"] {
        let response = server.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert!(
            header(&response, CONTENT_TYPE).starts_with("text/html"),
            "{path}"
        );
        assert_eq!(header(&response, CACHE_CONTROL), "no-cache", "{path}");
        assert_eq!(response.text().await.unwrap_or_default(), INDEX, "{path}");
    }
}

#[tokio::test]
async fn a_missing_asset_is_404_not_the_app() {
    let server = Server::start().await;
    let response = server.get("/watchpost-app-ffffffffffffffff.js").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_ne!(
        header(&response, CACHE_CONTROL),
        "public, max-age=31536000, immutable"
    );
}

#[tokio::test]
async fn hashed_assets_are_immutable_and_others_revalidate() {
    let server = Server::start().await;
    let css = server.get("/style-0123456789abcdef.css").await;
    assert_eq!(css.status(), StatusCode::OK);
    assert_eq!(
        header(&css, CACHE_CONTROL),
        "public, max-age=31536000, immutable"
    );
    let manifest = server.get("/manifest.webmanifest").await;
    assert_eq!(manifest.status(), StatusCode::OK);
    assert_eq!(header(&manifest, CACHE_CONTROL), "no-cache");
}

#[tokio::test]
async fn responses_are_compressed_when_asked() {
    let server = Server::start().await;
    for encoding in ["gzip", "br"] {
        let response = server
            .http
            .get(format!("{}/style-0123456789abcdef.css", server.base))
            .header(ACCEPT_ENCODING, encoding)
            .send()
            .await
            .expect("request");
        assert_eq!(header(&response, CONTENT_ENCODING), encoding);
    }
}

#[tokio::test]
async fn security_headers_allow_only_the_app() {
    let server = Server::start().await;
    for path in ["/", "/api/health"] {
        let response = server.get(path).await;
        let csp = header(&response, CONTENT_SECURITY_POLICY);
        assert!(csp.starts_with("default-src 'self'"), "{path}: {csp}");
        assert!(csp.contains("connect-src 'self'"), "{csp}");
        assert!(
            csp.contains("'sha256-"),
            "Trunk's inline loader is allowed by hash: {csp}"
        );
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("http"),
            "nothing external: {csp}"
        );
        assert_eq!(
            header(&response, reqwest::header::X_CONTENT_TYPE_OPTIONS),
            "nosniff"
        );
    }
}

#[tokio::test]
async fn unknown_api_routes_are_404_json_never_the_app() {
    let server = Server::start().await;
    for path in ["/api/nope", "/api/projects/1/nope", "/api"] {
        let response = server.get(path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(
            header(&response, CONTENT_TYPE).starts_with("application/json"),
            "{path}"
        );
        let body = json(response).await;
        assert_eq!(body["error"], "not_found", "{path}");
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{body}"
        );
    }
    let response = server.post("/api/health", "{}").await;
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(json(response).await["error"], "method_not_allowed");
}

#[tokio::test]
async fn the_playbook_is_served_as_json() {
    let server = Server::start().await;
    let response = server.get("/api/playbook").await;
    assert_eq!(response.status(), StatusCode::OK);
    let playbook: domain::Playbook = response.json().await.expect("a playbook");
    assert_eq!(playbook, load_playbook(None).expect("built-in playbook"));
}

#[tokio::test]
async fn projects_are_created_listed_and_found() {
    let server = Server::start().await;
    assert_eq!(json(server.get("/api/projects").await).await, json!([]));

    let created = server
        .post("/api/projects", r#"{"name":"  Voxanne backend "}"#)
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let project = json(created).await;
    assert_eq!(project["name"], "Voxanne backend");
    let id = project["id"].as_i64().expect("an id");

    assert_eq!(
        json(server.get("/api/projects").await).await,
        json!([project])
    );
    assert_eq!(
        json(server.get(&format!("/api/projects/{id}")).await).await,
        project
    );
    for missing in ["/api/projects/999", "/api/projects/abc"] {
        let response = server.get(missing).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{missing}");
        assert_eq!(json(response).await["error"], "not_found");
    }
}

#[tokio::test]
async fn bad_project_input_is_refused_and_changes_nothing() {
    let server = Server::start().await;
    let cases = [
        (
            r#"{"name":"   "}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        ),
        (r#"{"name": 42}"#, StatusCode::BAD_REQUEST, "bad_request"),
        (r#"{"name":"x""#, StatusCode::BAD_REQUEST, "bad_request"),
        (
            r#"{"name":"x","owner":"y"}"#,
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
    ];
    for (body, status, code) in cases {
        let response = server.post("/api/projects", body).await;
        assert_eq!(response.status(), status, "{body}");
        let error = json(response).await;
        assert_eq!(error["error"], code, "{body}: {error}");
        assert!(
            error["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{error}"
        );
    }
    let huge = format!(r#"{{"name":"{}"}}"#, "x".repeat(100 * 1024));
    let response = server.post("/api/projects", &huge).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(json(response).await["error"], "too_large");

    let not_json = server
        .http
        .post(format!("{}/api/projects", server.base))
        .body("name=x")
        .send()
        .await
        .expect("request");
    assert_eq!(not_json.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    assert_eq!(
        json(server.get("/api/projects").await).await,
        json!([]),
        "nothing was stored"
    );
}

#[tokio::test]
async fn without_a_build_the_api_still_works_and_pages_say_what_to_do() {
    let data = TempDir::new().expect("temp dir");
    let state = AppState {
        store: Store::open(data.path()).await.expect("store"),
        playbook: Arc::new(load_playbook(None).expect("playbook")),
        web: Arc::new(WebApp::load(&data.path().join("no-dist"))),
        started: Instant::now(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app(state)).await });
    let page = reqwest::get(format!("{base}/")).await.expect("request");
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        page.text()
            .await
            .unwrap_or_default()
            .contains("scripts/run")
    );
    assert_eq!(
        reqwest::get(format!("{base}/api/health"))
            .await
            .expect("request")
            .status(),
        StatusCode::OK
    );
}

#[test]
fn a_team_playbook_file_is_loaded_or_refused_with_its_path() {
    let dir = TempDir::new().expect("temp dir");
    let good = dir.path().join("team.toml");
    let own =
        domain::Playbook::DEFAULT_TOML.replacen("title = \"Launch:", "title = \"Our launch:", 1);
    std::fs::write(&good, own).expect("write");
    let loaded = load_playbook(Some(&good)).expect("a valid team playbook loads");
    assert!(loaded.title.starts_with("Our launch:"));

    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        domain::Playbook::DEFAULT_TOML.replacen("start = \"severity\"", "start = \"x\"", 1),
    )
    .expect("write");
    let err = load_playbook(Some(&bad)).expect_err("an invalid playbook is refused");
    assert!(
        err.contains("bad.toml") && err.contains("escalations[2].start"),
        "{err}"
    );

    let err = load_playbook(Some(&dir.path().join("absent.toml")))
        .expect_err("a missing file is refused");
    assert!(err.contains("cannot read the playbook"), "{err}");
}
