//! The Sentry checks: projects, keys, events, alert rules, issues, error
//! counts and rates, transactions' p99, and the live deploy's release.

use super::*;

/// Accepted errors in the last full hour of the Sentry project `id`, with the
/// busiest hour and the day's total, against the playbook's target.
async fn errors_per_hour(
    playbook: &Playbook,
    sentry: &Sentry,
    (org, id): (&str, &str),
    now: jiff::Timestamp,
) -> Outcome {
    let hours = match hourly_error_counts(sentry, org, id, 24, now).await {
        Ok(hours) => hours,
        Err(err) => return Outcome::upstream("Sentry", &err),
    };
    let Some((hour, count)) = last_full_hour(&hours, now.as_second()) else {
        return Outcome::new(
            CheckStatus::Error,
            "Sentry has no complete hour of counts yet: check again in an hour.",
        );
    };
    let total: u64 = hours.iter().map(|(_, count)| count).sum();
    let peak = hours.iter().map(|(_, count)| *count).max().unwrap_or(0);
    let bound = target_bound(playbook, CheckKind::SentryErrorCount, &Keyed::default());
    let outcome = match bound {
        Some(bound) if bound.holds(count as f64) => Outcome::passed(format!(
            "{count} errors in the last full hour ({bound} target)."
        )),
        Some(bound) => Outcome::failed(format!(
            "{count} errors in the last full hour, over the {bound} target: look at the top issues, and escalate if the rate keeps rising."
        )),
        None => Outcome::passed(format!("{count} errors in the last full hour.")),
    };
    outcome
        .saw(
            "last full hour",
            format!(
                "{count} (from {})",
                short_hour(&crate::clock::rfc3339(hour))
            ),
        )
        .saw("last 24 hours", total.to_string())
        .saw("busiest hour", peak.to_string())
        .saw("measure", "accepted error events per hour (Sentry stats)")
        .measured(
            count as f64,
            Unit::PerHour,
            "error events in the last full hour (Sentry stats)",
        )
}

/// Accepted errors per hour (Unix seconds of each hour's start) over the
/// last `hours`, without Watchpost's own test events and without the hours
/// still to come (GlitchTip's series runs an hour past the present).
async fn hourly_error_counts(
    sentry: &Sentry,
    org: &str,
    id: &str,
    hours: u32,
    now: jiff::Timestamp,
) -> Result<Vec<(i64, u64)>, UpstreamError> {
    let series = sentry.hourly_errors(org, id, hours).await?;
    let tests = sentry
        .test_events(org, id, &format!("{hours}h"))
        .await
        .unwrap_or_default();
    let now = now.as_second();
    let mut hours: Vec<(i64, u64)> = series
        .into_iter()
        .filter_map(|(at, count)| Some((crate::clock::unix_seconds(&at)?, count)))
        .filter(|(start, _)| *start <= now)
        .collect();
    for (at, events) in tests {
        let at = at.as_second();
        if let Some((_, count)) = hours
            .iter_mut()
            .find(|(start, _)| (*start..*start + 3600).contains(&at))
        {
            *count = count.saturating_sub(events);
        }
    }
    Ok(hours)
}

/// The latest hour that has ended by `now` (Unix seconds): the one the
/// target is judged on, the current hour being still under way.
fn last_full_hour(hours: &[(i64, u64)], now: i64) -> Option<(i64, u64)> {
    hours
        .iter()
        .filter(|(start, _)| start + 3600 <= now)
        .max_by_key(|(start, _)| *start)
        .copied()
}

/// [`errors_per_hour`], saying why it stands in for a rate.
async fn errors_per_hour_instead(
    playbook: &Playbook,
    sentry: &Sentry,
    org: &str,
    id: &str,
    why: &str,
    now: jiff::Timestamp,
) -> Outcome {
    let outcome = errors_per_hour(playbook, sentry, (org, id), now).await;
    Outcome {
        message: format!("{why}; errors per hour instead: {}", outcome.message),
        ..outcome
    }
}

/// The unresolved issues of `projects` first seen in the last 24 hours;
/// with `markers`, those any of them matches (one request each, merged).
pub(super) async fn new_issues(
    sentry: &Sentry,
    org: &str,
    projects: &[&str],
    markers: &[String],
    now: jiff::Timestamp,
) -> Result<Vec<Issue>, UpstreamError> {
    let since = day_before(now);
    let queries: Vec<Option<&str>> = if markers.is_empty() {
        vec![None]
    } else {
        markers.iter().map(|marker| Some(marker.as_str())).collect()
    };
    let mut issues: Vec<Issue> = Vec::new();
    for marker in queries {
        for issue in sentry.new_issues(org, projects, since, marker).await? {
            if !issues.iter().any(|seen| seen.id == issue.id) {
                issues.push(issue);
            }
        }
    }
    Ok(issues)
}

/// What one project's new issues mean, named by `markers`: passed when
/// there are none; otherwise failed, the first five listed, each with its
/// `error_type` tag when critical (seed 001 names each critical error's kind
/// in it) and the server tells.
pub(super) async fn issues_outcome(
    sentry: &Sentry,
    org: &str,
    issues: Vec<Issue>,
    markers: &[String],
) -> Outcome {
    let what = if markers.is_empty() {
        "new unresolved issues".to_owned()
    } else {
        format!("new critical issues ({})", markers.join(" or "))
    };
    let measure = format!("{what}, last 24 hours");
    let mut outcome = if issues.is_empty() {
        Outcome::passed(format!("No {what} in the last 24 hours."))
    } else {
        Outcome::failed(format!(
            "{} {what} in the last 24 hours: open them in Sentry and decide (the escalation tab helps).",
            issues.len()
        ))
        .with_issues(&issues[..issues.len().min(5)])
    };
    if !markers.is_empty() {
        for issue in issues.iter().take(5) {
            if let Ok(types) = sentry.issue_tag_values(org, &issue.id, "error_type").await
                && !types.is_empty()
                && let Some(line) = outcome.observed.get(&issue.short_id).cloned()
            {
                outcome.observed.insert(
                    &issue.short_id,
                    format!("{line}; error_type {}", types.join(", ")),
                );
            }
        }
    }
    outcome
        .saw("new issues", issues.len().to_string())
        .measured(issues.len() as f64, Unit::Count, measure)
}

impl Services {
    /// The Sentry client, organization and project slug an item needs.
    pub(crate) fn sentry_target<'a>(
        &'a self,
        project: &'a Project,
        which: Option<&str>,
    ) -> Result<(&'a Sentry, &'a str, &'a str), Outcome> {
        let (sentry, org) = self.sentry_org(project)?;
        let (slug, field) = match which {
            Some("frontend") => (
                project.sentry_frontend_project.as_deref(),
                "frontend project",
            ),
            _ => (project.sentry_project.as_deref(), "project"),
        };
        let slug = slug.ok_or_else(|| {
            Outcome::not_configured(format!(
                "The Sentry {field} is not set: an admin sets it in the project's settings."
            ))
        })?;
        Ok((sentry, org, slug))
    }

    /// The Sentry client and the project's organization.
    pub(crate) fn sentry_org<'a>(
        &'a self,
        project: &'a Project,
    ) -> Result<(&'a Sentry, &'a str), Outcome> {
        let sentry = self.sentry.as_ref().ok_or_else(|| {
            Outcome::not_configured(
                "No Sentry auth token is configured: set SENTRY_AUTH_TOKEN (or --sentry-auth-token, or [sentry] auth_token in the --config file) and restart Watchpost.",
            )
        })?;
        let org = project
            .sentry_org
            .as_deref()
            .or(self.default_org.as_deref())
            .ok_or_else(|| {
                Outcome::not_configured(
                    "No Sentry organization is set: an admin sets it in the project's settings (or set SENTRY_ORG).",
                )
            })?;
        Ok((sentry, org))
    }

    pub(super) async fn count_errors(&self, project: &Project, hours: u32) -> ErrorHours {
        let problem = |outcome: Outcome| ErrorHours {
            problem: Some(outcome.message),
            ..ErrorHours::default()
        };
        let (sentry, org, id) = match self.sentry_project_id(project).await {
            Ok(target) => target,
            Err(outcome) => return problem(outcome),
        };
        match hourly_error_counts(sentry, org, &id, hours, self.clock.real_timestamp()).await {
            Ok(hours) => ErrorHours {
                hours,
                ..ErrorHours::default()
            },
            Err(err) => problem(Outcome::upstream("Sentry", &err)),
        }
    }

    pub(super) async fn sentry_project(&self, project: &Project, which: Option<&str>) -> Outcome {
        let (sentry, org, slug) = match self.sentry_target(project, which) {
            Ok(target) => target,
            Err(outcome) => return outcome,
        };
        match sentry.project(org, slug).await {
            Ok(found) => Outcome::passed(format!("Sentry has the project {org}/{slug}."))
                .saw("name", found.name)
                .saw(
                    "platform",
                    found.platform.unwrap_or_else(|| "not set".into()),
                ),
            Err(UpstreamError::NotFound) => Outcome::failed(format!(
                "Sentry has no project “{slug}” in “{org}”: create it (an admin can do it from here), or correct the project's settings."
            )),
            Err(err) => Outcome::upstream("Sentry", &err),
        }
    }

    pub(super) async fn sentry_dsn(&self, project: &Project, which: Option<&str>) -> Outcome {
        let (sentry, org, slug) = match self.sentry_target(project, which) {
            Ok(target) => target,
            Err(outcome) => return outcome,
        };
        match sentry.client_keys(org, slug).await {
            Ok(keys) => match keys.iter().find(|key| key.is_active) {
                Some(key) => Outcome::passed("The project has an active client key.")
                    .saw("public DSN", key.dsn.public.clone())
                    .saw("keys", keys.len().to_string()),
                None => Outcome::failed(
                    "The project has no active client key: create one in Sentry under Settings → Client Keys (DSN).",
                )
                .saw("keys", keys.len().to_string()),
            },
            Err(err) => Outcome::upstream("Sentry", &err),
        }
    }

    /// Events arrived in the last 24 hours: an issue seen within them, or
    /// transactions counted within them. Watchpost's test event counts (it
    /// came through the DSN) and is named as such.
    pub(super) async fn sentry_events(&self, project: &Project, which: Option<&str>) -> Outcome {
        let (sentry, org, slug) = match self.sentry_target(project, which) {
            Ok(target) => target,
            Err(outcome) => return outcome,
        };
        let found = match sentry.project(org, slug).await {
            Ok(found) => found,
            Err(err) => return Outcome::upstream("Sentry", &err),
        };
        if found.first_event.is_none() {
            return Outcome::failed(
                "Sentry has received no event yet: check that SENTRY_DSN is set on the host, that the app initializes the SDK, and send a test event.",
            );
        }
        let since = day_before(self.clock.real_timestamp());
        let environment = project.sentry_environment.as_deref();
        let within = environment.map_or_else(String::new, |name| format!(" in {name}"));
        let latest = match sentry
            .latest_issue(org, &found.id, "24h", environment)
            .await
        {
            Ok(latest) => latest.filter(|issue| !issue.last_seen_before(since)),
            Err(err) => return Outcome::upstream("Sentry", &err),
        };
        let transactions: u64 = match sentry.hourly(org, &found.id, 24, "transaction").await {
            Ok(hours) => hours.iter().map(|(_, count)| count).sum(),
            Err(err) => return Outcome::upstream("Sentry", &err),
        };
        let mut outcome = match &latest {
            Some(issue) => {
                let at = issue.last_seen.clone().unwrap_or_default();
                let whose = if is_test_event(&issue.title) {
                    " (Watchpost's test event: the DSN works; your app's own events will follow it)"
                } else {
                    ""
                };
                Outcome::passed(format!(
                    "Sentry received an event{within} in the last 24 hours, the latest at {}{whose}.",
                    day_and_hour(&at)
                ))
                .saw("latest event", at)
            }
            // Sentry's counts do not tell environments apart: transactions
            // of staging would pass for production's.
            None if transactions > 0 && environment.is_some() => Outcome::new(
                CheckStatus::Unsupported,
                format!(
                    "No error{within} in the last 24 hours, and {transactions} transactions of every environment together: Sentry's counts do not tell which were{within}. Look in Sentry → Performance, filtered to the environment, or send a test event."
                ),
            ),
            None if transactions > 0 => Outcome::passed(format!(
                "Sentry received {transactions} transactions in the last 24 hours, and no error."
            )),
            None => Outcome::failed(format!(
                "Sentry has received no event{within} in the last 24 hours (the first arrived {}): check that the service runs, that SENTRY_DSN is still set on the host, and that the SDK's environment is the project's.",
                found
                    .first_event
                    .as_deref()
                    .map(day_and_hour)
                    .unwrap_or_default()
            )),
        };
        outcome = outcome.saw("transactions, last 24 hours", transactions.to_string());
        if let Some(environment) = environment {
            outcome = outcome.saw("environment", environment);
        }
        outcome
    }

    pub(super) async fn sentry_slack(&self, project: &Project) -> Outcome {
        let (sentry, org, _) = match self.sentry_target(project, None) {
            Ok(target) => target,
            Err(outcome) => return outcome,
        };
        match sentry.slack_integrations(org).await {
            Ok(found) => match found
                .iter()
                .find(|i| i.provider.key == "slack" && i.status == "active")
            {
                Some(slack) => Outcome::passed("Sentry's Slack integration is installed.")
                    .saw("workspace", slack.name.clone()),
                None => Outcome::failed(
                    "Sentry's Slack integration is not installed: in Sentry, Settings → Integrations → Slack → Install.",
                ),
            },
            Err(err) => Outcome::upstream("Sentry", &err),
        }
    }

    /// New unresolved issues in the last 24 hours; with `markers`, those
    /// any of them matches (one query each, merged), named in the message.
    pub(super) async fn sentry_new_issues(
        &self,
        project: &Project,
        which: Option<&str>,
        markers: &[String],
    ) -> Outcome {
        let (sentry, org, id) = match self.sentry_id_of(project, which).await {
            Ok(target) => target,
            Err(outcome) => return outcome,
        };
        match new_issues(
            sentry,
            org,
            &[id.as_str()],
            markers,
            self.clock.real_timestamp(),
        )
        .await
        {
            Ok(issues) => issues_outcome(sentry, org, issues, markers).await,
            Err(err) => Outcome::upstream("Sentry", &err),
        }
    }

    pub(super) async fn sentry_error_count(
        &self,
        playbook: &Playbook,
        project: &Project,
        which: Option<&str>,
    ) -> Outcome {
        match self.sentry_id_of(project, which).await {
            Ok((sentry, org, id)) => {
                errors_per_hour(playbook, sentry, (org, &id), self.clock.real_timestamp()).await
            }
            Err(outcome) => outcome,
        }
    }

    /// The share of failed transactions in the last hour (`failure_rate()`);
    /// without transactions, errors per hour, saying so.
    pub(super) async fn sentry_error_rate(
        &self,
        playbook: &Playbook,
        project: &Project,
    ) -> Outcome {
        let (sentry, org, id) = match self.sentry_project_id(project).await {
            Ok(target) => target,
            Err(outcome) => return outcome,
        };
        let values = match sentry
            .transaction_aggregates(org, &id, &["failure_rate()", "count()"], "", "1h")
            .await
        {
            Ok(values) => values,
            Err(
                err @ (UpstreamError::NotFound
                | UpstreamError::Unsupported(_)
                | UpstreamError::NotJson(_)
                | UpstreamError::Status(400 | 422, _)),
            ) => {
                let why = format!("Sentry's events query {err}");
                return errors_per_hour_instead(
                    playbook,
                    sentry,
                    org,
                    &id,
                    &why,
                    self.clock.real_timestamp(),
                )
                .await;
            }
            Err(err) => return Outcome::upstream("Sentry", &err),
        };
        let (Some(rate), Some(count)) = (values[0], values[1].filter(|count| *count > 0.0)) else {
            let why = "The project sent no transactions in the last hour (no performance monitoring), so there is no error rate";
            return errors_per_hour_instead(
                playbook,
                sentry,
                org,
                &id,
                why,
                self.clock.real_timestamp(),
            )
            .await;
        };
        let percent = rate * 100.0;
        let shown = format!("{}%", Decimal((percent * 100.0).round() / 100.0));
        let bound = target_bound(playbook, CheckKind::SentryErrorRate, &Keyed::default());
        let outcome = match bound {
            Some(bound) if bound.holds(percent) => Outcome::passed(format!(
                "Error rate {shown} in the last hour ({bound} target)."
            )),
            Some(bound) => Outcome::failed(format!(
                "Error rate {shown} in the last hour, over the {bound} target: follow “Error rate above threshold” in the escalation tab."
            )),
            None => Outcome::passed(format!("Error rate {shown} in the last hour.")),
        };
        outcome
            .saw("error rate", shown)
            .saw("transactions", Decimal(count).to_string())
            .saw("measure", "failure_rate() of transactions, last hour")
            .measured(
                percent,
                Unit::Percent,
                "failure_rate() of transactions, last hour",
            )
    }

    /// p99 of the project's transactions in the last hour, or of the one
    /// transaction an `endpoint` maps to in the project's settings.
    pub(super) async fn sentry_p99(
        &self,
        playbook: &Playbook,
        project: &Project,
        item: &Item,
    ) -> Outcome {
        let endpoint = item.with.get("endpoint").map(String::as_str);
        let transaction = match endpoint {
            None => None,
            Some(endpoint) => match project.transactions.get(endpoint) {
                Some(name) => Some(name.as_str()),
                None => {
                    return Outcome::not_configured(format!(
                        "The {endpoint} endpoint is not mapped to its Sentry transaction: an admin enters it (as Sentry names it, such as POST /api/{endpoint}) under Transactions in the project's settings."
                    ));
                }
            },
        };
        let (sentry, org, id) = match self.sentry_project_id(project).await {
            Ok(target) => target,
            Err(outcome) => return outcome,
        };
        let query = transaction.map_or_else(String::new, |name| {
            format!(
                "transaction:\"{}\"",
                name.replace('\\', "\\\\").replace('"', "\\\"")
            )
        });
        let values = match sentry
            .transaction_aggregates(org, &id, &["p99(span.duration)", "count()"], &query, "1h")
            .await
        {
            Ok(values) => values,
            Err(err) => return Outcome::upstream("Sentry", &err),
        };
        let what = transaction.unwrap_or("all transactions");
        let (Some(p99), Some(count)) = (values[0], values[1].filter(|count| *count > 0.0)) else {
            return Outcome::new(
                CheckStatus::Failed,
                format!(
                    "No transactions of {what} in the last hour: check that performance monitoring is on (SENTRY_TRACES_SAMPLE_RATE) and that the transaction name matches Sentry's."
                ),
            )
            .saw("transaction", what);
        };
        let ms = p99.round();
        let bound = target_bound(playbook, CheckKind::SentryP99, &item.with)
            .or_else(|| target_bound(playbook, CheckKind::SentryP99, &Keyed::default()));
        let outcome = match bound {
            Some(bound) if bound.holds(ms) => Outcome::passed(format!(
                "p99 of {what}: {} ms in the last hour ({bound} target).",
                Decimal(ms)
            )),
            Some(bound) => Outcome::failed(format!(
                "p99 of {what}: {} ms in the last hour, over the {bound} target: look at the slowest spans in Sentry's performance view and at recent deploys.",
                Decimal(ms)
            )),
            None => Outcome::passed(format!(
                "p99 of {what}: {} ms in the last hour.",
                Decimal(ms)
            )),
        };
        outcome
            .saw("p99", format!("{} ms", Decimal(ms)))
            .saw("transactions", Decimal(count).to_string())
            .saw("transaction", what)
            .measured(ms, Unit::Ms, format!("p99 of {what}, last hour"))
    }

    /// The rule the item names (seed 000's, or one of seed 003's), found by
    /// its name or by what it watches through the legacy alert-rule API or,
    /// where the server lacks it, the current one, and compared with its
    /// seed: its aggregate, window, threshold and comparison (a metric rule)
    /// or its conditions (an issue rule), and that it notifies someone. A
    /// rule named right that differs is failed, saying how.
    pub(super) async fn sentry_alert_rule(&self, project: &Project, rule: &str) -> Outcome {
        let Some(seed) = Wanted::from_param(rule) else {
            return Outcome::new(
                CheckStatus::Error,
                format!("the playbook names an unknown rule “{rule}”"),
            );
        };
        let (sentry, org, slug) = match self.sentry_target(project, None) {
            Ok(target) => target,
            Err(outcome) => return outcome,
        };
        let judged = |found: Found| {
            let name = &found.name;
            let outcome = if found.differences.is_empty() {
                Outcome::passed(format!(
                    "Sentry has “{name}”{}, watching {} and notifying someone.",
                    if seed.named(name) {
                        ""
                    } else {
                        ", recognized by its condition"
                    },
                    seed.condition
                ))
            } else {
                Outcome::failed(format!(
                    "“{name}” exists, but {}: Watchpost's “Create the alert rules” corrects it, or correct it under Alerts in Sentry.",
                    found.differences.join("; ")
                ))
            };
            outcome
                .saw("rule", name.clone())
                .saw("condition", found.condition.clone())
                .saw("via", found.via)
        };
        let missing = || {
            Outcome::failed(format!(
                "Sentry has no alert for “{}” ({}): create it with Watchpost's “Create the alert rules”, or under Alerts in Sentry, notifying by email or Slack.",
                seed.condition,
                seed.name(),
            ))
        };
        let rules = match Rules::read(sentry, org, slug).await {
            Ok(Rules::Neither) => {
                return Outcome::new(
                    CheckStatus::Unsupported,
                    format!(
                        "This server has neither Sentry's alert rules nor its monitors and alerts, so Watchpost cannot read “{}”: set up an alert for {} in the server's own alert settings, notifying by email or Slack, and check it there.",
                        seed.name(),
                        seed.condition
                    ),
                );
            }
            Ok(rules) => rules,
            Err(err) => return Outcome::upstream("Sentry", &err),
        };
        match rules.find(sentry, org, &seed).await {
            Ok(Some(found)) => judged(found),
            Ok(None) => missing(),
            Err(err) => Outcome::upstream("Sentry", &err),
        }
    }

    pub(super) async fn sentry_top_issues(&self, project: &Project) -> Outcome {
        let (sentry, org, id) = match self.sentry_project_id(project).await {
            Ok(target) => target,
            Err(outcome) => return outcome,
        };
        let since = day_before(self.clock.real_timestamp());
        match sentry.top_issues(org, &id, "24h", since, 3).await {
            Ok(issues) if issues.is_empty() => {
                Outcome::passed("No unresolved issues in the last 24 hours.")
            }
            Ok(issues) => {
                Outcome::passed(format!(
                    "The {} unresolved issue(s) with the most events in the last 24 hours: review each in Sentry.",
                    issues.len()
                ))
                .with_issues(&issues)
            }
            Err(err) => Outcome::upstream("Sentry", &err),
        }
    }

    /// The live deploy's commit is a release Sentry has seen events of: the
    /// SDK takes its release from `RENDER_GIT_COMMIT`, so it follows every
    /// deploy; a fixed `SENTRY_RELEASE` on the service would not.
    pub(super) async fn sentry_release(&self, project: &Project) -> Outcome {
        let (render, service) = match self.render_target(project) {
            Ok(target) => target,
            Err(outcome) => return outcome,
        };
        let (sentry, org, _) = match self.sentry_target(project, None) {
            Ok(target) => target,
            Err(outcome) => return outcome,
        };
        let deploys = match render.deploys(service, 20).await {
            Ok(deploys) => deploys,
            Err(err) => return Outcome::upstream("Render", &err),
        };
        let Some(live) = deploys
            .iter()
            .find(|deploy| deploy.status.as_deref() == Some("live"))
        else {
            return Outcome::failed(
                "The service has no live deploy yet: deploy it, then send an event.",
            );
        };
        let Some(commit) = live.commit.as_ref().and_then(|commit| commit.id.clone()) else {
            return Outcome::new(
                CheckStatus::Unsupported,
                "Render does not say which commit is live, so its release cannot be looked up: check Releases in Sentry by hand.",
            );
        };
        let short = crate::upstream::render::short(&commit);
        match render.env_vars(service).await {
            Ok(vars) if vars.iter().any(|var| var.key == FIXED_RELEASE) => {
                return Outcome::failed(format!(
                    "{FIXED_RELEASE} is fixed on the service, so every event carries that value whatever is deployed: remove it (“Set the env vars” does) and let the SDK take the release from RENDER_GIT_COMMIT."
                ))
                .saw("live commit", short)
                .saw(FIXED_RELEASE, "fixed");
            }
            Ok(_) => {}
            Err(err) => return Outcome::upstream("Render", &err),
        }
        match sentry.release(org, &commit).await {
            Ok(release) => match release.last_event {
                Some(at) => Outcome::passed(format!(
                    "Sentry has events of the live release {short}, the latest at {}.",
                    day_and_hour(&at)
                ))
                .saw("release", short)
                .saw("latest event", at),
                None => Outcome::failed(format!(
                    "Sentry knows the release {short} but has no event of it yet: send one (or wait for the app's first), and check that the SDK sets its release from RENDER_GIT_COMMIT."
                ))
                .saw("release", short),
            },
            Err(UpstreamError::NotFound) => Outcome::failed(format!(
                "Sentry has no release {short}, the live deploy's commit: set the SDK's release from RENDER_GIT_COMMIT (the SDK snippet does), deploy, and send an event."
            ))
            .saw("live commit", short),
            Err(err) => Outcome::upstream("Sentry", &err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> jiff::Timestamp {
        text.parse().expect("a timestamp")
    }

    #[test]
    fn the_last_full_hour_is_found_by_its_time_not_its_place() {
        let now = at("2026-12-06T01:30:00Z").as_second();
        let hour = |text: &str| at(text).as_second();
        // Sentry: the series ends with the hour under way.
        let sentry = [
            (hour("2026-12-05T23:00:00Z"), 4),
            (hour("2026-12-06T00:00:00Z"), 2),
            (hour("2026-12-06T01:00:00Z"), 9),
        ];
        assert_eq!(
            last_full_hour(&sentry, now),
            Some((hour("2026-12-06T00:00:00Z"), 2))
        );
        // GlitchTip: one hour more, still to come.
        let glitchtip = [
            sentry[0],
            sentry[1],
            sentry[2],
            (hour("2026-12-06T02:00:00Z"), 0),
        ];
        assert_eq!(
            last_full_hour(&glitchtip, now),
            Some((hour("2026-12-06T00:00:00Z"), 2))
        );
        assert_eq!(last_full_hour(&sentry[2..], now), None, "no hour has ended");
    }
}
