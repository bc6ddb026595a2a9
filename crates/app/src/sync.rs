//! A project's run, live: the log as the proxy streams it, this browser's
//! unsent operations, and the connection between the two.
//!
//! Entries arrive over Server-Sent Events (`/api/projects/{id}/stream`), in
//! id order, each once. Operations made here go to an outbox in local storage
//! first, so they survive a reload or a dead network, and leave it when the
//! stream brings them back stored. The rules (what an answer means, how long
//! to wait) are in the shared crate's `sync` module.

use std::time::Duration;

use domain::binary::{decode, from_base64};
use domain::run::{ActionRecord, Change, Decision, Entry, Observation, RunState, Tick};
use domain::sync::{Delivery, Outbox, delivery, reconnect_delay_ms};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{EventSource, MessageEvent};

use crate::api;
use crate::components::storage;
use crate::state::Auth;

/// The link to the proxy's stream, as the person sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    Connecting,
    Live,
    /// Lost; the next attempt is in `seconds`.
    Waiting {
        attempt: u32,
        seconds: u32,
    },
}

#[derive(Clone, Copy)]
pub struct Run {
    project: i64,
    auth: Auth,
    log: RwSignal<Vec<Entry>>,
    stored: RwSignal<RunState>,
    outbox: RwSignal<Outbox>,
    pub link: RwSignal<Link>,
    /// Operations the proxy refused, and why; shown until dismissed.
    pub refused: RwSignal<Vec<String>>,
    connection: StoredValue<Connection, LocalStorage>,
}

#[derive(Default)]
struct Connection {
    source: Option<EventSource>,
    listeners: Vec<Closure<dyn FnMut(web_sys::Event)>>,
    retry: Option<TimeoutHandle>,
    attempt: u32,
    /// Operations the proxy has stored that the stream has not brought yet.
    sent: Vec<String>,
    flushing: bool,
}

impl Run {
    /// Starts following `project` until the calling component goes away.
    pub fn start(project: i64, auth: Auth) -> Self {
        let log = RwSignal::new(Vec::new());
        let stored = RwSignal::new(RunState::default());
        let run = Run {
            project,
            auth,
            log,
            stored,
            outbox: RwSignal::new(Outbox::default()),
            link: RwSignal::new(Link::Connecting),
            refused: RwSignal::new(Vec::new()),
            connection: StoredValue::new_local(Connection::default()),
        };
        run.outbox.set(run.load_outbox());
        run.connect();
        let online = window_event_listener(leptos::ev::online, move |_| run.reconnect_now());
        on_cleanup(move || {
            online.remove();
            run.disconnect();
        });
        run
    }

    pub fn project(&self) -> i64 {
        self.project
    }

    pub fn tick(&self, item: &str) -> Option<Tick> {
        self.outbox
            .with(|outbox| self.stored.with(|stored| outbox.tick(stored, item)))
    }

    /// The latest result of `item`'s live check.
    pub fn observation(&self, item: &str) -> Option<Observation> {
        self.stored.with(|stored| stored.checks.get(item).cloned())
    }

    /// Reads the stored run (what the proxy has confirmed), tracking it.
    pub fn with_state<R>(&self, read: impl FnOnce(&RunState) -> R) -> R {
        self.stored.with(read)
    }

    /// The latest run of the action named `action`.
    pub fn action(&self, action: &str) -> Option<ActionRecord> {
        self.stored
            .with(|stored| stored.actions.get(action).cloned())
    }

    /// Whether `item`'s latest change is still waiting in this browser.
    pub fn is_pending(&self, item: &str) -> bool {
        self.outbox.with(|outbox| outbox.touches_item(item))
    }

    /// The latest decision in `escalation`, unsent ones included.
    pub fn last_decision(&self, escalation: &str) -> Option<Decision> {
        self.outbox.with(|outbox| {
            self.stored
                .with(|stored| outbox.last_decision(stored, escalation))
        })
    }

    /// The stored log, oldest first.
    pub fn entries(&self) -> Vec<Entry> {
        self.log.get()
    }

    /// This browser's operations not stored yet, oldest first.
    pub fn pending(&self) -> Vec<Entry> {
        self.outbox.with(|outbox| outbox.pending().to_vec())
    }

    /// Ticks a manual item, or unticks it when it is ticked.
    pub fn toggle(&self, item: &str) {
        let item = item.to_owned();
        let change = if self.tick(&item).is_some() {
            Change::Unticked { item }
        } else {
            Change::Ticked { item }
        };
        self.record(change);
    }

    /// Records a change: into the outbox now, to the proxy as soon as it answers.
    pub fn record(&self, change: Change) {
        let now = js_sys::Date::new_0();
        let entry = Entry {
            id: 0,
            op_id: format!(
                "{:x}-{:x}",
                now.get_time() as u64,
                (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64
            ),
            actor: self.auth.name(),
            at: String::from(now.to_iso_string()),
            change,
        };
        self.change_outbox(|outbox| outbox.push(entry));
        self.flush();
    }

    /// An entry from the stream: the next of the log.
    fn receive(&self, entry: Entry) {
        let new = self
            .stored
            .try_update(|state| state.receive(&entry))
            .unwrap_or_default();
        if !new {
            return;
        }
        let op_id = entry.op_id.clone();
        self.log.update(|log| log.push(entry));
        self.connection
            .update_value(|c| c.sent.retain(|sent| *sent != op_id));
        if self.is_unsent(&op_id) {
            self.change_outbox(|outbox| {
                outbox.settle(&op_id);
            });
        }
    }

    /// Changes the outbox here and in local storage. Local storage is read
    /// again first: another tab of this browser may have changed it.
    fn change_outbox(&self, change: impl FnOnce(&mut Outbox)) {
        let mut outbox = self.load_outbox();
        for entry in self.outbox.with_untracked(|o| o.pending().to_vec()) {
            if !outbox.has(&entry.op_id) {
                outbox.push(entry);
            }
        }
        change(&mut outbox);
        save_outbox(self.project, &outbox);
        self.outbox.set(outbox);
    }

    /// Sends the outbox, oldest first, one at a time, until it is empty or
    /// the proxy cannot take more now.
    fn flush(&self) {
        let busy = self
            .connection
            .try_update_value(|c| std::mem::replace(&mut c.flushing, true));
        if busy != Some(false) {
            return;
        }
        let run = *self;
        leptos::task::spawn_local(async move {
            while let Some(next) = run.next_unsent() {
                let answer = api::append(run.project, &next).await;
                if run.outbox.is_disposed() {
                    return;
                }
                match delivery(
                    answer
                        .as_ref()
                        .err()
                        .map_or(Some(200), api::ApiError::status),
                ) {
                    // It leaves the outbox when the stream brings it back
                    // (which may already have happened).
                    Delivery::Stored => {
                        if run.is_unsent(&next.op_id) {
                            run.connection.update_value(|c| c.sent.push(next.op_id));
                        }
                    }
                    Delivery::Retry => {
                        if let Err(err) = answer {
                            run.auth.noticed(err);
                        }
                        break;
                    }
                    Delivery::Refused => {
                        let reason = answer.err().map(|err| err.to_string()).unwrap_or_default();
                        run.refused.update(|refused| {
                            refused.push(format!(
                                "Not saved ({}): {reason}",
                                next.change.kind_label()
                            ));
                        });
                        run.change_outbox(|outbox| {
                            outbox.settle(&next.op_id);
                        });
                    }
                }
            }
            run.connection.update_value(|c| c.flushing = false);
        });
    }

    /// The outbox local storage holds. One written by another version of
    /// Watchpost is moved aside, kept, and the person told: never dropped.
    fn load_outbox(&self) -> Outbox {
        let key = outbox_key(self.project);
        let Some(storage) = storage() else {
            return Outbox::default();
        };
        let Some(text) = storage.get_item(&key).ok().flatten() else {
            return Outbox::default();
        };
        if let Some(outbox) = Outbox::from_stored(&text) {
            return outbox;
        }
        // Whole milliseconds: formatting an f64 would pull float printing into the wasm.
        let kept = format!("{key}-kept-{}", js_sys::Date::now() as u64);
        if storage.set_item(&kept, &text).is_ok() {
            let _ = storage.remove_item(&key);
        }
        self.refused.update(|alerts| {
            alerts.push(format!(
                "Unsent changes saved here by another version of Watchpost could not be read. They were not sent, and are kept in this browser's storage as “{kept}”: do not clear this site's data; ask whoever runs Watchpost."
            ));
        });
        Outbox::default()
    }

    fn is_unsent(&self, op_id: &str) -> bool {
        self.outbox.with_untracked(|outbox| outbox.has(op_id))
    }

    fn next_unsent(&self) -> Option<Entry> {
        let sent = self.connection.with_value(|c| c.sent.clone());
        self.outbox.with_untracked(|outbox| {
            outbox
                .pending()
                .iter()
                .find(|entry| !sent.contains(&entry.op_id))
                .cloned()
        })
    }

    fn connect(&self) {
        let run = *self;
        let after = self.stored.with_untracked(|state| state.last_entry);
        let url = format!(
            "/api/projects/{}/stream?after={after}&format=binary",
            self.project
        );
        let Ok(source) = EventSource::new(&url) else {
            self.retry_later();
            return;
        };
        let on_entry = Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
            let data = event
                .dyn_ref::<MessageEvent>()
                .and_then(|message| message.data().as_string())
                .unwrap_or_default();
            match from_base64(&data)
                .ok_or_else(String::new)
                .and_then(|bytes| decode(&bytes))
            {
                Ok(entry) => run.receive(entry),
                // Never silently: the run shown would miss an entry.
                Err(why) => run.refused.update(|alerts| {
                    alerts.push(format!(
                        "An update from the server could not be read: {why}"
                    ));
                }),
            }
        });
        let on_open = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            run.link.set(Link::Live);
            run.connection.update_value(|c| c.attempt = 0);
            run.flush();
        });
        let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| run.lost());
        let _ = source.add_event_listener_with_callback("entry", on_entry.as_ref().unchecked_ref());
        source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        self.connection.update_value(|c| {
            c.source = Some(source);
            c.listeners = vec![on_entry, on_open, on_error];
        });
    }

    /// The stream failed or ended. The browser would retry by itself at a
    /// fixed pace; instead wait longer each time, and find out whether the
    /// session is the reason.
    fn lost(&self) {
        self.close_source();
        let auth = self.auth;
        leptos::task::spawn_local(async move {
            if let Err(err) = api::session().await {
                auth.noticed(err);
            }
        });
        self.retry_later();
    }

    fn retry_later(&self) {
        let attempt = self
            .connection
            .try_update_value(|c| {
                c.attempt += 1;
                c.attempt - 1
            })
            .unwrap_or_default();
        let delay = reconnect_delay_ms(attempt, js_sys::Math::random());
        self.link.set(Link::Waiting {
            attempt: attempt + 1,
            seconds: delay.div_ceil(1000),
        });
        let run = *self;
        let handle = set_timeout_with_handle(
            move || {
                if !run.link.is_disposed() {
                    run.link.set(Link::Connecting);
                    run.connect();
                }
            },
            Duration::from_millis(u64::from(delay)),
        )
        .ok();
        self.connection.update_value(|c| c.retry = handle);
    }

    /// Reconnects at once, as when the browser comes back online.
    pub fn reconnect_now(&self) {
        if matches!(self.link.get_untracked(), Link::Waiting { .. }) {
            self.cancel_retry();
            self.link.set(Link::Connecting);
            self.connect();
        }
    }

    fn close_source(&self) {
        self.connection.update_value(|c| {
            if let Some(source) = c.source.take() {
                source.close();
            }
            c.listeners.clear();
        });
    }

    fn cancel_retry(&self) {
        if let Some(Some(handle)) = self.connection.try_update_value(|c| c.retry.take()) {
            handle.clear();
        }
    }

    fn disconnect(&self) {
        self.close_source();
        self.cancel_retry();
    }
}

pub fn use_run() -> Run {
    expect_context::<Run>()
}

fn outbox_key(project: i64) -> String {
    format!("watchpost-outbox-{project}")
}

fn save_outbox(project: i64, outbox: &Outbox) {
    if let Some(storage) = storage() {
        let key = outbox_key(project);
        let _ = if outbox.is_empty() {
            storage.remove_item(&key)
        } else {
            storage.set_item(&key, &outbox.to_stored())
        };
    }
}
