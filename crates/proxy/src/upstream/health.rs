//! Probing a team's health endpoint: a URL people typed, fetched by the
//! server, so it is held to the SSRF rules (../shared/notes/upstream-apis.md):
//! - http and https only;
//! - no address of a special-purpose block ([`super::special`]: loopback,
//!   private, link-local, shared, multicast, documentation, and the IPv6
//!   forms that carry such an IPv4 address), checked on the addresses the name
//!   resolves to, which are the only ones the client may connect to (so a
//!   name that resolves differently a second time, DNS rebinding, gains
//!   nothing);
//! - redirects only to the same scheme, host and port.
//!
//! `WATCHPOST_ALLOW_PRIVATE_TARGETS=1` lifts the address rule, for a service
//! that really runs on such an address.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use domain::condition::{Answer, Condition, Unmet, unmet};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

use super::UpstreamError;
use super::special::is_public;

/// Why a health URL is not fetched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("only http and https URLs are checked")]
    Scheme,
    #[error(
        "{0} is a loopback, private or otherwise internal address, which Watchpost does not fetch (an operator can allow it with WATCHPOST_ALLOW_PRIVATE_TARGETS=1)"
    )]
    Internal(IpAddr),
    #[error("the URL has no host")]
    NoHost,
}

/// What an endpoint answered, judged by the project's conditions.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    pub status: u16,
    pub latency: Duration,
    /// The body, when it is JSON.
    pub body: Option<serde_json::Value>,
    /// The conditions it did not meet.
    pub unmet: Vec<Unmet>,
}

impl Probe {
    /// Up: every condition met.
    pub fn is_healthy(&self) -> bool {
        self.unmet.is_empty()
    }

    /// The seeds' `uptime` (seconds since the service started), when the
    /// body has one: a falling uptime is a restart.
    pub fn uptime(&self) -> Option<f64> {
        self.body.as_ref()?.get("uptime")?.as_f64()
    }

    /// What the body says of itself: its `status`, when it has one.
    pub fn status_word(&self) -> Option<&str> {
        self.body.as_ref()?.get("status")?.as_str()
    }
}

#[derive(Debug, Clone)]
pub struct HealthProber {
    http: reqwest::Client,
    timeout: Duration,
    allow_private: bool,
    max_body: usize,
}

impl HealthProber {
    pub fn new(timeout: Duration, allow_private: bool) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .dns_resolver(Arc::new(PublicOnly { allow_private }))
            .redirect(reqwest::redirect::Policy::custom(|attempt| {
                let same_origin = attempt.previous().first().is_some_and(|first| {
                    first.scheme() == attempt.url().scheme()
                        && first.host() == attempt.url().host()
                        && first.port_or_known_default() == attempt.url().port_or_known_default()
                });
                if same_origin && attempt.previous().len() < 3 {
                    attempt.follow()
                } else {
                    attempt.stop()
                }
            }))
            .connect_timeout(timeout)
            .timeout(timeout)
            // Named, so that a team can tell (and leave out) Watchpost's probes.
            .user_agent(concat!(
                "Watchpost/",
                env!("CARGO_PKG_VERSION"),
                " (health check)"
            ))
            .build()
            .map_err(|err| format!("cannot build the health client: {err}"))?;
        Ok(HealthProber {
            http,
            timeout,
            allow_private,
            max_body: 64 * 1024,
        })
    }

    /// Whether `url` may be fetched at all; its host's addresses are checked
    /// again when it is resolved.
    pub fn admit(&self, url: &Url) -> Result<(), Refused> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refused::Scheme);
        }
        let ip = match url.host().ok_or(Refused::NoHost)? {
            Host::Ipv4(ip) => IpAddr::V4(ip),
            Host::Ipv6(ip) => IpAddr::V6(ip),
            // Checked on resolution, by `PublicOnly`.
            Host::Domain(_) => return Ok(()),
        };
        if self.allow_private || is_public(ip) {
            Ok(())
        } else {
            Err(Refused::Internal(ip))
        }
    }

    /// `GET url` as a health endpoint, timed and judged by `conditions`. A
    /// refused URL or address is
    /// `Err(Ok(refused))`; anything that went wrong on the way is
    /// `Err(Err(upstream))`.
    pub async fn probe(
        &self,
        url: &Url,
        conditions: &[Condition],
    ) -> Result<Probe, Result<Refused, UpstreamError>> {
        let fetched = self.fetch(url).await?;
        let body: Option<serde_json::Value> = serde_json::from_slice(&fetched.body).ok();
        let answer = Answer {
            status: fetched.status,
            response_ms: u64::try_from(fetched.latency.as_millis()).unwrap_or(u64::MAX),
            body: body.as_ref(),
        };
        let unmet = unmet(conditions, &answer);
        Ok(Probe {
            status: fetched.status,
            latency: fetched.latency,
            body,
            unmet,
        })
    }

    /// `GET url` under the same rules, its body cut at 64 KiB.
    pub async fn fetch(&self, url: &Url) -> Result<Fetched, Result<Refused, UpstreamError>> {
        self.admit(url).map_err(Ok)?;
        let started = Instant::now();
        let response =
            self.http
                .get(url.clone())
                .send()
                .await
                .map_err(|err| match refused_address(&err) {
                    Some(refused) => Ok(refused),
                    None if err.is_timeout() => Err(UpstreamError::Timeout(self.timeout)),
                    None if err.is_redirect() => Err(UpstreamError::Unreachable(
                        "it redirects to another host, which Watchpost does not follow".to_owned(),
                    )),
                    None => Err(UpstreamError::Unreachable(
                        "connection refused, or the name does not resolve".to_owned(),
                    )),
                })?;
        let latency = started.elapsed();
        let status = response.status().as_u16();
        if response.status().is_redirection() {
            return Err(Err(UpstreamError::Unreachable(
                "it redirects to another host, which Watchpost does not follow".to_owned(),
            )));
        }
        let mut response = response;
        let mut body = Vec::new();
        while let Ok(Some(chunk)) = response.chunk().await {
            if body.len() + chunk.len() > self.max_body {
                break;
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched {
            status,
            latency,
            body,
        })
    }
}

/// A page fetched from a URL people entered.
#[derive(Debug, Clone, PartialEq)]
pub struct Fetched {
    pub status: u16,
    pub latency: Duration,
    pub body: Vec<u8>,
}

/// The refusal inside a reqwest error, when our resolver refused.
fn refused_address(err: &reqwest::Error) -> Option<Refused> {
    let mut source = std::error::Error::source(err);
    while let Some(error) = source {
        if let Some(refused) = error.downcast_ref::<Refused>() {
            return Some(refused.clone());
        }
        source = error.source();
    }
    None
}

/// Resolves with the system resolver and keeps only public addresses; with
/// none left, the name is refused.
#[derive(Debug)]
struct PublicOnly {
    allow_private: bool,
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = resolved
                .iter()
                .copied()
                .filter(|addr| allow_private || is_public(addr.ip()))
                .collect();
            match (allowed.is_empty(), resolved.first()) {
                (true, Some(first)) => Err(Box::new(Refused::Internal(first.ip())) as _),
                _ => Ok(Box::new(allowed.into_iter()) as Addrs),
            }
        })
    }
}
