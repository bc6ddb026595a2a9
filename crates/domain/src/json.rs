//! The JSON bodies the app sends, written by hand: the three it needs
//! (`SignIn`, `ProjectPatch`, `NewEntry`) cost less this way than any JSON
//! library in the wasm. Tests parse each with the proxy's serde types.

use crate::api::SignIn;
use crate::database::ConnectionString;
use crate::keyed::Keyed;
use crate::playbook::Decimal;
use crate::project::ProjectPatch;
use crate::run::{Change, NewEntry};

/// A JSON object under construction.
#[derive(Debug)]
pub struct Object(String);

impl Default for Object {
    fn default() -> Self {
        Object(String::from("{"))
    }
}

impl Object {
    fn key(mut self, key: &str) -> Self {
        if self.0.len() > 1 {
            self.0.push(',');
        }
        string(&mut self.0, key);
        self.0.push(':');
        self
    }

    pub fn text(self, key: &str, value: &str) -> Self {
        let mut object = self.key(key);
        string(&mut object.0, value);
        object
    }

    /// Writes raw JSON: a number, `true`, `null`, or a nested object.
    pub fn raw(self, key: &str, json: &str) -> Self {
        let mut object = self.key(key);
        object.0.push_str(json);
        object
    }

    /// A value, `null`, or nothing at all: the three states of a patch field.
    fn patch(self, key: &str, value: Option<Option<&str>>) -> Self {
        match value {
            None => self,
            Some(None) => self.raw(key, "null"),
            Some(Some(value)) => self.text(key, value),
        }
    }

    pub fn finish(mut self) -> String {
        self.0.push('}');
        self.0
    }
}

/// A JSON string, escaped as RFC 8259 requires.
fn string(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                out.push_str("\\u00");
                for shift in [4, 0] {
                    out.push(char::from(
                        b"0123456789abcdef"[(u32::from(c) >> shift & 15) as usize],
                    ));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A map of names to strings, as an object.
fn strings(map: &Keyed<String>) -> Object {
    map.iter().fold(Object::default(), |object, (name, value)| {
        object.text(name, value)
    })
}

fn list(items: impl IntoIterator<Item = String>) -> String {
    let items: Vec<String> = items.into_iter().collect();
    format!("[{}]", items.join(","))
}

impl SignIn {
    pub fn to_json(&self) -> String {
        Object::default()
            .text("name", &self.name)
            .text("passcode", &self.passcode)
            .finish()
    }
}

/// `{"items": [...]}`, the body of `POST .../checks`.
pub fn check_request(items: &[String]) -> String {
    let items = items.iter().map(|item| {
        let mut out = String::new();
        string(&mut out, item);
        out
    });
    Object::default().raw("items", &list(items)).finish()
}

/// `POST .../sign-off`: `{"waivers":{"<criterion>":"<reason>"},"note"}`;
/// an empty reason is left out (that criterion is not waived).
pub fn sign_off_request(waivers: &[(String, String)], note: &str) -> String {
    let waivers = waivers
        .iter()
        .filter(|(_, reason)| !reason.trim().is_empty())
        .fold(Object::default(), |object, (criterion, reason)| {
            object.text(criterion, reason)
        });
    Object::default()
        .raw("waivers", &waivers.finish())
        .text("note", note)
        .finish()
}

impl ProjectPatch {
    pub fn to_json(&self) -> String {
        // Destructured, so a field added to the patch and not written here
        // does not compile.
        let ProjectPatch {
            name,
            archived,
            sentry_org,
            sentry_project,
            sentry_frontend_project,
            sentry_team,
            sentry_environment,
            render_service_id,
            health_urls,
            frontend_url,
            platform,
            slack_channel,
            timezone,
            transactions,
            render_paths,
            database_url,
            database_size_limit_mb,
            plan_errors_per_month,
            plan_transactions_per_month,
            backup_status_url,
            backup_min_mb,
            critical,
            health_conditions,
        } = self;
        let mut object = Object::default();
        if let Some(name) = name {
            object = object.text("name", name);
        }
        if let Some(archived) = archived {
            object = object.raw("archived", if *archived { "true" } else { "false" });
        }
        for (key, value) in [
            ("sentry_org", sentry_org),
            ("sentry_project", sentry_project),
            ("sentry_frontend_project", sentry_frontend_project),
            ("sentry_team", sentry_team),
            ("sentry_environment", sentry_environment),
            ("render_service_id", render_service_id),
            ("frontend_url", frontend_url),
            ("slack_channel", slack_channel),
            ("backup_status_url", backup_status_url),
        ] {
            object = object.patch(key, value.as_ref().map(Option::as_deref));
        }
        for (key, texts) in [
            ("health_urls", health_urls),
            ("critical", critical),
            ("health_conditions", health_conditions),
        ] {
            if let Some(texts) = texts {
                let texts = texts.iter().map(|text| {
                    let mut out = String::new();
                    string(&mut out, text);
                    out
                });
                object = object.raw(key, &list(texts));
            }
        }
        if let Some(url) = database_url {
            let url = url.as_ref().map(ConnectionString::expose);
            object = object.patch("database_url", Some(url));
        }
        for (key, mb) in [
            ("backup_min_mb", backup_min_mb),
            ("database_size_limit_mb", database_size_limit_mb),
            ("plan_errors_per_month", plan_errors_per_month),
            ("plan_transactions_per_month", plan_transactions_per_month),
        ] {
            match mb {
                None => {}
                Some(None) => object = object.raw(key, "null"),
                Some(Some(mb)) => object = object.raw(key, &mb.to_string()),
            }
        }
        object = object.patch(
            "platform",
            platform.map(|platform| platform.map(|p| p.name())),
        );
        if let Some(timezone) = timezone {
            object = object.text("timezone", timezone);
        }
        for (key, mapping) in [
            ("transactions", transactions),
            ("render_paths", render_paths),
        ] {
            if let Some(mapping) = mapping {
                object = object.raw(key, &strings(mapping).finish());
            }
        }
        object.finish()
    }
}

impl NewEntry {
    /// `{"op_id","kind","payload"}`, as `POST .../log` takes it.
    pub fn to_json(&self) -> String {
        let note = |object: Object, note: &str| object.text("note", note);
        let payload = match &self.change {
            Change::Ticked { item } | Change::Unticked { item } => {
                Object::default().text("item", item)
            }
            Change::Note { text, item } => {
                let object = Object::default().text("text", text);
                match item {
                    Some(item) => object.text("item", item),
                    None => object,
                }
            }
            Change::MetricRecorded { target, value } => Object::default()
                .text("target", target)
                .raw("value", &Decimal(*value).to_string()),
            Change::CheckResult {
                item,
                check,
                status,
                observed,
                message,
                duration_ms,
            } => {
                let observed = strings(observed);
                Object::default()
                    .text("item", item)
                    .text("check", check)
                    .text("status", status.name())
                    .raw("observed", &observed.finish())
                    .text("message", message)
                    .raw("duration_ms", &duration_ms.to_string())
            }
            Change::DecisionTaken {
                escalation,
                answers,
                outcome,
                note: text,
            } => note(
                Object::default()
                    .text("escalation", escalation)
                    .raw("answers", &list(answers.iter().map(ToString::to_string)))
                    .text("outcome", outcome.name()),
                text,
            ),
            Change::Handover { to, note: text } => note(Object::default().text("to", to), text),
            Change::ActionTaken {
                action,
                status,
                changed,
                message,
            } => Object::default()
                .text("action", action)
                .text("status", status.name())
                .raw("changed", &strings(changed).finish())
                .text("message", message),
            Change::SignOff {
                approved,
                note: text,
            } => note(
                Object::default().raw("approved", if *approved { "true" } else { "false" }),
                text,
            ),
            Change::WatchScheduled {
                start,
                grace_seconds,
            } => Object::default()
                .raw("start", &start.to_string())
                .raw("grace_seconds", &grace_seconds.to_string()),
            Change::CriterionWaived { criterion, reason } => Object::default()
                .text("criterion", criterion)
                .text("reason", reason),
            Change::HandoverAcknowledged { hour } => {
                Object::default().raw("hour", &hour.to_string())
            }
            Change::CheckpointCompleted { hour, note: text } => {
                note(Object::default().raw("hour", &hour.to_string()), text)
            }
            Change::Snapshot {
                checkpoint,
                judgments,
            } => {
                let judgments = judgments.iter().map(|judgment| {
                    let bound = Object::default()
                        .text("comparison", judgment.bound.comparison.symbol())
                        .raw("value", &Decimal(judgment.bound.value).to_string())
                        .text("unit", judgment.bound.unit.name());
                    Object::default()
                        .text("target", &judgment.target)
                        .text("label", &judgment.label)
                        .text("status", judgment.status.name())
                        .raw(
                            "observed",
                            &judgment
                                .observed
                                .map_or_else(|| "null".to_owned(), |v| Decimal(v).to_string()),
                        )
                        .raw("bound", &bound.finish())
                        .text("measure", &judgment.measure)
                        .finish()
                });
                Object::default()
                    .raw(
                        "checkpoint",
                        &checkpoint.map_or_else(|| "null".to_owned(), |hour| hour.to_string()),
                    )
                    .raw("judgments", &list(judgments))
            }
            Change::HealthChanged {
                url,
                up,
                since,
                detail,
            } => Object::default()
                .text("url", url)
                .raw("up", if *up { "true" } else { "false" })
                .raw("since", &since.to_string())
                .text("detail", detail),
            Change::Restarted {
                url,
                uptime_before,
                uptime_after,
            } => Object::default()
                .text("url", url)
                .raw("uptime_before", &uptime_before.to_string())
                .raw("uptime_after", &uptime_after.to_string()),
            Change::ErrorRateChanged {
                above,
                percent,
                transactions,
                window_seconds,
                threshold,
            } => Object::default()
                .raw("above", if *above { "true" } else { "false" })
                .raw("percent", &Decimal(*percent).to_string())
                .raw("transactions", &transactions.to_string())
                .raw("window_seconds", &window_seconds.to_string())
                .text("threshold", threshold),
            Change::WatchTakenOver { replica } => Object::default().text("replica", replica),
        };
        Object::default()
            .text("op_id", &self.op_id)
            .text("kind", self.change.kind())
            .raw("payload", &payload.finish())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::Platform;

    #[test]
    fn a_sign_off_request_waives_only_what_has_a_reason() {
        let waivers = [
            ("success-websockets".to_owned(), "no \"sockets\"".to_owned()),
            ("success-database".to_owned(), " ".to_owned()),
        ];
        let json: serde_json::Value =
            serde_json::from_str(&sign_off_request(&waivers, "go")).unwrap_or_default();
        assert_eq!(
            json,
            serde_json::json!({ "waivers": { "success-websockets": "no \"sockets\"" }, "note": "go" })
        );
    }

    #[test]
    fn strings_are_escaped_as_json_requires() {
        let mut out = String::new();
        string(&mut out, "a \"q\" \\ \n \t \u{1} é «»");
        let back: String = serde_json::from_str(&out).unwrap_or_default();
        assert_eq!(back, "a \"q\" \\ \n \t \u{1} é «»");
    }

    #[test]
    fn the_proxy_reads_what_the_app_writes() {
        let sign_in = SignIn {
            name: "Quote \" and \\ backslash".into(),
            passcode: "pass".into(),
        };
        let back: SignIn =
            serde_json::from_str(&sign_in.to_json()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, sign_in);

        // Unset fields are left out; `Some(None)` is null, which clears a setting.
        let patch = ProjectPatch {
            name: Some("A \"quoted\" name".into()),
            archived: Some(true),
            sentry_frontend_project: Some(None),
            health_urls: Some(vec!["https://a.example/health".into()]),
            platform: Some(Some(Platform::Node)),
            timezone: Some("Europe/London".into()),
            sentry_team: Some(Some("launch".into())),
            transactions: Some(Keyed::from([(
                "calls".to_owned(),
                "POST /api/calls".to_owned(),
            )])),
            backup_status_url: Some(None),
            backup_min_mb: Some(Some(250)),
            critical: Some(vec!["severity:critical".into()]),
            health_conditions: Some(vec![r#"[BODY].status == any(ok, "healthy")"#.into()]),
            ..ProjectPatch::default()
        };
        let json = patch.to_json();
        assert!(!json.contains("sentry_org"), "{json}");
        let back: ProjectPatch =
            serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
        assert_eq!(back, patch);
        let cleared = ProjectPatch {
            platform: Some(None),
            backup_min_mb: Some(None),
            ..ProjectPatch::default()
        };
        let back: ProjectPatch =
            serde_json::from_str(&cleared.to_json()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, cleared);
    }
}
