//! The health endpoint checks: one probe of each URL against the project's
//! conditions, and an endpoint's response time against its target.

use super::*;

impl Services {
    pub(super) async fn health_endpoint(&self, project: &Project) -> Outcome {
        let probes = match self.probes(project).await {
            Ok(probes) => probes,
            Err(outcome) => return outcome,
        };
        let mut problems = Vec::new();
        let mut observed = Keyed::default();
        for (url, probe) in probes {
            match probe {
                Ok(probe) => {
                    let summary = format!(
                        "answered {}{} in {} ms",
                        probe.status,
                        probe
                            .status_word()
                            .map(|word| format!(" {word}"))
                            .unwrap_or_default(),
                        probe.latency.as_millis(),
                    );
                    if !probe.is_healthy() {
                        let unmet: Vec<String> =
                            probe.unmet.iter().map(ToString::to_string).collect();
                        problems.push(format!("{url}: {}", unmet.join("; ")));
                        observed.insert(&url, format!("{summary}, but {}", unmet.join("; ")));
                    } else {
                        observed.insert(&url, summary);
                    }
                }
                Err(why) => {
                    problems.push(format!("{url}: {why}"));
                    observed.insert(&url, why);
                }
            }
        }
        let mut outcome = if problems.is_empty() {
            Outcome::passed("Every health endpoint meets its conditions.")
        } else {
            Outcome::failed(format!(
                "{}. Open the service's logs; if it persists for minutes, follow “Health check failing” in the escalation tab.",
                problems.join("; ")
            ))
        };
        outcome.observed = observed;
        outcome
    }

    /// One service the health answers report (seed 004's
    /// `services.backgroundJobs`): `true` in every health URL that names
    /// it; unsupported where none does.
    pub(super) async fn health_service(&self, project: &Project, service: &str) -> Outcome {
        let probes = match self.probes(project).await {
            Ok(probes) => probes,
            Err(outcome) => return outcome,
        };
        let mut seen = Vec::new();
        for (url, probe) in &probes {
            let probe = match probe {
                Ok(probe) => probe,
                Err(why) => return Outcome::failed(format!("{url}: {why}.")).saw(url, why.clone()),
            };
            let value = probe
                .body
                .as_ref()
                .and_then(|body| body.get("services")?.get(service).cloned());
            if let Some(value) = value {
                seen.push((url.clone(), value));
            }
        }
        if seen.is_empty() {
            return Outcome::new(
                CheckStatus::Unsupported,
                format!(
                    "No health endpoint reports “{service}” under services: check it by hand in the logs, or add it to the health answer (\"services\": {{ \"{service}\": true }})."
                ),
            );
        }
        let down: Vec<&(String, serde_json::Value)> = seen
            .iter()
            .filter(|(_, value)| *value != serde_json::Value::Bool(true))
            .collect();
        let mut outcome = match down.first() {
            None => Outcome::passed(format!("The health endpoint reports {service} up.")),
            Some((url, value)) => Outcome::failed(format!(
                "{url} reports {service} as {value}: read the service's logs for it, and restart it if it stopped."
            )),
        };
        for (url, value) in &seen {
            outcome = outcome.saw(url, format!("services.{service}: {value}"));
        }
        outcome
    }

    pub(super) async fn health_latency(
        &self,
        playbook: &Playbook,
        project: &Project,
        item: &Item,
    ) -> Outcome {
        // Other endpoints are timed by Sentry, from their transaction.
        if item
            .with
            .get("endpoint")
            .is_some_and(|endpoint| endpoint != "health")
        {
            return self.sentry_p99(playbook, project, item).await;
        }
        let probes = match self.probes(project).await {
            Ok(probes) => probes,
            Err(outcome) => return outcome,
        };
        let bound = target_bound(playbook, CheckKind::HealthLatency, &item.with);
        let mut slowest: Option<(String, u128)> = None;
        let mut observed = Keyed::default();
        for (url, probe) in probes {
            match probe {
                Ok(probe) => {
                    let ms = probe.latency.as_millis();
                    observed.insert(&url, format!("{ms} ms"));
                    if slowest.as_ref().is_none_or(|(_, worst)| ms > *worst) {
                        slowest = Some((url, ms));
                    }
                }
                Err(why) => {
                    return Outcome::failed(format!("{url}: {why}.")).saw(&url, why);
                }
            }
        }
        let Some((url, ms)) = slowest else {
            return Outcome::failed("No health endpoint answered.");
        };
        let mut outcome = match bound {
            Some(bound) if bound.holds(ms as f64) => {
                Outcome::passed(format!("{url} answered in {ms} ms ({} target).", bound))
            }
            Some(bound) => Outcome::failed(format!(
                "{url} answered in {ms} ms, over the {} target: look at the service's load and recent deploys.",
                bound
            )),
            None => Outcome::passed(format!("{url} answered in {ms} ms.")),
        };
        outcome.observed = observed;
        outcome.measured(
            ms as f64,
            Unit::Ms,
            format!("GET {url}, the slowest health URL"),
        )
    }

    /// The frontend's page: it answers without an error, within the
    /// playbook's page-load target (seed 003's 2 s).
    pub(super) async fn health_frontend(&self, playbook: &Playbook, project: &Project) -> Outcome {
        let Some((url, probe)) = self.frontend_probe(project).await else {
            return Outcome::not_configured(
                "No frontend URL is set: an admin enters a page of the frontend (https://…) under Frontend URL in the project's settings.",
            );
        };
        let probe = match probe {
            Ok(probe) => probe,
            Err(why) => {
                return Outcome::failed(format!("The frontend's page {why}.")).saw(&url, why);
            }
        };
        let ms = probe.latency.as_millis() as f64;
        let bound = target_bound(playbook, CheckKind::HealthFrontend, &Keyed::default());
        let outcome = if !probe.is_healthy() {
            Outcome::failed(format!(
                "The frontend's page answered {}: open it, then read the frontend's host logs and Sentry's frontend issues.",
                probe.status
            ))
        } else {
            match bound {
                Some(bound) if bound.holds(ms) => Outcome::passed(format!(
                    "The frontend's page loaded in {} ms ({bound} target).",
                    Decimal(ms)
                )),
                Some(bound) => Outcome::failed(format!(
                    "The frontend's page took {} ms, over the {bound} target: look at the frontend host's load and the page's size.",
                    Decimal(ms)
                )),
                None => {
                    Outcome::passed(format!("The frontend's page loaded in {} ms.", Decimal(ms)))
                }
            }
        };
        outcome
            .saw(
                &url,
                format!("answered {} in {} ms", probe.status, Decimal(ms)),
            )
            .measured(ms, Unit::Ms, format!("GET {url}, the frontend's page"))
    }
}
