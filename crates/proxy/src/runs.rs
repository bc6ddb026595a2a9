//! The projects' run logs, live: appending, fanning new entries out to the
//! open streams, and the folded state of each run kept in memory.
//!
//! Appends go one at a time through a lock held across the insert and the
//! broadcast, so every stream sees entries in id order and a client resuming
//! after its last id can never skip one that was committed earlier.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::lock;

use domain::run::{Change, Entry, RunState};
use tokio::sync::broadcast;

use crate::store::Store;

/// How many entries a slow stream may fall behind before it re-reads the store.
const CHANNEL_CAPACITY: usize = 256;

#[derive(Debug, Clone)]
pub struct Runs {
    store: Store,
    append_lock: Arc<tokio::sync::Mutex<()>>,
    channels: Arc<Mutex<HashMap<i64, broadcast::Sender<Arc<Entry>>>>>,
    states: Arc<Mutex<HashMap<i64, RunState>>>,
}

impl Runs {
    pub fn new(store: Store) -> Self {
        Runs {
            store,
            append_lock: Arc::default(),
            channels: Arc::default(),
            states: Arc::default(),
        }
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
        let _one_at_a_time = self.append_lock.lock().await;
        let (entry, created) = self.store.append(project, op_id, change, actor).await?;
        if created {
            if let Some(state) = lock(&self.states).get_mut(&project) {
                state.apply(&entry);
            }
            if let Some(sender) = lock(&self.channels).get(&project) {
                // No receiver is fine: nobody is watching this project right now.
                let _ = sender.send(Arc::new(entry.clone()));
            }
        }
        Ok((entry, created))
    }

    /// Appends a change the proxy made (a check's result, an action's), under
    /// a fresh random op id.
    pub async fn record(
        &self,
        project: i64,
        change: &Change,
        actor: &str,
    ) -> Result<Entry, sqlx::Error> {
        let mut bytes = [0u8; 16];
        OsRng.fill_bytes(&mut bytes);
        let op_id = format!("{}-{}", change.kind(), URL_SAFE_NO_PAD.encode(bytes));
        Ok(self.append(project, &op_id, change, actor).await?.0)
    }

    /// New entries of `project` from now on.
    pub fn subscribe(&self, project: i64) -> broadcast::Receiver<Arc<Entry>> {
        let mut channels = lock(&self.channels);
        // Drop the channels of projects nobody watches any more.
        channels.retain(|_, sender| sender.receiver_count() > 0);
        channels
            .entry(project)
            .or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0)
            .subscribe()
    }

    /// The run folded from the whole log; folded from the store on first use.
    pub async fn state(&self, project: i64) -> Result<RunState, sqlx::Error> {
        if let Some(state) = lock(&self.states).get(&project) {
            return Ok(state.clone());
        }
        // Holding the append lock keeps the cache from missing an entry
        // appended while the fold reads the store.
        let _one_at_a_time = self.append_lock.lock().await;
        let state = self.fold(project).await?;
        lock(&self.states).insert(project, state.clone());
        Ok(state)
    }

    /// Folds a project's log from the store.
    pub async fn fold(&self, project: i64) -> Result<RunState, sqlx::Error> {
        let mut state = RunState::default();
        self.store
            .each_entry(project, 0, |entry| state.apply(&entry))
            .await?;
        Ok(state)
    }
}
