//! The one way to Slack. Everything Watchpost posts (the watch's notices, a
//! rollback's start and end, the Slack check's and action's test messages)
//! goes through [`Notifier`], which escapes it and keeps each project within
//! a quota, so neither a display name like `<!channel>` nor a flapping
//! endpoint nor a member pressing "Check again" can flood the channel.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota};

use crate::clock::Clock;
use crate::lock;
use crate::upstream::UpstreamError;
use crate::upstream::slack::Slack;

/// Slack messages per project: a burst of this many, then one per
/// [`NOTICE_PERIOD`]; what is held back is counted in the next message.
const NOTICE_BURST: u32 = 4;
const NOTICE_PERIOD: Duration = Duration::from_secs(120);

/// A test message's result is reused this long: the check proves the
/// webhook works, it need not post each time someone asks.
pub const TEST_REUSED_FOR: Duration = Duration::from_secs(300);

/// What became of a message.
#[derive(Debug, Clone)]
pub enum Posted {
    Sent,
    /// The project's quota is used up for now.
    HeldBack,
    NotConfigured,
    Failed(UpstreamError),
}

/// A test message's result, possibly an earlier one.
#[derive(Debug, Clone)]
pub struct Tested {
    pub posted: Posted,
    /// How long ago the reused message was posted; `None` when just now.
    pub reused_after: Option<Duration>,
}

#[derive(Debug)]
pub struct Notifier {
    slack: Option<Slack>,
    limiter: DefaultKeyedRateLimiter<i64>,
    held_back: Mutex<HashMap<i64, u32>>,
    /// Each project's last test message: when (the people's Unix seconds),
    /// and what Slack said.
    tests: Mutex<HashMap<i64, (i64, Posted)>>,
    clock: Clock,
    /// One test message at a time.
    testing: tokio::sync::Mutex<()>,
}

impl Notifier {
    pub fn new(slack: Option<Slack>, clock: Clock) -> Self {
        let burst = NonZeroU32::new(NOTICE_BURST).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(NOTICE_PERIOD)
            .unwrap_or_else(|| Quota::per_minute(NonZeroU32::MIN))
            .allow_burst(burst);
        Notifier {
            slack,
            limiter: DefaultKeyedRateLimiter::keyed(quota),
            held_back: Mutex::default(),
            tests: Mutex::default(),
            clock,
            testing: tokio::sync::Mutex::const_new(()),
        }
    }

    /// The webhook's masked form, when one is configured.
    pub fn masked(&self) -> Option<String> {
        self.slack.as_ref().map(Slack::masked)
    }

    /// Posts a notice for `project` when its quota allows; otherwise counts
    /// it, to say so in the next message that goes out.
    pub async fn post(&self, project: i64, text: &str) -> Posted {
        let Some(slack) = &self.slack else {
            return Posted::NotConfigured;
        };
        if self.limiter.check_key(&project).is_err() {
            *lock(&self.held_back).entry(project).or_default() += 1;
            return Posted::HeldBack;
        }
        let held = lock(&self.held_back).remove(&project).unwrap_or(0);
        let mut text = escape(text);
        if held > 0 {
            text.push_str(&format!(
                " ({held} earlier change(s) were not posted, to keep the channel readable; the timeline has them.)"
            ));
        }
        match slack.post(&text).await {
            Ok(()) => Posted::Sent,
            Err(err) => {
                tracing::warn!(%err, project, "a Slack notice was not posted");
                Posted::Failed(err)
            }
        }
    }

    /// Posts a test message for `project`, or answers with the last one's
    /// result when it is younger than [`TEST_REUSED_FOR`]. A test held back
    /// by the quota is not remembered: asking again later posts it.
    pub async fn test(&self, project: i64, text: &str) -> Tested {
        let _one_at_a_time = self.testing.lock().await;
        let now = self.clock.real_now();
        if let Some((at, posted)) = lock(&self.tests).get(&project)
            && let ago = Duration::from_secs(u64::try_from(now - at).unwrap_or(0))
            && ago < TEST_REUSED_FOR
        {
            return Tested {
                posted: posted.clone(),
                reused_after: Some(ago),
            };
        }
        let posted = self.post(project, text).await;
        if matches!(posted, Posted::Sent | Posted::Failed(_)) {
            lock(&self.tests).insert(project, (now, posted.clone()));
        }
        Tested {
            posted,
            reused_after: None,
        }
    }
}

/// Text as Slack shows it literally: `&`, `<` and `>` are its control
/// characters (`<!channel>`, `<@U123>`, `<https://…|a link>`), and Slack's
/// documentation asks for exactly these three to be escaped.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slack_s_control_characters_are_escaped() {
        assert_eq!(
            escape("<!channel> & <@U1> <https://evil|click>"),
            "&lt;!channel&gt; &amp; &lt;@U1&gt; &lt;https://evil|click&gt;"
        );
        assert_eq!(escape("plain :warning: text"), "plain :warning: text");
    }
}
