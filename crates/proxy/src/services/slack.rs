//! The Slack check: a test message through the one notifier, reused while
//! fresh so a check asked twice posts once.

use super::*;

/// What a test message through the notifier says, for the check and the action.
pub(crate) struct SlackTest {
    tested: Tested,
    webhook: String,
}

impl SlackTest {
    pub(crate) fn outcome(&self) -> Outcome {
        let when = match self.tested.reused_after {
            None => String::new(),
            Some(ago) => format!(
                " {} ago; Watchpost posts one test message every {} at most",
                span(i64::try_from(ago.as_secs()).unwrap_or(i64::MAX)),
                span(i64::try_from(TEST_REUSED_FOR.as_secs()).unwrap_or(i64::MAX)),
            ),
        };
        match &self.tested.posted {
            Posted::NotConfigured => Outcome::not_configured(NO_SLACK),
            Posted::Sent => Outcome::passed(format!("Slack accepted a test message{when}."))
                .saw("webhook", self.webhook.clone()),
            Posted::HeldBack => Outcome::new(
                CheckStatus::Error,
                "Watchpost has posted several messages to this channel in the last minutes; to keep it readable the test message waits: check again in two minutes.",
            )
            .saw("webhook", self.webhook.clone()),
            Posted::Failed(err) => {
                let mut outcome = Outcome::upstream("Slack", err);
                if self.tested.reused_after.is_some() {
                    outcome.message = format!("{} (the test message{when}.)", outcome.message);
                }
                outcome.saw("webhook", self.webhook.clone())
            }
        }
    }
}

pub(crate) async fn slack_tested(notifier: &Notifier, project: i64, text: &str) -> SlackTest {
    SlackTest {
        tested: notifier.test(project, text).await,
        webhook: notifier.masked().unwrap_or_default(),
    }
}

impl Services {
    pub(super) async fn slack_webhook(&self, project: &Project) -> Outcome {
        let text = format!(
            "Watchpost: a test message for “{}”. The launch alerts will come here.",
            project.name
        );
        slack_tested(&self.notifier, project.id, &text)
            .await
            .outcome()
    }
}
