//! `GET /api/health`: Watchpost watches itself the way it asks teams to watch theirs.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use domain::api::{Health, HealthStatus};

use super::Routes;
use crate::AppState;
use crate::clock::rfc3339;
use crate::extract::{Format, Reply};

/// Public: monitors check it without signing in.
pub fn public_router() -> Routes {
    Routes::new().route("/health", get(health))
}

async fn health(State(state): State<AppState>, format: Format) -> (StatusCode, Reply<Health>) {
    let services = [("store".to_owned(), state.store.ping().await)].into();
    let timestamp = rfc3339(state.clock().real_now());
    let health = Health::new(services, timestamp, state.started.elapsed().as_secs());
    let status = match health.status {
        HealthStatus::Ok => StatusCode::OK,
        HealthStatus::Degraded => StatusCode::SERVICE_UNAVAILABLE,
    };
    (status, Reply(format, health))
}
