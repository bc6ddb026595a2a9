//! `GET /api/playbook`: the validated playbook the proxy was started with.
//!
//! JSON for people and scripts; the app asks for `application/octet-stream`
//! and gets nanoserde's binary form, which its wasm decodes with a fraction
//! of the code a JSON decoder of the whole playbook would need.

use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use nanoserde::SerBin;

use crate::AppState;

pub const BINARY: &str = "application/octet-stream";

pub fn router() -> Router<AppState> {
    Router::new().route("/playbook", get(playbook))
}

async fn playbook(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let wants_binary = headers
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains(BINARY));
    let vary = (header::VARY, "accept");
    if wants_binary {
        let bytes = state.playbook.serialize_bin();
        return ([(header::CONTENT_TYPE, BINARY), vary], bytes).into_response();
    }
    ([vary], Json(state.playbook.as_ref())).into_response()
}
