//! State several components share, provided through context.

use std::sync::Arc;

use domain::Playbook;
use domain::run::{Change, Entry, RunState, Tick};
use leptos::prelude::*;

use crate::api;
use crate::load::Loader;

/// The playbook the proxy serves, fetched once for the whole app.
pub fn provide_playbook() {
    provide_context(Loader::new(|| async {
        api::playbook().await.map(Arc::new)
    }));
}

pub fn use_playbook() -> Loader<Arc<Playbook>> {
    expect_context::<Loader<Arc<Playbook>>>()
}

/// This tab's run of a project: a log of entries and the state folded from it.
/// It lives as long as the project's pages are open.
#[derive(Clone, Copy)]
pub struct Run {
    log: RwSignal<Vec<Entry>>,
    state: Memo<RunState>,
}

impl Run {
    pub fn new() -> Self {
        let log = RwSignal::new(Vec::<Entry>::new());
        // Every new entry changes the state, so skip Memo's equality check (and
        // the code comparing two states would add to the wasm).
        let state =
            Memo::new_with_compare(move |_| log.with(|log| RunState::fold(log)), |_, _| true);
        Run { log, state }
    }

    pub fn tick(&self, item: &str) -> Option<Tick> {
        self.state.with(|state| state.tick(item).cloned())
    }

    pub fn entries(&self) -> Vec<Entry> {
        self.log.get()
    }

    /// Ticks a manual item, or unticks it when it is ticked.
    pub fn toggle(&self, item: &str) {
        let change = if self.tick(item).is_some() {
            Change::Unticked {
                item: item.to_owned(),
            }
        } else {
            Change::Ticked {
                item: item.to_owned(),
            }
        };
        let at = String::from(js_sys::Date::new_0().to_iso_string());
        self.log.update(|log| {
            let id = log.len() as u64 + 1;
            log.push(Entry {
                id,
                op_id: format!("local-{id}"),
                actor: "you".to_owned(),
                at,
                change,
            });
        });
    }
}

pub fn use_run() -> Run {
    expect_context::<Run>()
}
