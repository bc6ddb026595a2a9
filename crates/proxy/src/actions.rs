//! The actions: setup work the proxy does on Sentry, Render and Slack when
//! an admin asks (which ones, and what they set, is `domain::action`). Each
//! is idempotent: it looks first and changes only what is missing, and says
//! what it changed. Secrets are handled as in the checks: the DSN set on
//! Render is the public one, and nothing secret is put in an answer.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use domain::action::{
    ActionKind, ActionStatus, FIXED_RELEASE, TEST_EVENT_TITLE, env_vars_to_set, sdk_snippet,
    wanted_env_vars,
};
use domain::alerts::{
    FIRST_SEEN_CONDITION, Filter, IssueSpec, MetricSpec, REGRESSION_CONDITION, RuleSpec, Wanted,
};
use domain::api::{ActionPreview, Snippet};
use domain::dsn::Dsn;
use domain::keyed::Keyed;
use domain::playbook::Playbook;
use domain::project::{Platform, Project};
use domain::run::CheckStatus;
use serde_json::{Value, json};

use crate::alert_rules::{Held, Rules};
use crate::clock::{local_time, unix_seconds};
use crate::error::Error;
use crate::lock;
use crate::services::{Outcome, Services};
use crate::store::postgres::HeldLock;
use crate::upstream::UpstreamError;
use crate::upstream::render::{Deploy, Render};
use crate::upstream::sentry::Sentry;

/// What an admin may choose for an action.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionOptions {
    /// With `sentry.create_alert_rules`: also seed 003's production rules.
    #[serde(default)]
    pub seed_003_rules: bool,
}

/// What an action did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acted {
    pub status: ActionStatus,
    pub changed: Keyed<String>,
    pub message: String,
}

impl Acted {
    fn new(status: ActionStatus, message: impl Into<String>) -> Self {
        Acted {
            status,
            changed: Keyed::default(),
            message: message.into(),
        }
    }

    fn with(mut self, name: &str, value: impl Into<String>) -> Self {
        self.changed.insert(name, value.into());
        self
    }

    /// A check's outcome that stopped the action (a missing setting, an
    /// upstream failure) as the action's failure.
    fn stopped(outcome: Outcome) -> Self {
        Acted::new(ActionStatus::Failed, outcome.message)
    }

    fn upstream(service: &str, err: &UpstreamError) -> Self {
        Acted::stopped(Outcome::upstream(service, err))
    }
}

/// A test event on its way: where to look for it, and since when.
#[derive(Debug, Clone)]
pub struct EventOnItsWay {
    sentry: Sentry,
    org: String,
    project_id: String,
    pub marker: String,
    sent: Instant,
}

/// How long a test event is waited for, and how often Sentry is asked.
pub const EVENT_WAIT: Duration = Duration::from_secs(120);
const EVENT_POLL: Duration = Duration::from_secs(2);

impl EventOnItsWay {
    /// Asks Sentry until the event's issue appears or [`EVENT_WAIT`] passes.
    pub async fn arrival(self) -> Acted {
        loop {
            match self
                .sentry
                .issues_titled(&self.org, &self.project_id, &self.marker, "1h")
                .await
            {
                Ok(issues) if !issues.is_empty() => {
                    let took = self.sent.elapsed().as_secs_f64();
                    let issue = &issues[0];
                    // Resolved, so that it does not stay among the new issues.
                    let resolved = match self
                        .sentry
                        .resolve_issue(&self.org, &self.project_id, &issue.id)
                        .await
                    {
                        Ok(()) => "resolved by Watchpost, so it does not stay among the new issues"
                            .to_owned(),
                        Err(err) => format!(
                            "left open: Sentry {err}. Resolve {} in Sentry (Watchpost leaves test events out of its counts either way)",
                            issue.short_id
                        ),
                    };
                    return Acted::new(
                        ActionStatus::Done,
                        format!("The test event arrived in Sentry after {took:.1} s; its issue was {resolved}."),
                    )
                    .with("issue", format!("{} {}", issue.short_id, issue.permalink))
                    .with("arrived after", format!("{took:.1} s"))
                    .with("issue status", if resolved.starts_with("resolved") { "resolved" } else { "open" });
                }
                Ok(_) | Err(_) if self.sent.elapsed() + EVENT_POLL < EVENT_WAIT => {
                    tokio::time::sleep(EVENT_POLL).await;
                }
                Ok(_) => {
                    return Acted::new(
                        ActionStatus::Failed,
                        format!(
                            "The test event did not appear in Sentry within {} s: check the project's inbound filters and rate limits in Sentry, then send another.",
                            EVENT_WAIT.as_secs()
                        ),
                    );
                }
                Err(err) => return Acted::upstream("Sentry", &err),
            }
        }
    }
}

/// Render statuses a deploy ends in without going live.
const DEPLOY_FAILED: [&str; 5] = [
    "build_failed",
    "update_failed",
    "pre_deploy_failed",
    "canceled",
    "deactivated",
];
/// Render's statuses of a deploy still on its way to live.
const DEPLOY_UNDER_WAY: [&str; 5] = [
    "created",
    "queued",
    "build_in_progress",
    "update_in_progress",
    "pre_deploy_in_progress",
];

/// What "Set the env vars" would change ([`Services::env_vars_plan`]).
#[derive(Debug)]
struct EnvVarsPlan {
    /// The platform's DSN variable, and the project's DSN.
    dsn_key: String,
    dsn: Dsn,
    /// Each variable to set, its value, and whether it replaces one.
    to_set: Vec<(String, String, bool)>,
    fixed_release: bool,
}

/// "Set the env vars"' confirmation: the `question`, then each variable,
/// the DSN masked and no value it replaces shown.
fn env_vars_words(plan: &EnvVarsPlan, question: String, service: &str) -> Vec<String> {
    let mut said: Vec<String> = plan
        .to_set
        .iter()
        .map(|(key, value, replaces)| {
            let value = if *key == plan.dsn_key {
                plan.dsn.masked()
            } else {
                value.clone()
            };
            let how = if *replaces {
                "replacing its value"
            } else {
                "new"
            };
            format!("{key} = {value} ({how})")
        })
        .collect();
    if plan.fixed_release {
        said.push(format!(
            "{FIXED_RELEASE} removed: the SDK takes the release from RENDER_GIT_COMMIT"
        ));
    }
    let question = if said.is_empty() {
        format!("Nothing to set: {service} already has every Sentry variable.")
    } else {
        question
    };
    said.insert(0, question);
    said
}

/// What a rollback would do ([`Services::rollback_plan`]).
#[derive(Debug, Clone)]
pub struct RollbackPlan {
    render: Render,
    service: String,
    /// The service's name on Render: what the admin types to confirm.
    pub name: String,
    /// The live deploy it leaves.
    pub leaves: Option<Deploy>,
    /// The earlier live deploy it returns to.
    pub returns_to: Option<Deploy>,
    /// A newer deploy under way, which would replace the rollback.
    pub building: Option<Deploy>,
}

/// `, commit abc1234 “fix login”` for a deploy's commit, when it has one.
fn commit_words(commit: Option<&crate::upstream::render::Commit>) -> String {
    let Some(commit) = commit else {
        return String::new();
    };
    let id = commit.short();
    let message = commit
        .message
        .as_deref()
        .and_then(|message| message.lines().next())
        .map(|line| format!(" “{}”", line.chars().take(72).collect::<String>()))
        .unwrap_or_default();
    if id.is_empty() {
        message
    } else {
        format!(", commit {id}{message}")
    }
}

/// How long a rollback's deploy is followed.
pub const DEPLOY_WAIT: Duration = Duration::from_secs(15 * 60);

/// A rollback's deploy on its way: what to follow.
#[derive(Debug, Clone)]
pub struct RollingBack {
    render: Render,
    service: String,
    pub deploy: String,
    started: Instant,
}

impl RollingBack {
    /// Asks Render every `every` until the deploy is live, has failed, or
    /// [`DEPLOY_WAIT`] passes.
    pub async fn outcome(self, every: Duration) -> Acted {
        loop {
            let seen = self.render.deploys(&self.service, 10).await;
            let status = match &seen {
                Ok(deploys) => deploys
                    .iter()
                    .find(|deploy| deploy.id == self.deploy)
                    .and_then(|deploy| deploy.status.clone()),
                Err(_) => None,
            };
            let took = self.started.elapsed().as_secs();
            match status.as_deref() {
                Some("live") => {
                    return Acted::new(
                        ActionStatus::Done,
                        format!("The rollback is live after {took} s; the health endpoint is checked again."),
                    )
                    .with("deploy", self.deploy.clone())
                    .with("status", "live");
                }
                Some(failed) if DEPLOY_FAILED.contains(&failed) => {
                    return Acted::new(
                        ActionStatus::Failed,
                        format!("The rollback deploy ended “{failed}” after {took} s: open the deploy's logs on Render, and roll back with git revert HEAD && git push."),
                    )
                    .with("deploy", self.deploy.clone())
                    .with("status", failed.to_owned());
                }
                _ if self.started.elapsed() + every < DEPLOY_WAIT => {
                    tokio::time::sleep(every).await
                }
                _ => {
                    let last = match seen {
                        Err(err) => format!("Render {err}"),
                        Ok(_) => {
                            format!("its status is {}", status.as_deref().unwrap_or("unknown"))
                        }
                    };
                    return Acted::new(
                        ActionStatus::Failed,
                        format!("The rollback deploy was not live within {} minutes ({last}): open it on Render.", DEPLOY_WAIT.as_secs() / 60),
                    )
                    .with("deploy", self.deploy.clone());
                }
            }
        }
    }
}

/// An action under way; its place is freed when this is dropped, however
/// the action ends (or, on a shared store, when its replica dies).
#[derive(Debug)]
pub struct Running {
    key: String,
    under_way: Arc<Mutex<HashSet<String>>>,
    /// The same place on the other replicas.
    _across: HeldLock,
}

impl Drop for Running {
    fn drop(&mut self) {
        lock(&self.under_way).remove(&self.key);
    }
}

impl Services {
    /// Claims `kind` for `project`, unless it is already under way (a double
    /// click, two admins at once, on any replica): the same action runs
    /// once at a time.
    pub async fn begin(
        &self,
        project: i64,
        kind: ActionKind,
    ) -> Result<Option<Running>, sqlx::Error> {
        self.claim(format!("project {project}: {}", kind.name()))
            .await
    }

    /// Claims the rollback of `project`'s Render service: two projects on
    /// one service must not roll it back at once.
    pub async fn begin_rollback(&self, project: &Project) -> Result<Option<Running>, sqlx::Error> {
        match &project.render_service_id {
            Some(service) => {
                self.claim(format!("render service {service}: rollback"))
                    .await
            }
            None => self.begin(project.id, ActionKind::Rollback).await,
        }
    }

    /// This replica's claim first (a double click costs no query), then
    /// the other replicas'.
    async fn claim(&self, key: String) -> Result<Option<Running>, sqlx::Error> {
        if !lock(&self.under_way).insert(key.clone()) {
            return Ok(None);
        }
        let release = |key: &str| {
            lock(&self.under_way).remove(key);
        };
        match self.store.try_lock(&format!("action {key}")).await {
            Ok(Some(across)) => Ok(Some(Running {
                key,
                under_way: self.under_way.clone(),
                _across: across,
            })),
            Ok(None) => {
                release(&key);
                Ok(None)
            }
            Err(err) => {
                release(&key);
                Err(err)
            }
        }
    }

    /// Carries out `kind` for `project`; `actor` is named in what it posts.
    /// A test event also returns what to wait for.
    pub async fn act(
        &self,
        playbook: &Playbook,
        project: &Project,
        kind: ActionKind,
        options: ActionOptions,
        actor: &str,
    ) -> (Acted, Option<EventOnItsWay>) {
        let started = Instant::now();
        let acted = self
            .carry_out(playbook, project, kind, options, actor)
            .await;
        self.metrics.action(kind.name(), started.elapsed());
        acted
    }

    async fn carry_out(
        &self,
        playbook: &Playbook,
        project: &Project,
        kind: ActionKind,
        options: ActionOptions,
        actor: &str,
    ) -> (Acted, Option<EventOnItsWay>) {
        let acted = match kind {
            ActionKind::CreateProject => self.create_project(project).await,
            ActionKind::CreateAlertRules => self.create_alert_rules(project, options).await,
            ActionKind::SetEnvVars => self.set_env_vars(playbook, project).await,
            ActionKind::Deploy => self.deploy(project).await,
            ActionKind::SlackTest => self.slack_test(project, actor).await,
            ActionKind::TestEvent => return self.test_event(project).await,
            ActionKind::FitSampleRate => self.fit_sample_rate(project).await,
            ActionKind::Rollback => Acted::new(
                ActionStatus::Failed,
                "A rollback needs the service's name typed: POST /api/projects/{id}/rollback {\"confirm\": \"<service name>\"}.",
            ),
        };
        (acted, None)
    }

    /// What rolling `project`'s Render service back would do now: the
    /// service's name (what the admin types), the live deploy it leaves, the
    /// earlier live one it returns to, and a newer deploy under way.
    pub async fn rollback_plan(&self, project: &Project) -> Result<RollbackPlan, Acted> {
        let (render, service) = self.render_target(project).map_err(Acted::stopped)?;
        let name = render
            .service(service)
            .await
            .map_err(|err| Acted::upstream("Render", &err))?
            .name;
        let deploys = render
            .deploys(service, 20)
            .await
            .map_err(|err| Acted::upstream("Render", &err))?;
        // Newest first: the live deploy, then the one live before it.
        let live = deploys
            .iter()
            .position(|deploy| deploy.status.as_deref() == Some("live"));
        let returns_to = live.and_then(|at| {
            deploys[at + 1..]
                .iter()
                .find(|deploy| deploy.status.as_deref() == Some("deactivated"))
                .cloned()
        });
        let building = deploys[..live.unwrap_or(deploys.len())]
            .iter()
            .find(|deploy| {
                deploy
                    .status
                    .as_deref()
                    .is_some_and(|s| DEPLOY_UNDER_WAY.contains(&s))
            })
            .cloned();
        Ok(RollbackPlan {
            render: render.clone(),
            service: service.to_owned(),
            name,
            leaves: live.map(|at| deploys[at].clone()),
            returns_to,
            building,
        })
    }

    /// What a rollback of `project`'s service would do, in words, for its
    /// confirmation: the name to type, the deploy it leaves and the one it
    /// returns to (in the project's zone), a newer one on its way.
    pub async fn rollback_preview(&self, project: &Project) -> ActionPreview {
        match self.rollback_plan(project).await {
            Ok(plan) => {
                let deploy = |deploy: &Deploy| {
                    let commit = deploy.commit.as_ref().map_or_else(String::new, |commit| {
                        let message = commit
                            .message
                            .as_deref()
                            .and_then(|message| message.lines().next())
                            .unwrap_or_default();
                        format!("{} {message}", commit.short()).trim().to_owned()
                    });
                    match deploy.created_at.as_deref().and_then(unix_seconds) {
                        Some(at) => {
                            format!("{commit}, deployed {}", local_time(at, &project.timezone))
                        }
                        None => commit,
                    }
                };
                let mut said = Vec::new();
                if let Some(leaves) = &plan.leaves {
                    said.push(format!("Leaves {}.", deploy(leaves)));
                }
                said.push(match &plan.returns_to {
                    Some(to) => format!("Returns to {}.", deploy(to)),
                    None => {
                        "Render has no earlier live deploy to return to: revert the change instead."
                            .to_owned()
                    }
                });
                if let Some(building) = &plan.building {
                    said.push(format!(
                    "A newer deploy is on its way ({}): when it goes live, it replaces the rollback.",
                    deploy(building)
                ));
                }
                ActionPreview {
                    service: Some(plan.name),
                    plan: said,
                    problem: None,
                }
            }
            Err(acted) => ActionPreview {
                problem: Some(acted.message),
                ..ActionPreview::default()
            },
        }
    }

    /// Rolls `project`'s Render service back to its previous live deploy,
    /// once `confirm` is the service's name; answers what it started and
    /// the deploy to follow.
    ///
    /// A newer deploy still building would replace the rollback when it
    /// goes live, so the rollback goes ahead over it only when `over` names
    /// it: the admin saw what is in progress and confirmed again.
    pub async fn rollback(
        &self,
        project: &Project,
        confirm: &str,
        over: Option<&str>,
    ) -> Result<(Acted, Option<RollingBack>), Error> {
        let started = Instant::now();
        let started_rollback = self.start_rollback(project, confirm, over).await;
        self.metrics
            .action(ActionKind::Rollback.name(), started.elapsed());
        started_rollback
    }

    async fn start_rollback(
        &self,
        project: &Project,
        confirm: &str,
        over: Option<&str>,
    ) -> Result<(Acted, Option<RollingBack>), Error> {
        let plan = match self.rollback_plan(project).await {
            Ok(plan) => plan,
            Err(acted) => return Ok((acted, None)),
        };
        if confirm.trim() != plan.name {
            return Err(Error::Invalid(format!(
                "type the service's name, “{}”, to confirm the rollback",
                plan.name
            )));
        }
        if let Some(building) = &plan.building
            && over != Some(building.id.as_str())
        {
            return Err(Error::DeployInProgress {
                message: format!(
                    "a newer deploy is {} on Render{}{}: when it goes live it replaces the rollback. Roll back anyway only if that deploy is the problem, or wait for it and decide again.",
                    building
                        .status
                        .as_deref()
                        .unwrap_or("in progress")
                        .replace('_', " "),
                    commit_words(building.commit.as_ref()),
                    building
                        .created_at
                        .as_deref()
                        .and_then(|at| at.get(11..16))
                        .map(|hm| format!(", started at {hm} UTC"))
                        .unwrap_or_default(),
                ),
                deploy: building.id.clone(),
            });
        }
        let Some(previous) = &plan.returns_to else {
            return Ok((
                Acted::new(
                    ActionStatus::Failed,
                    "Render has no earlier live deploy to roll back to: revert the change (git revert HEAD && git push) and let Render deploy it.",
                ),
                None,
            ));
        };
        let commit = previous
            .commit
            .as_ref()
            .and_then(|commit| commit.id.clone())
            .unwrap_or_default();
        match plan.render.rollback(&plan.service, &previous.id).await {
            Ok(deploy) => Ok((
                Acted::new(
                    ActionStatus::Pending,
                    format!("Rolling back to {} ({commit}); Watchpost follows the deploy until it is live.", previous.id),
                )
                .with("deploy", deploy.id.clone())
                .with("to", format!("{} ({commit})", previous.id)),
                Some(RollingBack {
                    render: plan.render.clone(),
                    service: plan.service.clone(),
                    deploy: deploy.id,
                    started: Instant::now(),
                }),
            )),
            Err(err) => Ok((Acted::upstream("Render", &err), None)),
        }
    }

    async fn create_project(&self, project: &Project) -> Acted {
        let (sentry, org, slug) = match self.sentry_target(project, None) {
            Ok(target) => target,
            Err(outcome) => return Acted::stopped(outcome),
        };
        match sentry.project(org, slug).await {
            Ok(_) => {
                return Acted::new(
                    ActionStatus::Unchanged,
                    format!("Sentry already has the project {org}/{slug}."),
                )
                .with("project", format!("{org}/{slug}"));
            }
            Err(UpstreamError::NotFound) => {}
            Err(err) => return Acted::upstream("Sentry", &err),
        }
        let Some(team) = project.sentry_team.as_deref() else {
            return Acted::new(
                ActionStatus::Failed,
                "No Sentry team is set: an admin sets the team the project joins in the project's settings.",
            );
        };
        let Some(platform) = project.platform else {
            return Acted::new(
                ActionStatus::Failed,
                "No platform is set: choose Node.js, FastAPI or Next.js in the project's settings.",
            );
        };
        match sentry
            .create_project(org, team, slug, platform.sentry_platform())
            .await
        {
            Ok(made) => Acted::new(
                ActionStatus::Done,
                format!("Created the Sentry project {org}/{slug} in the team {team}; Sentry made its client key (DSN)."),
            )
            .with("project", format!("{org}/{}", made.slug))
            .with("platform", made.platform.unwrap_or_default())
            .with("team", team),
            Err(UpstreamError::NotFound) => Acted::new(
                ActionStatus::Failed,
                format!("Sentry has no team “{team}” in “{org}”: correct the team in the project's settings."),
            ),
            Err(err) => Acted::upstream("Sentry", &err),
        }
    }

    async fn create_alert_rules(&self, project: &Project, options: ActionOptions) -> Acted {
        let (sentry, org, slug) = match self.sentry_target(project, None) {
            Ok(target) => target,
            Err(outcome) => return Acted::stopped(outcome),
        };
        // Every rule notifies: by email (the project's team for a metric
        // rule, the issue's owners else active members for an issue rule),
        // and where Sentry's Slack integration is installed, the project's
        // channel too.
        let slack = match (&project.slack_channel, sentry.slack_integrations(org).await) {
            (Some(channel), Ok(found)) => found
                .into_iter()
                .find(|i| i.provider.key == "slack" && i.status == "active")
                .map(|integration| (integration.id, channel.clone())),
            _ => None,
        };
        let team = match sentry.project(org, slug).await {
            Ok(found) => found
                .teams
                .iter()
                .find(|team| {
                    project
                        .sentry_team
                        .as_deref()
                        .is_none_or(|slug| team.slug == slug)
                })
                .or_else(|| found.teams.first())
                .map(|team| team.id.clone()),
            Err(err) => return Acted::upstream("Sentry", &err),
        };
        let notify = Notify {
            team: team.as_deref(),
            slack: slack.as_ref(),
        };
        let rules = match Rules::read(sentry, org, slug).await {
            Ok(Rules::Neither) => {
                return Acted::new(
                    ActionStatus::Failed,
                    "This server has neither Sentry's alert rules nor its monitors and alerts: set up the three alerts of the setup in its own alert settings, each notifying by email or Slack.",
                );
            }
            Ok(rules) => rules,
            Err(err) => return Acted::upstream("Sentry", &err),
        };
        let legacy = matches!(rules, Rules::Legacy { .. });
        let mut acted = Acted::new(ActionStatus::Unchanged, "");
        let (mut created, mut corrected, mut left) = (0, 0, Vec::new());
        for wanted in Wanted::all(options.seed_003_rules) {
            let (spec, name) = (wanted.spec, wanted.name());
            // A legacy metric rule emails a team: without one (and without
            // Slack) it would notify nobody.
            let silent = legacy
                && matches!(spec, RuleSpec::Metric(_))
                && notify.team.is_none()
                && notify.slack.is_none();
            // A rule there already, named so or watching the same: left as
            // it is when it is as its seed says, else set as the seed says.
            match rules.find(sentry, org, &wanted).await {
                Ok(Some(found)) if found.differences.is_empty() => {
                    acted = acted.with(name, "already there");
                    continue;
                }
                Ok(Some(_)) if silent => {
                    left.push(name);
                    acted = acted.with(name, format!("not corrected: {NOBODY}"));
                    continue;
                }
                Ok(Some(found)) => {
                    match correct(sentry, org, slug, spec, &found.held, &notify).await {
                        Ok(()) => {
                            corrected += 1;
                            acted = acted
                                .with(name, format!("corrected: {}", found.differences.join("; ")));
                        }
                        Err(err) => {
                            left.push(name);
                            acted = acted.with(name, format!("not corrected: Sentry {err}"));
                        }
                    }
                    continue;
                }
                Ok(None) => {}
                Err(err) => {
                    left.push(name);
                    acted = acted.with(name, format!("not read: Sentry {err}"));
                    continue;
                }
            }
            let failed = |err: UpstreamError| format!("not created: Sentry {err}");
            let made: Result<&str, String> = match (spec, legacy) {
                _ if silent => Err(format!("not created: {NOBODY}")),
                (RuleSpec::Issue(issue), true) => sentry
                    .create_issue_rule(org, slug, &legacy_issue_rule(&issue, notify.slack))
                    .await
                    .map(|_| "created")
                    .map_err(failed),
                (RuleSpec::Metric(metric), true) => sentry
                    .create_metric_rule(org, &legacy_metric_rule(&metric, slug, &notify))
                    .await
                    .map(|_| "created")
                    .map_err(failed),
                (RuleSpec::Issue(_), false) => sentry
                    .create_workflow(org, &workflow(spec, None, &notify))
                    .await
                    .map(|_| "created as an alert")
                    .map_err(failed),
                // A metric alert is a monitor, with an alert that notifies
                // when it creates an issue.
                (RuleSpec::Metric(metric), false) => {
                    match sentry.create_detector(org, slug, &detector(&metric)).await {
                        Ok(monitor) => sentry
                            .create_workflow(org, &workflow(spec, Some(&monitor.id), &notify))
                            .await
                            .map(|_| "created as a monitor and its alert")
                            .map_err(failed),
                        Err(err) => Err(failed(err)),
                    }
                }
            };
            match made {
                Ok(how) => {
                    created += 1;
                    acted = acted.with(name, how);
                }
                Err(why) => {
                    left.push(name);
                    acted = acted.with(name, why);
                }
            }
        }
        acted.status = match (created + corrected, left.is_empty()) {
            (0, true) => ActionStatus::Unchanged,
            (0, false) => ActionStatus::Failed,
            _ => ActionStatus::Done,
        };
        let mut done = Vec::new();
        if created > 0 {
            done.push(format!("Created {}", counted(created, "alert rule")));
        }
        if corrected > 0 {
            done.push(format!(
                "{} {} (to match the playbook)",
                if created > 0 {
                    "corrected"
                } else {
                    "Corrected"
                },
                counted(corrected, "alert rule")
            ));
        }
        acted.message = match (done.is_empty(), left.as_slice()) {
            (true, []) => "Sentry already has every alert rule.".to_owned(),
            (false, []) => format!("{} in Sentry.", done.join(" and ")),
            (true, left) => format!("Create {} in Sentry by hand.", left.join(", ")),
            (false, left) => format!(
                "{}; create or correct {} in Sentry by hand.",
                done.join(" and "),
                left.join(", ")
            ),
        };
        acted
    }

    /// The backend project's public DSN, from its first active client key.
    async fn public_dsn(&self, project: &Project) -> Result<Dsn, Acted> {
        let (sentry, org, slug) = self.sentry_target(project, None).map_err(Acted::stopped)?;
        sentry
            .client_keys(org, slug)
            .await
            .map_err(|err| Acted::upstream("Sentry", &err))?
            .into_iter()
            .find(|key| key.is_active)
            .and_then(|key| Dsn::parse(&key.dsn.public))
            .ok_or_else(|| {
                Acted::new(
                    ActionStatus::Failed,
                    "The Sentry project has no active client key: create the project (or a key) first.",
                )
            })
    }

    /// The SDK's start-up code for the project's platform (Node.js until one
    /// is chosen, and the caption says so), with the backend project's
    /// public DSN; a placeholder and the reason where Sentry cannot tell it.
    pub async fn snippet(&self, playbook: &Playbook, project: &Project) -> Snippet {
        let platform = project.platform.unwrap_or(Platform::Node);
        let Some(sdk) = playbook.sdk_for(platform) else {
            return Snippet {
                problem: Some(format!(
                    "The playbook has no SDK settings for {}.",
                    platform.label()
                )),
                ..Snippet::default()
            };
        };
        let caption = match project.platform {
            Some(platform) => format!("Initialize Sentry in {}", platform.label()),
            None => {
                "Initialize Sentry (Node.js shown: choose the platform in the settings for yours)"
                    .to_owned()
            }
        };
        let (dsn, problem) = match self.public_dsn(project).await {
            Ok(dsn) => (dsn.public(), None),
            Err(acted) => (
                "https://<public key>@<host>/<project id>".to_owned(),
                Some(format!(
                    "The DSN is left for you to fill in: {}",
                    acted.message
                )),
            ),
        };
        Snippet {
            caption,
            code: sdk_snippet(sdk, &dsn),
            problem,
        }
    }

    /// What "Set the env vars" would change on `project`'s Render service:
    /// each variable to set with its value, and whether a fixed release goes.
    async fn env_vars_plan(
        &self,
        playbook: &Playbook,
        project: &Project,
    ) -> Result<EnvVarsPlan, Acted> {
        let Some(sdk) = playbook.sdk_of(project) else {
            return Err(Acted::new(
                ActionStatus::Failed,
                "No platform is set: choose Node.js, FastAPI or Next.js in the project's settings; each platform has its own settings in the playbook.",
            ));
        };
        let (render, service) = self.render_target(project).map_err(Acted::stopped)?;
        let dsn = self.public_dsn(project).await?;
        let present = render
            .env_vars(service)
            .await
            .map_err(|err| Acted::upstream("Render", &err))?;
        let wanted = wanted_env_vars(&dsn.public(), sdk);
        let to_set = env_vars_to_set(&wanted, sdk, |key| {
            let var = present.iter().find(|var| var.key == key)?;
            Some(if key == sdk.dsn {
                Dsn::parse(var.value.expose()).is_some_and(|set| set.same_as(&dsn))
            } else {
                wanted
                    .iter()
                    .any(|(k, value)| k == key && value == var.value.expose())
            })
        })
        .into_iter()
        .map(|(key, value)| {
            let replaces = present.iter().any(|var| var.key == *key);
            (key.clone(), value.clone(), replaces)
        })
        .collect();
        Ok(EnvVarsPlan {
            dsn_key: sdk.dsn.clone(),
            dsn,
            to_set,
            // A fixed release outlives the next deploy: the SDK takes it from
            // the deployed commit instead.
            fixed_release: present.iter().any(|var| var.key == FIXED_RELEASE),
        })
    }

    /// What an action would do, for its confirmation, as a question and
    /// what it changes: for "Set the env vars", each variable it sets on the
    /// Render service (by its name), the DSN masked and no value it replaces
    /// shown; a deploy names the service; the others ask their question.
    pub async fn preview(
        &self,
        playbook: &Playbook,
        project: &Project,
        kind: ActionKind,
    ) -> ActionPreview {
        let on_render = matches!(
            kind,
            ActionKind::SetEnvVars | ActionKind::Deploy | ActionKind::FitSampleRate
        );
        let service = match self.render_target(project) {
            Ok((render, id)) if on_render => render.service(id).await.ok().map(|s| s.name),
            _ => None,
        };
        let named = service.as_deref().map_or_else(
            || "the Render service".to_owned(),
            |name| format!("“{name}”"),
        );
        let question = kind.confirmation(project, &named);
        let plan = match kind {
            ActionKind::SetEnvVars => match self.env_vars_plan(playbook, project).await {
                Ok(plan) => env_vars_words(&plan, question, &named),
                Err(acted) => {
                    return ActionPreview {
                        service,
                        problem: Some(acted.message),
                        ..ActionPreview::default()
                    };
                }
            },
            _ => vec![question],
        };
        ActionPreview {
            service,
            plan,
            problem: None,
        }
    }

    async fn set_env_vars(&self, playbook: &Playbook, project: &Project) -> Acted {
        let plan = match self.env_vars_plan(playbook, project).await {
            Ok(plan) => plan,
            Err(acted) => return acted,
        };
        let (render, service) = match self.render_target(project) {
            Ok(target) => target,
            Err(outcome) => return Acted::stopped(outcome),
        };
        if plan.to_set.is_empty() && !plan.fixed_release {
            return Acted::new(
                ActionStatus::Unchanged,
                "The Render service already has every Sentry variable.",
            );
        }
        let mut acted = Acted::new(ActionStatus::Done, "");
        if plan.fixed_release {
            if let Err(err) = render.delete_env_var(service, FIXED_RELEASE).await {
                return Acted::upstream("Render", &err).with(FIXED_RELEASE, "not removed");
            }
            acted = acted.with(
                FIXED_RELEASE,
                "removed: the SDK takes the release from RENDER_GIT_COMMIT",
            );
        }
        for (key, value, _) in &plan.to_set {
            let secret = crate::secret::Secret::new(value.as_str());
            if let Err(err) = render.set_env_var(service, key, &secret).await {
                let mut failed = Acted::upstream("Render", &err);
                failed.changed = acted.changed;
                return failed.with(key, "not set");
            }
            let shown = if *key == plan.dsn_key {
                "set to the project's public DSN".to_owned()
            } else {
                format!("set to {value}")
            };
            acted = acted.with(key, shown);
        }
        let removed = if plan.fixed_release {
            format!(" and removed the fixed {FIXED_RELEASE}")
        } else {
            String::new()
        };
        acted.message = format!(
            "Set {}{removed} on Render; they take effect at the next deploy: deploy now to use them.",
            counted(plan.to_set.len(), "variable")
        );
        acted
    }

    /// Sets `SENTRY_TRACES_SAMPLE_RATE` on Render to the rate that keeps
    /// the month's transactions within the plan, as `sentry.quota` computes
    /// it now; unchanged when the rate set already fits.
    async fn fit_sample_rate(&self, project: &Project) -> Acted {
        const KEY: &str = "SENTRY_TRACES_SAMPLE_RATE";
        let seen = match self.quota_seen(project).await {
            Ok(seen) => seen,
            Err(outcome) => return Acted::stopped(outcome),
        };
        let Some(current) = seen.current else {
            return Acted::new(
                ActionStatus::Failed,
                format!(
                    "{KEY} is not set on the Render service as a number: set the env vars first, then check the quota again."
                ),
            );
        };
        let Some(rate) = seen.fitting_rate() else {
            return Acted::new(
                ActionStatus::Unchanged,
                format!("{KEY} {current} already keeps the month's transactions within the plan."),
            );
        };
        let (render, service) = match self.render_target(project) {
            Ok(target) => target,
            Err(outcome) => return Acted::stopped(outcome),
        };
        let value = crate::secret::Secret::new(rate.to_string());
        if let Err(err) = render.set_env_var(service, KEY, &value).await {
            return Acted::upstream("Render", &err).with(KEY, "not set");
        }
        Acted::new(
            ActionStatus::Done,
            format!("Set {KEY} from {current} to {rate} on Render; it takes effect at the next deploy: deploy now to use it."),
        )
        .with(KEY, format!("{current} → {rate}"))
    }

    async fn deploy(&self, project: &Project) -> Acted {
        let (render, service) = match self.render_target(project) {
            Ok(target) => target,
            Err(outcome) => return Acted::stopped(outcome),
        };
        match render.deploys(service, 1).await {
            Ok(deploys) => {
                if let Some(running) = deploys.first().filter(|deploy| {
                    deploy.status.as_deref().is_some_and(|status| {
                        matches!(
                            status,
                            "created"
                                | "queued"
                                | "build_in_progress"
                                | "update_in_progress"
                                | "pre_deploy_in_progress"
                        )
                    })
                }) {
                    return Acted::new(
                        ActionStatus::Unchanged,
                        "A deploy is already under way; Watchpost did not start another.",
                    )
                    .with("deploy", running.id.clone())
                    .with("status", running.status.clone().unwrap_or_default());
                }
            }
            Err(err) => return Acted::upstream("Render", &err),
        }
        match render.trigger_deploy(service).await {
            Ok(deploy) => Acted::new(
                ActionStatus::Done,
                "Started a deploy on Render; check “The latest deploy is live” in a few minutes.",
            )
            .with("deploy", deploy.id)
            .with("status", deploy.status.unwrap_or_else(|| "created".into())),
            Err(err) => Acted::upstream("Render", &err),
        }
    }

    async fn slack_test(&self, project: &Project, actor: &str) -> Acted {
        let text = format!(
            "Watchpost: a test message from {actor} for “{}”. Launch alerts will come here.",
            project.name
        );
        let outcome = crate::services::slack_tested(&self.notifier, project.id, &text)
            .await
            .outcome();
        if outcome.status != CheckStatus::Passed {
            return Acted::stopped(outcome);
        }
        Acted {
            status: ActionStatus::Done,
            message: format!("{} Look for it in the channel.", outcome.message),
            changed: outcome.observed,
        }
    }

    async fn test_event(&self, project: &Project) -> (Acted, Option<EventOnItsWay>) {
        let (sentry, org, id) = match self.sentry_project_id(project).await {
            Ok(target) => target,
            Err(outcome) => return (Acted::stopped(outcome), None),
        };
        let slug = project.sentry_project.clone().unwrap_or_default();
        let dsn = match sentry.client_keys(org, &slug).await {
            Ok(keys) => keys
                .into_iter()
                .find(|key| key.is_active)
                .and_then(|key| Dsn::parse(&key.dsn.public)),
            Err(err) => return (Acted::upstream("Sentry", &err), None),
        };
        let Some(dsn) = dsn else {
            return (
                Acted::new(
                    ActionStatus::Failed,
                    "The Sentry project has no active client key to send with.",
                ),
                None,
            );
        };
        let mut bytes = [0u8; 16];
        OsRng.fill_bytes(&mut bytes);
        let event_id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let marker = format!("{TEST_EVENT_TITLE} {}", &event_id[..8]);
        let event = json!({
            "event_id": event_id,
            "timestamp": self.clock.real_timestamp().to_string(),
            "platform": "other",
            "level": "error",
            "logger": "watchpost",
            "environment": "production",
            "message": { "formatted": marker },
            // Every count and issue query leaves it out by its title; the
            // tag lets people filter it out in Sentry too.
            "tags": { "source": "watchpost", "watchpost": "test" },
        });
        let sent = Instant::now();
        if let Err(err) = sentry.send_event(&dsn, &event_id, &event).await {
            return (Acted::upstream("Sentry's ingest endpoint", &err), None);
        }
        let acted = Acted::new(
            ActionStatus::Pending,
            format!(
                "Sent “{marker}” through the project's DSN; waiting up to {} s for it to appear in Sentry's issues.",
                EVENT_WAIT.as_secs()
            ),
        )
        .with("event", event_id)
        .with("message", marker.clone());
        let on_its_way = EventOnItsWay {
            sentry: sentry.clone(),
            org: org.to_owned(),
            project_id: id,
            marker,
            sent,
        };
        (acted, Some(on_its_way))
    }
}

/// Replaces the rule `held` as `spec` says, notifying `notify`. A current
/// metric alert's monitor is replaced too, or made when it has none.
async fn correct(
    sentry: &Sentry,
    org: &str,
    slug: &str,
    spec: RuleSpec,
    held: &Held,
    notify: &Notify<'_>,
) -> Result<(), UpstreamError> {
    match (held, spec) {
        (Held::Legacy(id), RuleSpec::Issue(issue)) => sentry
            .update_issue_rule(org, slug, id, &legacy_issue_rule(&issue, notify.slack))
            .await
            .map(drop),
        (Held::Legacy(id), RuleSpec::Metric(metric)) => sentry
            .update_metric_rule(org, id, &legacy_metric_rule(&metric, slug, notify))
            .await
            .map(drop),
        (Held::Alert { id, .. }, RuleSpec::Issue(_)) => sentry
            .update_workflow(org, id, &workflow(spec, None, notify))
            .await
            .map(drop),
        (Held::Alert { id, monitor }, RuleSpec::Metric(metric)) => {
            let monitor = match monitor {
                Some(monitor) => {
                    sentry
                        .update_detector(org, monitor, &detector(&metric))
                        .await?;
                    monitor.clone()
                }
                None => {
                    sentry
                        .create_detector(org, slug, &detector(&metric))
                        .await?
                        .id
                }
            };
            sentry
                .update_workflow(org, id, &workflow(spec, Some(&monitor), notify))
                .await
                .map(drop)
        }
    }
}

/// Why a legacy metric rule is neither created nor corrected.
const NOBODY: &str = "it would notify nobody; set the project's Sentry team (or a Slack channel with Sentry's Slack integration) in the settings";

/// `1 alert rule`, `3 alert rules`.
fn counted(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// A legacy issue alert rule's body: email the issue's owners (else the
/// active members), and post to Slack where it is installed.
fn legacy_issue_rule(spec: &IssueSpec, slack: Option<&(String, String)>) -> Value {
    let IssueSpec {
        name,
        regressions,
        filters,
        frequency_minutes,
    } = *spec;
    let mut conditions = vec![json!({ "id": FIRST_SEEN_CONDITION })];
    if regressions {
        conditions.push(json!({ "id": REGRESSION_CONDITION }));
    }
    let filters: Vec<Value> = filters
        .iter()
        .map(|filter| match *filter {
            Filter::Message(text) => json!({
                "id": "sentry.rules.filters.event_attribute.EventAttributeFilter",
                "attribute": "message", "match": "co", "value": text
            }),
            Filter::Tag { key, value } => json!({
                "id": "sentry.rules.filters.tagged_event.TaggedEventFilter",
                "key": key, "match": "co", "value": value
            }),
        })
        .collect();
    let mut actions = vec![json!({
        "id": "sentry.mail.actions.NotifyEmailAction",
        "targetType": "IssueOwners", "fallthroughType": "ActiveMembers"
    })];
    if let Some((workspace, channel)) = slack {
        actions.push(json!({
            "id": "sentry.integrations.slack.notify_action.SlackNotifyServiceAction",
            "workspace": workspace, "channel": channel
        }));
    }
    json!({
        "name": name,
        "frequency": frequency_minutes,
        "actionMatch": "any",
        "filterMatch": "any",
        "conditions": conditions,
        "filters": filters,
        "actions": actions,
    })
}

/// Whom a created rule notifies: the project's Sentry team by email (its
/// id), and a Slack channel through Sentry's integration (its id, the channel).
#[derive(Debug, Clone, Copy)]
struct Notify<'a> {
    team: Option<&'a str>,
    slack: Option<&'a (String, String)>,
}

/// A legacy metric alert rule's body, for the project `slug`: its critical
/// trigger emails the team and posts to Slack where it can.
fn legacy_metric_rule(spec: &MetricSpec, slug: &str, notify: &Notify<'_>) -> Value {
    let MetricSpec {
        name,
        aggregate,
        dataset,
        query,
        time_window_minutes,
        threshold,
        comparison_delta,
    } = *spec;
    let mut body = json!({
        "name": name,
        "aggregate": aggregate,
        "dataset": dataset,
        "query": query,
        "timeWindow": time_window_minutes,
        "projects": [slug],
        "thresholdType": 0,
        "triggers": [{ "label": "critical", "alertThreshold": threshold, "actions": trigger_actions(notify) }],
    });
    if let Some(delta) = comparison_delta {
        body["comparisonDelta"] = json!(delta);
    }
    body
}

/// A legacy metric trigger's actions: email to the team, Slack.
fn trigger_actions(notify: &Notify<'_>) -> Vec<Value> {
    let mut actions = Vec::new();
    if let Some(team) = notify.team {
        actions.push(json!({ "type": "email", "targetType": "team", "targetIdentifier": team }));
    }
    if let Some((integration, channel)) = notify.slack {
        actions.push(json!({
            "type": "slack", "targetType": "specific",
            "targetIdentifier": channel, "integrationId": integration.parse::<u64>().ok()
        }));
    }
    actions
}

/// An alert of the current API: on a new (or regressed) issue for an issue
/// rule, or on an issue of `monitor` for a metric rule; it emails the
/// issue's owners (else the active members) and posts to Slack where it can.
fn workflow(spec: RuleSpec, monitor: Option<&str>, notify: &Notify<'_>) -> Value {
    let (name, frequency, conditions, filters) = match spec {
        RuleSpec::Issue(IssueSpec {
            name,
            regressions,
            frequency_minutes,
            filters,
        }) => {
            let mut conditions = vec![
                json!({ "type": "first_seen_event", "comparison": true, "conditionResult": true }),
            ];
            if regressions {
                conditions.push(
                    json!({ "type": "regression_event", "comparison": true, "conditionResult": true }),
                );
            }
            (name, frequency_minutes, conditions, filters)
        }
        RuleSpec::Metric(MetricSpec { name, .. }) => (name, 30, Vec::new(), &[][..]),
    };
    let filters: Vec<Value> = filters
        .iter()
        .map(|filter| match *filter {
            Filter::Message(text) => json!({
                "type": "event_attribute", "conditionResult": true,
                "comparison": { "attribute": "message", "match": "co", "value": text }
            }),
            Filter::Tag { key, value } => json!({
                "type": "tagged_event", "conditionResult": true,
                "comparison": { "key": key, "match": "co", "value": value }
            }),
        })
        .collect();
    let mut body = json!({
        "name": name,
        "enabled": true,
        "config": { "frequency": frequency },
        // The document's (snake case) names, which Sentry also accepts in
        // camel case.
        "triggers": { "logic_type": "any-short", "conditions": conditions, "actions": [] },
        "action_filters": [{ "logic_type": "any", "conditions": filters, "actions": workflow_actions(notify) }],
    });
    if let Some(id) = monitor.and_then(|id| id.parse::<u64>().ok()) {
        body["detector_ids"] = json!([id]);
    }
    body
}

/// A current alert's actions: email to the issue's owners, Slack.
fn workflow_actions(notify: &Notify<'_>) -> Vec<Value> {
    let mut actions = vec![json!({
        "type": "email", "integrationId": null,
        "data": { "fallthroughType": "ActiveMembers" },
        "config": { "targetType": "issue_owners", "targetDisplay": null, "targetIdentifier": "" },
        "status": "active"
    })];
    if let Some((integration, channel)) = notify.slack {
        actions.push(json!({
            "type": "slack", "integrationId": integration, "data": {},
            "config": {
                "targetType": "specific", "targetIdentifier": "",
                "targetDisplay": channel.trim_start_matches('#')
            },
            "status": "active"
        }));
    }
    actions
}

/// A metric monitor of the current API: `aggregate` over the window above the
/// threshold (a percent change against `comparison_delta` minutes before,
/// when given) creates a high-priority issue, and below it resolves.
fn detector(spec: &MetricSpec) -> Value {
    let MetricSpec {
        name,
        aggregate,
        dataset,
        query,
        time_window_minutes,
        threshold,
        comparison_delta,
    } = *spec;
    // Transactions are spans in the current API.
    let source = if dataset == "transactions" {
        json!({
            "aggregate": aggregate.replace("transaction.duration", "span.duration"),
            "dataset": "events_analytics_platform", "eventTypes": ["trace_item_span"],
            "query": query, "queryType": 1, "timeWindow": time_window_minutes * 60
        })
    } else {
        json!({
            "aggregate": aggregate, "dataset": "events", "eventTypes": ["error", "default"],
            "query": query, "queryType": 0, "timeWindow": time_window_minutes * 60
        })
    };
    let config = match comparison_delta {
        Some(minutes) => json!({ "detectionType": "percent", "comparisonDelta": minutes * 60 }),
        None => json!({ "detectionType": "static" }),
    };
    json!({
        "name": name,
        "type": "metric_issue",
        "data_sources": [source],
        "config": config,
        "condition_group": {
            "logic_type": "any",
            "conditions": [
                { "type": "gt", "comparison": threshold, "conditionResult": 75 },
                { "type": "lte", "comparison": threshold, "conditionResult": 0 }
            ]
        }
    })
}
