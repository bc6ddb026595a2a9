//! The timeline as people read it: filtered by kind and person, and exported.

use super::{Change, Entry};
use crate::playbook::Playbook;

/// Every kind of entry, by its API name, with how the timeline filter shows it.
pub const KINDS: [(&str, &str); 18] = [
    ("ticked", "Ticked"),
    ("unticked", "Unticked"),
    ("note", "Notes"),
    ("metric_recorded", "Measurements"),
    ("check_result", "Live checks"),
    ("decision_taken", "Decisions"),
    ("handover", "Handovers"),
    ("sign_off", "Sign-off"),
    ("action_taken", "Actions"),
    ("watch_scheduled", "Watch schedule"),
    ("checkpoint_completed", "Checkpoints"),
    ("snapshot", "Snapshots"),
    ("health_changed", "Health"),
    ("restarted", "Restarts"),
    ("handover_acknowledged", "Handovers acknowledged"),
    ("criterion_waived", "Waivers"),
    ("error_rate_changed", "Error rate"),
    ("watch_taken_over", "Watch taken over"),
];

impl Change {
    /// The API name of the entry's kind, as in `{"kind": "ticked"}`.
    pub fn kind(&self) -> &'static str {
        KINDS[self.kind_index()].0
    }

    /// How the timeline names the entry's kind: "Decisions".
    pub fn kind_label(&self) -> &'static str {
        KINDS[self.kind_index()].1
    }

    fn kind_index(&self) -> usize {
        match self {
            Change::Ticked { .. } => 0,
            Change::Unticked { .. } => 1,
            Change::Note { .. } => 2,
            Change::MetricRecorded { .. } => 3,
            Change::CheckResult { .. } => 4,
            Change::DecisionTaken { .. } => 5,
            Change::Handover { .. } => 6,
            Change::SignOff { .. } => 7,
            Change::ActionTaken { .. } => 8,
            Change::WatchScheduled { .. } => 9,
            Change::CheckpointCompleted { .. } => 10,
            Change::Snapshot { .. } => 11,
            Change::HealthChanged { .. } => 12,
            Change::Restarted { .. } => 13,
            Change::HandoverAcknowledged { .. } => 14,
            Change::CriterionWaived { .. } => 15,
            Change::ErrorRateChanged { .. } => 16,
            Change::WatchTakenOver { .. } => 17,
        }
    }
}

/// Which entries the timeline shows; `None` shows every one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntryFilter {
    pub kind: Option<String>,
    pub actor: Option<String>,
}

impl EntryFilter {
    pub fn matches(&self, entry: &Entry) -> bool {
        self.kind
            .as_deref()
            .is_none_or(|kind| entry.change.kind() == kind)
            && self
                .actor
                .as_deref()
                .is_none_or(|actor| entry.actor == actor)
    }

    /// The filter as URL query parameters (`&kind=note&actor=Ana%20B`), for
    /// the export links: empty without a filter.
    pub fn query(&self) -> String {
        let mut query = String::new();
        for (name, value) in [("kind", &self.kind), ("actor", &self.actor)] {
            if let Some(value) = value {
                query.push('&');
                query.push_str(name);
                query.push('=');
                percent_encode(value, &mut query);
            }
        }
        query
    }
}

/// Everything but RFC 3986's unreserved characters, as `%XX` of its UTF-8 bytes.
fn percent_encode(value: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 15)]));
        }
    }
}

/// The people who appear in a log, each once, in order of first appearance.
pub fn actors(entries: &[Entry]) -> Vec<&str> {
    let mut actors: Vec<&str> = Vec::new();
    for entry in entries {
        if !actors.contains(&entry.actor.as_str()) {
            actors.push(&entry.actor);
        }
    }
    actors
}

/// A Markdown record of the entries, oldest first, for a launch report.
pub fn markdown(title: &str, entries: &[Entry], playbook: &Playbook) -> String {
    let mut out = format!(
        "# Timeline: {}\n\n| When (UTC) | Who | What |\n| --- | --- | --- |\n",
        cell(title)
    );
    for entry in entries {
        let when = entry.at.get(..19).unwrap_or(&entry.at).replace('T', " ");
        out.push_str(&format!(
            "| {} | {} | {} |\n",
            cell(&when),
            cell(&entry.actor),
            cell(&entry.describe_fully(playbook))
        ));
    }
    if entries.is_empty() {
        out.push_str("| | | Nothing has been recorded. |\n");
    }
    out
}

/// People's text as one table cell that renders as the text it is: no line
/// breaks, no table, link, emphasis or code syntax, no HTML (a report is
/// often opened in a renderer that allows it), and no `javascript:` URL for
/// a renderer that links any scheme.
pub(crate) fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '|' | '[' | ']' | '(' | ')' | '`' | '*' | '_' | '~' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\r' | '\n' => out.push(' '),
            _ => out.push(c),
        }
    }
    for scheme in ["javascript:", "vbscript:"] {
        while let Some(at) = out.to_ascii_lowercase().find(scheme) {
            let colon = at + scheme.len() - 1;
            out.replace_range(colon..=colon, "&#58;");
        }
    }
    out
}
