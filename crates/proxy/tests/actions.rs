//! Actions through the proxy against fake Sentry, Render and Slack: on a
//! launch that has only begun, an admin's actions do the rest of the setup
//! until the checks pass; each action is idempotent, logged with who did it,
//! sends what the services' documents accept, and leaks no secret.

mod common;

use common::fake_sentry;
use common::specs::{self, RENDER, SENTRY, SENTRY_LEGACY};
use common::{Client, json};
use fakes::Launch;
use fakes::launch::{SERVICE, Stage};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn act(admin: &Client, project: i64, action: &str, body: &str) -> Value {
    let response = admin
        .post(&format!("/api/projects/{project}/actions/{action}"), body)
        .await;
    assert_eq!(response.status(), StatusCode::OK, "{action}");
    json(response).await
}

async fn check(client: &Client, project: i64, item: &str) -> Value {
    json(
        client
            .post(&format!("/api/projects/{project}/checks/{item}"), "")
            .await,
    )
    .await
}

/// Every change the fakes received fits the operation's request schema.
fn changes_fit_the_documents(launch: &Launch) {
    for (path, body) in &fake_sentry_changes(launch) {
        let template = fake_sentry::template_of(path)
            .unwrap_or_else(|| panic!("{path} is not in Sentry's documents"));
        let legacy = [
            fake_sentry::ISSUE_RULES,
            fake_sentry::METRIC_RULES,
            fake_sentry::ISSUE_RULE,
            fake_sentry::METRIC_RULE,
        ];
        let spec = if legacy.contains(&template) {
            SENTRY_LEGACY
        } else {
            SENTRY
        };
        let document = specs::document(spec);
        // Creates are POSTs; resolving an issue and correcting a rule, PUTs.
        let method = if [
            fake_sentry::ISSUES,
            fake_sentry::ISSUE_RULE,
            fake_sentry::METRIC_RULE,
            fake_sentry::WORKFLOW,
            fake_sentry::DETECTOR,
        ]
        .contains(&template)
        {
            "put"
        } else {
            "post"
        };
        let mut schema = specs::request_schema(document, method, template).clone();
        if template == fake_sentry::ISSUES {
            // The document marks every field of this bulk update required,
            // while its description has each change only what it names.
            if let Some(fields) = schema.as_object_mut() {
                fields.remove("required");
            }
        }
        specs::validate(document, &schema, body)
            .unwrap_or_else(|err| panic!("{method} {path}: {err}\n{body}"));
    }
    let document = specs::document(RENDER);
    for (method, path, _, body) in launch.render.requests() {
        if let Some(body) = body {
            let template = fakes::render::template_of(&path).expect("a Render path");
            let schema = specs::request_schema(document, &method.to_lowercase(), template);
            specs::validate(document, schema, &body)
                .unwrap_or_else(|err| panic!("{method} {path}: {err}\n{body}"));
        }
    }
}

fn fake_sentry_changes(launch: &Launch) -> Vec<(String, Value)> {
    launch.sentry.world.lock().expect("lock").changes.clone()
}

#[tokio::test]
async fn an_admin_s_actions_finish_a_bare_setup_until_the_checks_pass() {
    let launch = Launch::start(Stage::Bare).await;
    let (server, project) = common::launch_server(&launch).await;
    let admin = server.admin().await;
    // No Sentry project yet: the SDK's code carries a placeholder, and why.
    let snippet_path = format!("/api/projects/{project}/sdk-snippet");
    let snippet = json(admin.get(&snippet_path).await).await;
    assert!(
        snippet["code"]
            .as_str()
            .is_some_and(|code| code.contains("https://<public key>@<host>/<project id>")),
        "{snippet}"
    );
    assert!(
        snippet["problem"]
            .as_str()
            .is_some_and(|why| why.starts_with("The DSN is left for you to fill in")),
        "{snippet}"
    );

    assert_eq!(
        check(&admin, project, "sentry-backend-project-exists").await["status"],
        "failed"
    );
    let created = act(&admin, project, "sentry.create_project", "{}").await;
    assert_eq!(created["status"], "done", "{created}");
    assert_eq!(created["changed"]["platform"], "node-express");
    assert_eq!(created["changed"]["team"], "launch");
    assert_eq!(created["by"], "Dana");
    let again = act(&admin, project, "sentry.create_project", "{}").await;
    assert_eq!(again["status"], "unchanged", "{again}");

    let rules = act(&admin, project, "sentry.create_alert_rules", "{}").await;
    assert_eq!(rules["status"], "done", "{rules}");
    for name in [
        "High Error Rate Alert",
        "New Production Issue",
        "Error Rate Spike",
    ] {
        assert_eq!(rules["changed"][name], "created", "{rules}");
    }
    // Every rule notifies: the metric rules email the project's team, the
    // issue rule the issue's owners (else the active members).
    for (path, body) in fake_sentry_changes(&launch) {
        if path.ends_with("/alert-rules/") {
            let action = &body["triggers"][0]["actions"][0];
            assert_eq!(action["type"], "email", "{body}");
            assert_eq!(action["targetType"], "team", "{body}");
            assert!(
                action["targetIdentifier"]
                    .as_str()
                    .is_some_and(|id| !id.is_empty()),
                "{body}"
            );
        } else if path.ends_with("/rules/") {
            assert_eq!(
                body["actions"][0]["id"], "sentry.mail.actions.NotifyEmailAction",
                "{body}"
            );
        }
    }
    for item in [
        "alert-high-error-rate",
        "alert-new-issue",
        "alert-error-spike",
    ] {
        let report = check(&admin, project, item).await;
        assert_eq!(report["status"], "passed", "{item}: {report}");
    }
    let with_seed_003 = act(
        &admin,
        project,
        "sentry.create_alert_rules",
        r#"{"seed_003_rules":true}"#,
    )
    .await;
    assert_eq!(
        with_seed_003["changed"]["New Production Issue"],
        "already there"
    );
    assert_eq!(
        with_seed_003["changed"]["Payment Processing Errors"],
        "created"
    );
    assert_eq!(with_seed_003["message"], "Created 5 alert rules in Sentry.");
    // Seed 003's rules turn green as they are, each with its notification.
    for item in [
        "alert-payment-errors",
        "alert-database-errors",
        "alert-auth-failures",
        "alert-error-count",
        "alert-slow-transactions",
    ] {
        let report = check(&admin, project, item).await;
        assert_eq!(report["status"], "passed", "{item}: {report}");
        assert!(
            report["message"]
                .as_str()
                .unwrap_or_default()
                .contains("notifying someone"),
            "{item}: {report}"
        );
    }

    // Before it runs, its confirmation: the service by name, each variable,
    // the DSN masked; and that answer fits the document.
    let preview_path = format!("/api/projects/{project}/actions/render.set_env_vars");
    let preview = json(admin.get(&preview_path).await).await;
    assert_eq!(preview["service"], "voxanne-backend", "{preview}");
    let said: Vec<&str> = preview["plan"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        said.first().copied(),
        Some("Set these variables on “voxanne-backend”? They take effect at the next deploy."),
        "{preview}"
    );
    assert!(said.contains(&"NODE_ENV = production (new)"), "{preview}");
    let dsn = said
        .iter()
        .find(|line| line.starts_with("SENTRY_DSN = "))
        .unwrap_or_else(|| panic!("the DSN in {preview}"));
    assert!(
        dsn.contains("…@") && dsn.ends_with("(new)"),
        "masked: {dsn}"
    );
    let document = json(admin.get("/api/openapi.json").await).await;
    common::schema::check(
        &document,
        &json!({ "$ref": "#/components/schemas/ActionPreview" }),
        &preview,
    )
    .unwrap_or_else(|err| panic!("{err}\n{preview}"));

    let env = act(&admin, project, "render.set_env_vars", "{}").await;
    assert_eq!(env["status"], "done", "{env}");
    assert_eq!(
        env["changed"]["SENTRY_DSN"],
        "set to the project's public DSN"
    );
    assert_eq!(env["changed"]["NODE_ENV"], "set to production");
    assert_eq!(
        env["changed"]["SENTRY_TRACES_SAMPLE_RATE"], "set to 0.1",
        "seed 002's rate for Node.js"
    );
    assert_eq!(env["changed"]["SENTRY_PROFILES_SAMPLE_RATE"], "set to 0.1");
    assert_eq!(
        env["changed"]["SENTRY_RELEASE"],
        Value::Null,
        "the release follows deploys: never fixed"
    );
    assert_eq!(
        act(&admin, project, "render.set_env_vars", "{}").await["status"],
        "unchanged"
    );
    let nothing = json(admin.get(&preview_path).await).await;
    assert_eq!(
        nothing["plan"][0], "Nothing to set: “voxanne-backend” already has every Sentry variable.",
        "{nothing}"
    );
    let deploy = act(&admin, project, "render.deploy", "{}").await;
    assert_eq!(deploy["status"], "done", "{deploy}");
    let second = act(&admin, project, "render.deploy", "{}").await;
    assert_eq!(
        second["status"], "unchanged",
        "a deploy is under way: {second}"
    );

    let slack = act(&admin, project, "slack.test_message", "{}").await;
    assert_eq!(slack["status"], "done", "{slack}");
    assert!(launch.slack.messages()[0].contains("from Dana"));

    assert_eq!(
        check(&admin, project, "sentry-backend-events").await["status"],
        "failed"
    );
    let sent = act(&admin, project, "sentry.test_event", "{}").await;
    assert_eq!(sent["status"], "pending", "{sent}");
    let marker = sent["changed"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let arrived = wait_for_action(&admin, project, "sentry.test_event", "done").await;
    assert!(
        arrived["changed"]["issue"]
            .as_str()
            .unwrap_or_default()
            .starts_with("VOX-")
    );
    assert!(
        launch.sentry.world.lock().expect("lock").envelopes[0].contains(&marker),
        "the event went through the DSN"
    );
    // Tagged as Watchpost's, and resolved once seen: it is no new issue.
    assert!(
        launch.sentry.world.lock().expect("lock").envelopes[0].contains("\"watchpost\":\"test\""),
        "the test event is tagged watchpost:test"
    );
    assert_eq!(arrived["changed"]["issue status"], "resolved", "{arrived}");
    assert!(
        launch
            .sentry
            .world
            .lock()
            .expect("lock")
            .issues
            .iter()
            .any(
                |issue| issue["title"].as_str().is_some_and(|t| t.contains(&marker))
                    && issue["status"] == "resolved"
            ),
        "Sentry has it resolved"
    );

    for item in [
        "sentry-backend-project-exists",
        "sentry-backend-dsn",
        "alert-high-error-rate",
        "alert-new-issue",
        "alert-error-spike",
        "render-dsn-matches",
        "render-env-sentry-environment",
        "render-env-node-env",
        "sentry-backend-events",
    ] {
        let report = check(&admin, project, item).await;
        assert_eq!(report["status"], "passed", "{item}: {report}");
    }
    changes_fit_the_documents(&launch);

    // Everything was logged, by who did it.
    let state = json(admin.get(&format!("/api/projects/{project}/state")).await).await;
    assert_eq!(state["actions"]["render.set_env_vars"]["by"], "Dana");
    let log = admin
        .get(&format!("/api/projects/{project}/export?format=markdown"))
        .await
        .text()
        .await
        .expect("text");
    assert!(log.contains("Create the Sentry project: done"), "{log}");
}

async fn wait_for_action(client: &Client, project: i64, action: &str, status: &str) -> Value {
    for _ in 0..100 {
        let state = json(client.get(&format!("/api/projects/{project}/state")).await).await;
        let record = &state["actions"][action];
        if record["status"] == status {
            return record.clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{action} never reached {status}");
}

#[tokio::test]
async fn a_server_with_only_the_current_alert_api_gets_what_it_can_take() {
    let launch = Launch::start(Stage::Ready).await;
    {
        let mut world = launch.sentry.world.lock().expect("lock");
        world.issue_rules = None;
        world.metric_rules = None;
    }
    // A fast clock: a check's result is not reused seconds later, when
    // the test has changed the rules in Sentry since.
    let (server, project) = common::launch_server_in(
        tempfile::TempDir::new().expect("dir"),
        &launch,
        common::Options {
            clock_speed: 3600,
            ..common::Options::default()
        },
    )
    .await;
    let admin = server.admin().await;
    let rules = act(
        &admin,
        project,
        "sentry.create_alert_rules",
        r#"{"seed_003_rules":true}"#,
    )
    .await;
    assert_eq!(rules["status"], "done", "{rules}");
    assert_eq!(
        rules["changed"]["New Production Issue"],
        "created as an alert"
    );
    for metric in [
        "High Error Rate Alert",
        "Error Rate Spike",
        "Performance Issues",
    ] {
        assert_eq!(
            rules["changed"][metric], "created as a monitor and its alert",
            "{rules}"
        );
    }
    // Seed 003's filters go into the alert's filters: the payments rule
    // reads the tags, either one enough.
    assert_eq!(
        rules["changed"]["Payment Processing Errors"],
        "created as an alert"
    );
    for item in [
        "alert-new-issue",
        "alert-high-error-rate",
        "alert-error-spike",
        "alert-payment-errors",
        "alert-database-errors",
    ] {
        assert_eq!(
            check(&admin, project, item).await["status"],
            "passed",
            "{item}"
        );
    }
    {
        let world = launch.sentry.world.lock().expect("lock");
        let (_, rate) = world
            .changes
            .iter()
            .find(|(path, body)| {
                path.ends_with("/detectors/") && body["name"] == "High Error Rate Alert"
            })
            .expect("a monitor for the error rate");
        assert_eq!(rate["data_sources"][0]["aggregate"], "failure_rate()");
        assert_eq!(rate["data_sources"][0]["timeWindow"], 300);
        // 5% as failure_rate() measures it: a fraction.
        assert_eq!(rate["condition_group"]["conditions"][0]["comparison"], 0.05);
        let alert = world
            .changes
            .iter()
            .find(|(path, body)| {
                path.ends_with("/workflows/") && body["name"] == "High Error Rate Alert"
            })
            .map(|(_, body)| body.clone())
            .expect("an alert for the monitor");
        assert!(
            alert["detector_ids"][0].is_u64(),
            "the alert is raised by the monitor's issues"
        );
        let actions = &alert["action_filters"][0]["actions"];
        assert_eq!(actions[0]["type"], "email", "{alert}");
        assert_eq!(actions[0]["config"]["targetType"], "issue_owners");
        let (_, payments) = world
            .changes
            .iter()
            .find(|(_, body)| body["name"] == "Payment Processing Errors")
            .expect("the payments alert");
        let filters = &payments["action_filters"][0];
        assert_eq!(filters["logic_type"], "any");
        assert_eq!(filters["conditions"][0]["type"], "tagged_event");
        assert_eq!(
            filters["conditions"][0]["comparison"],
            json!({ "key": "feature_area", "match": "co", "value": "payment" })
        );
    }
    changes_fit_the_documents(&launch);

    // An alert changed in Sentry since: its monitor's threshold, and its
    // notification gone. The check says so; the action replaces both.
    {
        let mut world = launch.sentry.world.lock().expect("lock");
        for monitor in &mut world.detectors {
            if monitor["name"] == "High Error Rate Alert" {
                monitor["conditionGroup"]["conditions"][0]["comparison"] = json!(5);
            }
        }
        for alert in &mut world.workflows {
            if alert["name"] == "High Error Rate Alert" {
                alert["actionFilters"][0]["actions"] = json!([]);
            }
        }
    }
    let before = check(&admin, project, "alert-high-error-rate").await;
    assert_eq!(before["status"], "failed", "{before}");
    assert!(
        before["message"].as_str().unwrap_or_default().contains(
            "its threshold is 5 (500%) where the Sentry alerts guide says 0.05 (5%); it exists but notifies nobody"
        ),
        "{before}"
    );
    let rules = act(&admin, project, "sentry.create_alert_rules", "{}").await;
    assert_eq!(rules["status"], "done", "{rules}");
    assert!(
        rules["changed"]["High Error Rate Alert"]
            .as_str()
            .unwrap_or_default()
            .starts_with("corrected: its threshold is 5 (500%)"),
        "{rules}"
    );
    assert_eq!(rules["changed"]["New Production Issue"], "already there");
    let after = check(&admin, project, "alert-high-error-rate").await;
    assert_eq!(after["status"], "passed", "{after}");
    changes_fit_the_documents(&launch);
}

#[tokio::test]
async fn actions_are_for_admins_named_and_never_doubled() {
    let launch = Launch::start(Stage::Ready).await;
    let (server, project) = common::launch_server(&launch).await;
    let ana = server.member("Ana").await;
    let refused = ana
        .post(
            &format!("/api/projects/{project}/actions/render.deploy"),
            "{}",
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let admin = server.admin().await;
    let unknown = admin
        .post(
            &format!("/api/projects/{project}/actions/render.delete"),
            "{}",
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert!(
        json(unknown).await["message"]
            .as_str()
            .unwrap_or_default()
            .contains("render.set_env_vars")
    );
    let wrong = admin
        .post(
            &format!("/api/projects/{project}/actions/sentry.create_alert_rules"),
            r#"{"everything":true}"#,
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);

    // Two deploys asked for at once: one runs, the other is told.
    let path = format!("/api/projects/{project}/actions/render.deploy");
    let (first, second) = tokio::join!(admin.post(&path, "{}"), admin.post(&path, "{}"));
    let mut statuses = [first.status(), second.status()];
    statuses.sort();
    assert!(
        statuses == [StatusCode::OK, StatusCode::OK]
            || statuses == [StatusCode::OK, StatusCode::CONFLICT],
        "{statuses:?}"
    );
    let deploys = launch
        .render
        .requests()
        .iter()
        .filter(|(method, path, ..)| method == "POST" && path.ends_with("/deploys"))
        .count();
    assert_eq!(deploys, 1, "one deploy started");

    // An action on a service that fails says so and changes nothing else.
    launch.render.world.lock().expect("lock").services.clear();
    launch
        .render
        .world
        .lock()
        .expect("lock")
        .env
        .remove(SERVICE);
    let failed = act(&admin, project, "render.set_env_vars", "{}").await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert!(
        failed["message"]
            .as_str()
            .unwrap_or_default()
            .contains("Render")
    );
}

#[tokio::test]
async fn the_release_follows_deploys_and_each_platform_gets_its_seed_s_settings() {
    let launch = Launch::start(Stage::Ready).await;
    let (server, project) = common::launch_server(&launch).await;
    let admin = server.admin().await;
    let env = |key: &str| {
        fakes::lock(&launch.render.world)
            .env
            .values()
            .flatten()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    // What an earlier Watchpost set: a release fixed at one commit.
    fakes::lock(&launch.render.world)
        .env
        .values_mut()
        .for_each(|vars| vars.push(("SENTRY_RELEASE".into(), "a1b2c3d".into())));
    let stale = check(&admin, project, "sentry-release-live").await;
    assert_eq!(stale["status"], "failed", "{stale}");
    assert!(
        stale["message"]
            .as_str()
            .unwrap_or_default()
            .contains("SENTRY_RELEASE is fixed on the service"),
        "{stale}"
    );
    // A value set by hand that differs is replaced, and never shown.
    fakes::lock(&launch.render.world)
        .env
        .values_mut()
        .flatten()
        .filter(|(k, _)| k == "NODE_ENV")
        .for_each(|(_, v)| *v = "s3cr3t-by-hand".into());
    let preview = json(
        admin
            .get(&format!(
                "/api/projects/{project}/actions/render.set_env_vars"
            ))
            .await,
    )
    .await;
    let said = preview["plan"].to_string();
    assert!(
        said.contains("NODE_ENV = production (replacing its value)"),
        "{said}"
    );
    assert!(said.contains("SENTRY_RELEASE removed"), "{said}");
    assert!(
        !said.contains("s3cr3t-by-hand") && !said.contains("a1b2c3d"),
        "{said}"
    );
    let fixed = act(&admin, project, "render.set_env_vars", "{}").await;
    assert_eq!(fixed["status"], "done", "{fixed}");
    assert!(
        fixed["changed"]["SENTRY_RELEASE"]
            .as_str()
            .unwrap_or_default()
            .starts_with("removed"),
        "{fixed}"
    );
    assert_eq!(env("SENTRY_RELEASE"), None);
    let live = check(&admin, project, "sentry-release-live").await;
    assert_eq!(live["status"], "passed", "{live}");
    assert_eq!(live["observed"]["release"], "b2c3d4e");

    // The SDK's code, for anyone following the setup: the project's real
    // public DSN, its platform's settings, the release from the deploy.
    let member = server.member("Ana").await;
    let dsn = check(&admin, project, "sentry-backend-dsn").await["observed"]["public DSN"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(dsn.starts_with("http"), "{dsn}");
    let snippet_path = format!("/api/projects/{project}/sdk-snippet");
    let node = json(member.get(&snippet_path).await).await;
    assert_eq!(node["caption"], "Initialize Sentry in Node.js", "{node}");
    assert_eq!(node["problem"], Value::Null, "{node}");
    let code = node["code"].as_str().unwrap_or_default();
    assert!(code.contains(&format!("\"{dsn}\"")), "{code}");
    assert!(code.contains("require(\"@sentry/node\")"), "{code}");
    assert!(code.contains("RENDER_GIT_COMMIT"), "{code}");
    let document = json(admin.get("/api/openapi.json").await).await;
    common::schema::check(
        &document,
        &json!({ "$ref": "#/components/schemas/Snippet" }),
        &node,
    )
    .unwrap_or_else(|err| panic!("{err}\n{node}"));

    // A FastAPI service: seed 003's rates, a team's own rate kept and shown
    // beside the seed's.
    let patched = admin
        .patch(
            &format!("/api/projects/{project}"),
            &serde_json::json!({ "platform": "fastapi" }).to_string(),
        )
        .await;
    assert_eq!(patched.status(), StatusCode::OK);
    let fastapi = json(member.get(&snippet_path).await).await;
    assert_eq!(fastapi["caption"], "Initialize Sentry in Python / FastAPI");
    assert!(
        fastapi["code"]
            .as_str()
            .is_some_and(|code| code.contains("sentry_sdk.init(") && code.contains(&dsn)),
        "{fastapi}"
    );
    fakes::lock(&launch.render.world)
        .env
        .values_mut()
        .for_each(|vars| vars.retain(|(k, _)| k != "SENTRY_PROFILES_SAMPLE_RATE"));
    let set = act(&admin, project, "render.set_env_vars", "{}").await;
    assert_eq!(set["changed"]["SENTRY_SAMPLE_RATE"], "set to 0.8", "{set}");
    assert_eq!(set["changed"]["SENTRY_PROFILES_SAMPLE_RATE"], "set to 0.02");
    assert_eq!(
        set["changed"]["SENTRY_TRACES_SAMPLE_RATE"],
        Value::Null,
        "the team's 0.1 stays"
    );
    assert_eq!(env("SENTRY_TRACES_SAMPLE_RATE").as_deref(), Some("0.1"));
    let rate = check(&admin, project, "render-env-traces-sample-rate").await;
    assert_eq!(rate["status"], "passed", "{rate}");
    assert_eq!(
        rate["observed"]["guide"],
        "the Sentry monitoring guide says 0.05"
    );
    assert_eq!(
        rate["observed"]["SENTRY_TRACES_SAMPLE_RATE"],
        "the team's own value"
    );
    assert!(
        !rate.to_string().contains("\"0.1\""),
        "the service's own value is never relayed: {rate}"
    );
}

#[tokio::test]
async fn a_rule_that_differs_from_the_seed_is_corrected_by_the_action() {
    let launch = Launch::start(Stage::Ready).await;
    {
        let mut world = launch.sentry.world.lock().expect("lock");
        let mut silent =
            fake_sentry::metric_rule("High Error Rate Alert", "failure_rate()", 5, 5.0, None);
        silent["triggers"][0]["actions"] = serde_json::json!([]);
        world.metric_rules = Some(vec![silent]);
    }
    let (server, project) = common::launch_server(&launch).await;
    let admin = server.admin().await;
    let before = check(&admin, project, "alert-high-error-rate").await;
    assert_eq!(before["status"], "failed", "{before}");
    let rules = act(&admin, project, "sentry.create_alert_rules", "{}").await;
    assert_eq!(rules["status"], "done", "{rules}");
    let said = rules["changed"]["High Error Rate Alert"]
        .as_str()
        .unwrap_or_default();
    assert!(
        said.starts_with("corrected: its threshold is 5 (500%) where the Sentry alerts guide says 0.05 (5%); it exists but notifies nobody"),
        "{rules}"
    );
    assert!(
        rules["message"]
            .as_str()
            .unwrap_or_default()
            .contains("corrected 1 alert rule (to match the playbook) in Sentry"),
        "{rules}"
    );
    let after = check(&admin, project, "alert-high-error-rate").await;
    assert_eq!(after["status"], "passed", "{after}");
    changes_fit_the_documents(&launch);

    // Seed 003's payments rule on the message, where the seed reads tags.
    launch
        .sentry
        .world
        .lock()
        .expect("lock")
        .issue_rules
        .get_or_insert_with(Vec::new)
        .push(fake_sentry::filtered_issue_rule(
            "Payment Processing Errors",
            &[("message", "payment"), ("message", "stripe")],
        ));
    let before = check(&admin, project, "alert-payment-errors").await;
    assert_eq!(before["status"], "failed", "{before}");
    assert!(
        before["message"]
            .as_str()
            .unwrap_or_default()
            .contains("it does not look for “tag feature_area contains payment”, as the Sentry monitoring guide asks"),
        "{before}"
    );
    let rules = act(
        &admin,
        project,
        "sentry.create_alert_rules",
        r#"{"seed_003_rules":true}"#,
    )
    .await;
    assert!(
        rules["changed"]["Payment Processing Errors"]
            .as_str()
            .unwrap_or_default()
            .starts_with("corrected: it does not look for"),
        "{rules}"
    );
    let after = check(&admin, project, "alert-payment-errors").await;
    assert_eq!(after["status"], "passed", "{after}");
    changes_fit_the_documents(&launch);
}
