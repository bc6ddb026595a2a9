//! A server that answers as a real one did: exchanges recorded from a real
//! Sentry-compatible server (`fixtures/`), replayed on 127.0.0.1.
//!
//! A request is matched by its method, path and query, the query's `start`
//! and `end` left out (they are the moment it was sent). A request recorded
//! several times gets its answers in order, then the last one again: a
//! project that was missing, then created. Every time in an answer is moved
//! by as long as has passed since the recording, so "within 24 hours" means
//! today what it meant then. What was not recorded answers 501 and is kept,
//! for the test to show.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use url::Url;

/// GlitchTip 5.1's answers to every request Watchpost makes of a Sentry
/// server; the file says where, when and how they were recorded.
pub const GLITCHTIP: &str = include_str!("../fixtures/glitchtip-5.1.json");

#[derive(Debug)]
struct Replay {
    /// Answers by request, each with how many were given.
    answers: HashMap<String, (Vec<Value>, usize)>,
    base: String,
    /// Seconds since the recording.
    shift: i64,
    unmatched: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Recorded {
    pub base: Url,
    replay: Arc<Mutex<Replay>>,
}

impl Recorded {
    /// Serves `fixture`'s exchanges.
    pub async fn start(fixture: &str) -> Self {
        let document: Value = serde_json::from_str(fixture).expect("a fixture in JSON");
        let recorded: jiff::Timestamp = document["recorded_at"]
            .as_str()
            .and_then(|at| at.parse().ok())
            .expect("the fixture's recorded_at");
        let mut answers: HashMap<String, (Vec<Value>, usize)> = HashMap::new();
        for exchange in document["exchanges"].as_array().into_iter().flatten() {
            let request = &exchange["request"];
            let key = key(
                request["method"].as_str().unwrap_or_default(),
                request["path"].as_str().unwrap_or_default(),
            );
            answers.entry(key).or_default().0.push(exchange.clone());
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base =
            Url::parse(&format!("http://{}/", listener.local_addr().expect("addr"))).expect("url");
        let replay = Arc::new(Mutex::new(Replay {
            answers,
            base: base.as_str().trim_end_matches('/').to_owned(),
            shift: jiff::Timestamp::now().as_second() - recorded.as_second(),
            unmatched: Vec::new(),
        }));
        let app = Router::new().fallback(answer).with_state(replay.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Recorded { base, replay }
    }

    /// The requests nothing was recorded for.
    pub fn unmatched(&self) -> Vec<String> {
        crate::lock(&self.replay).unmatched.clone()
    }
}

/// `GET /api/0/…?a=1&b=2`, the query sorted, without `start` and `end`.
fn key(method: &str, path_and_query: &str) -> String {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(name, _)| name != "start" && name != "end")
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    pairs.sort();
    let query: Vec<String> = pairs.iter().map(|(n, v)| format!("{n}={v}")).collect();
    format!("{method} {path}?{}", query.join("&"))
}

async fn answer(
    State(replay): State<Arc<Mutex<Replay>>>,
    method: Method,
    uri: OriginalUri,
    _body: Bytes,
) -> Response {
    let path = uri
        .path_and_query()
        .map_or_else(|| uri.path().to_owned(), |pq| pq.as_str().to_owned());
    let key = key(method.as_str(), &path);
    let mut replay = crate::lock(&replay);
    let (base, shift) = (replay.base.clone(), replay.shift);
    let Some((exchanges, given)) = replay.answers.get_mut(&key) else {
        replay.unmatched.push(key);
        return (StatusCode::NOT_IMPLEMENTED, "not recorded").into_response();
    };
    let exchange = exchanges[(*given).min(exchanges.len() - 1)].clone();
    *given += 1;
    let status = exchange["status"]
        .as_u64()
        .and_then(|status| StatusCode::from_u16(u16::try_from(status).ok()?).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let content_type = exchange["content_type"]
        .as_str()
        .unwrap_or("application/json")
        .to_owned();
    let body = match &exchange["answer"] {
        Value::String(page) => page.replace("{base}", &base),
        json => moved(json.clone(), shift)
            .to_string()
            .replace("{base}", &base),
    };
    let mut response = (status, [(header::CONTENT_TYPE, content_type)], body).into_response();
    if let Some(link) = exchange["link"].as_str()
        && let Ok(value) = link.replace("{base}", &base).parse()
    {
        response.headers_mut().insert(header::LINK, value);
    }
    response
}

/// `value` with every time in it `shift` seconds later.
fn moved(value: Value, shift: i64) -> Value {
    match value {
        Value::String(text) => match text.parse::<jiff::Timestamp>() {
            Ok(at) if text.len() >= 20 => Value::String(
                jiff::Timestamp::from_second(at.as_second() + shift)
                    .map_or(text, |at| at.to_string()),
            ),
            _ => Value::String(text),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(|v| moved(v, shift)).collect()),
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(name, v)| (name, moved(v, shift)))
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_move_and_volatile_parameters_do_not_matter() {
        let later = moved(
            serde_json::json!({ "firstSeen": "2026-12-06T01:00:00.5Z", "at": ["2026-12-06T01:00:00+00:00"], "id": "12" }),
            3600,
        );
        assert_eq!(later["firstSeen"], "2026-12-06T02:00:00Z");
        assert_eq!(later["at"][0], "2026-12-06T02:00:00Z");
        assert_eq!(later["id"], "12");
        assert_eq!(
            key("GET", "/x/?b=2&start=2026-01-01&a=1&end=2026-01-02"),
            key("GET", "/x/?a=1&b=2")
        );
    }
}
