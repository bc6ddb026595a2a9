//! `GET /api/playbook`: the validated playbook the proxy was started with.

use axum::extract::State;
use axum::response::Response;
use axum::routing::get;

use super::Routes;
use crate::AppState;
use crate::extract::Format;

pub fn router() -> Routes {
    Routes::new().route("/playbook", get(playbook))
}

async fn playbook(State(state): State<AppState>, format: Format) -> Response {
    format.reply(state.playbook.as_ref())
}
