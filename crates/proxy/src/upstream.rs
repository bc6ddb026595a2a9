//! Calling the services Watchpost watches (Sentry, Render, Slack, health
//! endpoints) by the same rules every time:
//! - a connect timeout and a deadline on every call, retries included;
//! - reads (and only reads) retried with backoff and jitter on 429 and 5xx,
//!   waiting as long as `Retry-After` or `X-Sentry-Rate-Limit-Reset` says
//!   when that fits the deadline;
//! - a cap on the size of an answer, and JSON only where JSON is expected (an
//!   HTML page, as some Sentry-compatible servers send for an unknown API
//!   path, is an error that says so);
//! - pagination by `Link` header (Sentry) or cursor (Render), capped;
//! - nothing from the browser's request is forwarded: each call is built
//!   here with the service's token, and cookies are never kept.
//!
//! The service clients (one small struct each) are built on [`Upstream`].

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use backon::{ExponentialBuilder, Retryable};
use reqwest::header::{CONTENT_TYPE, HeaderMap, LINK, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use url::Url;

use crate::lock;
use crate::metrics::Metrics;
use crate::secret::Secret;

pub mod health;
pub mod postgres;
pub mod render;
pub mod sentry;
pub mod slack;
pub mod special;

/// The bounds of one call to an upstream service.
#[derive(Debug, Clone, Copy)]
pub struct CallLimits {
    pub connect_timeout: Duration,
    /// For the whole call: every attempt and every wait between them.
    pub deadline: Duration,
    /// Attempts after the first, for reads.
    pub retries: usize,
    /// The first wait between attempts; it doubles, with jitter.
    pub first_backoff: Duration,
    /// Bytes of one answer.
    pub max_body: usize,
    /// Pages of one listing.
    pub max_pages: usize,
}

impl Default for CallLimits {
    fn default() -> Self {
        CallLimits {
            connect_timeout: Duration::from_secs(5),
            deadline: Duration::from_secs(20),
            retries: 3,
            first_backoff: Duration::from_millis(250),
            max_body: 4 * 1024 * 1024,
            max_pages: 10,
        }
    }
}

/// Why a call to a service did not give an answer Watchpost can use. The
/// texts never hold a URL's query, a token or a body: they go to people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamError {
    #[error("did not answer within {0:?}")]
    Timeout(Duration),
    #[error("cannot be reached ({0})")]
    Unreachable(String),
    #[error("refused the token (401): check that it is valid and not revoked")]
    Unauthorized,
    #[error("refused access (403): {}", lacking(*.0))]
    Forbidden(Option<&'static str>),
    #[error("has no such resource (404)")]
    NotFound,
    #[error("does not offer this endpoint ({0}); it may be an older or Sentry-compatible server")]
    Unsupported(u16),
    #[error("is limiting requests (429){}", retry_hint(*.0))]
    RateLimited(Option<Duration>),
    #[error("failed ({0}); try again later")]
    Server(u16),
    /// A 4xx other than those above; the text names what the service
    /// refused (a parameter) when its answer says.
    #[error("answered {}{}", .0, refused_words(.1))]
    Status(u16, String),
    #[error("answered {0} where JSON was expected")]
    NotJson(String),
    #[error("answered JSON that Watchpost cannot read: {0}")]
    Malformed(String),
    #[error("answered more than {0} bytes")]
    TooLarge(usize),
    #[error("sent pagination Watchpost cannot follow: {0}")]
    Pagination(String),
    /// The service understood and said no, in its own words (Slack's
    /// `channel_not_found`).
    #[error("refused it: “{0}”")]
    Refused(String),
    /// An answer named another host to continue on: the token stays home.
    #[error(
        "named another host, {0}, to continue on; Watchpost sends the token only to the server it was configured for"
    )]
    ForeignHost(String),
}

fn lacking(scope: Option<&str>) -> String {
    match scope {
        Some(scope) => format!("the token lacks the scope {scope}, which this needs"),
        None => "the token lacks a scope or permission this needs".to_owned(),
    }
}

fn refused_words(what: &str) -> String {
    if what.is_empty() {
        String::new()
    } else {
        format!(", refusing {what}")
    }
}

fn retry_hint(wait: Option<Duration>) -> String {
    wait.map(|wait| format!("; it asks to wait {} s", wait.as_secs().max(1)))
        .unwrap_or_default()
}

impl UpstreamError {
    /// Whether another attempt may succeed: rate limits and server failures.
    fn is_transient(&self) -> bool {
        matches!(
            self,
            UpstreamError::RateLimited(_)
                | UpstreamError::Server(_)
                | UpstreamError::Unreachable(_)
        )
    }

    /// How long the service asked to wait, if it did.
    fn asked_to_wait(&self) -> Option<Duration> {
        match self {
            UpstreamError::RateLimited(wait) => *wait,
            _ => None,
        }
    }
}

/// How a listing says where its next page is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paging {
    /// Sentry: `Link: <…>; rel="next"; results="true"; cursor="…"`.
    LinkHeader,
    /// Render: a bare array of `{"cursor": "…", …}`; the next page is
    /// `cursor=<the last one>` until a page is shorter than `limit`.
    Cursor { limit: usize },
}

/// An HTTP client for upstream services, with [`CallLimits`].
#[derive(Debug, Clone)]
pub struct Upstream {
    http: reqwest::Client,
    limits: CallLimits,
    in_flight: InFlight,
    /// Which service it calls, and where its calls are counted.
    service: &'static str,
    metrics: Option<Metrics>,
}

/// A read's answer, shared by everyone who asked for it while it ran.
type Shared = Arc<tokio::sync::OnceCell<Result<Arc<Answer>, UpstreamError>>>;

/// The reads under way, by URL and token: the same read asked for again
/// while it runs (the checks of a "Check all" share the project, its keys,
/// the env vars) waits for that one instead of calling again. A finished
/// read is never reused, so a change is always seen by the next read.
#[derive(Clone, Default)]
struct InFlight(Arc<Mutex<HashMap<(String, u64), Shared>>>);

impl std::fmt::Debug for InFlight {
    /// The keys hold URLs: only their count is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "InFlight({})", lock(&self.0).len())
    }
}

/// Removes a read from [`InFlight`] when its first asker is done with it,
/// however that ends.
struct Leaving<'a>(&'a InFlight, (String, u64));

impl Drop for Leaving<'_> {
    fn drop(&mut self) {
        lock(&(self.0).0).remove(&self.1);
    }
}

impl Upstream {
    pub fn new(limits: CallLimits) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .connect_timeout(limits.connect_timeout)
            .timeout(limits.deadline)
            // Redirects could carry the token to another host.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("watchpost/", env!("CARGO_PKG_VERSION")))
            // Checks come in bursts minutes apart: a snapshot's connections,
            // each with its buffers, were otherwise kept 90 s (1 MB for 50
            // projects' snapshots, measured by `scripts/bench`).
            .pool_max_idle_per_host(4)
            .pool_idle_timeout(Duration::from_secs(10))
            .build()
            .map_err(|err| format!("cannot build the HTTP client: {err}"))?;
        Ok(Upstream {
            http,
            limits,
            in_flight: InFlight::default(),
            service: "upstream",
            metrics: None,
        })
    }

    /// The same client, its calls counted as `service`'s in `metrics`.
    pub fn measured(&self, service: &'static str, metrics: &Metrics) -> Self {
        Upstream {
            service,
            metrics: Some(metrics.clone()),
            ..self.clone()
        }
    }

    /// Sends `request` (to `url`) and counts the call: its status, or why
    /// nothing answered, and how long the answer took to start.
    async fn dispatch(
        &self,
        request: reqwest::RequestBuilder,
        url: &Url,
    ) -> Result<reqwest::Response, UpstreamError> {
        let started = std::time::Instant::now();
        let sent = request.send().await;
        if let Some(metrics) = &self.metrics {
            let status = match &sent {
                Ok(response) => response.status().as_u16().to_string(),
                Err(err) if err.is_timeout() => "timeout".to_owned(),
                Err(_) => "unreachable".to_owned(),
            };
            metrics.upstream(self.service, url, &status, started.elapsed());
        }
        sent.map_err(|err| transport_error(err, self.limits.deadline))
    }

    pub fn limits(&self) -> CallLimits {
        self.limits
    }

    /// `GET url` as JSON, retried as a read.
    pub async fn get<T: DeserializeOwned>(
        &self,
        url: &Url,
        token: Option<&Secret>,
    ) -> Result<T, UpstreamError> {
        let answer = self.read(url, token).await?;
        parse(&answer.body)
    }

    /// Every item of a listing, page after page (at most `max_pages`).
    pub async fn get_all<T: DeserializeOwned>(
        &self,
        url: &Url,
        token: Option<&Secret>,
        paging: Paging,
    ) -> Result<Vec<T>, UpstreamError> {
        let mut items = Vec::new();
        let mut next = Some(match paging {
            Paging::LinkHeader => url.clone(),
            Paging::Cursor { limit } => with_query(url, "limit", &limit.to_string()),
        });
        let mut pages = 0;
        while let Some(page_url) = next.take() {
            pages += 1;
            if pages > self.limits.max_pages {
                break;
            }
            let answer = self.read(&page_url, token).await?;
            let page: Vec<serde_json::Value> = parse(&answer.body)?;
            next = match paging {
                Paging::LinkHeader => next_link(&answer.headers)?
                    .map(|next| same_origin(&page_url, next))
                    .transpose()?,
                Paging::Cursor { limit } => (page.len() >= limit)
                    .then(|| page.last().and_then(|last| last.get("cursor")?.as_str()))
                    .flatten()
                    .map(|cursor| with_query(&page_url, "cursor", cursor)),
            };
            for item in page {
                items.push(
                    serde_json::from_value(item)
                        .map_err(|err| UpstreamError::Malformed(err.to_string()))?,
                );
            }
        }
        Ok(items)
    }

    /// A change (`POST`, `PUT`, …) with a JSON body, sent once: a change is
    /// not retried, since the first attempt may have been applied.
    pub async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        url: &Url,
        token: Option<&Secret>,
        body: &serde_json::Value,
    ) -> Result<T, UpstreamError> {
        let answer = self
            .within_deadline(self.attempt(method, url, token, Some(body)))
            .await?;
        parse(&answer.body)
    }

    /// A change without a body whose answer has none either (a `DELETE`
    /// answered 204), sent once.
    pub async fn send_for_status(
        &self,
        method: Method,
        url: &Url,
        token: Option<&Secret>,
    ) -> Result<(), UpstreamError> {
        let mut request = self.http.request(method, url.clone());
        if let Some(token) = token {
            request = request.bearer_auth(token.expose());
        }
        self.within_deadline(async {
            let response = self.dispatch(request, url).await?;
            let status = response.status();
            let headers = response.headers().clone();
            if status.is_success() {
                Ok(())
            } else {
                let body = self.body(response).await.unwrap_or_default();
                Err(status_error(status, &headers, &body))
            }
        })
        .await
    }

    /// A change whose answer is text, not JSON (Slack's webhooks answer `ok`).
    pub async fn send_for_text(
        &self,
        url: &Url,
        body: &serde_json::Value,
    ) -> Result<String, UpstreamError> {
        let request = self.http.post(url.clone()).json(body);
        let answer = self
            .within_deadline(async {
                let response = self.dispatch(request, url).await?;
                let status = response.status();
                let headers = response.headers().clone();
                let body = self.body(response).await?;
                let text = String::from_utf8_lossy(&body).trim().to_owned();
                if status.is_success() {
                    Ok(text)
                } else {
                    Err(status_error(status, &headers, &body))
                }
            })
            .await?;
        Ok(answer)
    }

    /// One read, or the same read already under way.
    async fn read(&self, url: &Url, token: Option<&Secret>) -> Result<Arc<Answer>, UpstreamError> {
        let key = (
            url.to_string(),
            token.map_or(0, |token| {
                let mut hasher = std::hash::DefaultHasher::new();
                token.expose().hash(&mut hasher);
                hasher.finish()
            }),
        );
        let (shared, leaving) = {
            let mut in_flight = lock(&self.in_flight.0);
            match in_flight.get(&key) {
                Some(shared) => (shared.clone(), None),
                None => {
                    let shared = Shared::default();
                    in_flight.insert(key.clone(), shared.clone());
                    (shared, Some(Leaving(&self.in_flight, key)))
                }
            }
        };
        let answer = shared
            .get_or_init(|| async { self.read_once(url, token).await.map(Arc::new) })
            .await
            .clone();
        drop(leaving);
        answer
    }

    /// One read, retried while it may succeed and the deadline allows.
    async fn read_once(&self, url: &Url, token: Option<&Secret>) -> Result<Answer, UpstreamError> {
        let started = Instant::now();
        let deadline = self.limits.deadline;
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.limits.first_backoff)
            .with_max_times(self.limits.retries)
            .with_jitter();
        let attempt = || self.attempt(Method::GET, url, token, None);
        self.within_deadline(
            attempt
                .retry(backoff)
                .when(UpstreamError::is_transient)
                .adjust(move |err, backoff| {
                    // The service's own word beats our backoff; give up when
                    // waiting would overrun the deadline.
                    let wait = err.asked_to_wait().or(backoff)?;
                    (started.elapsed() + wait < deadline).then_some(wait)
                }),
        )
        .await
    }

    async fn within_deadline<T>(
        &self,
        call: impl Future<Output = Result<T, UpstreamError>>,
    ) -> Result<T, UpstreamError> {
        tokio::time::timeout(self.limits.deadline, call)
            .await
            .unwrap_or(Err(UpstreamError::Timeout(self.limits.deadline)))
    }

    async fn attempt(
        &self,
        method: Method,
        url: &Url,
        token: Option<&Secret>,
        body: Option<&serde_json::Value>,
    ) -> Result<Answer, UpstreamError> {
        let mut request = self
            .http
            .request(method, url.clone())
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(token) = token {
            request = request.bearer_auth(token.expose());
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        self.json_answer(request, url).await
    }

    /// A change whose body is not JSON (a Sentry envelope), sent once with
    /// `headers`, answered in JSON.
    pub async fn send_bytes<T: DeserializeOwned>(
        &self,
        url: &Url,
        headers: &[(&str, String)],
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<T, UpstreamError> {
        let mut request = self
            .http
            .post(url.clone())
            .header(CONTENT_TYPE, content_type)
            .header(reqwest::header::ACCEPT, "application/json")
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let answer = self.within_deadline(self.json_answer(request, url)).await?;
        parse(&answer.body)
    }

    /// Sends `request`; a success must be JSON.
    async fn json_answer(
        &self,
        request: reqwest::RequestBuilder,
        url: &Url,
    ) -> Result<Answer, UpstreamError> {
        let response = self.dispatch(request, url).await?;
        let status = response.status();
        let headers = response.headers().clone();
        if !status.is_success() {
            // What a refusal says matters (a parameter's name, an error
            // page where an endpoint is missing); a failure to read it does not.
            let body = self.body(response).await.unwrap_or_default();
            return Err(status_error(status, &headers, &body));
        }
        let content_type = headers
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("no content type")
            .to_owned();
        let essence = content_type.split(';').next().unwrap_or_default().trim();
        if essence != "application/json" && !essence.ends_with("+json") {
            let what = if essence == "text/html" {
                "an HTML page".to_owned()
            } else {
                content_type
            };
            return Err(UpstreamError::NotJson(what));
        }
        let body = self.body(response).await?;
        Ok(Answer { headers, body })
    }

    /// The body, or `TooLarge` as soon as it passes the cap.
    async fn body(&self, mut response: reqwest::Response) -> Result<Vec<u8>, UpstreamError> {
        let max = self.limits.max_body;
        if response
            .content_length()
            .is_some_and(|length| length > max as u64)
        {
            return Err(UpstreamError::TooLarge(max));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|err| transport_error(err, self.limits.deadline))?
        {
            if body.len() + chunk.len() > max {
                return Err(UpstreamError::TooLarge(max));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

struct Answer {
    headers: HeaderMap,
    body: Vec<u8>,
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, UpstreamError> {
    serde_json::from_slice(body).map_err(|err| UpstreamError::Malformed(err.to_string()))
}

/// reqwest's errors name the URL, which may carry a query: keep only the
/// kind. Its own timeout is the call's `deadline`.
fn transport_error(err: reqwest::Error, deadline: Duration) -> UpstreamError {
    if err.is_timeout() {
        UpstreamError::Timeout(deadline)
    } else if err.is_connect() {
        UpstreamError::Unreachable("connection refused or no route".to_owned())
    } else if err.is_body() || err.is_decode() {
        UpstreamError::Unreachable("the answer was cut off".to_owned())
    } else {
        UpstreamError::Unreachable("the request failed".to_owned())
    }
}

fn status_error(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> UpstreamError {
    // Sentry's API answers its errors in JSON; an HTML page for an API path
    // is a server that has no such endpoint (Sentry-compatible servers send
    // their web app's page for a 404, and some a bare 500 page).
    let page = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.trim_start().starts_with("text/html"))
        || body.trim_ascii_start().starts_with(b"<");
    match status.as_u16() {
        401 => UpstreamError::Unauthorized,
        403 => UpstreamError::Forbidden(None),
        404 if page => UpstreamError::Unsupported(404),
        404 => UpstreamError::NotFound,
        500 if page => UpstreamError::Unsupported(500),
        405 | 501 => UpstreamError::Unsupported(status.as_u16()),
        429 => UpstreamError::RateLimited(asked_wait(headers)),
        code @ 500..=599 => UpstreamError::Server(code),
        code => UpstreamError::Status(code, refused_parameters(body)),
    }
}

/// What a 4xx answer says was refused, briefly: the parameters named by
/// django-ninja's and pydantic's `{"detail": [{"loc": [..., "statsPeriod"],
/// "msg"}]}`, by Django REST framework's `{"statsPeriod": ["..."]}`, or
/// Sentry's `{"detail": "..."}`. Only names and short texts, never the body.
fn refused_parameters(body: &[u8]) -> String {
    const MOST: usize = 120;
    let Ok(answer) = serde_json::from_slice::<serde_json::Value>(body) else {
        return String::new();
    };
    let text = match &answer {
        serde_json::Value::Object(fields) => match fields.get("detail") {
            Some(serde_json::Value::Array(problems)) => {
                let names: Vec<String> = problems
                    .iter()
                    .filter_map(|problem| {
                        let name = problem["loc"].as_array()?.last()?;
                        Some(
                            name.as_str()
                                .map_or_else(|| name.to_string(), str::to_owned),
                        )
                    })
                    .collect();
                format!("the parameter {}", names.join(", "))
            }
            Some(serde_json::Value::String(detail)) => format!("“{detail}”"),
            _ => format!(
                "the parameter {}",
                fields.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        },
        _ => String::new(),
    };
    if text == "the parameter " {
        return String::new();
    }
    text.chars().take(MOST).collect()
}

/// `Retry-After` (seconds or an HTTP date), else Sentry's
/// `X-Sentry-Rate-Limit-Reset` (epoch seconds).
fn asked_wait(headers: &HeaderMap) -> Option<Duration> {
    let text = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    if let Some(value) = text(RETRY_AFTER.as_str()) {
        if let Ok(seconds) = value.trim().parse::<u64>() {
            return Some(Duration::from_secs(seconds));
        }
        if let Ok(at) = httpdate::parse_http_date(value) {
            return Some(at.duration_since(SystemTime::now()).unwrap_or_default());
        }
    }
    let reset = text("x-sentry-rate-limit-reset")?
        .trim()
        .parse::<f64>()
        .ok()?;
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .ok()?
        .as_secs_f64();
    Some(Duration::from_secs_f64((reset - now).max(0.0)))
}

/// The `rel="next"` page, when its `results` says there is one. Read
/// leniently, as servers deviate from RFC 8288: GlitchTip 5 sends the
/// header wrapped as a Python set (`{'<…>; rel="next"; results="false"'}`).
/// Each `<url>` is taken with the `name=value` parameters after it; a
/// header with no `<url>` at all cannot say whether more pages follow.
fn next_link(headers: &HeaderMap) -> Result<Option<Url>, UpstreamError> {
    let Some(value) = headers.get(LINK) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| UpstreamError::Pagination("a Link header that is not text".to_owned()))?;
    let links = links(value);
    if links.is_empty() {
        return Err(UpstreamError::Pagination(
            "a Link header without a link in it".to_owned(),
        ));
    }
    let param = |params: &[(String, String)], name: &str| {
        params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    let Some((url, params)) = links.iter().find(|(_, params)| {
        param(params, "rel").is_some_and(|rel| rel.split_whitespace().any(|rel| rel == "next"))
    }) else {
        return Ok(None);
    };
    if param(params, "results").is_some_and(|results| results == "false") {
        return Ok(None);
    }
    Url::parse(url)
        .map(Some)
        .map_err(|_| UpstreamError::Pagination("a next page that is not a URL".to_owned()))
}

/// Every `<url>; name="value"; …` of a Link header, parameter names in
/// lower case, values without their quotes.
fn links(header: &str) -> Vec<(String, Vec<(String, String)>)> {
    header
        .split('<')
        .skip(1)
        .filter_map(|part| {
            let (url, rest) = part.split_once('>')?;
            let params = rest
                .split(';')
                .filter_map(|param| {
                    let (name, value) = param.split_once('=')?;
                    let value = value
                        .trim()
                        .trim_end_matches([',', '\'', '}', ' '])
                        .trim_matches('"');
                    Some((name.trim().to_ascii_lowercase(), value.to_owned()))
                })
                .collect();
            Some((url.trim().to_owned(), params))
        })
        .collect()
}

/// `next` when it is on `from`'s origin (scheme, host and port): a page
/// may not lead the token elsewhere.
fn same_origin(from: &Url, next: Url) -> Result<Url, UpstreamError> {
    if next.origin() == from.origin() {
        Ok(next)
    } else {
        Err(UpstreamError::ForeignHost(
            next.host_str().unwrap_or("an unnamed host").to_owned(),
        ))
    }
}

fn with_query(url: &Url, name: &str, value: &str) -> Url {
    let mut url = url.clone();
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(key, _)| key != name)
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();
    url.query_pairs_mut()
        .clear()
        .extend_pairs(kept)
        .append_pair(name, value);
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_next_page_stays_on_the_origin_of_the_first() {
        let from = Url::parse("https://sentry.io/api/0/organizations/acme/issues/").unwrap();
        let next = |url: &str| same_origin(&from, Url::parse(url).unwrap());
        assert!(next("https://sentry.io/api/0/organizations/acme/issues/?cursor=1").is_ok());
        assert_eq!(
            next("https://evil.example/api/0/?cursor=1"),
            Err(UpstreamError::ForeignHost("evil.example".to_owned()))
        );
        assert!(
            next("http://sentry.io/api/0/?cursor=1").is_err(),
            "downgraded"
        );
    }

    #[test]
    fn a_refusal_says_what_was_refused_and_an_error_page_is_a_missing_endpoint() {
        let json = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(CONTENT_TYPE, value.parse().unwrap());
            headers
        };
        let (api, page) = (json("application/json"), json("text/html; charset=utf-8"));
        let ninja = br#"{"detail": [{"type": "missing", "loc": ["query", "statsPeriod"], "msg": "Field required"}]}"#;
        assert_eq!(
            status_error(StatusCode::UNPROCESSABLE_ENTITY, &api, ninja),
            UpstreamError::Status(422, "the parameter statsPeriod".to_owned())
        );
        assert_eq!(
            status_error(
                StatusCode::BAD_REQUEST,
                &api,
                br#"{"detail": "Invalid query"}"#
            ),
            UpstreamError::Status(400, "“Invalid query”".to_owned())
        );
        assert_eq!(
            status_error(
                StatusCode::BAD_REQUEST,
                &api,
                br#"{"interval": ["Not a valid choice."]}"#
            ),
            UpstreamError::Status(400, "the parameter interval".to_owned())
        );
        assert_eq!(
            status_error(StatusCode::BAD_REQUEST, &api, b"oops").to_string(),
            "answered 400"
        );
        assert_eq!(
            status_error(StatusCode::NOT_FOUND, &api, br#"{"detail": "Not Found"}"#),
            UpstreamError::NotFound,
            "a missing project"
        );
        assert_eq!(
            status_error(
                StatusCode::NOT_FOUND,
                &page,
                b"<!DOCTYPE html><title>GlitchTip</title>"
            ),
            UpstreamError::Unsupported(404),
            "the web app's page for an unknown API path"
        );
        assert_eq!(
            status_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                &page,
                b"<h1>Server Error (500)</h1>"
            ),
            UpstreamError::Unsupported(500)
        );
        assert_eq!(
            status_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                &api,
                br#"{"detail": "Internal Error"}"#
            ),
            UpstreamError::Server(500)
        );
        assert_eq!(
            status_error(StatusCode::BAD_GATEWAY, &page, b"<html>bad gateway</html>"),
            UpstreamError::Server(502),
            "a gateway's page: another try may help"
        );
    }

    #[test]
    fn waits_come_from_retry_after_or_sentrys_reset() {
        let mut headers = HeaderMap::new();
        assert_eq!(asked_wait(&headers), None);
        headers.insert("x-sentry-rate-limit-reset", "0".parse().unwrap());
        assert_eq!(
            asked_wait(&headers),
            Some(Duration::ZERO),
            "a reset in the past"
        );
        headers.insert(RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(asked_wait(&headers), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(60));
        headers.insert(RETRY_AFTER, later.parse().unwrap());
        let wait = asked_wait(&headers).unwrap();
        assert!(
            (Duration::from_secs(58)..=Duration::from_secs(60)).contains(&wait),
            "{wait:?}"
        );
    }

    #[test]
    fn sentrys_link_header_is_followed_while_it_has_results() {
        let link = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(LINK, value.parse().unwrap());
            next_link(&headers)
        };
        let more = r#"<https://sentry.io/api/0/x/?cursor=0:0:1>; rel="previous"; results="false"; cursor="0:0:1", <https://sentry.io/api/0/x/?cursor=0:100:0>; rel="next"; results="true"; cursor="0:100:0""#;
        assert_eq!(
            link(more).unwrap().map(|url| url.to_string()),
            Some("https://sentry.io/api/0/x/?cursor=0:100:0".to_owned())
        );
        let last = more.replace(r#"results="true""#, r#"results="false""#);
        assert_eq!(link(&last).unwrap(), None);
        // GlitchTip 5's form: a Python set around the links, no cursor.
        let glitchtip = r#"{'<http://gt.example/api/0/projects/acme/voxanne/keys/>; rel="previous"; results="false", <http://gt.example/api/0/projects/acme/voxanne/keys/?cursor=2>; rel="next"; results="true"'}"#;
        assert_eq!(
            link(glitchtip).unwrap().map(|url| url.to_string()),
            Some("http://gt.example/api/0/projects/acme/voxanne/keys/?cursor=2".to_owned())
        );
        let glitchtip_last = glitchtip.replace(r#"results="true""#, r#"results="false""#);
        assert_eq!(link(&glitchtip_last).unwrap(), None);
        assert_eq!(
            link("<https://x/>; rel").unwrap(),
            None,
            "a link that is not next: the last page"
        );
        for broken in ["no-angle-brackets; rel=\"next\"", "garbage"] {
            assert!(
                matches!(link(broken), Err(UpstreamError::Pagination(_))),
                "{broken}"
            );
        }
        assert_eq!(next_link(&HeaderMap::new()).unwrap(), None);
    }

    #[test]
    fn a_cursor_replaces_the_previous_one() {
        let url = Url::parse("https://api.render.com/v1/services?limit=20&cursor=a").unwrap();
        assert_eq!(
            with_query(&url, "cursor", "b c").as_str(),
            "https://api.render.com/v1/services?limit=20&cursor=b+c"
        );
    }
}
