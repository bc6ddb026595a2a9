//! The run: what a team has done so far, as a log of entries folded into a state.
//!
//! The log is the truth; the state is derived from it by a pure fold, so every
//! copy of the log (the proxy's, each browser's) agrees on the state.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One thing someone did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Position in the log, increasing.
    pub id: u64,
    pub actor: String,
    /// RFC 3339.
    pub at: String,
    #[serde(flatten)]
    pub change: Change,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "payload", rename_all = "snake_case")]
pub enum Change {
    /// A manual item was ticked by hand.
    Ticked {
        item: String,
    },
    Unticked {
        item: String,
    },
}

/// Who ticked an item, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tick {
    pub by: String,
    pub at: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunState {
    pub ticks: BTreeMap<String, Tick>,
}

impl RunState {
    pub fn fold<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> Self {
        let mut state = RunState::default();
        for entry in entries {
            state.apply(entry);
        }
        state
    }

    /// Applies entries in log order: the later entry about an item wins.
    pub fn apply(&mut self, entry: &Entry) {
        match &entry.change {
            Change::Ticked { item } => {
                self.ticks.insert(
                    item.clone(),
                    Tick {
                        by: entry.actor.clone(),
                        at: entry.at.clone(),
                    },
                );
            }
            Change::Unticked { item } => {
                self.ticks.remove(item);
            }
        }
    }

    pub fn tick(&self, item: &str) -> Option<&Tick> {
        self.ticks.get(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: u64, actor: &str, change: Change) -> Entry {
        Entry {
            id,
            actor: actor.to_owned(),
            at: format!("2026-11-22T12:00:0{id}Z"),
            change,
        }
    }

    #[test]
    fn the_last_entry_about_an_item_wins_and_records_who_and_when() {
        let log = [
            entry(
                1,
                "ana",
                Change::Ticked {
                    item: "h0-baseline".into(),
                },
            ),
            entry(
                2,
                "ben",
                Change::Unticked {
                    item: "h0-baseline".into(),
                },
            ),
            entry(
                3,
                "cy",
                Change::Ticked {
                    item: "h0-baseline".into(),
                },
            ),
            entry(
                4,
                "ana",
                Change::Ticked {
                    item: "h0-database".into(),
                },
            ),
        ];
        let state = RunState::fold(&log);
        assert_eq!(
            state.tick("h0-baseline"),
            Some(&Tick {
                by: "cy".into(),
                at: "2026-11-22T12:00:03Z".into()
            })
        );
        assert_eq!(
            state.tick("h0-database").map(|t| t.by.as_str()),
            Some("ana")
        );
        assert_eq!(RunState::fold(&log[..2]).tick("h0-baseline"), None);
    }

    #[test]
    fn entries_serialise_with_kind_and_payload() {
        let json = serde_json::to_value(entry(1, "ana", Change::Ticked { item: "x".into() }))
            .unwrap_or_default();
        assert_eq!(json["kind"], "ticked");
        assert_eq!(json["payload"]["item"], "x");
        assert_eq!(json["actor"], "ana");
    }
}
