//! Render's API: the service, its environment variables, its deploys, and
//! the changes the actions make (an env var, a deploy, a rollback).
//!
//! Env var values are secrets: they are read to be compared here, held in a
//! [`Secret`], and never relayed.

use serde::Deserialize;
use serde_json::json;
use url::Url;

use super::{Paging, Upstream, UpstreamError};
use crate::secret::Secret;

#[derive(Debug, Clone)]
pub struct Render {
    upstream: Upstream,
    base: Url,
    key: Secret,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Service {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub dashboard_url: String,
    pub suspended: String,
    pub owner_id: String,
}

/// One page of log lines, newest first.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Logs {
    pub has_more: bool,
    pub logs: Vec<LogLine>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LogLine {
    pub message: String,
    pub timestamp: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct EnvVar {
    pub key: String,
    pub value: Secret,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deploy {
    pub id: String,
    pub status: Option<String>,
    pub commit: Option<Commit>,
    pub created_at: Option<String>,
    pub finished_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Commit {
    pub id: Option<String>,
    pub message: Option<String>,
}

impl Commit {
    /// The commit's id as people read it: its first seven characters.
    pub fn short(&self) -> String {
        short(self.id.as_deref().unwrap_or_default())
    }
}

/// A commit id's first seven characters.
pub fn short(id: &str) -> String {
    id.chars().take(7).collect()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EnvVarWithCursor {
    env_var: EnvVar,
}

/// One of the service's events: what Render says happened to it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Event {
    pub timestamp: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// Each type's own fields; read where used.
    #[serde(default)]
    pub details: serde_json::Value,
}

#[derive(Deserialize)]
struct EventWithCursor {
    event: Event,
}

/// An instance of the service running now.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Instance {
    pub id: String,
    pub created_at: String,
}

#[derive(Deserialize)]
struct DeployWithCursor {
    deploy: Deploy,
}

/// One series of [`Render::metric`].
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    /// What the series is of: `("statusCode", "500")`, `("instance", …)`.
    pub labels: Vec<(String, String)>,
    /// Unix seconds and the value, oldest first.
    pub readings: Vec<(i64, f64)>,
}

impl Metric {
    /// The label `field`'s value.
    pub fn label(&self, field: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(name, _)| name == field)
            .map(|(_, value)| value.as_str())
    }
}

/// One time series of a metric: only what Watchpost reads.
#[derive(Debug, Deserialize)]
struct Series {
    #[serde(default)]
    labels: Vec<Label>,
    #[serde(default)]
    unit: String,
    values: Vec<SeriesValue>,
}

#[derive(Debug, Deserialize)]
struct Label {
    field: String,
    value: String,
}

#[derive(Debug, Deserialize)]
struct SeriesValue {
    timestamp: String,
    value: f64,
}

/// What one of `unit` is in megabytes (a size) or milliseconds (a time);
/// 1 for any other unit (Render says `bytes` for memory, its examples `GB`).
fn scale(unit: &str) -> f64 {
    match unit.to_ascii_lowercase().as_str() {
        "bytes" | "byte" | "b" => 1.0 / 1_048_576.0,
        "kb" | "kib" => 1.0 / 1024.0,
        "gb" | "gib" => 1024.0,
        "s" | "sec" | "seconds" => 1000.0,
        "us" | "µs" | "microseconds" => 0.001,
        _ => 1.0,
    }
}

impl Render {
    /// `base` is the API's root, `https://api.render.com/v1`.
    pub fn new(upstream: Upstream, base: Url, key: Secret) -> Self {
        Render {
            upstream,
            base,
            key,
        }
    }

    /// `{base}/{segments}`, each escaped as one path segment.
    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    pub async fn service(&self, id: &str) -> Result<Service, UpstreamError> {
        self.upstream
            .get(&self.url(&["services", id]), Some(&self.key))
            .await
    }

    pub async fn env_vars(&self, service: &str) -> Result<Vec<EnvVar>, UpstreamError> {
        let url = self.url(&["services", service, "env-vars"]);
        let listed: Vec<EnvVarWithCursor> = self
            .upstream
            .get_all(&url, Some(&self.key), Paging::Cursor { limit: 100 })
            .await?;
        Ok(listed.into_iter().map(|item| item.env_var).collect())
    }

    /// The newest log lines of `service` between `start` and `end`
    /// (RFC 3339) at `level`, containing `text` when given: one page of at
    /// most 100, enough to say "clean" or "not clean".
    pub async fn logs(
        &self,
        service: &Service,
        level: &str,
        text: Option<&str>,
        (start, end): (&str, &str),
    ) -> Result<Logs, UpstreamError> {
        let mut url = self.url(&["logs"]);
        {
            let mut pairs = url.query_pairs_mut();
            pairs
                .append_pair("ownerId", &service.owner_id)
                .append_pair("resource", &service.id)
                .append_pair("level", level)
                .append_pair("startTime", start)
                .append_pair("endTime", end)
                .append_pair("direction", "backward")
                .append_pair("limit", "100");
            if let Some(text) = text {
                pairs.append_pair("text", text);
            }
        }
        self.upstream.get(&url, Some(&self.key)).await
    }

    /// One of Render's metrics (`memory`, `http-requests`, …) of `service`
    /// between `start` and `end`, a reading every `resolution_seconds`, with
    /// the metric's own filters (`aggregateBy`, `path`): each series with
    /// its labels, its readings oldest first, in megabytes where its unit is
    /// a size and milliseconds where it is a time.
    pub async fn metric(
        &self,
        metric: &str,
        service: &str,
        (start, end): (jiff::Timestamp, jiff::Timestamp),
        resolution_seconds: u32,
        filters: &[(&str, &str)],
    ) -> Result<Vec<Metric>, UpstreamError> {
        let mut url = self.url(&["metrics", metric]);
        url.query_pairs_mut()
            .append_pair("resource", service)
            .append_pair("startTime", &start.to_string())
            .append_pair("endTime", &end.to_string())
            .append_pair("resolutionSeconds", &resolution_seconds.max(30).to_string())
            .extend_pairs(filters);
        let series: Vec<Series> = self.upstream.get(&url, Some(&self.key)).await?;
        Ok(series
            .into_iter()
            .map(|series| {
                let scale = scale(&series.unit);
                let mut readings: Vec<(i64, f64)> = series
                    .values
                    .into_iter()
                    .filter_map(|value| {
                        let at = value.timestamp.parse::<jiff::Timestamp>().ok()?;
                        Some((at.as_second(), value.value * scale))
                    })
                    .collect();
                readings.sort_by_key(|(at, _)| *at);
                Metric {
                    labels: series
                        .labels
                        .into_iter()
                        .map(|label| (label.field, label.value))
                        .collect(),
                    readings,
                }
            })
            .collect())
    }

    /// The service's events between `start` and `end`, newest first.
    pub async fn events(
        &self,
        service: &str,
        (start, end): (jiff::Timestamp, jiff::Timestamp),
    ) -> Result<Vec<Event>, UpstreamError> {
        let mut url = self.url(&["services", service, "events"]);
        url.query_pairs_mut()
            .append_pair("startTime", &start.to_string())
            .append_pair("endTime", &end.to_string());
        let listed: Vec<EventWithCursor> = self
            .upstream
            .get_all(&url, Some(&self.key), Paging::Cursor { limit: 100 })
            .await?;
        Ok(listed.into_iter().map(|item| item.event).collect())
    }

    /// The service's instances running now.
    pub async fn instances(&self, service: &str) -> Result<Vec<Instance>, UpstreamError> {
        self.upstream
            .get(
                &self.url(&["services", service, "instances"]),
                Some(&self.key),
            )
            .await
    }

    /// The service's memory limit over the window, in MB: the highest
    /// reading, `None` when Render gives none (or cannot be read).
    pub async fn memory_limit(
        &self,
        service: &str,
        window: (jiff::Timestamp, jiff::Timestamp),
        resolution_seconds: u32,
    ) -> Option<f64> {
        let series = self
            .metric("memory-limit", service, window, resolution_seconds, &[])
            .await
            .ok()?;
        series
            .iter()
            .flat_map(|series| &series.readings)
            .map(|(_, mb)| *mb)
            .reduce(f64::max)
    }

    /// The newest deploys first.
    pub async fn deploys(&self, service: &str, limit: usize) -> Result<Vec<Deploy>, UpstreamError> {
        let mut url = self.url(&["services", service, "deploys"]);
        url.query_pairs_mut()
            .append_pair("limit", &limit.to_string());
        let listed: Vec<DeployWithCursor> = self.upstream.get(&url, Some(&self.key)).await?;
        Ok(listed.into_iter().map(|item| item.deploy).collect())
    }

    /// Removes one variable; the others stay as they are.
    pub async fn delete_env_var(&self, service: &str, key: &str) -> Result<(), UpstreamError> {
        let url = self.url(&["services", service, "env-vars", key]);
        self.upstream
            .send_for_status(reqwest::Method::DELETE, &url, Some(&self.key))
            .await
    }

    /// Sets one variable; the others stay as they are.
    pub async fn set_env_var(
        &self,
        service: &str,
        key: &str,
        value: &Secret,
    ) -> Result<(), UpstreamError> {
        let url = self.url(&["services", service, "env-vars", key]);
        let _: EnvVar = self
            .upstream
            .send(
                reqwest::Method::PUT,
                &url,
                Some(&self.key),
                &json!({ "value": value.expose() }),
            )
            .await?;
        Ok(())
    }

    pub async fn trigger_deploy(&self, service: &str) -> Result<Deploy, UpstreamError> {
        let url = self.url(&["services", service, "deploys"]);
        self.upstream
            .send(reqwest::Method::POST, &url, Some(&self.key), &json!({}))
            .await
    }

    /// Rolls back to `deploy`; Render keeps auto-deploy as it was.
    pub async fn rollback(&self, service: &str, deploy: &str) -> Result<Deploy, UpstreamError> {
        let url = self.url(&["services", service, "rollback"]);
        self.upstream
            .send(
                reqwest::Method::POST,
                &url,
                Some(&self.key),
                &json!({ "deployId": deploy }),
            )
            .await
    }
}
