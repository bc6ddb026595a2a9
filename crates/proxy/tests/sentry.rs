//! The Sentry client against a fake Sentry that follows Sentry's OpenAPI
//! document: the fake's answers and the client's requests are checked
//! against that document.

mod common;

use common::fake_sentry::{self, FakeSentry, World, template_of};
use common::specs::{self, SENTRY};
use serde_json::{Value, json};
use watchpost_proxy::secret::Secret;
use watchpost_proxy::upstream::sentry::Sentry;
use watchpost_proxy::upstream::{CallLimits, Upstream, UpstreamError};

const DSN: &str = "https://publickey@o1.ingest.us.sentry.io/4";

fn world() -> World {
    let mut world = World {
        org: "acme".into(),
        ..World::default()
    };
    world.projects.insert(
        "voxanne".into(),
        fake_sentry::project(4, "voxanne", "node", Some("2026-11-22T12:05:00Z")),
    );
    world.projects.insert(
        "voxanne-web".into(),
        fake_sentry::project(5, "voxanne-web", "javascript-nextjs", None),
    );
    world
        .keys
        .insert("voxanne".into(), vec![fake_sentry::client_key(4, DSN)]);
    world.integrations = vec![fake_sentry::slack_integration("active")];
    world.issues = vec![fake_sentry::issue(11, "fatal", "TypeError: x is undefined")];
    world.hourly_errors = vec![Some(2), None, Some(4), Some(1)];
    world
}

fn client(fake: &FakeSentry) -> Sentry {
    Sentry::new(
        Upstream::new(CallLimits::default()).expect("client"),
        fake.base.clone(),
        Secret::new("sentry-token"),
    )
}

#[test]
fn the_fakes_answers_fit_sentrys_document() {
    let document = specs::document(SENTRY);
    let world = world();
    let cases: [(&str, Value); 5] = [
        (
            "/api/0/organizations/{organization_id_or_slug}/stats_v2/",
            fake_sentry::stats_answer(&[Some(3), None, Some(7)]),
        ),
        (
            "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/",
            world.projects["voxanne"].clone(),
        ),
        (
            "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/keys/",
            Value::Array(world.keys["voxanne"].clone()),
        ),
        (
            "/api/0/organizations/{organization_id_or_slug}/integrations/",
            Value::Array(world.integrations.clone()),
        ),
        (
            "/api/0/organizations/{organization_id_or_slug}/issues/",
            Value::Array(world.issues.clone()),
        ),
    ];
    for (path, value) in cases {
        let schema = specs::response_schema(document, "get", path, "200");
        specs::validate(document, schema, &value).unwrap_or_else(|err| panic!("{path}: {err}"));
    }
    let legacy = specs::document(specs::SENTRY_LEGACY);
    for (path, value) in [
        (
            fake_sentry::METRIC_RULES,
            json!([fake_sentry::metric_rule(
                "High Error Rate Alert",
                "failure_rate()",
                5,
                0.05,
                None
            )]),
        ),
        (
            fake_sentry::ISSUE_RULES,
            json!([fake_sentry::issue_rule(
                "New Production Issue",
                domain::alerts::FIRST_SEEN_CONDITION
            )]),
        ),
    ] {
        let schema = specs::response_schema(legacy, "get", path, "200");
        specs::validate(legacy, schema, &value).unwrap_or_else(|err| panic!("{path}: {err}"));
    }
    let workflows = specs::response_schema(document, "get", fake_sentry::WORKFLOWS, "200");
    specs::validate(
        document,
        workflows,
        &json!([fake_sentry::workflow(
            "New Production Issue",
            "first_seen_event"
        )]),
    )
    .expect("workflows");
    // The checker is not a rubber stamp: a project without its id does not fit.
    let mut broken = world.projects["voxanne"].clone();
    broken.as_object_mut().expect("object").remove("id");
    let schema = specs::response_schema(
        document,
        "get",
        "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}/",
        "200",
    );
    assert!(specs::validate(document, schema, &broken).is_err());
}

fn day_ago() -> jiff::Timestamp {
    jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24)
}

#[tokio::test]
async fn the_client_reads_sentry_through_the_organizations_region() {
    let fake = FakeSentry::start(world()).await;
    let sentry = client(&fake);
    let project = sentry.project("acme", "voxanne").await.expect("project");
    assert_eq!(project.id, "4");
    assert_eq!(project.platform.as_deref(), Some("node"));
    assert_eq!(project.first_event.as_deref(), Some("2026-11-22T12:05:00Z"));
    let web = sentry
        .project("acme", "voxanne-web")
        .await
        .expect("project");
    assert_eq!(web.first_event, None);

    let keys = sentry.client_keys("acme", "voxanne").await.expect("keys");
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].dsn.public, DSN);
    assert!(
        !format!("{keys:?}").contains(fake_sentry::DSN_SECRET),
        "the secret is never read"
    );

    let slack = sentry
        .slack_integrations("acme")
        .await
        .expect("integrations");
    assert_eq!(slack[0].provider.key, "slack");
    assert_eq!(slack[0].status, "active");

    let issues = sentry
        .new_issues("acme", &["4"], day_ago(), Some("level:fatal"))
        .await
        .expect("issues");
    assert_eq!(issues[0].short_id, "VOX-11");
    assert_eq!(issues[0].count, "3");
    let top = sentry
        .top_issues("acme", "4", "24h", day_ago(), 3)
        .await
        .expect("issues");
    assert_eq!(top.len(), 1);

    let requests = fake.requests();
    assert_eq!(
        requests[0].0, "/api/0/organizations/acme/",
        "the region is asked once"
    );
    assert!(
        requests[1..]
            .iter()
            .all(|(path, _)| path.starts_with("/us/api/0/")),
        "{requests:?}"
    );
}

#[tokio::test]
async fn the_clients_requests_use_only_what_sentrys_document_declares() {
    let fake = FakeSentry::start(world()).await;
    let sentry = client(&fake);
    sentry.project("acme", "voxanne").await.expect("project");
    sentry.client_keys("acme", "voxanne").await.expect("keys");
    sentry
        .slack_integrations("acme")
        .await
        .expect("integrations");
    sentry
        .new_issues("acme", &["4"], day_ago(), None)
        .await
        .expect("issues");
    let both = || vec!["4".to_owned(), "5".to_owned()];
    let rates = sentry
        .failure_rates("acme", both(), day_ago(), jiff::Timestamp::now())
        .await
        .expect("failure rates");
    let projects: Vec<Option<&str>> = rates.iter().map(|(id, _)| id.as_deref()).collect();
    assert_eq!(projects, [Some("4"), Some("5")]);
    let errors = sentry
        .errors_by_project("acme", both(), day_ago(), jiff::Timestamp::now())
        .await
        .expect("errors by project");
    assert_eq!(
        errors,
        [(Some("4".to_owned()), 7), (Some("5".to_owned()), 7)]
    );
    let document = specs::document(SENTRY);
    for (path, query) in fake.requests() {
        let template =
            template_of(&path).unwrap_or_else(|| panic!("{path} is not in the document"));
        let declared = specs::query_parameters(document, "get", template);
        for (name, _) in query {
            assert!(
                declared.contains(&name),
                "{path}: `{name}` is not a parameter of {template}"
            );
        }
    }
}

#[tokio::test]
async fn a_missing_project_and_a_missing_endpoint_are_told_apart() {
    let fake = FakeSentry::start(world()).await;
    let sentry = client(&fake);
    assert_eq!(
        sentry.project("acme", "nope").await,
        Err(UpstreamError::NotFound)
    );
    assert_eq!(
        sentry.organization("other").await.map(|org| org.slug),
        Err(UpstreamError::NotFound)
    );
    // The fake answers unknown API paths with its web app, as some servers do.
    let upstream = Upstream::new(CallLimits::default()).expect("client");
    let missing = upstream
        .get::<Value>(
            &fake
                .base
                .join("api/0/organizations/acme/detectors/")
                .expect("url"),
            None,
        )
        .await;
    assert_eq!(
        missing,
        Err(UpstreamError::NotJson("an HTML page".to_owned()))
    );
}
