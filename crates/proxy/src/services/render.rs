//! The Render checks: the service, its env vars and SENTRY_DSN, its
//! latest deploy, its recent logs, and the host's own metrics (error rate,
//! memory, latency per path) and events (restarts).

use super::*;

/// The window `render.logs` searches: the time between two checkpoints.
const LOG_WINDOW_HOURS: i64 = 4;

/// How far back the memory check reads: long enough for a trend; a reading
/// every 5 minutes is 72 of them.
const MEMORY_WINDOW_HOURS: i64 = 6;
const MEMORY_RESOLUTION_SECONDS: u32 = 300;

/// The window the restart check reads Render's events in.
const RESTART_WINDOW_HOURS: i64 = 24;

impl Services {
    pub(crate) fn render_target<'a>(
        &'a self,
        project: &'a Project,
    ) -> Result<(&'a Render, &'a str), Outcome> {
        let render = self.render.as_ref().ok_or_else(|| {
            Outcome::not_configured(
                "No Render API key is configured: set RENDER_API_KEY (or --render-api-key, or [render] api_key in the --config file) and restart Watchpost.",
            )
        })?;
        let service = project.render_service_id.as_deref().ok_or_else(|| {
            Outcome::not_configured(
                "The Render service id is not set: an admin sets it (srv-…) in the project's settings.",
            )
        })?;
        Ok((render, service))
    }

    pub(super) async fn render_service(&self, project: &Project) -> Outcome {
        let (render, service) = match self.render_target(project) {
            Ok(target) => target,
            Err(outcome) => return outcome,
        };
        match render.service(service).await {
            Ok(found) => Outcome::passed(format!("Render has the service {}.", found.name))
                .saw("name", found.name)
                .saw("type", found.kind)
                .saw("suspended", found.suspended)
                .saw("dashboard", found.dashboard_url),
            Err(UpstreamError::NotFound) => Outcome::failed(format!(
                "Render has no service {service} that this API key can see: correct the service id in the project's settings."
            )),
            Err(err) => Outcome::upstream("Render", &err),
        }
    }

    /// `key` on the service: present, equal to `equals`, or compared with
    /// the platform's seed (`seed`): a team's own value for a setting that
    /// is its choice stays, shown beside the seed's, never relayed.
    pub(super) async fn render_env_var(
        &self,
        project: &Project,
        key: &str,
        equals: Option<&str>,
        seed: Option<&SdkSetting>,
    ) -> Outcome {
        let (render, service) = match self.render_target(project) {
            Ok(target) => target,
            Err(outcome) => return outcome,
        };
        let vars = match render.env_vars(service).await {
            Ok(vars) => vars,
            Err(err) => return Outcome::upstream("Render", &err),
        };
        let Some(var) = vars.iter().find(|var| var.key == key) else {
            return Outcome::failed(format!(
                "{key} is not set on the Render service: an admin can set it from here, or add it under Environment in Render."
            ))
            .saw(key, "missing");
        };
        let says = |setting: &SdkSetting| format!("{} says {}", setting.seed, setting.value);
        match (equals, seed) {
            (Some(expected), _) if var.value.expose() == expected => {
                Outcome::passed(format!("{key} is {expected}.")).saw(key, "matches")
            }
            (Some(expected), _) => Outcome::failed(format!(
                "{key} is set, but not to {expected}: change it in Render (or from here), then redeploy."
            ))
            .saw(key, "differs"),
            (None, Some(setting)) if var.value.expose() == setting.value => Outcome::passed(
                format!("{key} is {}, as {} says.", setting.value, setting.seed),
            )
            .saw(key, "matches")
            .saw("guide", says(setting)),
            (None, Some(setting)) if setting.team_choice => Outcome::passed(format!(
                "{key} is set to the team's own value; {}.",
                says(setting)
            ))
            .saw(key, "the team's own value")
            .saw("guide", says(setting)),
            (None, Some(setting)) => Outcome::failed(format!(
                "{key} is set, but not as {}: change it in Render (or from here), then redeploy.",
                says(setting)
            ))
            .saw(key, "differs")
            .saw("guide", says(setting)),
            (None, None) => Outcome::passed(format!("{key} is set.")).saw(key, "present"),
        }
    }

    pub(super) async fn render_dsn_matches(
        &self,
        project: &Project,
        which: Option<&str>,
        variable: &str,
    ) -> Outcome {
        let (render, service) = match self.render_target(project) {
            Ok(target) => target,
            Err(outcome) => return outcome,
        };
        let (sentry, org, slug) = match self.sentry_target(project, which) {
            Ok(target) => target,
            Err(outcome) => return outcome,
        };
        let keys = match sentry.client_keys(org, slug).await {
            Ok(keys) => keys,
            Err(err) => return Outcome::upstream("Sentry", &err),
        };
        let vars = match render.env_vars(service).await {
            Ok(vars) => vars,
            Err(err) => return Outcome::upstream("Render", &err),
        };
        let sentry_dsns: Vec<Dsn> = keys
            .iter()
            .filter(|key| key.is_active)
            .filter_map(|key| Dsn::parse(&key.dsn.public))
            .collect();
        let Some(expected) = sentry_dsns.first() else {
            return Outcome::failed("The Sentry project has no active client key to compare with.");
        };
        let Some(var) = vars.iter().find(|var| var.key == variable) else {
            return Outcome::failed(format!(
                "{variable} is not set on the Render service: an admin can set it from here to the project's DSN."
            ))
            .saw("Sentry DSN", expected.public());
        };
        match Dsn::parse(var.value.expose()) {
            Some(set) if sentry_dsns.iter().any(|dsn| dsn.same_as(&set)) => {
                Outcome::passed(format!("{variable} on Render is the Sentry project's DSN."))
                    .saw(variable, set.masked())
                    .saw("Sentry DSN", expected.public())
            }
            Some(set) => Outcome::failed(format!(
                "{variable} on Render is another project's or key's DSN: set it to the Sentry project's DSN, then redeploy."
            ))
            .saw(variable, set.masked())
            .saw("Sentry DSN", expected.public()),
            None => Outcome::failed(format!(
                "{variable} on Render is not a DSN: set it to the Sentry project's DSN."
            ))
            .saw(variable, "not a DSN")
                .saw("Sentry DSN", expected.public()),
        }
    }

    /// The host's error rate: the share of the last hour's requests that
    /// Render counted with a 5xx status, against the playbook's target;
    /// shown beside Sentry's, and measured whether or not the service
    /// sends transactions.
    pub(super) async fn render_error_rate(
        &self,
        playbook: &Playbook,
        project: &Project,
    ) -> Outcome {
        let (render, service) = match self.render_target(project) {
            Ok(target) => target,
            Err(outcome) => return outcome,
        };
        let end = self.clock.real_timestamp();
        let window = (end - jiff::SignedDuration::from_hours(1), end);
        let by_status = match render
            .metric(
                "http-requests",
                service,
                window,
                300,
                &[("aggregateBy", "statusCode")],
            )
            .await
        {
            Ok(by_status) => by_status,
            Err(err) => return Outcome::upstream("Render", &err),
        };
        let count = |series: &crate::upstream::render::Metric| -> f64 {
            series.readings.iter().map(|(_, value)| value).sum()
        };
        let total: f64 = by_status.iter().map(count).sum();
        let failed: f64 = by_status
            .iter()
            .filter(|series| {
                series
                    .label("statusCode")
                    .is_some_and(|code| code.starts_with('5'))
            })
            .map(count)
            .sum();
        if total <= 0.0 {
            return Outcome::new(
                CheckStatus::Error,
                "Render counted no requests to the service in the last hour: nothing to measure an error rate by. Check that the service takes traffic.",
            );
        }
        let percent = failed / total * 100.0;
        let shown = format!("{}%", Decimal((percent * 100.0).round() / 100.0));
        let (requests, errors) = (total.round() as u64, failed.round() as u64);
        let bound = target_bound(playbook, CheckKind::RenderErrorRate, &Keyed::default());
        let outcome = match bound {
            Some(bound) if bound.holds(percent) => Outcome::passed(format!(
                "{shown} of {requests} requests answered 5xx in the last hour ({bound} target)."
            )),
            Some(bound) => Outcome::failed(format!(
                "{shown} of {requests} requests answered 5xx in the last hour, over the {bound} target: read Render's logs for the failing paths, and follow “Error rate above 5%” if it keeps rising."
            )),
            None => Outcome::passed(format!(
                "{shown} of {requests} requests answered 5xx in the last hour."
            )),
        };
        outcome
            .saw("5xx", errors.to_string())
            .saw("requests", requests.to_string())
            .saw("measure", "Render's request counts by status, last hour")
            .measured(
                percent,
                Unit::Percent,
                "5xx share of requests, last hour (Render)",
            )
    }

    /// Memory usage stable over the last six hours, by Render's own
    /// metrics and `domain::host`'s rule, which the result states. With
    /// several instances, each is judged and the worst decides.
    pub(super) async fn render_memory(&self, project: &Project) -> Outcome {
        use domain::host::{MemoryTrend, MemoryVerdict};

        let (render, service) = match self.render_target(project) {
            Ok(target) => target,
            Err(outcome) => return outcome,
        };
        let end = self.clock.real_timestamp();
        let window = (
            end - jiff::SignedDuration::from_hours(MEMORY_WINDOW_HOURS),
            end,
        );
        let memory = match render
            .metric("memory", service, window, MEMORY_RESOLUTION_SECONDS, &[])
            .await
        {
            Ok(memory) => memory,
            Err(err) => return Outcome::upstream("Render", &err),
        };
        // Without a limit the rule holds growth to the first reading.
        let limit = render
            .memory_limit(service, window, MEMORY_RESOLUTION_SECONDS)
            .await;
        let trends: Vec<MemoryTrend> = memory
            .iter()
            .filter_map(|series| MemoryTrend::of(&series.readings, limit))
            .collect();
        let judged: Vec<(MemoryTrend, MemoryVerdict)> = trends
            .into_iter()
            .map(|trend| (trend, trend.verdict()))
            .collect();
        let worst = judged
            .iter()
            .find(|(_, verdict)| matches!(verdict, MemoryVerdict::Unstable(_)))
            .or_else(|| {
                judged
                    .iter()
                    .find(|(_, verdict)| matches!(verdict, MemoryVerdict::Stable(_)))
            })
            .or_else(|| judged.first());
        let Some((trend, verdict)) = worst else {
            return Outcome::new(
                CheckStatus::Error,
                format!(
                    "Render has no memory readings of the service in the last {MEMORY_WINDOW_HOURS} hours: check that it is running, and check again in an hour."
                ),
            );
        };
        let outcome = match verdict {
            MemoryVerdict::Stable(said) => Outcome::passed(said.clone()),
            MemoryVerdict::Unstable(said) => Outcome::failed(said.clone()),
            MemoryVerdict::TooSoon(said) => Outcome::new(
                CheckStatus::Error,
                format!("Memory cannot be judged yet: {said}."),
            ),
        };
        let mb = |value: f64| format!("{value:.0} MB");
        outcome
            .saw(
                "memory",
                format!("{} → {}", mb(trend.first_mb), mb(trend.last_mb)),
            )
            .saw("peak", mb(trend.peak_mb))
            .saw(
                "growth per hour",
                format!("{:+.1} MB", trend.growth_mb_per_hour),
            )
            .saw(
                "limit",
                trend.limit_mb.map_or_else(|| "unknown".to_owned(), mb),
            )
            .saw("instances", judged.len().to_string())
            .saw(
                "measure",
                format!("Render's memory metric, last {MEMORY_WINDOW_HOURS} hours"),
            )
    }

    /// p95 and p99 of the requests Render served under `path` (all of
    /// them without one) in the last hour, one reading for the hour, judged
    /// against the target `bound`: the host's own view, measured whether or
    /// not the service sends transactions.
    pub(super) async fn render_latency(
        &self,
        project: &Project,
        path: Option<&str>,
        bound: Option<Bound>,
    ) -> Outcome {
        let (render, service) = match self.render_target(project) {
            Ok(target) => target,
            Err(outcome) => return outcome,
        };
        let end = self.clock.real_timestamp();
        let window = (end - jiff::SignedDuration::from_hours(1), end);
        let mut filters = vec![("quantile", "0.95"), ("quantile", "0.99")];
        filters.extend(path.map(|path| ("path", path)));
        let series = match render
            .metric("http-latency", service, window, 3600, &filters)
            .await
        {
            Ok(series) => series,
            Err(err) => return Outcome::upstream("Render", &err),
        };
        // The worst reading of each quantile: one per hour, at most two.
        let quantile = |q: f64| {
            series
                .iter()
                .filter(|one| {
                    one.label("quantile")
                        .and_then(|text| text.parse::<f64>().ok())
                        .is_some_and(|value| (value - q).abs() < 1e-6)
                })
                .flat_map(|one| one.readings.iter().map(|(_, ms)| *ms))
                .reduce(f64::max)
                .map(f64::round)
        };
        let what = path.map_or_else(
            || "all requests".to_owned(),
            |path| format!("requests to {path}"),
        );
        let Some(p99) = quantile(0.99) else {
            return Outcome::new(
                CheckStatus::Error,
                format!(
                    "Render counted no {what} in the last hour: check the path under Render paths in the project's settings, and that the endpoint takes traffic."
                ),
            )
            .saw("path", path.unwrap_or("all"));
        };
        let ms = |value: f64| format!("{} ms", Decimal(value));
        let outcome = match bound {
            Some(bound) if bound.holds(p99) => Outcome::passed(format!(
                "p99 of {what}: {} in the last hour by Render ({bound} target).",
                ms(p99)
            )),
            Some(bound) => Outcome::failed(format!(
                "p99 of {what}: {} in the last hour by Render, over the {bound} target: read Render's logs for slow requests, and look at recent deploys.",
                ms(p99)
            )),
            None => Outcome::passed(format!(
                "p99 of {what}: {} in the last hour by Render.",
                ms(p99)
            )),
        };
        let mut outcome = outcome.saw("p99", ms(p99));
        if let Some(p95) = quantile(0.95) {
            outcome = outcome.saw("p95", ms(p95));
        }
        outcome
            .saw("path", path.unwrap_or("all"))
            .saw("source", "Render's response times, last hour")
            .measured(p99, Unit::Ms, format!("p99 of {what}, last hour (Render)"))
    }

    /// No unexpected restart in the last 24 hours, by `domain::host`'s rule:
    /// Render's events (failures, restarts, deploys), the instances running
    /// now, and the health endpoint's `uptime`, together.
    pub(super) async fn render_restarts(&self, project: &Project) -> Outcome {
        use domain::host::{HostEvent, starts};

        let (render, service) = match self.render_target(project) {
            Ok(target) => target,
            Err(outcome) => return outcome,
        };
        let now = self.clock.real_timestamp();
        let since = now - jiff::SignedDuration::from_hours(RESTART_WINDOW_HOURS);
        let (events, instances) = match tokio::try_join!(
            render.events(service, (since, now)),
            render.instances(service)
        ) {
            Ok(found) => found,
            Err(err) => return Outcome::upstream("Render", &err),
        };
        let second = |text: &str| {
            text.parse::<jiff::Timestamp>()
                .ok()
                .map(|at| at.as_second())
        };
        let mut host: Vec<(i64, HostEvent)> = events
            .iter()
            .filter_map(|event| Some((second(&event.timestamp)?, host_event(event)?)))
            .collect();
        host.extend(
            instances
                .iter()
                .filter_map(|instance| second(&instance.created_at))
                .filter(|at| *at >= since.as_second())
                .map(|at| (at, HostEvent::InstanceStarted)),
        );
        // The first health URL that says its uptime.
        let uptime = match self.probes(project).await {
            Ok(probes) => probes
                .iter()
                .find_map(|(_, probe)| probe.as_ref().ok()?.uptime())
                .filter(|uptime| uptime.is_finite() && *uptime >= 0.0),
            Err(_) => None,
        };
        if let Some(uptime) = uptime {
            let started = now.as_second() - uptime as i64;
            if started >= since.as_second() {
                host.push((started, HostEvent::ProcessStarted));
            }
        }
        let judged = starts(&host);
        let (unexpected, expected): (Vec<_>, Vec<_>) =
            judged.iter().partition(|start| !start.expected);
        let at = |second: i64| {
            jiff::Timestamp::from_second(second)
                .map(|at| day_and_hour(&at.to_string()))
                .unwrap_or_default()
        };
        let mut outcome = match unexpected.last() {
            None => Outcome::passed(format!(
                "No unexpected restart in the last {RESTART_WINDOW_HOURS} hours ({} expected start{}).",
                expected.len(),
                if expected.len() == 1 { "" } else { "s" }
            )),
            Some(last) => Outcome::failed(format!(
                "{} unexpected restart{} in the last {RESTART_WINDOW_HOURS} hours, the last at {}: {}. Read Render's events and logs around it; running out of memory is a leak to fix.",
                unexpected.len(),
                if unexpected.len() == 1 { "" } else { "s" },
                at(last.at),
                last.why
            )),
        };
        for start in unexpected
            .iter()
            .rev()
            .take(3)
            .chain(expected.iter().rev().take(2))
        {
            outcome = outcome.saw(&at(start.at), start.why.clone());
        }
        outcome
            .saw("instances", instances.len().to_string())
            .saw(
                "uptime",
                uptime.map_or_else(
                    || "not given by a health endpoint".to_owned(),
                    |uptime| span(uptime as i64),
                ),
            )
            .saw(
                "measure",
                format!("Render's events and instances, and the health endpoint's uptime, last {RESTART_WINDOW_HOURS} hours"),
            )
    }

    /// The host's memory from `from_ms` to `to_ms` for the Watch tab's
    /// chart, about 120 readings whatever the window, and its limit; with
    /// several instances, the one using most at the end. Reused for
    /// [`COUNTS_FRESH_FOR`] with the same settings and window (to the
    /// minute): every open Watch tab asks with its health report.
    pub(crate) async fn memory_readings(
        &self,
        project: &Project,
        (from_ms, to_ms): (i64, i64),
    ) -> MemoryReadings {
        let window = (from_ms.div_euclid(60_000), to_ms.div_euclid(60_000));
        let slot = lock(&self.memory).entry(project.id).or_default().clone();
        let mut slot = slot.lock().await;
        if let Some((at, settings, asked, read)) = slot.as_ref()
            && fresh(self.clock.now_ms(), *at, COUNTS_FRESH_FOR)
            && settings == project
            && *asked == window
        {
            return read.clone();
        }
        let read = self.read_memory(project, (from_ms, to_ms)).await;
        *slot = Some((self.clock.now_ms(), project.clone(), window, read.clone()));
        read
    }

    async fn read_memory(&self, project: &Project, (from_ms, to_ms): (i64, i64)) -> MemoryReadings {
        let (render, service) = self
            .render_target(project)
            .map_err(|_| "Memory comes from Render's metrics: set the Render service (and RENDER_API_KEY) to see it.".to_owned())?;
        let at = |ms: i64| jiff::Timestamp::from_millisecond(ms).map_err(|err| err.to_string());
        let window = (at(from_ms)?, at(to_ms)?);
        let resolution = u32::try_from(((to_ms - from_ms) / 1000 / 120).max(60)).unwrap_or(3600);
        let series = render
            .metric("memory", service, window, resolution, &[])
            .await
            .map_err(|err| {
                format!("Render {err}: the memory chart comes back when Render answers.")
            })?;
        let limit = render.memory_limit(service, window, resolution).await;
        let busiest = series.into_iter().max_by(|a, b| {
            let last = |series: &crate::upstream::render::Metric| {
                series.readings.last().map_or(0.0, |(_, mb)| *mb)
            };
            last(a).total_cmp(&last(b))
        });
        let readings = busiest
            .map(|series| {
                series
                    .readings
                    .into_iter()
                    .map(|(at, mb)| (at * 1000, mb))
                    .collect()
            })
            .unwrap_or_default();
        Ok((readings, limit))
    }

    /// Log lines at `level` (containing `text`) in the last four hours,
    /// the time between two checkpoints.
    pub(super) async fn render_logs(
        &self,
        project: &Project,
        level: &str,
        text: Option<&str>,
    ) -> Outcome {
        let (render, service) = match self.render_target(project) {
            Ok(target) => target,
            Err(outcome) => return outcome,
        };
        let service = match render.service(service).await {
            Ok(service) => service,
            Err(err) => return Outcome::upstream("Render", &err),
        };
        let end = self.clock.real_timestamp();
        let start = end - jiff::SignedDuration::from_hours(LOG_WINDOW_HOURS);
        let found = match render
            .logs(
                &service,
                level,
                text,
                (&start.to_string(), &end.to_string()),
            )
            .await
        {
            Ok(found) => found,
            Err(err) => return Outcome::upstream("Render", &err),
        };
        let what = match text {
            Some(text) => format!("{level} lines containing “{text}”"),
            None => format!("{level} lines"),
        };
        let count = if found.has_more {
            format!("{}+", found.logs.len())
        } else {
            found.logs.len().to_string()
        };
        let mut outcome = if found.logs.is_empty() {
            Outcome::passed(format!("No {what} in the last {LOG_WINDOW_HOURS} hours."))
        } else {
            Outcome::failed(format!(
                "{count} {what} in the last {LOG_WINDOW_HOURS} hours: read them in Render's logs; repeated ones are worth an issue, a flood is an escalation."
            ))
        }
        .saw(&what, count);
        for line in found.logs.iter().take(3) {
            let excerpt: String = line.message.chars().take(LOG_EXCERPT_CHARS).collect();
            outcome = outcome.saw(&line.timestamp, excerpt);
        }
        outcome
    }

    pub(super) async fn render_deploy_live(&self, project: &Project) -> Outcome {
        let (render, service) = match self.render_target(project) {
            Ok(target) => target,
            Err(outcome) => return outcome,
        };
        match render.deploys(service, 1).await {
            Ok(deploys) => match deploys.first() {
                None => Outcome::failed(
                    "The service has no deploy yet: deploy it from Render (or from here).",
                ),
                Some(deploy) => {
                    let status = deploy.status.clone().unwrap_or_else(|| "unknown".into());
                    let mut outcome = if status == "live" {
                        Outcome::passed("The latest deploy is live.")
                    } else {
                        Outcome::failed(format!(
                            "The latest deploy is {status}, not live: open it in Render to see why."
                        ))
                    }
                    .saw("status", status)
                    .saw("deploy", deploy.id.clone());
                    if let Some(commit) = &deploy.commit {
                        let id = commit.short();
                        let message = commit.message.as_deref().unwrap_or_default();
                        outcome =
                            outcome.saw("commit", format!("{id} {message}").trim().to_owned());
                    }
                    outcome
                }
            },
            Err(err) => Outcome::upstream("Render", &err),
        }
    }
}

/// A Render event as the restart rule reads it; `None` for the events that
/// do not start or stop the service.
fn host_event(event: &crate::upstream::render::Event) -> Option<domain::host::HostEvent> {
    use domain::host::HostEvent;

    let details = &event.details;
    match event.kind.as_str() {
        "deploy_started"
        | "deploy_ended"
        | "zero_downtime_redeploy_started"
        | "zero_downtime_redeploy_ended" => Some(HostEvent::Deployed),
        "server_restarted" => Some(match details["triggeredByUser"].as_str() {
            Some(who) if !who.is_empty() => HostEvent::RestartedBy(who.to_owned()),
            _ => HostEvent::Failed("Render restarted it".to_owned()),
        }),
        "server_hardware_failure" => {
            Some(HostEvent::Failed("its server's hardware failed".to_owned()))
        }
        "server_failed" => {
            let reason = &details["reason"];
            let why = if let Some(limit) = reason["oomKilled"]["memoryLimit"].as_str() {
                format!("it ran out of memory (limit {limit})")
            } else if let Some(code) = reason["nonZeroExit"].as_i64() {
                format!("it exited with code {code}")
            } else if let Some(check) = reason["unhealthy"].as_str() {
                let excerpt: String = check.chars().take(LOG_EXCERPT_CHARS).collect();
                format!("it failed its health check ({excerpt})")
            } else if reason["evicted"].as_bool() == Some(true) {
                "it was evicted".to_owned()
            } else {
                "it failed".to_owned()
            };
            Some(HostEvent::Failed(why))
        }
        _ => None,
    }
}
