//! `GET /api/openapi.json`: the API's contract, for people who script against it.
//! Tests check that it names every route and that answers fit its schemas.

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use super::Routes;

pub const DOCUMENT: &str = include_str!("../../openapi.json");

pub fn router() -> Routes {
    Routes::new().route("/openapi.json", get(document))
}

async fn document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT)
}
