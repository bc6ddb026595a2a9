//! The proxy over real HTTP on 127.0.0.1:0: health, the app's files and
//! headers, the API's error format, projects and their settings, the playbook.

mod common;

use common::{ADMIN, INDEX, Server, header, json};
use reqwest::StatusCode;
use reqwest::header::{
    ACCEPT, ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_SECURITY_POLICY,
    CONTENT_TYPE, VARY,
};
use serde_json::json;
use tempfile::TempDir;
use watchpost_proxy::application::{Application, Settings};
use watchpost_proxy::auth::Auth;
use watchpost_proxy::load_playbook;
use watchpost_proxy::secret::Secret;

#[tokio::test]
async fn health_answers_in_the_seed_format() {
    let server = Server::start().await;
    let response = server.anonymous().get("/api/health").await;
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
    let response = server.anonymous().get("/api/health").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = json(response).await;
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["services"]["store"], false);
}

#[tokio::test]
async fn app_routes_fall_back_to_the_app_uncached() {
    let server = Server::start().await;
    for path in ["/", "/projects/1/setup", "/projects/1/watch", "/index.html"] {
        let response = server.anonymous().get(path).await;
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
    let response = server
        .anonymous()
        .get("/watchpost-app-ffffffffffffffff.js")
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_ne!(
        header(&response, CACHE_CONTROL),
        "public, max-age=31536000, immutable"
    );
}

#[tokio::test]
async fn hashed_assets_are_immutable_and_others_revalidate() {
    let server = Server::start().await;
    let css = server.anonymous().get("/style-0123456789abcdef.css").await;
    assert_eq!(css.status(), StatusCode::OK);
    assert_eq!(
        header(&css, CACHE_CONTROL),
        "public, max-age=31536000, immutable"
    );
    let manifest = server.anonymous().get("/manifest.webmanifest").await;
    assert_eq!(manifest.status(), StatusCode::OK);
    assert_eq!(header(&manifest, CACHE_CONTROL), "no-cache");
}

/// The app's files go out as the build compressed them, byte for byte; API
/// answers are compressed per request.
#[tokio::test]
async fn files_go_out_precompressed_and_answers_compressed_when_asked() {
    let server = Server::start().await;
    let get = |path: &str, encoding: &'static str| {
        server
            .anonymous()
            .http
            .get(format!("{}{path}", server.base))
            .header(ACCEPT_ENCODING, encoding)
            .send()
    };
    for (encoding, suffix) in [("br", "br"), ("gzip", "gz"), ("br;q=1, gzip", "br")] {
        for (path, file) in [
            ("/style-0123456789abcdef.css", "style-0123456789abcdef.css"),
            ("/", "index.html"),
            ("/projects/1/setup", "index.html"),
        ] {
            let response = get(path, encoding).await.expect("request");
            assert_eq!(response.status(), StatusCode::OK);
            let coding = if suffix == "gz" { "gzip" } else { suffix };
            assert_eq!(
                header(&response, CONTENT_ENCODING),
                coding,
                "{path} {encoding}"
            );
            let body = response.bytes().await.expect("body");
            assert_eq!(
                body,
                common::precompressed(file, suffix),
                "{path} {encoding}"
            );
        }
    }
    let plain = get("/", "identity").await.expect("request");
    assert_eq!(header(&plain, CONTENT_ENCODING), "");
    assert_eq!(plain.text().await.expect("body"), INDEX);
    for encoding in ["gzip", "br"] {
        let response = get("/api/playbook", encoding).await.expect("request");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let response = get("/api/health", encoding).await.expect("request");
        assert_eq!(header(&response, CONTENT_ENCODING), encoding, "/api/health");
    }
}

#[tokio::test]
async fn security_headers_allow_only_the_app() {
    let server = Server::start().await;
    // A policy does nothing on a stylesheet (only documents and workers
    // have one), so the app's files are sent without its 370 bytes.
    let style = server.anonymous().get("/style-0123456789abcdef.css").await;
    assert_eq!(style.status(), StatusCode::OK);
    assert_eq!(header(&style, CONTENT_SECURITY_POLICY), "");
    assert_eq!(
        header(&style, reqwest::header::X_CONTENT_TYPE_OPTIONS),
        "nosniff"
    );
    for path in ["/", "/api/health"] {
        let response = server.anonymous().get(path).await;
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
    let member = server.member("Ana").await;
    for path in ["/api/nope", "/api/projects/1/nope", "/api"] {
        let response = member.get(path).await;
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
    let response = member.post("/api/health", "{}").await;
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(json(response).await["error"], "method_not_allowed");
}

#[tokio::test]
async fn the_playbook_is_served_as_json_or_in_the_apps_binary_form() {
    let server = Server::start().await;
    let client = server.member("Ana").await;
    let expected = load_playbook(None).expect("built-in playbook");
    let response = client.get("/api/playbook").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, VARY), "accept");
    let playbook: domain::Playbook = response.json().await.expect("a playbook");
    assert_eq!(playbook, expected);

    // What the app asks for: the same playbook, as nanoserde decodes it.
    let response = client
        .http
        .get(format!("{}/api/playbook", client.base))
        .header(ACCEPT, "application/octet-stream")
        .send()
        .await
        .expect("request");
    assert_eq!(header(&response, CONTENT_TYPE), "application/octet-stream");
    let bytes = response.bytes().await.expect("bytes");
    let decoded: domain::Playbook = domain::binary::decode(&bytes).expect("the app can decode it");
    assert_eq!(decoded, expected);
}

#[tokio::test]
async fn projects_are_created_listed_and_found() {
    let server = Server::start().await;
    let admin = server.admin().await;
    assert_eq!(json(admin.get("/api/projects").await).await, json!([]));

    let created = admin
        .post(
            "/api/projects",
            r#"{"name":"  Voxanne backend ","platform":"fastapi"}"#,
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let project = json(created).await;
    assert_eq!(project["name"], "Voxanne backend");
    assert_eq!(project["platform"], "fastapi");
    assert_eq!(project["archived"], false);
    assert_eq!(project["timezone"], "UTC");
    assert_eq!(project["health_urls"], json!([]));
    assert_eq!(project["sentry_org"], json!(null));
    let id = project["id"].as_i64().expect("an id");

    let member = server.member("Ana").await;
    assert_eq!(
        json(member.get("/api/projects").await).await,
        json!([project])
    );
    assert_eq!(
        json(member.get(&format!("/api/projects/{id}")).await).await,
        project
    );
    let missing = member.get("/api/projects/999").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(json(missing).await["error"], "not_found");
    // Not an id at all: the same JSON error form as every other extractor.
    for malformed in ["/api/projects/abc", "/api/projects/99999999999999999999"] {
        let response = member.get(malformed).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{malformed}");
        assert_eq!(json(response).await["error"], "bad_request");
    }
}

#[tokio::test]
async fn settings_are_changed_renamed_archived_and_kept() {
    let server = Server::start().await;
    let id = server.project("Voxanne").await;
    let admin = server.admin().await;
    let path = format!("/api/projects/{id}");
    let settings = json!({
        "name": "Voxanne API",
        "sentry_org": "voxanne",
        "sentry_project": "voxanne-backend",
        "sentry_frontend_project": "voxanne-frontend",
        "render_service_id": "srv-d0abc123xyz",
        "health_urls": ["https://api.voxanne.ai/health"],
        "platform": "nextjs",
        "slack_channel": "production-alerts",
        "timezone": "Europe/London"
    });
    let changed = admin.patch(&path, &settings.to_string()).await;
    assert_eq!(changed.status(), StatusCode::OK);
    let project = json(changed).await;
    assert_eq!(project["slack_channel"], "#production-alerts");
    assert_eq!(project["timezone"], "Europe/London");

    // A patch changes only what it names; null clears an optional setting.
    let archived = json(
        admin
            .patch(&path, r#"{"archived":true,"sentry_frontend_project":null}"#)
            .await,
    )
    .await;
    assert_eq!(archived["archived"], true);
    assert_eq!(archived["sentry_frontend_project"], json!(null));
    assert_eq!(archived["sentry_project"], "voxanne-backend");
    assert_eq!(
        json(admin.get(&path).await).await,
        archived,
        "it was stored"
    );
}

#[tokio::test]
async fn bad_settings_are_refused_field_by_field_and_change_nothing() {
    let server = Server::start().await;
    let id = server.project("Voxanne").await;
    let admin = server.admin().await;
    let path = format!("/api/projects/{id}");
    let before = json(admin.get(&path).await).await;
    let response = admin
        .patch(
            &path,
            r#"{"sentry_project":"Voxanne Backend","timezone":"Mars/Olympus","health_urls":["ftp://x"]}"#,
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error = json(response).await;
    assert_eq!(error["error"], "invalid");
    let fields = error["fields"].as_object().expect("fields");
    let mut names: Vec<&str> = fields.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["health_urls", "sentry_project", "timezone"]);
    assert!(
        fields["timezone"]
            .as_str()
            .unwrap_or_default()
            .contains("Mars/Olympus")
    );
    assert_eq!(
        json(admin.get(&path).await).await,
        before,
        "nothing was stored"
    );

    let unknown = admin.patch(&path, r#"{"colour":"red"}"#).await;
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    let platform = admin.patch(&path, r#"{"platform":"django"}"#).await;
    assert!(platform.status().is_client_error());
    assert_eq!(
        admin.patch("/api/projects/999", "{}").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn bad_project_input_is_refused_and_changes_nothing() {
    let server = Server::start().await;
    let admin = server.admin().await;
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
        let response = admin.post("/api/projects", body).await;
        assert_eq!(response.status(), status, "{body}");
        let error = json(response).await;
        assert_eq!(error["error"], code, "{body}: {error}");
        assert!(
            error["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{error}"
        );
    }
    let huge = format!(r#"{{"name":"{}"}}"#, "x".repeat(100 * 1024));
    let response = admin.post("/api/projects", &huge).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(json(response).await["error"], "too_large");

    let not_json = admin
        .http
        .post(format!("{}/api/projects", server.base))
        .body("name=x")
        .send()
        .await
        .expect("request");
    assert_eq!(not_json.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    assert_eq!(
        json(admin.get("/api/projects").await).await,
        json!([]),
        "nothing was stored"
    );
}

#[tokio::test]
async fn without_a_build_the_api_still_works_and_pages_say_what_to_do() {
    let data = TempDir::new().expect("temp dir");
    let auth = Auth::load(
        &data.path().join("auth.toml"),
        Some(&Secret::new(ADMIN)),
        std::time::Duration::from_secs(60),
    )
    .expect("auth")
    .auth;
    let application = Application::build(Settings {
        addr: ([127, 0, 0, 1], 0).into(),
        ..Settings::new(
            data.path().to_owned(),
            data.path().join("no-dist"),
            auth,
            load_playbook(None).expect("playbook"),
        )
    })
    .await
    .expect("the server builds");
    let base = format!("http://{}", application.addr());
    tokio::spawn(application.run_until(std::future::pending()));
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

/// The app reads the binary form; scripts read JSON. Both say the same.
#[tokio::test]
async fn the_apps_binary_answers_say_what_the_json_answers_say() {
    use domain::api::{Health, Session};
    use domain::project::Project;
    use domain::run::Entry;
    use nanoserde::DeBin;

    async fn both<T: serde::de::DeserializeOwned + DeBin>(
        client: &common::Client,
        method: reqwest::Method,
        path: &str,
        body: Option<&str>,
    ) -> (T, T) {
        let request = |accept: &'static str| {
            let mut request = client
                .http
                .request(method.clone(), format!("{}{path}", client.base))
                .header(ACCEPT, accept);
            if let Some(body) = body {
                request = request
                    .header(CONTENT_TYPE, "application/json")
                    .body(body.to_owned());
            }
            request.send()
        };
        let json: T = request("application/json")
            .await
            .expect("json answer")
            .json()
            .await
            .expect("json body");
        let response = request("application/octet-stream")
            .await
            .expect("binary answer");
        assert_eq!(
            header(&response, CONTENT_TYPE),
            "application/octet-stream",
            "{path}"
        );
        assert_eq!(header(&response, VARY), "accept", "{path}");
        let bytes = response.bytes().await.expect("bytes");
        let binary: T =
            domain::binary::decode(&bytes).unwrap_or_else(|err| panic!("{path}: {err}"));
        (json, binary)
    }

    let server = Server::start().await;
    let project = server.project("Voxanne").await;
    let admin = server.admin().await;
    let get = reqwest::Method::GET;

    // Only the services: the time and uptime move between the two calls.
    let (json, binary) = both::<Health>(&admin, get.clone(), "/api/health", None).await;
    assert_eq!(json.services, binary.services);
    let (json, binary) = both::<Session>(&admin, get.clone(), "/api/session", None).await;
    assert_eq!(json, binary);
    let (json, binary) = both::<Vec<Project>>(&admin, get.clone(), "/api/projects", None).await;
    assert_eq!(json, binary);
    let path = format!("/api/projects/{project}");
    let (json, binary) = both::<Project>(&admin, get, &path, None).await;
    assert_eq!(json, binary);
    let tick = r#"{"op_id":"op-1","kind":"ticked","payload":{"item":"h0-baseline"}}"#;
    let path = format!("/api/projects/{project}/log");
    let (json, binary) = both::<Entry>(&admin, reqwest::Method::POST, &path, Some(tick)).await;
    assert_eq!(json, binary);

    // The live stream carries each entry in base64 of the same form.
    let response = admin
        .get(&format!("/api/projects/{project}/stream?format=binary"))
        .await;
    let mut stream = common::sse::EventStream::new(response);
    let event = stream
        .next(std::time::Duration::from_secs(5))
        .await
        .expect("the backlog event");
    let bytes = domain::binary::from_base64(&event.data).expect("base64");
    assert_eq!(domain::binary::decode::<Entry>(&bytes).ok(), Some(json));
}
