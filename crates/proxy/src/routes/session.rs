//! `/api/session`: sign in with a display name and a team passcode, see who
//! is signed in, sign out.

use std::time::Instant;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use domain::api::{Session, SignIn, validated_display_name};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::AppState;
use crate::auth::COOKIE_NAME;
use crate::error::{Error, Result};
use crate::extract::{ClientIp, Format, Json, Reply};
use crate::guard::CurrentUser;

pub fn router() -> Router<AppState> {
    Router::new().route("/session", post(sign_in).get(show).delete(sign_out))
}

async fn sign_in(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    format: Format,
    Json(sign_in): Json<SignIn>,
) -> Result<Response> {
    state
        .auth
        .limiter
        .attempt(client, Instant::now())
        .map_err(Error::TooManyAttempts)?;
    let name = validated_display_name(&sign_in.name).map_err(Error::Invalid)?;
    // Argon2 is slow on purpose: keep it off the async workers.
    let auth = state.auth.clone();
    let (checked_name, passcode) = (name.clone(), sign_in.passcode);
    let role = tokio::task::spawn_blocking(move || auth.role_for(&checked_name, &passcode))
        .await
        .map_err(|err| Error::Internal(format!("the passcode check stopped: {err}")))?
        .map_err(Error::Internal)?;
    let Some(role) = role else {
        tracing::warn!(%client, "sign-in refused: wrong passcode");
        return Err(Error::Unauthorized(
            "that passcode is not right; ask whoever runs Watchpost for the team passcode"
                .to_owned(),
        ));
    };
    let (token, cookie) = state.auth.new_token();
    let length = state.auth.session_length;
    let expires_at = (OffsetDateTime::now_utc() + length).unix_timestamp();
    state
        .store
        .create_session(&token.digest(), &name, role, expires_at)
        .await?;
    tracing::info!(%client, name, role = role.name(), "signed in");
    let secure = served_over_tls(&headers);
    let set_cookie = format!(
        "{COOKIE_NAME}={cookie}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        length.as_secs(),
        if secure { "; Secure" } else { "" }
    );
    let session = Session {
        name,
        role,
        expires: rfc3339(expires_at),
    };
    let mut response = Reply(format, session).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&set_cookie).map_err(|err| Error::Internal(err.to_string()))?,
    );
    Ok(response)
}

async fn show(user: CurrentUser, format: Format) -> Reply<Session> {
    Reply(
        format,
        Session {
            name: user.name,
            role: user.role,
            expires: rfc3339(user.expires_at),
        },
    )
}

async fn sign_out(State(state): State<AppState>, user: CurrentUser) -> Result<Response> {
    state.store.delete_session(&user.token.digest()).await?;
    tracing::info!(name = user.name, "signed out");
    let clear = format!("{COOKIE_NAME}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, clear)]).into_response())
}

/// Whole seconds, as the store keeps them, so sign-in and `GET` agree.
fn rfc3339(unix_seconds: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix_seconds)
        .ok()
        .and_then(|at| at.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// TLS ends at a reverse proxy in front of Watchpost, which says so in
/// `X-Forwarded-Proto`. Trusting it can only make the cookie stricter.
fn served_over_tls(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .is_some_and(|proto| proto.as_bytes().eq_ignore_ascii_case(b"https"))
}
