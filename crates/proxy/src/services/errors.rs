//! The error watch's round: for every watched project, the share of failed
//! transactions since the round before and the errors of the hour under
//! way, asked of Sentry once per organization (grouped by project), not
//! once per project.

use super::*;
use domain::errors::ErrorPoint;

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
        let hour = jiff::Timestamp::from_second(end.as_second() - end.as_second().rem_euclid(3600))
            .unwrap_or(end);
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
            let (sentry, slug) = (org.sentry, org.slug);
            let rates = by_project(&org, |ids| sentry.failure_rates(slug, ids, start, end)).await;
            let errors =
                by_project(&org, |ids| sentry.errors_by_project(slug, ids, hour, end)).await;
            for (project, id) in &org.projects {
                let reading = match &rates {
                    Ok(rates) => {
                        let row = rates.iter().find(|(of, _)| of == id).map(|(_, row)| row);
                        let errors = errors.as_ref().ok().map(|errors| {
                            errors
                                .iter()
                                .filter(|(of, _)| of == id)
                                .map(|(_, count)| count)
                                .sum()
                        });
                        Ok(ErrorPoint {
                            at,
                            window_seconds,
                            transactions: row.map_or(0, |row| row.transactions),
                            failure_percent: row.and_then(|row| row.failure_rate).unwrap_or(0.0)
                                * 100.0,
                            errors_this_hour: errors,
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

/// What `ask` answers for the organization's projects, each row with its
/// project: asked for all of them at once, or for each when the server
/// does not group by project (a row without its project).
async fn by_project<T, Asked>(
    org: &Org<'_>,
    ask: impl Fn(Vec<String>) -> Asked,
) -> Result<Vec<(String, T)>, UpstreamError>
where
    Asked: Future<Output = Result<Vec<(Option<String>, T)>, UpstreamError>>,
{
    let ids: Vec<String> = org.projects.iter().map(|(_, id)| id.clone()).collect();
    let rows = ask(ids.clone()).await?;
    if let [only] = ids.as_slice() {
        return Ok(rows
            .into_iter()
            .map(|(_, row)| (only.clone(), row))
            .collect());
    }
    if rows.iter().all(|(project, _)| project.is_some()) {
        return Ok(rows
            .into_iter()
            .filter_map(|(project, row)| Some((project?, row)))
            .collect());
    }
    let mut each = Vec::new();
    for id in ids {
        for (_, row) in ask(vec![id.clone()]).await? {
            each.push((id.clone(), row));
        }
    }
    Ok(each)
}
