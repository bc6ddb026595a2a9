//! The gates in front of Watchpost: the `Host` must be one it is served as
//! (DNS rebinding), every `/api` route but the public ones needs a session,
//! and every request that changes something must come from Watchpost's own
//! origin (CSRF).

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use domain::api::Role;

use crate::AppState;
use crate::auth::{COOKIE_NAME, SessionToken};
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::net::Network;

/// Who is making the request; present on every route behind [`require_session`].
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub name: String,
    pub role: Role,
    /// Unix seconds.
    pub expires_at: i64,
    /// The SHA-256 of the session's token: how the session is found and ended.
    pub session: Vec<u8>,
}

impl CurrentUser {
    /// How long the session has left, by the people's time its expiry was
    /// set by: how long a live stream of it may stay open.
    pub fn session_left(&self, clock: &Clock) -> std::time::Duration {
        let left = self.expires_at - clock.real_now();
        std::time::Duration::from_secs(u64::try_from(left).unwrap_or(0))
    }

    /// Refuses unless the user's role is `role` or above; `doing` words the refusal.
    pub fn require(&self, role: Role, doing: &str) -> Result<()> {
        if self.role >= role {
            Ok(())
        } else {
            Err(Error::Forbidden(format!(
                "{doing} needs the {} role; {} signed in as {}. Ask an admin, or sign in with a passcode that gives it.",
                role.name(),
                self.name,
                self.role.name()
            )))
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self> {
        parts
            .extensions
            .get::<CurrentUser>()
            .cloned()
            .ok_or_else(not_signed_in)
    }
}

fn not_signed_in() -> Error {
    Error::Unauthorized("sign in first: there is no session, or it has ended".to_owned())
}

/// Lets a request through only with a live session, which handlers then read
/// as [`CurrentUser`]. Routers put it on every route but their public ones.
pub async fn require_session(
    State(state): State<AppState>,
    jar: CookieJar,
    mut request: Request,
    next: Next,
) -> Response {
    match current_user(&state, &jar).await {
        Ok(Some(user)) => {
            request.extensions_mut().insert(user);
            next.run(request).await
        }
        Ok(None) => not_signed_in().into_response(),
        Err(err) => err.into_response(),
    }
}

/// The session a request's cookie opens, if any.
async fn current_user(state: &AppState, jar: &CookieJar) -> Result<Option<CurrentUser>> {
    let Some(token) = jar
        .get(COOKIE_NAME)
        .and_then(|cookie| SessionToken::from_cookie(cookie.value()))
    else {
        return Ok(None);
    };
    let session = token.digest();
    let stored = state.store.session(&session).await?;
    Ok(stored.map(|stored| CurrentUser {
        name: stored.name,
        role: stored.role,
        expires_at: stored.expires_at,
        session,
    }))
}

/// The health endpoint, answered whatever the Host.
pub const HEALTH_PATH: &str = "/api/health";

/// Refuses a request addressed to a host Watchpost is not served as: a page
/// on another site whose name was made to resolve to this server (DNS
/// rebinding) sends its own name.
pub async fn known_host(State(state): State<AppState>, request: Request, next: Next) -> Response {
    // A platform's health check (Render's, a load balancer's) names the
    // instance's own address; the health answer holds nothing to steal.
    if request.method() == Method::GET && request.uri().path() == HEALTH_PATH {
        return next.run(request).await;
    }
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .or_else(|| {
            request
                .uri()
                .authority()
                .map(|authority| authority.as_str())
        });
    match host {
        Some(host) if state.network.host_allowed(host) => next.run(request).await,
        _ => Error::UnknownHost(format!(
            "Watchpost is not served as {}; it answers at {}. An operator can add an address with --public-origin.",
            host.unwrap_or("a request without Host"),
            state.network.origins().join(", ")
        ))
        .into_response(),
    }
}

/// Refuses a state-changing request sent by another site (CSRF). Browsers say
/// where a request comes from in `Sec-Fetch-Site` and `Origin`; a request with
/// neither is not from a browser, and a script holding a cookie may proceed.
pub async fn same_origin(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    match cross_site(&state.network, request.headers()) {
        None => next.run(request).await,
        Some(why) => Error::Forbidden(format!(
            "this request came from another site ({why}); Watchpost only accepts changes from its own pages"
        ))
        .into_response(),
    }
}

fn cross_site(network: &Network, headers: &HeaderMap) -> Option<String> {
    // A browser sends each once; two would be judged by whichever a reader
    // takes first, so neither is trusted.
    for name in [
        header::ORIGIN,
        header::HeaderName::from_static("sec-fetch-site"),
    ] {
        if headers.get_all(&name).iter().nth(1).is_some() {
            return Some(format!("more than one {name} header"));
        }
    }
    let text = |name| headers.get(name).map(|v| v.to_str().unwrap_or("?"));
    if let Some(site) = text(header::HeaderName::from_static("sec-fetch-site"))
        && site != "same-origin"
        && site != "none"
    {
        return Some(format!("Sec-Fetch-Site: {site}"));
    }
    let origin = text(header::ORIGIN)?;
    (!network.origin_allowed(origin)).then(|| format!("Origin: {origin}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::headers;

    #[test]
    fn only_same_origin_browsers_and_non_browsers_may_change_things() {
        let network = Network::new(&[], 8080, vec![]).unwrap();
        let cross = |pairs| cross_site(&network, &headers(pairs));
        assert_eq!(cross(&[]), None, "curl");
        assert_eq!(
            cross(&[
                ("origin", "http://127.0.0.1:8080"),
                ("sec-fetch-site", "same-origin")
            ]),
            None
        );
        assert!(cross(&[("origin", "https://evil.example")]).is_some());
        assert!(cross(&[("origin", "null")]).is_some());
        assert!(cross(&[("origin", "https://127.0.0.1:8080")]).is_some());
        assert!(cross(&[("sec-fetch-site", "cross-site")]).is_some());
        assert!(cross(&[("sec-fetch-site", "same-site")]).is_some());
        assert!(
            cross(&[
                ("origin", "http://127.0.0.1:8080"),
                ("origin", "https://evil.example")
            ])
            .is_some(),
            "two Origin headers"
        );
        assert!(
            cross(&[
                ("sec-fetch-site", "same-origin"),
                ("sec-fetch-site", "cross-site")
            ])
            .is_some()
        );
    }
}
