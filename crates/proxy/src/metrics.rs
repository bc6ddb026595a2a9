//! The numbers a team's own monitoring reads: `/metrics` in Prometheus'
//! text format, on its own address (`--metrics-addr`), off unless given.
//!
//! Each server has its own registry (tests run several in one process). The
//! counters are updated where the work happens (requests by a route layer,
//! upstream calls in `Upstream`, checks and actions in the services, the
//! sampler's rounds in the watcher, appends in the log's writer); what is a
//! state rather than an event (open streams, sessions) is read at scrape.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};
use url::Url;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    /// The route's pattern (`/api/projects/{id}/log`), `other` when none matched.
    route: String,
    method: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UpstreamLabels {
    service: String,
    endpoint: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndpointLabels {
    service: String,
    endpoint: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NameLabels {
    name: String,
}

type Seconds = Family<NameLabels, Histogram>;

/// Latencies from 1 ms to about 33 s.
fn seconds() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

#[derive(Debug, Clone)]
pub struct Metrics(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    upstream_calls: Family<UpstreamLabels, Counter>,
    upstream_seconds: Family<EndpointLabels, Histogram>,
    checks: Seconds,
    actions: Seconds,
    sampler_rounds: Counter,
    sampler_lag: Histogram,
    open_streams: Gauge,
    sessions: Gauge,
    append_seconds: Histogram,
    watcher_held: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("watchpost");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "Requests answered, by route pattern, method and status",
            requests.clone(),
        );
        let upstream_calls = Family::<UpstreamLabels, Counter>::default();
        registry.register(
            "upstream_calls",
            "Calls to Sentry, Render and Slack, by service, endpoint (names and ids as {}) and status",
            upstream_calls.clone(),
        );
        let upstream_seconds =
            Family::<EndpointLabels, Histogram>::new_with_constructor(seconds as fn() -> Histogram);
        registry.register_with_unit(
            "upstream_call_duration",
            "How long each upstream call took, answered or not",
            Unit::Seconds,
            upstream_seconds.clone(),
        );
        let checks = Seconds::new_with_constructor(seconds as fn() -> Histogram);
        registry.register_with_unit(
            "check_duration",
            "How long each live check took, by check",
            Unit::Seconds,
            checks.clone(),
        );
        let actions = Seconds::new_with_constructor(seconds as fn() -> Histogram);
        registry.register_with_unit(
            "action_duration",
            "How long each action took, by action",
            Unit::Seconds,
            actions.clone(),
        );
        let sampler_rounds = Counter::default();
        registry.register(
            "sampler_rounds",
            "Rounds of the watcher (sampling, due snapshots, the error watch)",
            sampler_rounds.clone(),
        );
        let sampler_lag = seconds();
        registry.register_with_unit(
            "sampler_lag",
            "How late each round started after its tick",
            Unit::Seconds,
            sampler_lag.clone(),
        );
        let open_streams = Gauge::default();
        registry.register(
            "open_streams",
            "Live streams open now",
            open_streams.clone(),
        );
        let sessions = Gauge::default();
        registry.register(
            "sessions",
            "Sessions signed in and not expired",
            sessions.clone(),
        );
        let append_seconds = seconds();
        registry.register_with_unit(
            "store_append_duration",
            "How long each group commit to the log took",
            Unit::Seconds,
            append_seconds.clone(),
        );
        let watcher_held = Gauge::default();
        registry.register(
            "watcher_held",
            "1 when this replica keeps the watch (it holds the watcher's lock on PostgreSQL, or is the only server on SQLite)",
            watcher_held.clone(),
        );
        Metrics(Arc::new(Inner {
            registry,
            requests,
            upstream_calls,
            upstream_seconds,
            checks,
            actions,
            sampler_rounds,
            sampler_lag,
            open_streams,
            sessions,
            append_seconds,
            watcher_held,
        }))
    }
}

impl Metrics {
    pub fn request(&self, route: &str, method: &str, status: u16) {
        self.0
            .requests
            .get_or_create(&RequestLabels {
                route: route.to_owned(),
                method: method.to_owned(),
                status: status.to_string(),
            })
            .inc();
    }

    /// An upstream call to `url` ended with `status` (an HTTP status, or
    /// `timeout` / `unreachable`) after `took`.
    pub fn upstream(&self, service: &str, url: &Url, status: &str, took: Duration) {
        let endpoint = endpoint(url);
        self.0
            .upstream_calls
            .get_or_create(&UpstreamLabels {
                service: service.to_owned(),
                endpoint: endpoint.clone(),
                status: status.to_owned(),
            })
            .inc();
        self.0
            .upstream_seconds
            .get_or_create(&EndpointLabels {
                service: service.to_owned(),
                endpoint,
            })
            .observe(took.as_secs_f64());
    }

    pub fn check(&self, check: &str, took: Duration) {
        observe(&self.0.checks, check, took);
    }

    pub fn action(&self, action: &str, took: Duration) {
        observe(&self.0.actions, action, took);
    }

    /// A watcher round began `lag` after its tick.
    pub fn sampler_round(&self, lag: Duration) {
        self.0.sampler_rounds.inc();
        self.0.sampler_lag.observe(lag.as_secs_f64());
    }

    pub fn append(&self, took: Duration) {
        self.0.append_seconds.observe(took.as_secs_f64());
    }

    pub fn watcher_held(&self, held: bool) {
        self.0.watcher_held.set(i64::from(held));
    }

    /// Everything, in Prometheus' text format, with the states read now.
    pub fn encode(&self, open_streams: usize, sessions: usize) -> String {
        let gauge = |value: usize| i64::try_from(value).unwrap_or(i64::MAX);
        self.0.open_streams.set(gauge(open_streams));
        self.0.sessions.set(gauge(sessions));
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.0.registry);
        text
    }
}

/// Counts each answer of a matched API route, by its pattern.
pub async fn count_request(
    State(metrics): State<Metrics>,
    route: Option<MatchedPath>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().clone();
    let response = next.run(request).await;
    let route = route.as_ref().map_or("other", MatchedPath::as_str);
    metrics.request(route, method.as_str(), response.status().as_u16());
    response
}

fn observe(family: &Seconds, name: &str, took: Duration) {
    family
        .get_or_create(&NameLabels {
            name: name.to_owned(),
        })
        .observe(took.as_secs_f64());
}

/// The words of the upstream APIs' paths that Watchpost calls: everything
/// else in a path (an organization, a project, an id, a webhook's secret
/// part) is a `{}`, so that a label names an endpoint, not a project, and
/// never carries a secret.
const WORDS: &[&str] = &[
    "api",
    "0",
    "v1",
    "organizations",
    "projects",
    "issues",
    "teams",
    "rules",
    "alert-rules",
    "detectors",
    "workflows",
    "keys",
    "events",
    "stats_v2",
    "tags",
    "releases",
    "integrations",
    "services",
    "env-vars",
    "deploys",
    "instances",
    "logs",
    "metrics",
    "http-latency",
    "http-requests",
    "memory",
    "cpu",
    "rollback",
    "envelope",
];

/// `url`'s path as a metric label: `/api/0/projects/{}/{}/rules/`.
pub fn endpoint(url: &Url) -> String {
    let Some(segments) = url.path_segments() else {
        return "{}".to_owned();
    };
    let path: Vec<&str> = segments
        .map(|segment| {
            if segment.is_empty() || WORDS.contains(&segment) {
                segment
            } else {
                "{}"
            }
        })
        .collect();
    format!("/{}", path.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_keeps_the_apis_words_and_nothing_a_project_or_secret_names() {
        let url = |text: &str| Url::parse(text).unwrap();
        assert_eq!(
            endpoint(&url("https://sentry.io/api/0/projects/acme/voxanne/rules/")),
            "/api/0/projects/{}/{}/rules/"
        );
        assert_eq!(
            endpoint(&url(
                "https://api.render.com/v1/services/srv-123/env-vars/SENTRY_DSN"
            )),
            "/v1/services/{}/env-vars/{}"
        );
        assert_eq!(
            endpoint(&url(
                "https://hooks.slack.com/services/T000/B000/XXXXsecret"
            )),
            "/services/{}/{}/{}"
        );
    }

    #[test]
    fn the_text_format_names_each_family_with_its_labels() {
        let metrics = Metrics::default();
        metrics.request("/api/projects/{id}/log", "POST", 201);
        metrics.upstream(
            "sentry",
            &Url::parse("https://sentry.io/api/0/organizations/acme/").unwrap(),
            "200",
            Duration::from_millis(30),
        );
        metrics.check("sentry.project", Duration::from_millis(40));
        metrics.watcher_held(true);
        let text = metrics.encode(3, 2);
        for line in [
            r#"watchpost_http_requests_total{route="/api/projects/{id}/log",method="POST",status="201"} 1"#,
            r#"watchpost_upstream_calls_total{service="sentry",endpoint="/api/0/organizations/{}/",status="200"} 1"#,
            r#"watchpost_check_duration_seconds_count{name="sentry.project"} 1"#,
            "watchpost_open_streams 3",
            "watchpost_sessions 2",
            "watchpost_watcher_held 1",
        ] {
            assert!(text.contains(line), "{line} in:\n{text}");
        }
        assert!(text.ends_with("# EOF\n"));
    }
}
