//! `GET /api/playbook`: the validated playbook the proxy was started with.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use domain::Playbook;

use crate::AppState;
use crate::extract::{Format, Reply};

pub fn router() -> Router<AppState> {
    Router::new().route("/playbook", get(playbook))
}

async fn playbook(State(state): State<AppState>, format: Format) -> Reply<Playbook> {
    Reply(format, Playbook::clone(&state.playbook))
}
