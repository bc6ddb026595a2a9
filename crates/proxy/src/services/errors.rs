//! The error watch's round: for every watched project, the share of failed
//! transactions since the round before, the errors of the hour under way,
//! and its new critical issues, asked of Sentry once per organization (and
//! critical marker) for all its projects, not once per project.

use super::*;
use domain::errors::ErrorPoint;

/// Watched projects of one organization that share their critical
/// markers, with their Sentry ids.
struct Org<'a> {
    sentry: &'a Sentry,
    slug: &'a str,
    markers: Vec<String>,
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
        let (orgs, refused) = self.organizations(projects, |_| Vec::new()).await;
        let mut readings: Vec<(i64, Result<ErrorPoint, Outcome>)> = refused
            .into_iter()
            .map(|(project, outcome)| (project, Err(outcome)))
            .collect();
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

    /// The new critical issues of every project in `projects`, judged as
    /// the critical-issues check judges them: one request per organization
    /// and critical marker for all the projects that share their markers.
    pub async fn critical_round(&self, projects: &[Arc<Project>]) -> Vec<(i64, Outcome)> {
        let (orgs, mut outcomes) = self
            .organizations(projects, Project::critical_markers)
            .await;
        for org in orgs {
            let ids: Vec<&str> = org.projects.iter().map(|(_, id)| id.as_str()).collect();
            let issues = match sentry::new_issues(
                org.sentry,
                org.slug,
                &ids,
                &org.markers,
                self.clock.real_timestamp(),
            )
            .await
            {
                Ok(issues) => issues,
                Err(err) => {
                    outcomes.extend(
                        org.projects
                            .iter()
                            .map(|(project, _)| (*project, Outcome::upstream("Sentry", &err))),
                    );
                    continue;
                }
            };
            let named = issues.iter().all(|issue| issue.project.is_some());
            for (project, id) in &org.projects {
                let mine = if ids.len() == 1 {
                    issues.clone()
                } else if named {
                    issues
                        .iter()
                        .filter(|issue| issue.project.as_ref().is_some_and(|of| of.id == *id))
                        .cloned()
                        .collect()
                } else {
                    // A server whose issues do not say their project: this one alone.
                    match sentry::new_issues(
                        org.sentry,
                        org.slug,
                        &[id],
                        &org.markers,
                        self.clock.real_timestamp(),
                    )
                    .await
                    {
                        Ok(issues) => issues,
                        Err(err) => {
                            outcomes.push((*project, Outcome::upstream("Sentry", &err)));
                            continue;
                        }
                    }
                };
                let outcome =
                    sentry::issues_outcome(org.sentry, org.slug, mine, &org.markers).await;
                outcomes.push((*project, outcome));
            }
        }
        outcomes
    }

    /// `projects` grouped by organization and by `markers` (what else a
    /// request for them must share), each with its Sentry id; the projects
    /// Sentry cannot be asked about, with why.
    async fn organizations<'a>(
        &'a self,
        projects: &'a [Arc<Project>],
        markers: impl Fn(&Project) -> Vec<String>,
    ) -> (Vec<Org<'a>>, Vec<(i64, Outcome)>) {
        let (mut orgs, mut refused): (Vec<Org<'a>>, Vec<(i64, Outcome)>) = (Vec::new(), Vec::new());
        for project in projects {
            let (sentry, slug, id) = match self.cached_project_id(project).await {
                Ok(target) => target,
                Err(outcome) => {
                    refused.push((project.id, outcome));
                    continue;
                }
            };
            let markers = markers(project);
            match orgs
                .iter_mut()
                .find(|org| org.slug == slug && org.markers == markers)
            {
                Some(org) => org.projects.push((project.id, id)),
                None => orgs.push(Org {
                    sentry,
                    slug,
                    markers,
                    projects: vec![(project.id, id)],
                }),
            }
        }
        (orgs, refused)
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
