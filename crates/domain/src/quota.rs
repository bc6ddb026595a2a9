//! Sentry's monthly quota (seeds 001 and 003: the free plan's 5,000 errors
//! and 10,000 transactions a month; "lower the sample rate when quota
//! fills"): this month's use projected to the month's end at the last 24
//! hours' rate, and the traces sample rate that would fit.

/// The free plan's errors a month.
pub const FREE_ERRORS_PER_MONTH: u32 = 5_000;
/// The free plan's transactions a month.
pub const FREE_TRANSACTIONS_PER_MONTH: u32 = 10_000;

/// One category's use of its quota.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Usage {
    /// Accepted since the month began.
    pub used: u64,
    /// Accepted in the last 24 hours.
    pub last_day: u64,
    pub plan: u64,
    /// Hours until the month ends.
    pub hours_left: f64,
}

impl Usage {
    /// What the month will have used by its end at the last day's pace.
    pub fn projected(&self) -> u64 {
        self.used + (self.per_hour() * self.hours_left).round() as u64
    }

    fn per_hour(&self) -> f64 {
        self.last_day as f64 / 24.0
    }

    /// Hours from now until the quota is used up at the last day's pace;
    /// `None` when it lasts the month, `Some(0.0)` when it is used up.
    pub fn runs_out_in_hours(&self) -> Option<f64> {
        if self.used >= self.plan {
            return Some(0.0);
        }
        if self.projected() <= self.plan {
            return None;
        }
        Some((self.plan - self.used) as f64 / self.per_hour())
    }

    /// The share of the plan used, in percent.
    pub fn percent(&self) -> f64 {
        if self.plan == 0 {
            return 100.0;
        }
        self.used as f64 / self.plan as f64 * 100.0
    }

    /// The sample rate that keeps the month within the plan, from the one
    /// in use: the remaining quota over what the last day's pace would
    /// send, rounded down to two decimals (at least 0.01). `None` when the
    /// pace already fits.
    pub fn fitting_rate(&self, current: f64) -> Option<f64> {
        // A rate that is not a positive number (NaN included) has nothing to scale.
        if self.projected() <= self.plan || current.is_nan() || current <= 0.0 {
            return None;
        }
        let coming = self.per_hour() * self.hours_left;
        let left = self.plan.saturating_sub(self.used) as f64;
        let rate = (current * left / coming * 100.0).floor() / 100.0;
        Some(rate.clamp(0.01, current))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_month_is_projected_at_the_last_day_s_pace() {
        // 10 days left; 6,000 of 10,000 used, 600 in the last day: 12,000.
        let fast = Usage {
            used: 6_000,
            last_day: 600,
            plan: 10_000,
            hours_left: 240.0,
        };
        assert_eq!(fast.projected(), 12_000);
        assert_eq!(fast.runs_out_in_hours(), Some(160.0));
        assert_eq!(fast.percent(), 60.0);
        // 4,000 left of the 6,000 coming at 0.1: 0.066…, rounded down.
        assert_eq!(fast.fitting_rate(0.1), Some(0.06));

        let calm = Usage {
            used: 1_000,
            last_day: 100,
            plan: 5_000,
            hours_left: 240.0,
        };
        assert_eq!(calm.projected(), 2_000);
        assert_eq!(calm.runs_out_in_hours(), None);
        assert_eq!(calm.fitting_rate(0.1), None);

        let spent = Usage {
            used: 5_200,
            last_day: 300,
            plan: 5_000,
            hours_left: 24.0,
        };
        assert_eq!(spent.runs_out_in_hours(), Some(0.0));
        assert_eq!(
            spent.fitting_rate(0.2),
            Some(0.01),
            "the least rate, not none"
        );
    }
}
