//! How the app writes a new entry as JSON (`POST .../log`). The proxy reads
//! serde's adjacently tagged form; nanoserde cannot derive it, so the change
//! goes through one flat payload struct holding every payload field. The app
//! reads entries in the binary form instead (`crate::binary`), which needs no
//! hand-written codec. Tests check the proxy reads what the app writes.

use nanoserde::{SerJson, SerJsonState};

use super::{Change, CheckStatus, NewEntry};
use crate::playbook::{Decimal, Outcome};

#[derive(SerJson)]
struct NewEntryJson {
    op_id: String,
    kind: String,
    payload: PayloadJson,
}

#[derive(Default, SerJson)]
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
}

impl SerJson for NewEntry {
    fn ser_json(&self, d: usize, state: &mut SerJsonState) {
        NewEntryJson {
            op_id: self.op_id.clone(),
            kind: self.change.kind().to_owned(),
            payload: PayloadJson::from_change(&self.change),
        }
        .ser_json(d, state);
    }
}
