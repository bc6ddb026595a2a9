//! The watch that keeps itself: a server-side loop that, for every project
//! whose watch is running, probes each health URL every sample interval and
//! takes a snapshot when a checkpoint falls due, whether or not anybody has
//! Watchpost open.
//!
//! Samples go to their own table (`health_samples`), never to the log; only
//! what they change is logged: a URL going down (3 failures in a row) or up
//! again (2 successes), and a restart (`uptime` went down). Those changes are
//! posted to Slack, rate limited per project so a flapping endpoint cannot
//! flood the channel. So is a checkpoint falling overdue, once (what was
//! overdue when this process started is not announced again).
//!
//! Everything it keeps in memory can be rebuilt from the store: after a
//! restart, each URL's state resumes from the log's last health change and
//! the last samples, and sampling resumes for every running watch.

mod errors;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use domain::health::{DOWN_AFTER, Sample, Tracker, Transition};
use domain::project::Project;
use domain::run::{Change, RunState};
use domain::watch::{CheckpointState, is_running, span};

use crate::error::Result;
use crate::services::take_snapshot;
use crate::store::postgres::{HeldLock, WATCHER};
use crate::upstream::health::Probe;
use crate::{AppState, lock};

/// How often each health URL is probed, unless configured.
pub const DEFAULT_SAMPLE_INTERVAL: Duration = Duration::from_secs(30);

/// How often the error watch reads Sentry, unless configured.
pub const DEFAULT_ERROR_INTERVAL: Duration = Duration::from_secs(300);

/// Who the watcher's entries are by.
pub const ACTOR: &str = "Watchpost";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Job {
    Sampling,
    Snapshot,
    /// The error watch's round, for every project at once (project 0).
    Errors,
}

/// The sampler's and scheduler's memory; see the module's documentation.
#[derive(Debug, Clone)]
pub struct Watcher {
    pub interval: Duration,
    /// How often the error watch reads Sentry: checked at each sampling
    /// round, so never more often than `interval`.
    pub error_interval: Duration,
    /// When the next error round is due (the people's Unix seconds).
    errors_due: Arc<Mutex<i64>>,
    trackers: Arc<Mutex<HashMap<(i64, String), Tracker>>>,
    /// Jobs under way: a slow probe or snapshot is never started twice.
    busy: Arc<Mutex<HashSet<(i64, Job)>>>,
    overdue: Arc<Mutex<Announced>>,
    /// Scheduled snapshots are taken one at a time, each with its checks all
    /// at once: 50 watches due together once ran 3,000 checks at once, and
    /// the heap they scattered stayed (the benchmark's RSS, 20.7 MB at 4 at
    /// a time, 19.5 MB like this). A snapshot lasts its slowest check.
    snapshots: Arc<tokio::sync::Semaphore>,
}

impl Default for Watcher {
    fn default() -> Self {
        Watcher::new(DEFAULT_SAMPLE_INTERVAL)
    }
}

impl Watcher {
    pub fn new(interval: Duration) -> Self {
        Watcher {
            interval,
            error_interval: DEFAULT_ERROR_INTERVAL,
            errors_due: Arc::default(),
            trackers: Arc::default(),
            busy: Arc::default(),
            overdue: Arc::default(),
            snapshots: Arc::new(tokio::sync::Semaphore::new(1)),
        }
    }

    /// Samples and schedules every interval, until the server stops (see
    /// [`AppState::spawn`]). On a shared store only the replica holding the
    /// watcher's lock does; the others try to take it every interval, so
    /// one takes over within an interval of the holder's death.
    pub async fn run(state: AppState) {
        let mut ticks = tokio::time::interval(state.watcher.interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut held: Option<HeldLock> = None;
        loop {
            let tick = ticks.tick().await;
            if state.store.is_shared() && !state.watcher.lead(&state, &mut held).await {
                state.metrics.watcher_held(false);
                continue;
            }
            state.metrics.watcher_held(true);
            state.metrics.sampler_round(tick.elapsed());
            state.watcher.round(&state).await;
        }
    }

    /// Whether this replica holds the watcher's lock, taking it if it is
    /// free. On taking it, the watcher starts afresh from the store, as
    /// after a restart, and says so on each running watch's timeline.
    async fn lead(&self, state: &AppState, held: &mut Option<HeldLock>) -> bool {
        if let Some(lock) = held {
            if lock.held().await {
                return true;
            }
            tracing::warn!("lost the watcher's lock: another replica may keep the watch now");
            *held = None;
        }
        match state.store.try_lock(WATCHER).await {
            Ok(Some(lock)) => {
                *held = Some(lock);
                self.forget();
                tracing::info!(replica = %state.replica, "this replica keeps the watch");
                self.record_takeover(state).await;
                true
            }
            Ok(None) => false,
            Err(err) => {
                tracing::warn!(%err, "cannot ask for the watcher's lock");
                false
            }
        }
    }

    /// Drops what the watcher remembers, to rebuild it from the store.
    fn forget(&self) {
        lock(&self.trackers).clear();
        *lock(&self.overdue) = Announced::default();
        *lock(&self.errors_due) = 0;
    }

    /// Notes on every running watch's timeline that this replica keeps it.
    async fn record_takeover(&self, state: &AppState) {
        let now = state.clock().now();
        let Ok(watched) = state.store.watched_projects().await else {
            return;
        };
        for project in watched {
            let running = state
                .runs
                .state(project)
                .await
                .is_ok_and(|run| is_running(&state.playbook, &run, now));
            if !running {
                continue;
            }
            let change = Change::WatchTakenOver {
                replica: state.replica.clone(),
            };
            if let Err(err) = state.runs.record(project, &change, ACTOR).await {
                tracing::error!(%err, project, "the takeover was not recorded");
            }
        }
    }

    /// One round: starts what each running watch needs now.
    async fn round(&self, state: &AppState) {
        state.services.drop_stale();
        // Only projects that started a watch: the others' runs are never
        // folded (a server with a thousand projects and no watch does nothing).
        let (projects, watched) = match (
            state.store.projects().await,
            state.store.watched_projects().await,
        ) {
            (Ok(projects), Ok(watched)) => (projects, watched),
            (Err(err), _) | (_, Err(err)) => {
                tracing::error!(%err, "the watcher cannot read the projects");
                return;
            }
        };
        let now = state.clock().now();
        let mut running = Vec::new();
        let watched_and_open = projects
            .into_iter()
            .filter(|project| !project.archived && watched.contains(&project.id));
        for project in watched_and_open {
            let run = match state.runs.state(project.id).await {
                Ok(run) => Arc::new(run),
                Err(err) => {
                    tracing::error!(%err, project = project.id, "the watcher cannot read a run");
                    continue;
                }
            };
            let Some(watch) = run
                .watch
                .as_ref()
                .filter(|_| is_running(&state.playbook, &run, now))
            else {
                continue;
            };
            self.announce_overdue(state, &project, &run, now);
            let project = Arc::new(project);
            let checkpoints = &state.playbook.watch.checkpoints;
            let due = watch.schedule.snapshot_due(checkpoints, now, |hour| {
                run.snapshots.iter().any(|s| s.checkpoint == Some(hour))
            });
            if let Some(checkpoint) = due
                && let Some(claim) = self.claim(project.id, Job::Snapshot)
            {
                let (state, project, hour) = (state.clone(), project.clone(), checkpoint.hour);
                state.clone().spawn(async move {
                    let _claim = claim;
                    let _turn = state.watcher.snapshots.acquire().await;
                    if let Err(err) = take_snapshot(&state, &project, Some(hour), ACTOR).await {
                        tracing::error!(%err, project = project.id, hour, "a scheduled snapshot failed");
                    }
                });
            }
            if (!project.health_urls.is_empty() || project.frontend_url.is_some())
                && let Some(claim) = self.claim(project.id, Job::Sampling)
            {
                let (state, project, run) = (state.clone(), project.clone(), run.clone());
                state.clone().spawn(async move {
                    let _claim = claim;
                    state.watcher.sample(&state, &project, &run).await;
                });
            }
            running.push((project, run));
        }
        self.errors_if_due(state, running);
    }

    /// Starts the error watch's round when it is due and none is under way.
    fn errors_if_due(&self, state: &AppState, running: Vec<(Arc<Project>, Arc<RunState>)>) {
        let now = state.clock().real_now();
        if running.is_empty() || *lock(&self.errors_due) > now {
            return;
        }
        let Some(claim) = self.claim(0, Job::Errors) else {
            return;
        };
        let every = i64::try_from(self.error_interval.as_secs()).unwrap_or(i64::MAX / 4);
        *lock(&self.errors_due) = now + every.max(1);
        let state = state.clone();
        state.clone().spawn(async move {
            let _claim = claim;
            state.watcher.watch_errors(&state, running).await;
        });
    }

    /// Posts `text` to Slack through the notifier, in the background: a slow
    /// Slack must not hold up the round for every project.
    fn post(&self, state: &AppState, project: i64, text: String) {
        let state = state.clone();
        state
            .clone()
            .spawn(async move { state.services.notifier.post(project, &text).await });
    }

    /// Tells Slack about each checkpoint that has fallen overdue, once.
    fn announce_overdue(&self, state: &AppState, project: &Project, run: &RunState, now: i64) {
        let Some(watch) = &run.watch else { return };
        let late: Vec<(u32, String, i64)> = state
            .playbook
            .watch
            .checkpoints
            .iter()
            .filter_map(|checkpoint| {
                let done = run.completion(checkpoint.hour);
                match watch.schedule.state(checkpoint, done, now) {
                    CheckpointState::Overdue { late_seconds } => {
                        Some((checkpoint.hour, checkpoint.title.clone(), late_seconds))
                    }
                    _ => None,
                }
            })
            .collect();
        let news: Vec<(u32, String, i64)> = {
            let mut announced = lock(&self.overdue);
            let first_look = announced.seen.insert(project.id);
            late.into_iter()
                .filter(|(hour, _, _)| announced.told.insert((project.id, *hour)) && !first_look)
                .collect()
        };
        for (hour, title, late) in news {
            let on_watch = run.on_watch.as_deref().unwrap_or("nobody");
            let text = format!(
                ":warning: {}: hour {hour} “{title}” is overdue by {}. On watch: {on_watch}.",
                project.name,
                span(late)
            );
            self.post(state, project.id, text);
        }
    }

    fn claim(&self, project: i64, job: Job) -> Option<Claim> {
        lock(&self.busy).insert((project, job)).then(|| Claim {
            busy: self.busy.clone(),
            key: (project, job),
        })
    }

    /// Probes each health URL of `project` and its frontend's page once,
    /// stores the samples and logs (and tells Slack) what they changed.
    async fn sample(&self, state: &AppState, project: &Project, run: &RunState) {
        let probes = state.services.sampled(project).await;
        let at = state.clock().now_ms();
        let samples: Vec<(String, Sample)> = probes
            .into_iter()
            .map(|(url, probe)| {
                let sample = to_sample(at, &probe);
                (url, sample)
            })
            .collect();
        for (url, _) in &samples {
            self.resume(state, project, url, run).await;
        }
        if let Err(err) = state.store.add_samples(project.id, &samples).await {
            tracing::error!(%err, project = project.id, "health samples were not stored");
        }
        for (url, sample) in &samples {
            let transitions = lock(&self.trackers)
                .entry((project.id, url.clone()))
                .or_default()
                .observe(sample);
            for transition in transitions {
                self.tell(state, project, url, sample, transition).await;
            }
        }
    }

    /// Rebuilds a URL's tracker after a restart (or on its first sample):
    /// its state from the log, its streaks and uptime from the last samples.
    /// What those samples changed that the log does not hold is told now.
    async fn resume(&self, state: &AppState, project: &Project, url: &str, run: &RunState) {
        let key = (project.id, url.to_owned());
        if lock(&self.trackers).contains_key(&key) {
            return;
        }
        let down_since = run
            .health
            .get(url)
            .filter(|known| !known.up)
            .map(|known| known.since);
        let last = match state.store.last_samples(project.id, url, DOWN_AFTER).await {
            Ok(last) => last,
            Err(err) => {
                tracing::error!(%err, project = project.id, "the last health samples were not read");
                Vec::new()
            }
        };
        let (tracker, changes) = Tracker::resume(down_since, &last);
        lock(&self.trackers).entry(key).or_insert(tracker);
        if let Some(newest) = last.last() {
            for change in changes {
                self.tell(state, project, url, newest, change).await;
            }
        }
    }

    async fn tell(
        &self,
        state: &AppState,
        project: &Project,
        url: &str,
        sample: &Sample,
        transition: Transition,
    ) {
        let (change, notice) = match transition {
            Transition::Down { since } => (
                Change::HealthChanged {
                    url: url.to_owned(),
                    up: false,
                    since,
                    detail: problem(sample),
                },
                Some(format!(
                    ":red_circle: {}: {url} is down ({}) since {}. Open Watchpost's escalation “Health check fails”.",
                    project.name,
                    problem(sample),
                    crate::clock::rfc3339(since.div_euclid(1000))
                )),
            ),
            Transition::Up { after_ms } => (
                Change::HealthChanged {
                    url: url.to_owned(),
                    up: true,
                    since: sample.at,
                    detail: format!("down for {}", span(after_ms / 1000)),
                },
                Some(format!(
                    ":large_green_circle: {}: {url} is up again, after {} down.",
                    project.name,
                    span(after_ms / 1000)
                )),
            ),
            Transition::Restarted {
                uptime_before,
                uptime_after,
            } => (
                Change::Restarted {
                    url: url.to_owned(),
                    uptime_before,
                    uptime_after,
                },
                None,
            ),
        };
        if let Err(err) = state.runs.record(project.id, &change, ACTOR).await {
            tracing::error!(%err, project = project.id, "a health change was not logged");
        }
        if let Some(text) = notice {
            self.post(state, project.id, text);
        }
    }
}

/// Overdue checkpoints already announced, and the projects seen since this
/// process started (what was overdue before is not announced again).
#[derive(Debug, Default)]
struct Announced {
    told: HashSet<(i64, u32)>,
    seen: HashSet<i64>,
}

/// A job marked busy until this is dropped.
struct Claim {
    busy: Arc<Mutex<HashSet<(i64, Job)>>>,
    key: (i64, Job),
}

impl Drop for Claim {
    fn drop(&mut self) {
        lock(&self.busy).remove(&self.key);
    }
}

fn to_sample(at: i64, probe: &Result<Probe, String>) -> Sample {
    match probe {
        Ok(probe) => Sample {
            at,
            ok: probe.is_healthy(),
            status: probe.status,
            latency_ms: Some(u32::try_from(probe.latency.as_millis()).unwrap_or(u32::MAX)),
            uptime: probe
                .uptime()
                .filter(|uptime| uptime.is_finite() && *uptime >= 0.0)
                .map(|uptime| uptime as u64),
            failing: probe
                .unmet
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
        },
        Err(why) => Sample {
            at,
            ok: false,
            status: 0,
            latency_ms: None,
            uptime: None,
            failing: why.clone(),
        },
    }
}

/// What a failing sample shows, for people: "answered 503, but the status
/// code should be below 300 (saw 503)".
fn problem(sample: &Sample) -> String {
    match (sample.status, sample.failing.is_empty()) {
        (0, _) => sample.failing.clone(),
        (status, true) => format!("answered {status}"),
        (status, false) => format!("answered {status}, but {}", sample.failing),
    }
}
