//! One launch, all four fakes at once: a Sentry organization, a Render
//! service, a Slack webhook and the service's own endpoints, either fully set
//! up as seed 000 asks ([`Stage::Ready`]: every live check passes) or only
//! begun ([`Stage::Bare`]: a Sentry team and a Render service, nothing else,
//! for the actions to do the rest).

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::Latency;
use crate::render::{self, FakeRender};
use crate::sentry::{self, FakeSentry, Transaction};
use crate::service::{self, FakeService};
use crate::slack::FakeSlack;

pub const ORG: &str = "acme";
pub const TEAM: &str = "launch";
pub const PROJECT: &str = "voxanne";
pub const PROJECT_ID: u64 = 4;
/// The frontend's project, made in Sentry by hand before Watchpost is used
/// (it is in both stages).
pub const FRONTEND: &str = "voxanne-frontend";
pub const FRONTEND_ID: u64 = 5;
pub const SERVICE: &str = "srv-d4voxanne";
/// Distinctive secrets, so a test can look for them anywhere they must not be.
pub const SENTRY_TOKEN: &str = "sntrys_canary_token_5e1f";
pub const RENDER_KEY: &str = "rnd_canary_key_77aa";
pub const DSN_RENDER_SECRET: &str = "renderdsnsecret";
pub const DATABASE_PASSWORD: &str = "dbpassword";
/// Transaction names as Sentry shows them, per endpoint of the playbook.
pub const TRANSACTIONS: [(&str, &str); 3] = [
    ("calls", "POST /api/calls"),
    ("webhooks", "POST /api/webhooks/vapi"),
    ("assistants", "GET /api/assistants"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Everything seed 000 asks for is in place.
    Ready,
    /// A Sentry team with the frontend's project and the Slack integration
    /// (both done by hand in Sentry), and a Render service with a live
    /// deploy; no backend project, env vars, alert rules or events.
    Bare,
}

#[derive(Debug, Clone)]
pub struct Launch {
    pub sentry: FakeSentry,
    pub render: FakeRender,
    pub slack: FakeSlack,
    pub service: FakeService,
    /// How long every one of them waits before it answers.
    pub latency: Latency,
}

impl Launch {
    pub async fn start(stage: Stage) -> Launch {
        let latency = Latency::default();
        let sentry = FakeSentry::start_with(
            sentry::World {
                org: ORG.into(),
                teams: vec![TEAM.into()],
                issue_rules: Some(Vec::new()),
                metric_rules: Some(Vec::new()),
                // Early in the month, within the free plan.
                usage: sentry::Usage {
                    errors: (300, 20),
                    transactions: (1_500, 150),
                },
                // Seed 001's instrumentation, working.
                error_tags: [
                    ("error_type", "bolna_api_failure", 3),
                    ("error_type", "webhook_processing_failed", 2),
                    ("severity", "critical", 3),
                    ("severity", "high", 2),
                ]
                .map(|(key, value, count)| (key.to_owned(), value.to_owned(), count))
                .into(),
                errors_week: 7,
                spans: [
                    ("call.initiate", 40),
                    ("webhook.process", 120),
                    ("queue.initiate_call", 8),
                ]
                .map(|(op, count)| (op.to_owned(), count))
                .into(),
                ..Default::default()
            },
            latency.clone(),
        )
        .await;
        {
            let mut world = crate::lock(&sentry.world);
            // Installed by hand in Sentry (no API does it).
            world.integrations = vec![sentry::slack_integration("active")];
            world.projects.insert(
                FRONTEND.into(),
                sentry::project(
                    FRONTEND_ID,
                    FRONTEND,
                    "javascript-nextjs",
                    Some("2026-11-22T12:04:00Z"),
                ),
            );
            let key = sentry::client_key(FRONTEND_ID, &sentry::dsn(&sentry.base, FRONTEND_ID));
            world.keys.insert(FRONTEND.into(), vec![key]);
            // The frontend already sends events: an issue first seen two
            // days ago, seen again half an hour ago (not a new one).
            let mut known = sentry::issue_of(
                FRONTEND_ID,
                900,
                "error",
                "ChunkLoadError: Loading chunk 7 failed",
            );
            known["firstSeen"] =
                json!((Timestamp::now() - SignedDuration::from_hours(48)).to_string());
            world.issues.push(known);
        }
        let render = FakeRender::start_with(render::World::default(), latency.clone()).await;
        let verified = Timestamp::now() - SignedDuration::from_hours(3);
        let launch = Launch {
            sentry,
            render,
            slack: FakeSlack::start_with(latency.clone()).await,
            service: FakeService::start_with(
                service::backup_row(&verified.to_string(), "success"),
                latency.clone(),
            )
            .await,
            latency,
        };
        {
            let mut world = crate::lock(&launch.render.world);
            world
                .services
                .insert(SERVICE.into(), render::service(SERVICE, "voxanne-backend"));
            world.env.insert(SERVICE.into(), Vec::new());
            world.deploys.insert(
                SERVICE.into(),
                vec![
                    render::deploy("dep-2", "live", "b2c3d4e"),
                    render::deploy("dep-1", "deactivated", "a1b2c3d"),
                ],
            );
            world.logs.push((
                SERVICE.into(),
                "warning".into(),
                "slow query: 180 ms".into(),
            ));
            // Deployed an hour ago, as the health endpoint's uptime says.
            let deployed = (Timestamp::now() - SignedDuration::from_hours(1)).to_string();
            world.latency = render::healthy_latency();
            world.events.insert(
                SERVICE.into(),
                vec![
                    render::event(SERVICE, "deploy_ended", &deployed, json!({ "deployId": "dep-2", "reason": {}, "deployStatus": "succeeded", "status": 2 })),
                    render::event(SERVICE, "deploy_started", &deployed, json!({ "deployId": "dep-2", "trigger": {} })),
                ],
            );
            world
                .instances
                .insert(SERVICE.into(), vec![(format!("{SERVICE}-a1b2c"), deployed)]);
        }
        if stage == Stage::Ready {
            launch.set_up();
        }
        launch
    }

    /// The public DSN of the project: it points at the fake, which ingests.
    pub fn public_dsn(&self) -> String {
        sentry::dsn(&self.sentry.base, PROJECT_ID)
    }

    fn set_up(&self) {
        let dsn = self.public_dsn();
        {
            let mut world = crate::lock(&self.sentry.world);
            world.projects.insert(
                PROJECT.into(),
                sentry::project(PROJECT_ID, PROJECT, "node", Some("2026-11-22T12:05:00Z")),
            );
            world
                .keys
                .insert(PROJECT.into(), vec![sentry::client_key(PROJECT_ID, &dsn)]);
            // Null buckets, as some compatible servers send; the last hour is under way.
            world.hourly_errors = vec![Some(1), None, Some(3), Some(2), Some(9)];
            world.issue_rules = Some(vec![sentry::issue_rule(
                "New Production Issue",
                domain::alerts::FIRST_SEEN_CONDITION,
            )]);
            world.metric_rules = Some(vec![
                sentry::metric_rule("High Error Rate Alert", "failure_rate()", 5, 0.05, None),
                sentry::metric_rule("Error Rate Spike", "count()", 10, 50.0, Some(10)),
            ]);
            world.transactions = healthy_transactions();
            // The live deploy's commit, as the SDK reports it.
            world.releases = vec!["b2c3d4e".into()];
        }
        let with_secret = dsn.replacen('@', &format!(":{DSN_RENDER_SECRET}@"), 1);
        let mut world = crate::lock(&self.render.world);
        world.env.insert(
            SERVICE.into(),
            [
                ("SENTRY_DSN", with_secret.as_str()),
                ("SENTRY_ENVIRONMENT", "production"),
                ("SENTRY_TRACES_SAMPLE_RATE", "0.1"),
                ("SENTRY_SEND_DEFAULT_PII", "false"),
                ("SENTRY_PROFILES_SAMPLE_RATE", "0.1"),
                ("NODE_ENV", "production"),
                (
                    "DATABASE_URL",
                    &format!("postgres://app:{DATABASE_PASSWORD}@db/voxanne"),
                ),
            ]
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value.to_owned()))
            .collect(),
        );
    }

    /// The proxy's configuration for these fakes, as environment variables.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("SENTRY_BASE_URL", self.sentry.base.to_string()),
            ("SENTRY_AUTH_TOKEN", SENTRY_TOKEN.to_owned()),
            ("SENTRY_ORG", ORG.to_owned()),
            ("RENDER_BASE_URL", self.render.base.to_string()),
            ("RENDER_API_KEY", RENDER_KEY.to_owned()),
            ("SLACK_WEBHOOK_URL", self.slack.webhook.to_string()),
            // The fakes are on 127.0.0.1.
            ("WATCHPOST_ALLOW_PRIVATE_TARGETS", "1".to_owned()),
        ]
    }

    /// The Watchpost project's settings, as `POST /api/projects` takes them.
    pub fn project_settings(&self, name: &str) -> Value {
        let transactions: serde_json::Map<String, Value> = TRANSACTIONS
            .iter()
            .map(|(endpoint, name)| ((*endpoint).to_owned(), json!(name)))
            .collect();
        json!({
            "name": name,
            "sentry_project": PROJECT,
            "sentry_frontend_project": FRONTEND,
            "sentry_team": TEAM,
            "render_service_id": SERVICE,
            "health_urls": [self.service.health.as_str()],
            "platform": "node",
            "slack_channel": "#production-alerts",
            "transactions": transactions,
            "backup_status_url": self.service.backup.as_str(),
        })
    }
}

/// An hour of traffic within every target of the playbook: 0.5% failed,
/// each endpoint's p99 under its bound.
pub fn healthy_transactions() -> Vec<Transaction> {
    let mut all = Vec::new();
    for (at, (endpoint_ms, name)) in [
        (120.0, TRANSACTIONS[0].1),
        (60.0, TRANSACTIONS[1].1),
        (400.0, TRANSACTIONS[2].1),
    ]
    .into_iter()
    .enumerate()
    {
        for n in 0..200 {
            all.push(Transaction {
                name: name.to_owned(),
                duration_ms: endpoint_ms + f64::from(n % 10),
                failed: at == 0 && n % 67 == 0,
            });
        }
    }
    all
}
