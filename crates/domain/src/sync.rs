//! How a browser keeps its copy of a run in step with the proxy: the outbox of
//! operations the proxy has not stored yet, what each answer means for them,
//! and how long to wait before reconnecting.
//!
//! The app keeps the outbox in local storage, so ticks made offline survive a
//! reload and are sent when the proxy is back. Each operation carries its own
//! `op_id`, so sending one twice (a lost answer, two tabs) stores it once.

use nanoserde::{DeBin, SerBin};

use crate::binary::{from_base64, to_base64};
use crate::run::{Change, Decision, Entry, RunState, Tick};

/// How local storage holds an outbox: `1:` and the base64 of its entries in
/// the binary form. Before the prefix (Watchpost 0.1) the same entries were
/// stored bare, and are still read.
const STORED_VERSION: &str = "1:";

/// Operations made in this browser and not yet seen in the log, oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outbox {
    pending: Vec<Entry>,
}

impl Outbox {
    pub fn new(pending: Vec<Entry>) -> Self {
        Outbox { pending }
    }

    /// The outbox as local storage keeps it.
    pub fn to_stored(&self) -> String {
        format!(
            "{STORED_VERSION}{}",
            to_base64(&self.pending.serialize_bin())
        )
    }

    /// An outbox from local storage; `None` when another version wrote it
    /// (or it is damaged): then keep the text, never overwrite it.
    pub fn from_stored(text: &str) -> Option<Self> {
        let body = match text.split_once(':') {
            Some(_) => text.strip_prefix(STORED_VERSION)?,
            None => text,
        };
        let pending = Vec::<Entry>::deserialize_bin(&from_base64(body)?).ok()?;
        Some(Outbox { pending })
    }

    pub fn pending(&self) -> &[Entry] {
        &self.pending
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    pub fn push(&mut self, entry: Entry) {
        self.pending.push(entry);
    }

    /// Whether the operation is still waiting here.
    pub fn has(&self, op_id: &str) -> bool {
        self.pending.iter().any(|entry| entry.op_id == op_id)
    }

    /// Whether a tick or untick of `item` is still waiting here.
    pub fn touches_item(&self, item: &str) -> bool {
        self.pending.iter().any(|entry| {
            matches!(&entry.change, Change::Ticked { item: i } | Change::Unticked { item: i } if i == item)
        })
    }

    /// The operation is in the log (or was refused): it leaves the outbox.
    /// Returns whether it was there.
    pub fn settle(&mut self, op_id: &str) -> bool {
        let before = self.pending.len();
        self.pending.retain(|entry| entry.op_id != op_id);
        self.pending.len() != before
    }

    /// Who ticked `item`, as it will be once this browser's unsent
    /// operations are stored: the latest of them about the item wins.
    /// (Asking per item, instead of copying the whole state with the outbox
    /// applied, keeps each new entry cheap however long the run grows.)
    pub fn tick(&self, stored: &RunState, item: &str) -> Option<Tick> {
        for entry in self.pending.iter().rev() {
            match &entry.change {
                Change::Ticked { item: ticked } if ticked == item => {
                    return Some(Tick {
                        by: entry.actor.clone(),
                        at: entry.at.clone(),
                    });
                }
                Change::Unticked { item: unticked } if unticked == item => return None,
                _ => {}
            }
        }
        stored.tick(item).cloned()
    }

    /// The latest decision taken in `escalation`, unsent ones included.
    pub fn last_decision(&self, stored: &RunState, escalation: &str) -> Option<Decision> {
        let pending = self
            .pending
            .iter()
            .rev()
            .find_map(|entry| match &entry.change {
                Change::DecisionTaken {
                    escalation: taken,
                    outcome,
                    note,
                    ..
                } if taken == escalation => Some(Decision {
                    escalation: taken.clone(),
                    outcome: *outcome,
                    by: entry.actor.clone(),
                    at: entry.at.clone(),
                    note: note.clone(),
                }),
                _ => None,
            });
        pending.or_else(|| {
            stored
                .decisions
                .iter()
                .rev()
                .find(|decision| decision.escalation == escalation)
                .cloned()
        })
    }
}

/// What an answer to `POST .../log` means for the operation sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Stored, now or before (201, or 200 for a repeat).
    Stored,
    /// Not stored, but it may be later: no answer, a session to renew, a busy
    /// or failing proxy. It stays in the outbox.
    Retry,
    /// The proxy will never store it (invalid, forbidden, archived project):
    /// it leaves the outbox and the person is told why.
    Refused,
}

/// `status` is `None` when no answer came at all.
pub fn delivery(status: Option<u16>) -> Delivery {
    match status {
        Some(200 | 201) => Delivery::Stored,
        None | Some(401 | 408 | 425 | 429) => Delivery::Retry,
        Some(status) if status >= 500 => Delivery::Retry,
        Some(_) => Delivery::Refused,
    }
}

/// The first wait before reconnecting, and the longest.
pub const RECONNECT_FIRST_MS: u32 = 1_000;
pub const RECONNECT_MAX_MS: u32 = 30_000;

/// How long to wait before reconnection attempt `attempt` (0 for the first):
/// doubling from 1 s up to 30 s, each wait spread over its upper half by
/// `jitter` (0 to 1) so that many browsers do not reconnect in step.
pub fn reconnect_delay_ms(attempt: u32, jitter: f64) -> u32 {
    let full = RECONNECT_FIRST_MS
        .saturating_mul(1 << attempt.min(16))
        .min(RECONNECT_MAX_MS);
    let spread = f64::from(full / 2) * jitter.clamp(0.0, 1.0);
    full / 2 + spread as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playbook::Outcome;

    fn op(op_id: &str, change: Change) -> Entry {
        Entry {
            id: 0,
            op_id: op_id.to_owned(),
            actor: "Ana".to_owned(),
            at: "2026-11-22T10:00:00Z".to_owned(),
            change,
        }
    }

    fn ticked(item: &str) -> Change {
        Change::Ticked {
            item: item.to_owned(),
        }
    }

    #[test]
    fn unsent_operations_show_on_top_of_the_stored_run() {
        let stored_entry = Entry {
            id: 7,
            ..op("stored", ticked("h0-baseline"))
        };
        let stored = RunState::fold([&stored_entry]);
        let mut outbox = Outbox::default();
        outbox.push(op(
            "a",
            Change::Unticked {
                item: "h0-baseline".to_owned(),
            },
        ));
        outbox.push(op("b", ticked("h16-business-hours")));
        assert_eq!(outbox.tick(&stored, "h0-baseline"), None);
        assert_eq!(
            outbox
                .tick(&stored, "h16-business-hours")
                .map(|tick| tick.by),
            Some("Ana".to_owned())
        );
        assert!(
            stored.tick("h0-baseline").is_some(),
            "the stored run is untouched"
        );

        // The same as folding the outbox into the stored log, for every item.
        let mut folded = stored.clone();
        for entry in outbox.pending() {
            folded.apply(entry);
        }
        for item in ["h0-baseline", "h16-business-hours", "h20-stable"] {
            assert_eq!(
                outbox.tick(&stored, item),
                folded.tick(item).cloned(),
                "{item}"
            );
        }
    }

    #[test]
    fn the_latest_decision_counts_unsent_ones() {
        let decided = |by: &str, outcome| Entry {
            actor: by.to_owned(),
            ..op(
                by,
                Change::DecisionTaken {
                    escalation: "health-check".to_owned(),
                    answers: vec![0],
                    outcome,
                    note: String::new(),
                },
            )
        };
        let stored = RunState::fold([&Entry {
            id: 3,
            ..decided("Ben", Outcome::Monitor)
        }]);
        let last = |outbox: &Outbox| {
            outbox
                .last_decision(&stored, "health-check")
                .map(|decision| (decision.by, decision.outcome))
        };
        assert_eq!(
            last(&Outbox::default()),
            Some(("Ben".to_owned(), Outcome::Monitor))
        );
        let outbox = Outbox::new(vec![decided("Ana", Outcome::Rollback)]);
        assert_eq!(last(&outbox), Some(("Ana".to_owned(), Outcome::Rollback)));
        assert_eq!(outbox.last_decision(&stored, "other"), None);
    }

    #[test]
    fn a_stored_outbox_is_read_back_and_older_ones_too() {
        let outbox = Outbox::new(vec![op("a", ticked("x")), op("b", ticked("y"))]);
        let stored = outbox.to_stored();
        assert!(stored.starts_with("1:"), "{stored}");
        assert_eq!(Outbox::from_stored(&stored), Some(outbox.clone()));
        // What Watchpost 0.1 stored: the same entries, without the prefix.
        let bare = to_base64(&outbox.pending().to_vec().serialize_bin());
        assert_eq!(Outbox::from_stored(&bare), Some(outbox));
        assert_eq!(Outbox::from_stored("1:"), None, "damaged");
        assert_eq!(Outbox::from_stored(""), None);
    }

    #[test]
    fn an_outbox_from_another_version_is_not_read() {
        let outbox = Outbox::new(vec![op("a", ticked("x"))]);
        let newer = outbox.to_stored().replacen("1:", "2:", 1);
        assert_eq!(Outbox::from_stored(&newer), None);
        assert_eq!(Outbox::from_stored("not base64!"), None);
        let mut truncated = outbox.to_stored();
        truncated.truncate(truncated.len() - 8);
        assert_eq!(Outbox::from_stored(&truncated), None);
    }

    #[test]
    fn an_operation_leaves_the_outbox_once() {
        let mut outbox = Outbox::new(vec![op("a", ticked("x")), op("b", ticked("y"))]);
        assert!(outbox.has("a") && outbox.touches_item("x") && !outbox.touches_item("z"));
        assert!(outbox.settle("a"));
        assert!(!outbox.settle("a"), "a second confirmation changes nothing");
        assert!(!outbox.has("a") && !outbox.touches_item("x"));
        assert_eq!(outbox.pending().len(), 1);
        assert_eq!(outbox.pending()[0].op_id, "b");
        assert!(outbox.settle("b"));
        assert!(outbox.is_empty());
    }

    #[test]
    fn answers_decide_whether_an_operation_is_kept() {
        assert_eq!(delivery(Some(201)), Delivery::Stored);
        assert_eq!(delivery(Some(200)), Delivery::Stored);
        for retry in [
            None,
            Some(401),
            Some(408),
            Some(429),
            Some(500),
            Some(502),
            Some(503),
        ] {
            assert_eq!(delivery(retry), Delivery::Retry, "{retry:?}");
        }
        for refused in [400, 403, 404, 409, 413, 422] {
            assert_eq!(delivery(Some(refused)), Delivery::Refused, "{refused}");
        }
    }

    #[test]
    fn reconnecting_backs_off_to_thirty_seconds_with_jitter() {
        let lowest: Vec<u32> = (0..8).map(|n| reconnect_delay_ms(n, 0.0)).collect();
        assert_eq!(
            lowest,
            [500, 1_000, 2_000, 4_000, 8_000, 15_000, 15_000, 15_000]
        );
        let highest: Vec<u32> = (0..8).map(|n| reconnect_delay_ms(n, 1.0)).collect();
        assert_eq!(
            highest,
            [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]
        );
        assert_eq!(
            reconnect_delay_ms(u32::MAX, 2.0),
            30_000,
            "no overflow, jitter clamped"
        );
    }
}
