//! The app's JSON codec for entries. The proxy speaks serde; the app uses
//! nanoserde (serde_json costs the wasm bundle about 20 KB), which cannot read
//! serde's adjacently tagged enums, so entries go through one flat wire struct
//! holding every payload field. Tests check both codecs agree.
// nanoserde's derived DeJson code trips this lint; it is not ours to rewrite.
#![allow(clippy::question_mark)]

use nanoserde::{DeJson, DeJsonErr, DeJsonState, SerJson, SerJsonState};

use super::{Change, CheckStatus, Entry, NewEntry};
use crate::playbook::{Decimal, Outcome};

#[derive(DeJson, SerJson)]
struct EntryJson {
    #[nserde(default)]
    id: u64,
    op_id: String,
    #[nserde(default)]
    actor: String,
    #[nserde(default)]
    at: String,
    kind: String,
    payload: PayloadJson,
}

#[derive(Default, DeJson, SerJson)]
struct PayloadJson {
    item: Option<String>,
    text: Option<String>,
    target: Option<String>,
    value: Option<Number>,
    status: Option<CheckStatus>,
    observed: Option<String>,
    escalation: Option<String>,
    answers: Option<Vec<usize>>,
    outcome: Option<Outcome>,
    note: Option<String>,
    to: Option<String>,
    approved: Option<bool>,
}

/// A measurement, written without the float formatting machinery (4.6 KB of wasm).
struct Number(f64);

impl DeJson for Number {
    fn de_json(state: &mut DeJsonState, input: &mut std::str::Chars) -> Result<Self, DeJsonErr> {
        f64::de_json(state, input).map(Number)
    }
}

impl SerJson for Number {
    fn ser_json(&self, _: usize, state: &mut SerJsonState) {
        state.out.push_str(&Decimal(self.0).to_string());
    }
}

impl SerJson for CheckStatus {
    fn ser_json(&self, d: usize, state: &mut SerJsonState) {
        self.name().ser_json(d, state);
    }
}

impl SerJson for Outcome {
    fn ser_json(&self, d: usize, state: &mut SerJsonState) {
        self.name().ser_json(d, state);
    }
}

impl PayloadJson {
    fn from_change(change: &Change) -> PayloadJson {
        let text = |s: &String| Some(s.clone());
        let empty = PayloadJson::default();
        match change {
            Change::Ticked { item } | Change::Unticked { item } => PayloadJson {
                item: text(item),
                ..empty
            },
            Change::Note { text: body, item } => PayloadJson {
                text: text(body),
                item: item.clone(),
                ..empty
            },
            Change::MetricRecorded { target, value } => PayloadJson {
                target: text(target),
                value: Some(Number(*value)),
                ..empty
            },
            Change::CheckResult {
                item,
                status,
                observed,
            } => PayloadJson {
                item: text(item),
                status: Some(*status),
                observed: text(observed),
                ..empty
            },
            Change::DecisionTaken {
                escalation,
                answers,
                outcome,
                note,
            } => PayloadJson {
                escalation: text(escalation),
                answers: Some(answers.clone()),
                outcome: Some(*outcome),
                note: text(note),
                ..empty
            },
            Change::Handover { to, note } => PayloadJson {
                to: text(to),
                note: text(note),
                ..empty
            },
            Change::SignOff { approved, note } => PayloadJson {
                approved: Some(*approved),
                note: text(note),
                ..empty
            },
        }
    }

    fn into_change(self, kind: &str) -> Option<Change> {
        let note = self.note.unwrap_or_default();
        Some(match kind {
            "ticked" => Change::Ticked { item: self.item? },
            "unticked" => Change::Unticked { item: self.item? },
            "note" => Change::Note {
                text: self.text?,
                item: self.item,
            },
            "metric_recorded" => Change::MetricRecorded {
                target: self.target?,
                value: self.value?.0,
            },
            "check_result" => Change::CheckResult {
                item: self.item?,
                status: self.status?,
                observed: self.observed?,
            },
            "decision_taken" => Change::DecisionTaken {
                escalation: self.escalation?,
                answers: self.answers?,
                outcome: self.outcome?,
                note,
            },
            "handover" => Change::Handover { to: self.to?, note },
            "sign_off" => Change::SignOff {
                approved: self.approved?,
                note,
            },
            _ => return None,
        })
    }
}

impl DeJson for Entry {
    fn de_json(state: &mut DeJsonState, input: &mut std::str::Chars) -> Result<Self, DeJsonErr> {
        let wire = EntryJson::de_json(state, input)?;
        let change = wire
            .payload
            .into_change(&wire.kind)
            .ok_or_else(|| state.err_parse("log entry"))?;
        Ok(Entry {
            id: wire.id,
            op_id: wire.op_id,
            actor: wire.actor,
            at: wire.at,
            change,
        })
    }
}

impl SerJson for NewEntry {
    fn ser_json(&self, d: usize, state: &mut SerJsonState) {
        EntryJson::new(0, &self.op_id, "", "", &self.change).ser_json(d, state);
    }
}

/// The app keeps its unsent operations in local storage as entries.
impl SerJson for Entry {
    fn ser_json(&self, d: usize, state: &mut SerJsonState) {
        EntryJson::new(self.id, &self.op_id, &self.actor, &self.at, &self.change)
            .ser_json(d, state);
    }
}

impl EntryJson {
    fn new(id: u64, op_id: &str, actor: &str, at: &str, change: &Change) -> Self {
        EntryJson {
            id,
            op_id: op_id.to_owned(),
            actor: actor.to_owned(),
            at: at.to_owned(),
            kind: change.kind().to_owned(),
            payload: PayloadJson::from_change(change),
        }
    }
}
