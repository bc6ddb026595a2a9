//! A Slack incoming webhook. Its URL is itself a secret: it is kept in a
//! [`Secret`] and only a masked form is ever shown.

use serde_json::json;
use url::Url;

use super::{Upstream, UpstreamError};
use crate::secret::Secret;

#[derive(Debug, Clone)]
pub struct Slack {
    upstream: Upstream,
    webhook: Secret,
}

impl Slack {
    pub fn new(upstream: Upstream, webhook: Secret) -> Self {
        Slack { upstream, webhook }
    }

    /// Posts `text` as it is; Slack answers `ok`, or a plain reason such as
    /// `channel_not_found`, which becomes the error. Only the notifier
    /// calls this: it escapes the text and keeps the channel's quota.
    pub(crate) async fn post(&self, text: &str) -> Result<(), UpstreamError> {
        let url = Url::parse(self.webhook.expose())
            .map_err(|_| UpstreamError::Unreachable("the webhook URL is not a URL".to_owned()))?;
        match self
            .upstream
            .send_for_text(&url, &json!({ "text": text }))
            .await
        {
            Ok(answer) if answer == "ok" => Ok(()),
            Ok(answer) => Err(UpstreamError::Refused(short(&answer))),
            Err(err) => Err(err),
        }
    }

    /// The webhook's host and the start of its path: enough to recognise it.
    pub fn masked(&self) -> String {
        mask_url(self.webhook.expose())
    }
}

/// `https://hooks.slack.com/services/T0…` from a URL whose path is secret.
pub fn mask_url(url: &str) -> String {
    match Url::parse(url) {
        Ok(url) => {
            let path = url.path();
            let shown: String = path.chars().take(12).collect();
            format!(
                "{}://{}{shown}…",
                url.scheme(),
                url.host_str().unwrap_or_default()
            )
        }
        Err(_) => "(not a URL)".to_owned(),
    }
}

fn short(text: &str) -> String {
    text.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_masked_webhook_keeps_its_secret_path_out() {
        let masked = mask_url("https://hooks.slack.com/services/T000/B000/XXXXSECRETXXXX");
        assert_eq!(masked, "https://hooks.slack.com/services/T0…");
        assert!(!masked.contains("SECRET"));
    }
}
