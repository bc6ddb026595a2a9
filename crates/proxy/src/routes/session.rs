//! `/api/session`: sign in with a display name and a team passcode, see who
//! is signed in, sign out.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use domain::api::{Session, SignIn, validated_display_name};

use super::Routes;
use crate::AppState;
use crate::auth::{COOKIE_NAME, Limited, SessionToken, SignedIn, Verdict, name_key};
use crate::clock::rfc3339;
use crate::error::{Error, Result};
use crate::extract::{ClientIp, Format, Json, Reply};
use crate::guard::CurrentUser;
use crate::store::StoredSession;

/// Signing in is public: how else would anyone get a session?
pub fn public_router() -> Routes {
    Routes::new().route("/session", post(sign_in))
}

pub fn router() -> Routes {
    Routes::new().route("/session", get(show).delete(sign_out))
}

async fn sign_in(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    format: Format,
    jar: CookieJar,
    Json(sign_in): Json<SignIn>,
) -> Result<Response> {
    let limits = &state.auth.limits;
    let refused = |(limited, wait)| {
        tracing::warn!(%client, ?limited, "sign-in attempt refused by a limit");
        Error::TooManyAttempts(limited, wait)
    };
    limits.client(client).map_err(refused)?;
    let store = &state.store;
    let across = |key: String, quota, limited| async move {
        let taken = store.take_attempt(&key, quota).await?;
        taken.map_err(|wait| refused((limited, wait)))
    };
    across(
        format!("client {client}"),
        limits.client_quota,
        Limited::Client,
    )
    .await?;
    let name = validated_display_name(&sign_in.name).map_err(Error::Invalid)?;
    let signed_in = match state.auth.recall(&name, &sign_in.passcode) {
        Some(signed_in) => signed_in,
        None => {
            let name_key = name_key(&name);
            limits.check(&name_key).map_err(refused)?;
            across(format!("name {name_key}"), limits.name_quota, Limited::Name).await?;
            verify(&state, &name, sign_in.passcode, client).await?
        }
    };
    let token = SessionToken::new();
    let length = state.auth.session_length;
    let expires_at =
        state.clock().real_now() + i64::try_from(length.as_secs()).unwrap_or(i64::MAX / 4);
    let session = StoredSession {
        name: signed_in.name,
        role: signed_in.role,
        expires_at,
        source: signed_in.source,
    };
    state
        .store
        .create_session(&token.digest(), &session)
        .await?;
    tracing::info!(%client, name = session.name, role = session.role.name(), "signed in");
    let cookie = Cookie::build((COOKIE_NAME, token.expose().to_owned()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .max_age(time::Duration::seconds(
            i64::try_from(length.as_secs()).unwrap_or(i64::MAX),
        ))
        .secure(served_over_tls(&headers));
    let answer = Session {
        name: session.name,
        role: session.role,
        expires: rfc3339(expires_at),
    };
    Ok((jar.add(cookie), Reply(format, answer)).into_response())
}

/// The slow part of signing in, on the hashing thread.
async fn verify(
    state: &AppState,
    name: &str,
    passcode: String,
    client: std::net::IpAddr,
) -> Result<SignedIn> {
    let (auth, checked_name) = (state.auth.clone(), name.to_owned());
    let verdict = tokio::task::spawn_blocking(move || auth.verify(&checked_name, &passcode))
        .await
        .map_err(|err| Error::Internal(format!("the passcode check stopped: {err}")))?
        .map_err(Error::Internal)?;
    match verdict {
        Verdict::In(signed_in) => Ok(signed_in),
        Verdict::WrongPasscode => {
            tracing::warn!(%client, "sign-in refused: wrong passcode");
            Err(Error::Unauthorized(
                "that passcode is not right; ask whoever runs Watchpost for the team passcode"
                    .to_owned(),
            ))
        }
        Verdict::Reserved => {
            tracing::warn!(%client, name, "sign-in refused: a reserved name without its passcode");
            Err(Error::Unauthorized(format!(
                "the name “{name}” belongs to someone with their own passcode; sign in with yours, or under your own name"
            )))
        }
    }
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

/// Ends the session, and with it every live stream it holds open.
async fn sign_out(
    State(state): State<AppState>,
    user: CurrentUser,
    jar: CookieJar,
) -> Result<Response> {
    state.sessions.end(&user.session).await?;
    tracing::info!(name = user.name, "signed out");
    let clear = Cookie::build((COOKIE_NAME, ""))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict);
    Ok((StatusCode::NO_CONTENT, jar.remove(clear)).into_response())
}

/// TLS ends at a reverse proxy in front of Watchpost, which says so in
/// `X-Forwarded-Proto`. Trusting it can only make the cookie stricter.
fn served_over_tls(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .is_some_and(|proto| proto.as_bytes().eq_ignore_ascii_case(b"https"))
}
