//! The backup check: seed 002's latest verification, as the project's
//! backup status URL answers it.

use super::*;

/// A row of seed 002's `backup_verification_log`, as a backup status URL
/// answers it: `{"verified_at", "status", "backup_id", "backup_age_hours",
/// "backup_size_mb", "checks_passed", "checks_failed", "error_details"}`.
/// A list of rows (as Supabase's REST API answers) is read as its newest.
#[derive(Debug, Clone, serde::Deserialize)]
struct BackupVerification {
    verified_at: jiff::Timestamp,
    status: String,
    backup_id: Option<serde_json::Value>,
    backup_age_hours: Option<f64>,
    backup_size_mb: Option<f64>,
    checks_passed: Option<u64>,
    checks_failed: Option<u64>,
    error_details: Option<serde_json::Value>,
}

impl BackupVerification {
    /// The newest verification in `body`, or `None` when it holds none.
    fn latest(body: &[u8]) -> Option<BackupVerification> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Answer {
            One(BackupVerification),
            Many(Vec<BackupVerification>),
        }
        match serde_json::from_slice(body).ok()? {
            Answer::One(one) => Some(one),
            Answer::Many(many) => many.into_iter().max_by_key(|row| row.verified_at),
        }
    }

    /// Seed 002's conditions, each shown: the verification succeeded with
    /// no failed check, less than 24 hours before `now`, of a backup younger
    /// than 24 hours and larger than `min_mb`. A condition the row cannot
    /// answer (no `checks_failed`, no size) leaves the check unmeasured.
    fn judge(&self, now: jiff::Timestamp, min_mb: u32) -> Outcome {
        let verified_hours = now.duration_since(self.verified_at).as_secs_f64() / 3600.0;
        let number = |value: f64| Decimal((value * 10.0).round() / 10.0).to_string();
        // (condition, met or unknown, what was seen)
        let conditions: [(String, Option<bool>, String); 5] = [
            (
                "status is success".into(),
                Some(self.status == "success"),
                self.status.clone(),
            ),
            (
                "no failed check".into(),
                self.checks_failed.map(|failed| failed == 0),
                self.checks_failed
                    .map_or_else(|| "not reported".into(), |n| format!("{n} failed")),
            ),
            (
                "verified within 24 h".into(),
                Some(verified_hours < 24.0),
                format!("{} h ago", number(verified_hours)),
            ),
            (
                "backup younger than 24 h".into(),
                Some(self.backup_age_hours.is_none_or(|hours| hours < 24.0)),
                self.backup_age_hours.map_or_else(
                    || "age not reported: the verification's own time counts".into(),
                    |hours| format!("{} h old when verified", number(hours)),
                ),
            ),
            (
                format!("larger than {min_mb} MB"),
                self.backup_size_mb.map(|mb| mb > f64::from(min_mb)),
                self.backup_size_mb
                    .map_or_else(|| "not reported".into(), |mb| format!("{} MB", number(mb))),
            ),
        ];
        let unmet: Vec<String> = conditions
            .iter()
            .filter(|(_, met, _)| *met == Some(false))
            .map(|(condition, _, seen)| format!("{condition} (saw {seen})"))
            .collect();
        let unknown: Vec<&str> = conditions
            .iter()
            .filter(|(_, met, _)| met.is_none())
            .map(|(condition, _, _)| condition.as_str())
            .collect();
        let mut outcome = if !unmet.is_empty() {
            Outcome::failed(format!(
                "The last backup verification does not meet: {}. Read its error details, check that the daily job (0 5 * * * UTC) runs, and verify the backup by hand before launch.",
                unmet.join("; ")
            ))
        } else if !unknown.is_empty() {
            Outcome::new(
                CheckStatus::Unsupported,
                format!(
                    "The backup status URL does not report what “{}” needs: have it answer checks_failed and backup_size_mb, as backup_verification_log holds them, or verify by hand.",
                    unknown.join("”, “")
                ),
            )
        } else {
            Outcome::passed(format!(
                "The last backup verification succeeded {} h ago: every check passed, the backup is recent and larger than {min_mb} MB.",
                number(verified_hours)
            ))
        };
        for (condition, met, seen) in &conditions {
            let mark = match met {
                Some(true) => "met",
                Some(false) => "not met",
                None => "not reported",
            };
            outcome = outcome.saw(condition, format!("{mark}: {seen}"));
        }
        outcome = outcome.saw("verified at", self.verified_at.to_string());
        for (name, value) in [
            ("backup id", self.backup_id.as_ref().map(json_text)),
            ("checks passed", self.checks_passed.map(|n| n.to_string())),
            (
                "error details",
                self.error_details
                    .as_ref()
                    .filter(|e| !e.is_null())
                    .map(json_text),
            ),
        ] {
            if let Some(value) = value {
                outcome = outcome.saw(name, value);
            }
        }
        outcome
    }
}

/// A JSON value as people read it: a string without its quotes.
fn json_text(value: &serde_json::Value) -> String {
    let text = value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_owned);
    text.chars().take(LOG_EXCERPT_CHARS).collect()
}

impl Services {
    /// The latest backup verification, read from the project's status URL.
    pub(super) async fn backup_recent(&self, project: &Project) -> Outcome {
        let Some(text) = project.backup_status_url.as_deref() else {
            return Outcome::not_configured(
                "No backup status URL is set: an admin enters the URL that reports the latest backup verification in the project's settings.",
            );
        };
        let Ok(url) = Url::parse(text) else {
            return Outcome::failed(
                "The backup status URL is not a URL: correct it in the project's settings.",
            );
        };
        let body = match self.health.fetch(&url).await {
            Ok(fetched) if (200..300).contains(&fetched.status) => fetched.body,
            Ok(fetched) => {
                return Outcome::failed(format!(
                    "The backup status URL answered {}: check the verification job's endpoint.",
                    fetched.status
                ));
            }
            Err(Ok(refused)) => return Outcome::failed(format!("{text}: {refused}.")),
            Err(Err(err)) => return Outcome::upstream("The backup status URL", &err),
        };
        let Some(latest) = BackupVerification::latest(&body) else {
            return Outcome::failed(
                "The backup status URL did not answer a backup verification: it should answer a JSON object, or a list of them, with verified_at and status.",
            );
        };
        latest.judge(
            self.clock.real_timestamp(),
            project
                .backup_min_mb
                .unwrap_or(domain::project::DEFAULT_BACKUP_MIN_MB),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> jiff::Timestamp {
        text.parse().expect("a timestamp")
    }

    #[test]
    fn a_backup_passes_only_when_every_condition_of_seed_002_is_seen() {
        let now = at("2026-11-23T12:00:00Z");
        let verified = |at: &str, status: &str, fields: &str| {
            BackupVerification::latest(
                format!(r#"{{"verified_at": "{at}", "status": "{status}", {fields}}}"#).as_bytes(),
            )
            .expect("a row")
            .judge(now, 100)
        };
        let row = |fields: &str| verified("2026-11-23T05:00:00Z", "success", fields);
        let good = r#""checks_passed": 5, "checks_failed": 0, "backup_age_hours": 3.5, "backup_size_mb": 812.4"#;
        let fresh = row(good);
        assert_eq!(fresh.status, CheckStatus::Passed, "{}", fresh.message);
        assert_eq!(
            fresh.observed.get("larger than 100 MB").map(String::as_str),
            Some("met: 812.4 MB")
        );
        for (fields, unmet) in [
            (
                good.replace("\"checks_failed\": 0", "\"checks_failed\": 2"),
                "no failed check (saw 2 failed)",
            ),
            (
                good.replace("3.5", "30"),
                "backup younger than 24 h (saw 30 h old when verified)",
            ),
            (
                good.replace("812.4", "42"),
                "larger than 100 MB (saw 42 MB)",
            ),
        ] {
            let judged = row(&fields);
            assert_eq!(judged.status, CheckStatus::Failed, "{fields}");
            assert!(judged.message.contains(unmet), "{}", judged.message);
        }
        let old = verified("2026-11-22T05:00:00Z", "success", good);
        assert!(
            old.message.contains("verified within 24 h (saw 31 h ago)"),
            "{}",
            old.message
        );
        let warned = verified("2026-11-23T05:00:00Z", "warning", good);
        assert!(
            warned.message.contains("status is success (saw warning)"),
            "{}",
            warned.message
        );
        // What the row does not say is not measured: never a pass.
        let silent = row(r#""backup_size_mb": 812.4"#);
        assert_eq!(
            silent.status,
            CheckStatus::Unsupported,
            "{}",
            silent.message
        );
        assert!(
            silent.message.contains("no failed check"),
            "{}",
            silent.message
        );

        // A list, as Supabase's REST API answers: the newest row counts.
        let list = format!(
            r#"[{{"verified_at": "2026-11-21T05:00:00Z", "status": "failure"}}, {{"verified_at": "2026-11-23T05:00:00Z", "status": "success", {good}}}]"#
        );
        let newest = BackupVerification::latest(list.as_bytes()).expect("a row");
        assert_eq!(newest.status, "success");
        assert!(BackupVerification::latest(br#"{"status": "success"}"#).is_none());
        assert!(BackupVerification::latest(b"<html>").is_none());
    }
}
