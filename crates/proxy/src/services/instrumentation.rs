//! Seed 001's instrumentation, by the names the playbook gives: the tags
//! errors carry (`error_type`, `severity`) and the spans that arrive
//! (`call.initiate`, `webhook.process`, `queue.initiate_call`). Another
//! team's playbook names its own.

use super::*;

/// How far back the tags are looked for: a week of errors.
const TAG_PERIOD: &str = "7d";
/// How far back the spans are looked for.
const SPAN_PERIOD: &str = "24h";
/// Values shown per tag.
const VALUES_SHOWN: usize = 5;

/// The comma-separated names of a playbook parameter, or why they cannot be
/// asked for (Sentry's tag and operation names are words, dots, colons and
/// dashes).
fn names(list: &str) -> Result<Vec<&str>, Outcome> {
    let names: Vec<&str> = list
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .collect();
    let valid = |name: &&str| {
        name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.:-".contains(c))
    };
    if names.is_empty() || !names.iter().all(valid) {
        return Err(Outcome::new(
            CheckStatus::Error,
            format!(
                "the playbook names “{list}”, which are not tag or span names: correct the playbook"
            ),
        ));
    }
    Ok(names)
}

impl Services {
    /// The last 7 days' errors carry each of `tags`; the values seen.
    pub(super) async fn sentry_tags(
        &self,
        project: &Project,
        which: Option<&str>,
        tags: &str,
    ) -> Outcome {
        let tags = match names(tags) {
            Ok(tags) => tags,
            Err(outcome) => return outcome,
        };
        let (sentry, org, id) = match self.sentry_id_of(project, which).await {
            Ok(target) => target,
            Err(outcome) => return outcome,
        };
        let errors = match sentry
            .counts_by(
                org,
                &id,
                ("errors", "event.type"),
                "event.type:error",
                TAG_PERIOD,
            )
            .await
        {
            Ok(rows) => rows.iter().map(|(_, count)| count).sum::<u64>(),
            Err(err) => return Outcome::upstream("Sentry", &err),
        };
        if errors == 0 {
            return Outcome::new(
                CheckStatus::Error,
                "No error arrived in the last 7 days, so there is nothing to read tags on: check again once errors arrive, or send a test error with its tags.",
            );
        }
        let mut seen = Vec::new();
        let mut missing = Vec::new();
        for tag in &tags {
            match sentry
                .counts_by(org, &id, ("errors", tag), &format!("has:{tag}"), TAG_PERIOD)
                .await
            {
                Ok(values) if values.is_empty() => missing.push(*tag),
                Ok(values) => seen.push((*tag, values)),
                Err(err) => return Outcome::upstream("Sentry", &err),
            }
        }
        let mut outcome = if missing.is_empty() {
            Outcome::passed(format!(
                "Errors of the last 7 days carry {}.",
                tags.join(" and ")
            ))
        } else {
            Outcome::failed(format!(
                "None of the last 7 days' {errors} errors carries {}: set {} where errors are captured (Sentry.captureException(error, {{ tags: {{ … }} }}), as the monitoring notes do), then deploy.",
                missing.join(" or "),
                if missing.len() == 1 { "it" } else { "them" }
            ))
        };
        outcome = outcome.saw("errors, last 7 days", errors.to_string());
        for (tag, values) in &seen {
            let tagged: u64 = values.iter().map(|(_, count)| count).sum();
            let listed: Vec<String> = values
                .iter()
                .take(VALUES_SHOWN)
                .map(|(value, count)| format!("{value} ({count})"))
                .collect();
            let more = values.len().saturating_sub(VALUES_SHOWN);
            let more = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            outcome = outcome.saw(
                tag,
                format!("{tagged} of {errors} errors: {}{more}", listed.join(", ")),
            );
        }
        for tag in &missing {
            outcome = outcome.saw(tag, "on no error");
        }
        outcome
    }

    /// Each span (or transaction) operation in `ops` arrived in the last
    /// 24 hours, and how many.
    pub(super) async fn sentry_spans(
        &self,
        project: &Project,
        which: Option<&str>,
        ops: &str,
    ) -> Outcome {
        let ops = match names(ops) {
            Ok(ops) => ops,
            Err(outcome) => return outcome,
        };
        let (sentry, org, id) = match self.sentry_id_of(project, which).await {
            Ok(target) => target,
            Err(outcome) => return outcome,
        };
        let query = format!("span.op:[{}]", ops.join(","));
        let counted = match sentry
            .counts_by(org, &id, ("spans", "span.op"), &query, SPAN_PERIOD)
            .await
        {
            Ok(counted) => counted,
            Err(err) => return Outcome::upstream("Sentry", &err),
        };
        let count = |op: &str| {
            counted
                .iter()
                .find(|(seen, _)| seen == op)
                .map_or(0, |(_, count)| *count)
        };
        let missing: Vec<&str> = ops.iter().copied().filter(|op| count(op) == 0).collect();
        let mut outcome = if missing.is_empty() {
            Outcome::passed(format!(
                "Each named span arrived in the last 24 hours: {}.",
                ops.iter()
                    .map(|op| format!("{op} {}", count(op)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        } else {
            Outcome::failed(format!(
                "No {} span arrived in the last 24 hours: check that the code path ran, that it is wrapped in Sentry.startSpan({{ op: '{}' }}), and that tracing is on (SENTRY_TRACES_SAMPLE_RATE above 0).",
                missing.join(" or "),
                missing[0]
            ))
        };
        for op in &ops {
            outcome = outcome.saw(op, count(op).to_string());
        }
        outcome.saw("measure", "Sentry's spans by operation, last 24 hours")
    }
}
