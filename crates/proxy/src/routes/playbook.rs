//! `GET /api/playbook`: the validated playbook the proxy was started with.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/playbook", get(playbook))
}

async fn playbook(State(state): State<AppState>) -> Response {
    Json(state.playbook.as_ref()).into_response()
}
