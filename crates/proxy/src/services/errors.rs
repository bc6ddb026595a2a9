//! The error watch's round: the share of failed transactions of every
//! watched project since the round before, asked of Sentry once per
//! organization (the events table grouped by project), not once per project.

use super::*;
use domain::errors::ErrorPoint;

use crate::upstream::sentry::FailureRate;

/// The watched projects of one organization, with their Sentry ids.
struct Org<'a> {
    sentry: &'a Sentry,
    slug: &'a str,
    projects: Vec<(i64, String)>,
}

impl Services {
    /// One round over `projects`, for the `window` that ends now: each
    /// project's reading, stamped `at` (the server's clock, Unix seconds),
    /// or the outcome that says why there is none.
    pub async fn error_round(
        &self,
        projects: &[Arc<Project>],
        window: Duration,
        at: i64,
    ) -> Vec<(i64, Result<ErrorPoint, Outcome>)> {
        let end = self.clock.real_timestamp();
        let start = end - jiff::SignedDuration::try_from(window).unwrap_or_default();
        let window_seconds = u32::try_from(window.as_secs()).unwrap_or(u32::MAX);
        let mut readings = Vec::new();
        let mut orgs: Vec<Org<'_>> = Vec::new();
        for project in projects {
            match self.cached_project_id(project).await {
                Ok((sentry, slug, id)) => match orgs.iter_mut().find(|org| org.slug == slug) {
                    Some(org) => org.projects.push((project.id, id)),
                    None => orgs.push(Org {
                        sentry,
                        slug,
                        projects: vec![(project.id, id)],
                    }),
                },
                Err(outcome) => readings.push((project.id, Err(outcome))),
            }
        }
        for org in orgs {
            let rates = org_rates(&org, start, end).await;
            for (project, id) in &org.projects {
                let reading = match &rates {
                    Ok(rates) => {
                        let row = rates.iter().find(|rate| rate.project.as_ref() == Some(id));
                        Ok(ErrorPoint {
                            at,
                            window_seconds,
                            transactions: row.map_or(0, |row| row.transactions),
                            failure_percent: row.and_then(|row| row.failure_rate).unwrap_or(0.0)
                                * 100.0,
                        })
                    }
                    Err(err) => Err(Outcome::upstream("Sentry", err)),
                };
                readings.push((*project, reading));
            }
        }
        readings
    }

    /// The Sentry project's id, asked once: ids do not change, and a round
    /// every few minutes for every project must not ask for each again.
    async fn cached_project_id<'a>(
        &'a self,
        project: &'a Project,
    ) -> Result<(&'a Sentry, &'a str, String), Outcome> {
        let (sentry, org, slug) = self.sentry_target(project, None)?;
        let key = (org.to_owned(), slug.to_owned());
        if let Some(id) = lock(&self.sentry_ids).get(&key) {
            return Ok((sentry, org, id.clone()));
        }
        let (sentry, org, id) = self.sentry_project_id(project).await?;
        lock(&self.sentry_ids).insert(key, id.clone());
        Ok((sentry, org, id))
    }
}

/// The failure rates of an organization's projects, each row naming its
/// project: in one request, or one per project from a server that does not
/// group the events table by project.
async fn org_rates(
    org: &Org<'_>,
    start: jiff::Timestamp,
    end: jiff::Timestamp,
) -> Result<Vec<FailureRate>, UpstreamError> {
    let ids: Vec<&str> = org.projects.iter().map(|(_, id)| id.as_str()).collect();
    let rates = org.sentry.failure_rates(org.slug, &ids, start, end).await?;
    if rates.iter().all(|rate| rate.project.is_some()) {
        return Ok(rates);
    }
    let mut each = Vec::new();
    for id in ids {
        // Asked for one, the rows are its own.
        let rates = if org.projects.len() == 1 {
            rates.clone()
        } else {
            org.sentry
                .failure_rates(org.slug, &[id], start, end)
                .await?
        };
        each.extend(rates.into_iter().map(|rate| FailureRate {
            project: Some(id.to_owned()),
            ..rate
        }));
    }
    Ok(each)
}
