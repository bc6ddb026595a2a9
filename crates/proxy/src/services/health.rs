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
}
