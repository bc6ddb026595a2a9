//! Sentry's quota for the month (`sentry.quota`): the organization's
//! accepted errors and transactions since the month began against the
//! project's plan (the free plan's by default), projected to the month's
//! end at the last 24 hours' pace, and the traces sample rate that fits.

use domain::quota::{FREE_ERRORS_PER_MONTH, FREE_TRANSACTIONS_PER_MONTH, Usage};

use super::*;

/// The sample rate variable whose value the fitting rate starts from.
const TRACES_RATE: &str = "SENTRY_TRACES_SAMPLE_RATE";

/// The month's use as Sentry counted it, and the sample rate set on the
/// host: what the check judges and the action scales.
#[derive(Debug, Clone, Copy)]
pub(crate) struct QuotaSeen {
    pub errors: Usage,
    pub transactions: Usage,
    /// `SENTRY_TRACES_SAMPLE_RATE` on Render, when it can be read.
    pub current: Option<f64>,
    now: jiff::Timestamp,
}

impl QuotaSeen {
    /// The traces sample rate that keeps the month within the plan, when
    /// the one set does not.
    pub fn fitting_rate(&self) -> Option<f64> {
        self.current
            .and_then(|rate| self.transactions.fitting_rate(rate))
    }
}

impl Services {
    /// This month's accepted errors and transactions of the project's
    /// organization, and the last day's, against the project's plan.
    pub(crate) async fn quota_seen(&self, project: &Project) -> Result<QuotaSeen, Outcome> {
        let (sentry, org) = self.sentry_org(project)?;
        let now = self.clock.real_timestamp();
        let (month_start, month_end) = month_of(now);
        let day_ago = now - jiff::SignedDuration::from_hours(24);
        let counts = tokio::try_join!(
            sentry.accepted(org, "error", (month_start, now)),
            sentry.accepted(org, "transaction", (month_start, now)),
            sentry.accepted(org, "error", (day_ago, now)),
            sentry.accepted(org, "transaction", (day_ago, now)),
        );
        let (errors, transactions, errors_day, transactions_day) =
            counts.map_err(|err| Outcome::upstream("Sentry", &err))?;
        let hours_left = (month_end.as_second() - now.as_second()) as f64 / 3600.0;
        let usage = |used, last_day, plan: Option<u32>, free| Usage {
            used,
            last_day,
            plan: u64::from(plan.unwrap_or(free)),
            hours_left,
        };
        Ok(QuotaSeen {
            errors: usage(
                errors,
                errors_day,
                project.plan_errors_per_month,
                FREE_ERRORS_PER_MONTH,
            ),
            transactions: usage(
                transactions,
                transactions_day,
                project.plan_transactions_per_month,
                FREE_TRANSACTIONS_PER_MONTH,
            ),
            current: self.traces_rate(project).await,
            now,
        })
    }

    pub(super) async fn sentry_quota(&self, project: &Project) -> Outcome {
        let seen = match self.quota_seen(project).await {
            Ok(seen) => seen,
            Err(outcome) => return outcome,
        };
        let QuotaSeen {
            errors,
            transactions,
            current,
            now,
        } = seen;
        let when = |hours: f64| {
            let at = now + jiff::SignedDuration::from_secs((hours * 3600.0) as i64);
            day_and_hour(&at.to_string())
        };
        let mut short = Vec::new();
        for (name, usage) in [("errors", &errors), ("transactions", &transactions)] {
            match usage.runs_out_in_hours() {
                Some(hours) if hours <= 0.0 => short.push(format!(
                    "the {name} quota is used up ({} of {})",
                    usage.used, usage.plan
                )),
                Some(hours) => short.push(format!(
                    "{name} will run out around {} at the last day's pace ({} of {} by the month's end)",
                    when(hours),
                    usage.projected(),
                    usage.plan
                )),
                None => {}
            }
        }
        let fits = seen.fitting_rate();
        let mut outcome = if short.is_empty() {
            Outcome::passed(format!(
                "This month's use fits the plan: {} of {} errors and {} of {} transactions so far, about {} and {} by the month's end.",
                errors.used,
                errors.plan,
                transactions.used,
                transactions.plan,
                errors.projected(),
                transactions.projected()
            ))
        } else {
            let advice = match (fits, current) {
                (Some(rate), Some(current)) => format!(
                    " Lower {TRACES_RATE} from {current} to {rate} (“Lower the traces sample rate to fit” sets it on Render; then deploy), and leave out health checks in the SDK."
                ),
                _ => " Lower the sample rates (SENTRY_TRACES_SAMPLE_RATE first), leave out health checks in the SDK, or move to a larger plan.".to_owned(),
            };
            Outcome::failed(format!("{}.{advice}", capitalized(&short.join("; "))))
        };
        for (name, usage) in [("errors", &errors), ("transactions", &transactions)] {
            outcome = outcome.saw(
                name,
                format!(
                    "{} of {} this month ({}%), {} in the last 24 hours, about {} by the month's end",
                    usage.used,
                    usage.plan,
                    Decimal(usage.percent().round()),
                    usage.last_day,
                    usage.projected()
                ),
            );
        }
        if let Some(current) = current {
            outcome = outcome.saw(TRACES_RATE, current.to_string());
        }
        if let Some(rate) = fits {
            outcome = outcome.saw("a rate that fits", rate.to_string());
        }
        outcome
            .saw(
                "measure",
                "Sentry's accepted events of the organization, this month",
            )
            .measured(
                transactions.percent().max(errors.percent()),
                Unit::Percent,
                "quota used this month",
            )
    }

    /// `SENTRY_TRACES_SAMPLE_RATE` on the project's Render service, when
    /// it can be read and is a number.
    async fn traces_rate(&self, project: &Project) -> Option<f64> {
        let (render, service) = self.render_target(project).ok()?;
        let vars = render.env_vars(service).await.ok()?;
        vars.iter()
            .find(|var| var.key == TRACES_RATE)?
            .value
            .expose()
            .trim()
            .parse()
            .ok()
    }
}

/// The first instants of the month `now` is in and of the next, in UTC.
fn month_of(now: jiff::Timestamp) -> (jiff::Timestamp, jiff::Timestamp) {
    let date = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let first = date.first_of_month();
    let next = first
        .checked_add(jiff::Span::new().months(1))
        .unwrap_or(first);
    let at = |day: jiff::civil::Date| {
        day.to_zoned(jiff::tz::TimeZone::UTC)
            .map(|zoned| zoned.timestamp())
            .unwrap_or(now)
    };
    (at(first), at(next))
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_runs_from_its_first_day_to_the_next_month_s() {
        let now: jiff::Timestamp = "2026-12-06T17:00:00Z".parse().expect("a time");
        let (start, end) = month_of(now);
        assert_eq!(start.to_string(), "2026-12-01T00:00:00Z");
        assert_eq!(end.to_string(), "2027-01-01T00:00:00Z");
    }
}
