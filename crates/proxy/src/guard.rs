//! The two gates in front of `/api`: a session for every route but health and
//! sign-in, and a same-origin check on every request that changes something.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use domain::api::Role;

use crate::AppState;
use crate::auth::{COOKIE_NAME, SessionToken};
use crate::error::{Error, Result};

/// The routes anyone may call: how else would they sign in, or a monitor check health?
const PUBLIC: [(Method, &str); 2] = [(Method::GET, "/health"), (Method::POST, "/session")];

/// Who is making the request; present on every route behind [`require_session`].
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub name: String,
    pub role: Role,
    /// Unix seconds.
    pub expires_at: i64,
    pub token: SessionToken,
}

impl CurrentUser {
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
/// as [`CurrentUser`].
pub async fn require_session(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let public = PUBLIC
        .iter()
        .any(|(method, path)| request.method() == method && request.uri().path() == *path);
    if public {
        return next.run(request).await;
    }
    match current_user(&state, request.headers()).await {
        Ok(Some(user)) => {
            request.extensions_mut().insert(user);
            next.run(request).await
        }
        Ok(None) => not_signed_in().into_response(),
        Err(err) => err.into_response(),
    }
}

/// The session a request's cookie opens, if any.
pub async fn current_user(state: &AppState, headers: &HeaderMap) -> Result<Option<CurrentUser>> {
    let Some(token) = session_cookie(headers).and_then(|cookie| state.auth.verify_cookie(cookie))
    else {
        return Ok(None);
    };
    let session = state.store.session(&token.digest()).await?;
    Ok(session.map(|(name, role, expires_at)| CurrentUser {
        name,
        role,
        expires_at,
        token,
    }))
}

fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(COOKIE_NAME)?.strip_prefix('='))
}

/// Refuses a state-changing request sent by another site (CSRF). Browsers say
/// where a request comes from in `Sec-Fetch-Site` and `Origin`; a request with
/// neither is not from a browser, and a script holding a cookie may proceed.
pub async fn same_origin(request: Request, next: Next) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    match cross_site(request.headers()) {
        None => next.run(request).await,
        Some(why) => Error::Forbidden(format!(
            "this request came from another site ({why}); Watchpost only accepts changes from its own pages"
        ))
        .into_response(),
    }
}

fn cross_site(headers: &HeaderMap) -> Option<String> {
    let text = |name| headers.get(name).map(|v| v.to_str().unwrap_or("?"));
    if let Some(site) = text(header::HeaderName::from_static("sec-fetch-site"))
        && site != "same-origin"
        && site != "none"
    {
        return Some(format!("Sec-Fetch-Site: {site}"));
    }
    let origin = text(header::ORIGIN)?;
    let host = text(header::HOST).unwrap_or_default();
    let authority = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    match authority {
        Some(authority) if authority.eq_ignore_ascii_case(host) => None,
        _ => Some(format!("Origin: {origin}")),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    header::HeaderName::from_static(k),
                    HeaderValue::from_static(v),
                )
            })
            .collect()
    }

    #[test]
    fn only_same_origin_browsers_and_non_browsers_may_change_things() {
        let host = ("host", "127.0.0.1:8080");
        assert_eq!(cross_site(&headers(&[host])), None, "curl");
        assert_eq!(
            cross_site(&headers(&[
                host,
                ("origin", "http://127.0.0.1:8080"),
                ("sec-fetch-site", "same-origin")
            ])),
            None
        );
        assert!(cross_site(&headers(&[host, ("origin", "https://evil.example")])).is_some());
        assert!(cross_site(&headers(&[host, ("origin", "null")])).is_some());
        assert!(cross_site(&headers(&[host, ("sec-fetch-site", "cross-site")])).is_some());
        assert!(cross_site(&headers(&[host, ("sec-fetch-site", "same-site")])).is_some());
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let map = headers(&[("cookie", "theme=dark; watchpost_session=abc.def; x=1")]);
        assert_eq!(session_cookie(&map), Some("abc.def"));
        assert_eq!(
            session_cookie(&headers(&[("cookie", "watchpost_sessionx=1")])),
            None
        );
    }
}
