//! A refused request changes nothing: for every route that changes the
//! store, a request it refuses (bad input, the wrong role, the wrong moment)
//! leaves the projects and every log exactly as they were.

mod common;

use common::{Client, json};
use fakes::Launch;
use fakes::launch::Stage;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Everything the API shows of the store: the projects and each one's log.
async fn store_as_seen(client: &Client) -> Value {
    let projects = json(client.get("/api/projects").await).await;
    let mut logs = Vec::new();
    for project in projects.as_array().expect("a list") {
        let id = project["id"].as_i64().expect("an id");
        logs.push(json(client.get(&format!("/api/projects/{id}/log")).await).await);
    }
    json!({ "projects": projects, "logs": logs })
}

#[tokio::test]
async fn every_refused_change_leaves_the_store_as_it_was() {
    let launch = Launch::start(Stage::Ready).await;
    let (server, project) = common::launch_server(&launch).await;
    let (ana, dana) = (server.member("Ana").await, server.admin().await);
    let (status, _) = ana
        .append(project, "kept", "ticked", json!({ "item": "h0-baseline" }))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let p = format!("/api/projects/{project}");
    let many = |n: usize| json!({ "items": vec!["render-deploy-live"; n] }).to_string();
    let cases: Vec<(&str, &Client, Method, String, String, StatusCode)> = vec![
        (
            "a project without a name",
            &dana,
            Method::POST,
            "/api/projects".into(),
            json!({ "name": "" }).to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "a project made by a member",
            &ana,
            Method::POST,
            "/api/projects".into(),
            json!({ "name": "Mine" }).to_string(),
            StatusCode::FORBIDDEN,
        ),
        (
            "settings with a bad time zone",
            &dana,
            Method::PATCH,
            p.clone(),
            json!({ "name": "Renamed", "timezone": "Mars/Olympus" }).to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "settings changed by a member",
            &ana,
            Method::PATCH,
            p.clone(),
            json!({ "name": "Renamed" }).to_string(),
            StatusCode::FORBIDDEN,
        ),
        (
            "a watch starting next year",
            &ana,
            Method::POST,
            format!("{p}/watch"),
            json!({ "start": "2099-01-01T00:00:00Z" }).to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "a watch with no grace",
            &ana,
            Method::POST,
            format!("{p}/watch"),
            json!({ "grace_minutes": 0 }).to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "a sign-off before any watch, with a waiver",
            &dana,
            Method::POST,
            format!("{p}/sign-off"),
            json!({ "waivers": { "success-websockets": "none yet" } }).to_string(),
            StatusCode::CONFLICT,
        ),
        (
            "a sign-off by a member",
            &ana,
            Method::POST,
            format!("{p}/sign-off"),
            "{}".into(),
            StatusCode::FORBIDDEN,
        ),
        (
            "a sign-off written into the log",
            &ana,
            Method::POST,
            format!("{p}/log"),
            json!({ "op_id": "x", "kind": "sign_off", "payload": { "approved": true } })
                .to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "a rollback with the wrong name",
            &dana,
            Method::POST,
            format!("{p}/rollback"),
            json!({ "confirm": "voxanne" }).to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "a rollback by a member",
            &ana,
            Method::POST,
            format!("{p}/rollback"),
            json!({ "confirm": "voxanne-backend" }).to_string(),
            StatusCode::FORBIDDEN,
        ),
        (
            "an action by a member",
            &ana,
            Method::POST,
            format!("{p}/actions/render.deploy"),
            "{}".into(),
            StatusCode::FORBIDDEN,
        ),
        (
            "an unknown action",
            &dana,
            Method::POST,
            format!("{p}/actions/render.delete_everything"),
            "{}".into(),
            StatusCode::NOT_FOUND,
        ),
        (
            "more checks than the playbook has",
            &ana,
            Method::POST,
            format!("{p}/checks"),
            many(2_500),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "a check of an unknown item",
            &ana,
            Method::POST,
            format!("{p}/checks"),
            json!({ "items": ["render-deploy-live", "nope"] }).to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "a check of an item ticked by hand",
            &ana,
            Method::POST,
            format!("{p}/checks/h0-baseline"),
            String::new(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ];
    for (what, client, method, path, body, expected) in cases {
        let before = store_as_seen(&dana).await;
        let answer = client.send(method, &path, Some(&body)).await;
        assert_eq!(answer.status(), expected, "{what}: {}", json(answer).await);
        assert_eq!(
            store_as_seen(&dana).await,
            before,
            "{what} changed the store"
        );
    }
}
