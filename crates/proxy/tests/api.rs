//! Sign-in and who may do what, driven by the OpenAPI document: every
//! documented operation is called by an anonymous client and by a viewer, a
//! member and an admin; the answer must follow the operation's
//! `x-watchpost-role` and fit its documented schema.

mod common;

use std::time::Duration;

use common::schema::check;
use common::{ADMIN, Client, MEMBER, Server, VIEWER, header, json};
use reqwest::header::{RETRY_AFTER, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;
use watchpost_proxy::auth::SignInLimits;

const ROLES: [&str; 4] = ["anonymous", "viewer", "member", "admin"];

async fn openapi(server: &Server) -> Value {
    let response = server.member("Ana").await.get("/api/openapi.json").await;
    assert_eq!(response.status(), StatusCode::OK);
    json(response).await
}

/// Each documented operation: path, method and the operation object.
fn operations(document: &Value) -> Vec<(String, Method, Value)> {
    let mut found = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            if let Ok(method) = method.to_uppercase().parse::<Method>()
                && method != Method::from_bytes(b"PARAMETERS").unwrap_or(Method::TRACE)
                && operation.get("operationId").is_some()
            {
                found.push((path.clone(), method, operation.clone()));
            }
        }
    }
    found
}

/// A request body the operation accepts, and the client's part in it.
fn body_for(operation: &str, call: usize) -> Option<String> {
    let body = match operation {
        "signIn" => json!({ "name": "Ana", "passcode": MEMBER }),
        "createProject" => json!({ "name": format!("Project {call}") }),
        "updateProject" => json!({ "slack_channel": "#launch" }),
        "runChecks" => json!({ "items": ["render-service-exists", "health-endpoint-ok"] }),
        "runAction" => json!({}),
        // A day ago, so that the sign-off is due whichever runs first.
        "startWatch" => json!({ "start": day_ago() }),
        "rollback" => json!({ "confirm": "not-the-name" }),
        // Nothing is measured in a new project: every criterion can be waived.
        "signOff" => json!({ "waivers": {
            "success-error-rate": "r", "success-no-critical": "r", "success-health": "r",
            "success-database": "r", "success-no-restarts": "r", "success-response-times": "r",
            "success-background-jobs": "r", "success-websockets": "r"
        } }),
        "append" => json!({
            "op_id": format!("op-{call}"),
            "kind": "ticked",
            "payload": { "item": "h0-baseline" }
        }),
        _ => return None,
    };
    Some(body.to_string())
}

/// RFC 3339, 24 hours and a minute ago.
fn day_ago() -> String {
    (jiff::Timestamp::now() - jiff::SignedDuration::from_secs(24 * 3600 + 60)).to_string()
}

async fn client_for(server: &Server, role: &str) -> Client {
    match role {
        "viewer" => server.signed_in("Vic", VIEWER).await,
        "member" => server.member("Mo").await,
        "admin" => server.signed_in("Dana", ADMIN).await,
        _ => server.anonymous(),
    }
}

#[tokio::test]
async fn every_route_answers_by_role_and_fits_the_document() {
    let server = Server::start().await;
    let project = server.project("Voxanne").await;
    // A watch that started a day ago: its sign-off is due.
    let started = server
        .admin()
        .await
        .post(
            &format!("/api/projects/{project}/watch"),
            &json!({ "start": day_ago() }).to_string(),
        )
        .await;
    assert_eq!(started.status(), StatusCode::CREATED);
    let document = openapi(&server).await;
    let operations = operations(&document);
    assert!(operations.len() >= 15, "{} operations", operations.len());
    let mut call = 0;
    for (path, method, operation) in &operations {
        let id = operation["operationId"].as_str().unwrap_or_default();
        let needed = operation["x-watchpost-role"]
            .as_str()
            .expect("x-watchpost-role");
        assert!(
            ["none", "viewer", "member", "admin"].contains(&needed),
            "{id}: {needed}"
        );
        let concrete = path
            .replace("{id}", &project.to_string())
            .replace("{item}", "sentry-backend-project-exists")
            .replace("{action}", "slack.test_message");
        for (rank, role) in ROLES.iter().enumerate() {
            call += 1;
            // A fresh client each time: signing out must not end the next call's session.
            let client = client_for(&server, role).await;
            let body = body_for(id, call);
            let response = client
                .send(method.clone(), &concrete, body.as_deref())
                .await;
            let status = response.status();
            let allowed = needed == "none"
                || ROLES[1..]
                    .iter()
                    .position(|r| r == &needed)
                    .is_some_and(|need| rank > need);
            let expected = match (allowed, rank) {
                (true, _) => status.is_success(),
                (false, 0) => status == StatusCode::UNAUTHORIZED,
                (false, _) => status == StatusCode::FORBIDDEN,
            };
            assert!(expected, "{method} {concrete} as {role}: {status}");
            let is_json =
                header(&response, reqwest::header::CONTENT_TYPE).starts_with("application/json");
            let documented = &operation["responses"][status.as_str()];
            assert!(
                documented.is_object(),
                "{method} {concrete} as {role}: {status} is not documented"
            );
            if is_json {
                let value = json(response).await;
                let schema = &documented["content"]["application/json"]["schema"];
                check(&document, schema, &value)
                    .unwrap_or_else(|err| panic!("{method} {concrete} as {role}: {err}\n{value}"));
            }
        }
    }
}

#[tokio::test]
async fn the_document_names_every_route_the_proxy_serves() {
    let server = Server::start().await;
    let document = openapi(&server).await;
    assert_eq!(document["openapi"], "3.1.0");
    let documented: Vec<(String, Method)> = operations(&document)
        .into_iter()
        .map(|(path, method, _)| (path, method))
        .collect();
    // Every route, by trying each method on each path: only documented pairs
    // may answer anything but 404 "no route" or 405.
    let admin = server.admin().await;
    // From the routers themselves: a route added anywhere is tried here.
    let paths = watchpost_proxy::api_paths();
    assert!(paths.len() > 20, "{paths:?}");
    for path in &paths {
        for method in [Method::GET, Method::POST, Method::PATCH, Method::PUT] {
            let response = admin
                .send(
                    method.clone(),
                    &path
                        .replace("{id}", "999")
                        .replace("{item}", "x")
                        .replace("{action}", "render.deploy"),
                    Some("{}"),
                )
                .await;
            let routed = response.status() != StatusCode::METHOD_NOT_ALLOWED;
            let listed = documented.contains(&(path.clone(), method.clone()));
            assert_eq!(routed, listed, "{method} {path}: {}", response.status());
        }
    }
    for (path, _) in &documented {
        assert!(paths.contains(path), "{path} is documented but not served");
    }
}

#[tokio::test]
async fn signing_in_sets_a_strict_cookie_and_signing_out_ends_the_session() {
    let server = Server::start().await;
    let client = server.anonymous();
    let response = client
        .post(
            "/api/session",
            &json!({ "name": " Ana ", "passcode": MEMBER }).to_string(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = header(&response, SET_COOKIE).to_owned();
    for attribute in [
        "watchpost_session=",
        "HttpOnly",
        "SameSite=Strict",
        "Path=/",
        "Max-Age=3600",
    ] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP on loopback");
    let session = json(response).await;
    assert_eq!(session["name"], "Ana");
    assert_eq!(session["role"], "member");
    assert_eq!(json(client.get("/api/session").await).await, session);

    // The same cookie, replayed by another client after sign-out, opens nothing.
    let value = cookie.split(';').next().unwrap_or_default().to_owned();
    let signed_out = client.send(Method::DELETE, "/api/session", None).await;
    assert_eq!(signed_out.status(), StatusCode::NO_CONTENT);
    assert!(header(&signed_out, SET_COOKIE).contains("Max-Age=0"));
    assert_eq!(
        client.get("/api/session").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let replay = server
        .anonymous()
        .http
        .get(format!("{}/api/projects", server.base))
        .header(reqwest::header::COOKIE, value)
        .send()
        .await
        .expect("request");
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json(replay).await["error"], "unauthorized");
}

#[tokio::test]
async fn behind_tls_the_cookie_is_secure() {
    let server = Server::start().await;
    let response = server
        .anonymous()
        .http
        .post(format!("{}/api/session", server.base))
        .header("x-forwarded-proto", "https")
        .json(&json!({ "name": "Ana", "passcode": MEMBER }))
        .send()
        .await
        .expect("request");
    assert!(header(&response, SET_COOKIE).contains("; Secure"));
}

#[tokio::test]
async fn wrong_passcodes_bad_names_and_forged_cookies_are_refused() {
    let server = Server::start().await;
    let client = server.anonymous();
    let cases = [
        (
            json!({ "name": "Ana", "passcode": "guess" }),
            StatusCode::UNAUTHORIZED,
        ),
        (
            json!({ "name": "  ", "passcode": MEMBER }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (json!({ "name": "Ana" }), StatusCode::BAD_REQUEST),
    ];
    for (body, status) in cases {
        let response = client.post("/api/session", &body.to_string()).await;
        assert_eq!(response.status(), status, "{body}");
        assert!(header(&response, SET_COOKIE).is_empty());
        assert!(json(response).await["message"].is_string());
    }
    for forged in [
        "watchpost_session=abc",
        "watchpost_session=abc.def",
        "watchpost_session=",
    ] {
        let response = client
            .http
            .get(format!("{}/api/projects", server.base))
            .header(reqwest::header::COOKIE, forged)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{forged}");
    }
}

#[tokio::test]
async fn an_expired_session_is_refused() {
    let server = Server::start_with(TempDir::new().expect("dir"), |auth| {
        auth.session_length = Duration::from_secs(1);
    })
    .await;
    let client = server.member("Ana").await;
    assert_eq!(client.get("/api/projects").await.status(), StatusCode::OK);
    server.state.clock().advance(Duration::from_secs(2));
    let response = client.get("/api/projects").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(
        json(response).await["message"]
            .as_str()
            .unwrap_or_default()
            .contains("sign in")
    );
}

#[tokio::test]
async fn changes_from_another_site_are_refused_before_anything_happens() {
    let server = Server::start().await;
    let admin = server.admin().await;
    let cross_site = |origin: &'static str| {
        admin
            .http
            .post(format!("{}/api/projects", server.base))
            .header("origin", origin)
            .json(&json!({ "name": "CSRF" }))
            .send()
    };
    let refused = cross_site("https://evil.example").await.expect("request");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(json(refused).await["error"], "forbidden");
    let same = cross_site("http://placeholder").await.expect("request");
    assert_eq!(
        same.status(),
        StatusCode::FORBIDDEN,
        "an origin that is not this host"
    );
    let own_origin = admin
        .http
        .post(format!("{}/api/projects", server.base))
        .header("origin", server.base.clone())
        .header("sec-fetch-site", "same-origin")
        .json(&json!({ "name": "Ours" }))
        .send()
        .await
        .expect("request");
    assert_eq!(own_origin.status(), StatusCode::CREATED);
    let sign_in = server
        .anonymous()
        .http
        .post(format!("{}/api/session", server.base))
        .header("sec-fetch-site", "cross-site")
        .json(&json!({ "name": "Ana", "passcode": MEMBER }))
        .send()
        .await
        .expect("request");
    assert_eq!(
        sign_in.status(),
        StatusCode::FORBIDDEN,
        "no login CSRF either"
    );
    let projects = json(admin.get("/api/projects").await).await;
    assert_eq!(projects.as_array().map(Vec::len), Some(1), "{projects}");
}

#[tokio::test]
async fn sign_in_attempts_are_limited_per_client() {
    let server = Server::start_with(TempDir::new().expect("dir"), |auth| {
        auth.limits = SignInLimits::default();
    })
    .await;
    let client = server.anonymous();
    let attempt = || client.post("/api/session", r#"{"name":"Eve","passcode":"guess"}"#);
    for _ in 0..5 {
        assert_eq!(attempt().await.status(), StatusCode::UNAUTHORIZED);
    }
    let limited = attempt().await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = header(&limited, RETRY_AFTER)
        .parse()
        .expect("Retry-After seconds");
    assert!((1..=12).contains(&wait), "{wait}");
    assert_eq!(json(limited).await["error"], "too_many_requests");
    // Even the right passcode waits: the limit is on attempts, not failures.
    let right = client
        .post(
            "/api/session",
            &json!({ "name": "Ana", "passcode": ADMIN }).to_string(),
        )
        .await;
    assert_eq!(right.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn viewers_read_members_write_admins_configure() {
    let server = Server::start().await;
    let project = server.project("Voxanne").await;
    let viewer = server.signed_in("Vic", VIEWER).await;
    let member = server.member("Mo").await;
    let tick = json!({ "item": "h0-baseline" });
    let (status, _) = viewer.append(project, "v-1", "ticked", tick.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, entry) = member.append(project, "m-1", "ticked", tick).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(entry["actor"], "Mo");
    let rename = member
        .patch(&format!("/api/projects/{project}"), r#"{"name":"Mine"}"#)
        .await;
    assert_eq!(rename.status(), StatusCode::FORBIDDEN);
    assert!(
        json(rename).await["message"]
            .as_str()
            .unwrap_or_default()
            .contains("admin")
    );
}

#[test]
fn the_schema_checker_refuses_what_does_not_fit() {
    let document = json!({
        "components": { "schemas": {
            "Thing": {
                "type": "object",
                "required": ["name"],
                "additionalProperties": false,
                "properties": {
                    "name": { "type": "string", "minLength": 1 },
                    "url": { "type": "string", "format": "uri" }
                }
            }
        }}
    });
    let schema = json!({ "$ref": "#/components/schemas/Thing" });
    assert_eq!(check(&document, &schema, &json!({ "name": "a" })), Ok(()));
    for bad in [
        json!({}),
        json!({ "name": "" }),
        json!({ "name": "a", "extra": 1 }),
        json!({ "name": "a", "url": "not a uri" }),
        json!([]),
    ] {
        assert!(check(&document, &schema, &bad).is_err(), "{bad}");
    }
}
