//! A fake Slack incoming webhook: `POST {"text": …}` answers `ok`, or the
//! error a test sets (`channel_not_found`, `no_service`, …).

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use serde_json::Value;
use url::Url;

/// The webhook's path: like Slack's, it is itself the secret.
pub const WEBHOOK_PATH: &str = "/services/T0CANARY/B0CANARY/webhooksecret99";

#[derive(Debug)]
pub struct Hook {
    /// The texts posted, oldest first.
    pub messages: Vec<String>,
    /// What the next post is answered.
    pub answer: (StatusCode, &'static str),
}

#[derive(Debug, Clone)]
pub struct FakeSlack {
    /// The whole webhook URL, secret path included.
    pub webhook: Url,
    pub hook: Arc<Mutex<Hook>>,
}

impl FakeSlack {
    pub async fn start() -> Self {
        Self::start_with(crate::Latency::default()).await
    }

    pub async fn start_with(latency: crate::Latency) -> Self {
        let hook = Arc::new(Mutex::new(Hook {
            messages: Vec::new(),
            answer: (StatusCode::OK, "ok"),
        }));
        let app = Router::new()
            .route(WEBHOOK_PATH, post(receive))
            .with_state(hook.clone());
        let base = crate::serve_on_loopback(latency.delay(app)).await;
        FakeSlack {
            webhook: base
                .join(WEBHOOK_PATH.trim_start_matches('/'))
                .expect("a URL"),
            hook,
        }
    }

    pub fn messages(&self) -> Vec<String> {
        crate::lock(&self.hook).messages.clone()
    }
}

async fn receive(
    State(hook): State<Arc<Mutex<Hook>>>,
    axum::Json(body): axum::Json<Value>,
) -> (StatusCode, &'static str) {
    let mut hook = crate::lock(&hook);
    let Some(text) = body["text"].as_str() else {
        return (StatusCode::BAD_REQUEST, "invalid_payload");
    };
    hook.messages.push(text.to_owned());
    hook.answer
}
