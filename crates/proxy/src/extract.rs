//! Extractors whose rejections answer in the API's JSON error format.

use axum::extract::FromRequest;
use axum::response::{IntoResponse, Response};

use crate::error::Error;

/// `axum::Json`, but a malformed or oversized body answers `{"error","message"}`.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(Error))]
pub struct Json<T>(pub T);

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}
