//! What an attacker on the network tries, and what Watchpost answers: names
//! that are not theirs, sessions that should have ended, connections and
//! streams held open, floods of guesses, forged forwarding headers, foreign
//! hosts.

mod common;

use std::time::{Duration, Instant};

use common::sse::EventStream;
use common::{ADMIN, MEMBER, Options, Server, VIEWER, header, json};
use reqwest::StatusCode;
use reqwest::header::RETRY_AFTER;
use serde_json::json;
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use watchpost_proxy::auth::{SignInLimits, hash_passcode};
use watchpost_proxy::secret::Secret;
use watchpost_proxy::serve::ConnectionLimits;
use watchpost_proxy::sessions::STREAMS_PER_SESSION;

const BOSS: &str = "boss-own-passcode";

/// A data directory whose auth.toml also has Boss, an admin with their own passcode.
fn data_with_boss(role: &str) -> TempDir {
    let data = TempDir::new().expect("dir");
    write_auth(data.path(), role);
    data
}

/// The file as an operator edits it: hashes made once, roles changed.
fn write_auth(dir: &std::path::Path, boss_role: &str) {
    static HASHES: std::sync::OnceLock<std::collections::HashMap<&str, String>> =
        std::sync::OnceLock::new();
    let hashes = HASHES.get_or_init(|| {
        [VIEWER, ADMIN, BOSS]
            .into_iter()
            .map(|p| (p, hash_passcode(&Secret::new(p)).expect("hash")))
            .collect()
    });
    let hash = |p: &str| hashes[p].clone();
    let people = if boss_role.is_empty() {
        String::new()
    } else {
        format!(
            "[[people]]\nname = \"Boss\"\nrole = \"{boss_role}\"\nhash = \"{}\"\n",
            hash(BOSS)
        )
    };
    std::fs::write(
        dir.join("auth.toml"),
        format!(
            "[[passcodes]]\nrole = \"viewer\"\nhash = \"{}\"\n\n[[passcodes]]\nrole = \"admin\"\nhash = \"{}\"\n\n{people}",
            hash(VIEWER),
            hash(ADMIN)
        ),
    )
    .expect("write auth.toml");
}

async fn sign_in(server: &Server, name: &str, passcode: &str) -> reqwest::Response {
    server
        .anonymous()
        .post(
            "/api/session",
            &json!({ "name": name, "passcode": passcode }).to_string(),
        )
        .await
}

#[tokio::test]
async fn a_reserved_name_cannot_be_taken_with_a_shared_passcode_or_a_look_alike() {
    let server = Server::start_in(data_with_boss("admin")).await;
    for name in ["Boss", "boss", " BOSS ", "B\u{043E}ss", "ｂｏｓｓ"] {
        for passcode in [VIEWER, MEMBER, ADMIN] {
            let response = sign_in(&server, name, passcode).await;
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{name:?}");
            let message = json(response).await["message"].to_string();
            assert!(message.contains("own passcode"), "{message}");
        }
    }
    let boss = sign_in(&server, "boss", BOSS).await;
    assert_eq!(boss.status(), StatusCode::OK);
    let session = json(boss).await;
    assert_eq!(session["role"], "admin");
    assert_eq!(session["name"], "Boss", "shown as auth.toml spells it");
    assert_eq!(
        sign_in(&server, "Ana", BOSS).await.status(),
        StatusCode::UNAUTHORIZED,
        "a person's passcode is not a shared one"
    );
}

#[tokio::test]
async fn names_with_invisible_or_direction_characters_are_refused() {
    let server = Server::start().await;
    for name in [
        "Bo\u{200B}ss",
        "\u{202E}ssoB",
        "\u{200B}\u{200D}",
        "\u{3164}",
    ] {
        let response = sign_in(&server, name, MEMBER).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name:?}"
        );
        assert!(
            json(response).await["message"]
                .to_string()
                .contains("invisible")
        );
    }
}

#[tokio::test]
async fn a_reload_changes_open_sessions_and_ends_those_whose_grant_is_gone() {
    let server = Server::start_in(data_with_boss("admin")).await;
    let project = server.project("Voxanne").await;
    let boss = server.signed_in("Boss", BOSS).await;
    let viewer = server.signed_in("Vic", VIEWER).await;
    let mut stream = EventStream::new(boss.get(&format!("/api/projects/{project}/stream")).await);

    write_auth(server.data.path(), "member");
    server.state.reload_auth().await.expect("reloads");
    let session = json(boss.get("/api/session").await).await;
    assert_eq!(session["role"], "member", "{session}");
    let rename = boss
        .patch(&format!("/api/projects/{project}"), r#"{"name":"Mine"}"#)
        .await;
    assert_eq!(rename.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        json(viewer.get("/api/session").await).await["role"],
        "viewer"
    );

    // Boss leaves the file: their session ends, streams included.
    write_auth(server.data.path(), "");
    server.state.reload_auth().await.expect("reloads");
    assert_eq!(
        boss.get("/api/session").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert!(
        stream.ends_within(Duration::from_secs(2)).await,
        "the stream ends with the session"
    );
    assert_eq!(viewer.get("/api/session").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn signing_out_closes_that_sessions_streams_at_once() {
    let server = Server::start().await;
    let project = server.project("Voxanne").await;
    let ana = server.member("Ana").await;
    let ben = server.member("Ben").await;
    let path = format!("/api/projects/{project}/stream");
    let mut anas = EventStream::new(ana.get(&path).await);
    let mut bens = EventStream::new(ben.get(&path).await);

    let out = ana
        .send(reqwest::Method::DELETE, "/api/session", None)
        .await;
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    assert!(anas.ends_within(Duration::from_secs(2)).await);

    let (status, _) = ben
        .append(project, "b-1", "ticked", json!({ "item": "h0-baseline" }))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let event = bens.next(Duration::from_secs(2)).await;
    assert!(event.is_some(), "other sessions keep their streams");
}

#[tokio::test]
async fn live_streams_are_capped_per_session_and_per_server() {
    let server = Server::with_options(Options {
        max_streams: STREAMS_PER_SESSION + 5,
        ..Options::default()
    })
    .await;
    let project = server.project("Voxanne").await;
    let path = format!("/api/projects/{project}/stream");
    let ana = server.member("Ana").await;
    let mut open = Vec::new();
    for _ in 0..STREAMS_PER_SESSION {
        let response = ana.get(&path).await;
        assert_eq!(response.status(), StatusCode::OK);
        open.push(response);
    }
    let one_more = ana.get(&path).await;
    assert_eq!(one_more.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(json(one_more).await["message"].to_string().contains("tabs"));

    let ben = server.member("Ben").await;
    for _ in 0..5 {
        let response = ben.get(&path).await;
        assert_eq!(response.status(), StatusCode::OK);
        open.push(response);
    }
    let full = ben.get(&path).await;
    assert_eq!(full.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(json(full).await["error"], "too_many_requests");

    // Closing streams gives their places back.
    open.truncate(STREAMS_PER_SESSION);
    let deadline = Instant::now() + Duration::from_secs(5);
    while server.state.sessions.streams() > STREAMS_PER_SESSION && Instant::now() < deadline {
        // The server notices a closed stream when it next writes: a keep-alive or an entry.
        let _ = ben
            .append(
                project,
                &format!("poke-{}", Instant::now().elapsed().as_nanos()),
                "note",
                json!({ "text": "poke" }),
            )
            .await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(ben.get(&path).await.status(), StatusCode::OK);
}

/// Reads until the server closes the connection; `false` if it is still
/// open after `wait`.
async fn closed_within(connection: &mut TcpStream, wait: Duration) -> bool {
    let mut buffer = [0u8; 4096];
    tokio::time::timeout(wait, async {
        loop {
            match connection.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok()
}

#[tokio::test]
async fn idle_and_slow_connections_are_closed() {
    let server = Server::with_options(Options {
        connections: ConnectionLimits {
            header_timeout: Duration::from_secs(1),
            ..ConnectionLimits::default()
        },
        ..Options::default()
    })
    .await;
    let addr = server.base.trim_start_matches("http://").to_owned();

    let mut idle = TcpStream::connect(&addr).await.expect("connect");
    assert!(
        closed_within(&mut idle, Duration::from_secs(3)).await,
        "idle"
    );

    let mut slow = TcpStream::connect(&addr).await.expect("connect");
    let trickle = async {
        for byte in format!("GET /api/health HTTP/1.1\r\nHost: {addr}\r\nX-Slow: ").bytes() {
            if slow.write_all(&[byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    trickle.await;
    assert!(
        closed_within(&mut slow, Duration::from_secs(3)).await,
        "slow headers"
    );

    // A kept-alive connection is closed when its next request does not come.
    let mut kept = TcpStream::connect(&addr).await.expect("connect");
    kept.write_all(format!("GET /api/health HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await
        .expect("write");
    let started = Instant::now();
    assert!(
        closed_within(&mut kept, Duration::from_secs(3)).await,
        "kept alive"
    );
    assert!(started.elapsed() >= Duration::from_millis(900));
}

#[tokio::test]
async fn a_request_that_takes_too_long_is_answered_but_a_live_stream_is_not_cut() {
    let server = Server::with_options(Options {
        request_timeout: Duration::from_secs(1),
        ..Options::default()
    })
    .await;
    let project = server.project("Voxanne").await;
    let ana = server.member("Ana").await;
    let mut stream = EventStream::new(ana.get(&format!("/api/projects/{project}/stream")).await);

    // A body that never finishes arriving.
    let addr = server.base.trim_start_matches("http://").to_owned();
    let mut slow = TcpStream::connect(&addr).await.expect("connect");
    slow.write_all(
        format!(
            "POST /api/session HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"name\""
        )
        .as_bytes(),
    )
    .await
    .expect("write");
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(3), async {
        let mut buffer = [0u8; 1024];
        while !String::from_utf8_lossy(&answer).contains("\"message\"") {
            match slow.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "answered within the timeout");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("\"timeout\""), "{answer}");

    assert!(
        !stream.ends_within(Duration::from_millis(1500)).await,
        "the stream outlives the request timeout"
    );
    let (status, _) = ana
        .append(project, "late", "ticked", json!({ "item": "h0-baseline" }))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(stream.next(Duration::from_secs(2)).await.is_some());
}

#[tokio::test]
async fn connections_beyond_the_ceiling_wait_for_a_free_one() {
    let server = Server::with_options(Options {
        connections: ConnectionLimits {
            max_connections: 2,
            header_timeout: Duration::from_secs(1),
            ..ConnectionLimits::default()
        },
        ..Options::default()
    })
    .await;
    let addr = server.base.trim_start_matches("http://").to_owned();
    let _held: Vec<TcpStream> = vec![
        TcpStream::connect(&addr).await.expect("connect"),
        TcpStream::connect(&addr).await.expect("connect"),
    ];
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    let health = server.anonymous().get("/api/health").await;
    assert_eq!(health.status(), StatusCode::OK);
    assert!(
        started.elapsed() >= Duration::from_millis(700),
        "served only once the idle ones were closed: {:?}",
        started.elapsed()
    );
}

/// A proxy behind a reverse proxy on 127.0.0.1 that names clients in X-Forwarded-For.
async fn behind_a_proxy(limits: SignInLimits) -> Server {
    Server::start_configured(
        TempDir::new().expect("dir"),
        move |auth| auth.limits = limits,
        Options {
            trusted_proxies: vec!["127.0.0.0/8".parse().expect("cidr")],
            ..Options::default()
        },
    )
    .await
}

async fn attempt_from(server: &Server, forwarded_for: &str, passcode: &str) -> reqwest::Response {
    attempt(&server.base, forwarded_for, passcode).await
}

async fn attempt(base: &str, forwarded_for: &str, passcode: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{base}/api/session"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({ "name": "Eve", "passcode": passcode }))
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn forwarded_addresses_count_only_from_a_trusted_proxy() {
    // Untrusted peer: X-Forwarded-For is the attacker's to write, so it is ignored.
    let direct = Server::start_with(TempDir::new().expect("dir"), |auth| {
        auth.limits = SignInLimits::default();
    })
    .await;
    for n in 0..5 {
        let response = attempt_from(&direct, &format!("203.0.113.{n}"), "guess").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let limited = attempt_from(&direct, "203.0.113.99", "guess").await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);

    // Trusted peer: each forwarded client has its own allowance.
    let proxied = behind_a_proxy(SignInLimits::default()).await;
    for n in 0..6 {
        let response = attempt_from(&proxied, &format!("203.0.113.{n}"), "guess").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "client {n}");
    }
    for _ in 0..5 {
        attempt_from(&proxied, "198.51.100.1", "guess").await;
    }
    let limited = attempt_from(&proxied, "198.51.100.1", "guess").await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = header(&limited, RETRY_AFTER).parse().expect("seconds");
    assert!((1..=12).contains(&wait), "{wait}");
}

#[tokio::test]
async fn a_flood_of_guesses_from_many_addresses_neither_multiplies_them_nor_slows_a_real_sign_in() {
    let server = behind_a_proxy(SignInLimits::default()).await;
    // Ana signed in earlier today.
    assert_eq!(
        attempt_from(&server, "192.0.2.1", MEMBER).await.status(),
        StatusCode::OK
    );
    let mut guesses = tokio::task::JoinSet::new();
    for n in 0..60 {
        let base = server.base.clone();
        guesses.spawn(async move {
            let forwarded = format!("203.0.113.{n}");
            attempt(&base, &forwarded, &format!("guess {n}"))
                .await
                .status()
        });
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
    let started = Instant::now();
    let real = attempt_from(&server, "192.0.2.1", MEMBER).await.status();
    let real_took = started.elapsed();
    let statuses = guesses.join_all().await;
    assert_eq!(real, StatusCode::OK);
    assert!(
        real_took < Duration::from_millis(500),
        "a real sign-in took {real_took:?} during the flood"
    );
    let checked = statuses
        .iter()
        .filter(|status| **status == StatusCode::UNAUTHORIZED)
        .count();
    let refused = statuses
        .iter()
        .filter(|status| **status == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!(checked <= 21, "{checked} guesses were checked");
    assert_eq!(checked + refused, 60);
}

#[tokio::test]
async fn a_foreign_host_is_refused_and_a_rewritten_host_behind_a_public_origin_works() {
    let server = Server::with_options(Options {
        public_origins: vec!["https://watchpost.example.com".to_owned()],
        ..Options::default()
    })
    .await;
    let admin = server.admin().await;
    let write = |host: &'static str, origin: &'static str| {
        admin
            .http
            .post(format!("{}/api/projects", server.base))
            .header("host", host)
            .header("origin", origin)
            .json(&json!({ "name": "Rebound" }))
            .send()
    };
    // DNS rebinding: evil.example resolves to this server.
    let rebound = write("evil.example", "http://evil.example")
        .await
        .expect("request");
    assert_eq!(rebound.status(), StatusCode::MISDIRECTED_REQUEST);
    assert_eq!(json(rebound).await["error"], "unknown_host");
    let page = server
        .anonymous()
        .http
        .get(format!("{}/", server.base))
        .header("host", "evil.example")
        .send()
        .await
        .expect("request");
    assert_eq!(page.status(), StatusCode::MISDIRECTED_REQUEST);
    // A platform's health check names the instance's own address: the
    // health answer (a status, nothing a rebinding page could use) is given.
    let health = server
        .anonymous()
        .http
        .get(format!("{}/api/health", server.base))
        .header("host", "10.1.2.3:10000")
        .send()
        .await
        .expect("request");
    assert_eq!(health.status(), StatusCode::OK);

    // nginx's default: Host rewritten to the upstream, Origin the public one.
    let port = server.base.rsplit(':').next().expect("port").to_owned();
    let upstream: &'static str = Box::leak(format!("127.0.0.1:{port}").into_boxed_str());
    let proxied = write(upstream, "https://watchpost.example.com")
        .await
        .expect("request");
    assert_eq!(proxied.status(), StatusCode::CREATED);
    let public = write("watchpost.example.com", "https://watchpost.example.com")
        .await
        .expect("request");
    assert_eq!(public.status(), StatusCode::CREATED);
    let plain_http = write(upstream, "http://watchpost.example.com")
        .await
        .expect("request");
    assert_eq!(
        plain_http.status(),
        StatusCode::FORBIDDEN,
        "the scheme counts"
    );
    let projects = json(admin.get("/api/projects").await).await;
    assert_eq!(projects.as_array().map(Vec::len), Some(2), "{projects}");
}
