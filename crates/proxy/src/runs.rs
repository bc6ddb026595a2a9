//! The projects' run logs, live: appending, fanning new entries out to the
//! open streams, and the folded state of each run kept in memory.
//!
//! Appends go through one writer task, under a lock held across the insert
//! and the broadcast, so every stream sees entries in id order and a client
//! resuming after its last id can never skip one that was committed earlier.
//! The writer stores every append waiting at once in one statement (a group
//! commit): fifty people ticking, or fifty checks finishing, wait for one
//! write, not for fifty in turn.
//!
//! On a shared store (PostgreSQL) other replicas append too. A replica then
//! tells its streams and folded states by catching up from the store: it
//! keeps, per project it follows, the last entry it told (`told`), and reads
//! what came after whenever it appends or another replica's notification
//! arrives. A project's entries commit in id order (the store's append lock),
//! so reading after `told` never skips one.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use domain::run::{Change, Entry, RunState};
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::live::Published;
use crate::lock;
use crate::metrics::Metrics;
use crate::store::postgres::Notice;
use crate::store::{NewRow, Store};

/// Appends stored in one statement at most.
const MOST_AT_ONCE: usize = 100;

/// How many entries a slow stream may fall behind before it re-reads the store.
const CHANNEL_CAPACITY: usize = 256;

#[derive(Debug, Clone)]
pub struct Runs {
    log: Log,
    /// The writer's queue, made with the writer on the first append.
    writer: Arc<OnceLock<mpsc::UnboundedSender<Append>>>,
}

/// What the writer needs: the store, and who to tell.
#[derive(Debug, Clone)]
struct Log {
    store: Store,
    append_lock: Arc<tokio::sync::Mutex<()>>,
    channels: Arc<Mutex<HashMap<i64, broadcast::Sender<Arc<Published>>>>>,
    states: Arc<Mutex<HashMap<i64, RunState>>>,
    metrics: Option<Metrics>,
    /// Shared store only: per project this replica follows (a stream or a
    /// folded state), the last entry told to them.
    told: Arc<Mutex<HashMap<i64, u64>>>,
}

/// Entries to append together, all or none, and where the answer goes.
#[derive(Debug)]
struct Append {
    project: i64,
    /// `(op_id, change)` in order.
    changes: Vec<(String, Change)>,
    actor: String,
    done: oneshot::Sender<Result<Vec<(Entry, bool)>, String>>,
}

impl Runs {
    pub fn new(store: Store) -> Self {
        Runs {
            log: Log {
                store,
                append_lock: Arc::default(),
                channels: Arc::default(),
                states: Arc::default(),
                metrics: None,
                told: Arc::default(),
            },
            writer: Arc::default(),
        }
    }

    /// The same log, its appends timed in `metrics`.
    pub fn measured(mut self, metrics: &Metrics) -> Self {
        self.log.metrics = Some(metrics.clone());
        self
    }

    /// Stores the change (once per `op_id`) and tells every open stream.
    /// Returns the stored entry and whether it is new.
    pub async fn append(
        &self,
        project: i64,
        op_id: &str,
        change: &Change,
        actor: &str,
    ) -> Result<(Entry, bool), sqlx::Error> {
        let mut stored = self
            .append_together(project, vec![(op_id.to_owned(), change.clone())], actor)
            .await?;
        stored
            .pop()
            .ok_or_else(|| sqlx::Error::Protocol("an append stored nothing".into()))
    }

    /// Stores `changes` in one statement: all of them or, when the store
    /// refuses one, none.
    async fn append_together(
        &self,
        project: i64,
        changes: Vec<(String, Change)>,
        actor: &str,
    ) -> Result<Vec<(Entry, bool)>, sqlx::Error> {
        let writer = self.writer.get_or_init(|| {
            let (queue, waiting) = mpsc::unbounded_channel();
            tokio::spawn(self.log.clone().write(waiting));
            queue
        });
        let (done, answer) = oneshot::channel();
        writer
            .send(Append {
                project,
                changes,
                actor: actor.to_owned(),
                done,
            })
            .map_err(|_| sqlx::Error::PoolClosed)?;
        answer
            .await
            .map_err(|_| sqlx::Error::PoolClosed)?
            .map_err(sqlx::Error::Protocol)
    }

    /// Appends a change the proxy made (a check's result, an action's), under
    /// a fresh random op id.
    pub async fn record(
        &self,
        project: i64,
        change: &Change,
        actor: &str,
    ) -> Result<Entry, sqlx::Error> {
        let mut entries = self
            .record_together(project, std::slice::from_ref(change), actor)
            .await?;
        entries
            .pop()
            .ok_or_else(|| sqlx::Error::Protocol("an append stored nothing".into()))
    }

    /// Appends changes the proxy made, each under a fresh random op id, all
    /// or none: a sign-off and its waivers go in together.
    pub async fn record_together(
        &self,
        project: i64,
        changes: &[Change],
        actor: &str,
    ) -> Result<Vec<Entry>, sqlx::Error> {
        let changes = changes
            .iter()
            .map(|change| {
                let mut bytes = [0u8; 16];
                OsRng.fill_bytes(&mut bytes);
                let op_id = format!("{}-{}", change.kind(), URL_SAFE_NO_PAD.encode(bytes));
                (op_id, change.clone())
            })
            .collect();
        let stored = self.append_together(project, changes, actor).await?;
        Ok(stored.into_iter().map(|(entry, _)| entry).collect())
    }

    /// New entries of `project` from now on.
    pub async fn subscribe(
        &self,
        project: i64,
    ) -> Result<broadcast::Receiver<Arc<Published>>, sqlx::Error> {
        if self.log.store.is_shared() {
            let _one_at_a_time = self.log.append_lock.lock().await;
            self.log.follow(project).await?;
            return Ok(self.channel(project));
        }
        Ok(self.channel(project))
    }

    fn channel(&self, project: i64) -> broadcast::Receiver<Arc<Published>> {
        let mut channels = lock(&self.log.channels);
        // Drop the channels of projects nobody watches any more.
        channels.retain(|_, sender| sender.receiver_count() > 0);
        channels
            .entry(project)
            .or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0)
            .subscribe()
    }

    /// The run folded from the whole log; folded from the store on first use.
    /// On a shared store it first reads what other replicas appended since
    /// (one query), so that what an append is judged against is never behind.
    pub async fn state(&self, project: i64) -> Result<RunState, sqlx::Error> {
        if self.log.store.is_shared() && lock(&self.log.states).contains_key(&project) {
            let _one_at_a_time = self.log.append_lock.lock().await;
            self.log.catch_up(project).await?;
        }
        if let Some(state) = lock(&self.log.states).get(&project) {
            return Ok(state.clone());
        }
        // Holding the append lock keeps the cache from missing an entry
        // appended while the fold reads the store.
        let _one_at_a_time = self.log.append_lock.lock().await;
        let state = if self.log.store.is_shared() {
            // Up to what this replica has told: catching up applies the rest.
            let told = self.log.follow(project).await?;
            let mut state = RunState::default();
            self.log
                .store
                .each_entry(project, 0, |entry| {
                    if entry.id <= told {
                        state.apply(&entry);
                    }
                })
                .await?;
            state
        } else {
            self.fold(project).await?
        };
        lock(&self.log.states).insert(project, state.clone());
        Ok(state)
    }

    /// Tells this replica's streams and states what other replicas append,
    /// until the store closes. Shared store only.
    pub async fn follow_other_replicas(self) {
        if !self.log.store.is_shared() {
            return;
        }
        let mut notices = loop {
            match self.log.store.notices().await {
                Ok(notices) => break notices,
                Err(err) => {
                    tracing::warn!(%err, "cannot listen to the other replicas yet; trying again");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
            }
        };
        loop {
            let notice = match notices.next().await {
                Ok(notice) => notice,
                Err(err) => {
                    tracing::warn!(%err, "lost the other replicas' notifications; reconnecting");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    Notice::Reconnected
                }
            };
            let caught_up = match notice {
                Notice::Entries(project) => {
                    let _one_at_a_time = self.log.append_lock.lock().await;
                    self.log.catch_up(project).await
                }
                Notice::Project(_) => {
                    self.log.store.projects_changed_elsewhere();
                    Ok(())
                }
                Notice::Reconnected => {
                    self.log.store.projects_changed_elsewhere();
                    let _one_at_a_time = self.log.append_lock.lock().await;
                    let followed: Vec<i64> = lock(&self.log.told).keys().copied().collect();
                    let mut result = Ok(());
                    for project in followed {
                        result = result.and(self.log.catch_up(project).await);
                    }
                    result
                }
            };
            if let Err(err) = caught_up {
                tracing::warn!(%err, "reading the other replicas' entries failed");
            }
        }
    }

    /// Folds a project's log from the store.
    pub async fn fold(&self, project: i64) -> Result<RunState, sqlx::Error> {
        let mut state = RunState::default();
        self.log
            .store
            .each_entry(project, 0, |entry| state.apply(&entry))
            .await?;
        Ok(state)
    }
}

/// The rows of `appends`, in order.
fn rows(appends: &[Append]) -> Vec<NewRow<'_>> {
    appends
        .iter()
        .flat_map(|append| {
            append.changes.iter().map(|(op_id, change)| NewRow {
                project: append.project,
                op_id,
                change,
                actor: &append.actor,
            })
        })
        .collect()
}

impl Log {
    /// The writer: takes every append waiting, stores them at once, then
    /// folds and broadcasts each new entry in id order. It ends when the
    /// last `Runs` is dropped.
    async fn write(self, mut waiting: mpsc::UnboundedReceiver<Append>) {
        while let Some(first) = waiting.recv().await {
            let mut batch = vec![first];
            while batch.len() < MOST_AT_ONCE {
                match waiting.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
            let _one_at_a_time = self.append_lock.lock().await;
            // One append the store refuses must not fail the others with it:
            // a failed batch is tried again one append (all its rows) at a time.
            let started = std::time::Instant::now();
            let stored = self.store.append_many(&rows(&batch)).await;
            if let Some(metrics) = &self.metrics {
                metrics.append(started.elapsed());
            }
            let answers: Vec<Result<Vec<(Entry, bool)>, sqlx::Error>> = match stored {
                Ok(stored) => {
                    let mut stored = stored.into_iter();
                    batch
                        .iter()
                        .map(|append| Ok(stored.by_ref().take(append.changes.len()).collect()))
                        .collect()
                }
                Err(_) if batch.len() > 1 => {
                    let mut one_by_one = Vec::new();
                    for append in &batch {
                        one_by_one.push(
                            self.store
                                .append_many(&rows(std::slice::from_ref(append)))
                                .await,
                        );
                    }
                    one_by_one
                }
                Err(err) => vec![Err(err)],
            };
            let shared = self.store.is_shared();
            if shared {
                let mut appended: Vec<i64> = batch.iter().map(|append| append.project).collect();
                appended.sort_unstable();
                appended.dedup();
                for project in appended {
                    if let Err(err) = self.catch_up(project).await {
                        tracing::warn!(%err, "reading the log back after an append failed");
                    }
                }
            }
            for (append, stored) in batch.into_iter().zip(answers) {
                let answer = match stored {
                    Ok(stored) => {
                        for (entry, created) in &stored {
                            if *created && !shared {
                                self.tell(append.project, entry);
                            }
                        }
                        Ok(stored)
                    }
                    Err(err) => {
                        tracing::error!(%err, "appending to the log failed");
                        Err(err.to_string())
                    }
                };
                // The asker may have gone (a closed request): fine.
                let _ = append.done.send(answer);
            }
        }
    }

    /// Starts following `project` if this replica does not yet: from the
    /// last entry stored now. Returns the last entry told. Called under the
    /// append lock.
    async fn follow(&self, project: i64) -> Result<u64, sqlx::Error> {
        if let Some(told) = lock(&self.told).get(&project) {
            return Ok(*told);
        }
        let last = self.store.last_entry_id(project).await?;
        lock(&self.told).insert(project, last);
        Ok(last)
    }

    /// Tells what a followed project's log holds after the last entry told.
    /// Called under the append lock.
    async fn catch_up(&self, project: i64) -> Result<(), sqlx::Error> {
        let Some(told) = lock(&self.told).get(&project).copied() else {
            return Ok(());
        };
        let mut last = told;
        self.store
            .each_entry(project, told, |entry| {
                last = entry.id;
                self.tell(project, &entry);
            })
            .await?;
        lock(&self.told).insert(project, last);
        Ok(())
    }

    fn tell(&self, project: i64, entry: &Entry) {
        if let Some(state) = lock(&self.states).get_mut(&project) {
            state.apply(entry);
        }
        if let Some(sender) = lock(&self.channels).get(&project) {
            // No receiver is fine: nobody is watching this project right now.
            let _ = sender.send(Arc::new(Published::new(entry.clone())));
        }
    }
}
