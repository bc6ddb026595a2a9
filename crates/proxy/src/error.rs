//! The one error type of the HTTP API. Every failure answers JSON
//! `{"error","message"}`; a 5xx keeps its cause in the log, never in the answer.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::api::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    NotFound(String),
    /// The request is well-formed but its content is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// The body could not be read as the JSON the route expects.
    #[error("{message}")]
    BadBody { status: StatusCode, message: String },
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("the store failed: {0}")]
    Store(#[from] sqlx::Error),
}

impl Error {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Error::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Error::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            Error::BadBody { status, .. } if *status == StatusCode::PAYLOAD_TOO_LARGE => {
                (*status, "too_large")
            }
            Error::BadBody { status, .. } if *status == StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                (*status, "unsupported_media_type")
            }
            Error::BadBody { .. } => (StatusCode::BAD_REQUEST, "bad_request"),
            Error::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            Error::Store(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl From<JsonRejection> for Error {
    fn from(rejection: JsonRejection) -> Self {
        Error::BadBody {
            status: rejection.status(),
            message: rejection.body_text(),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let message = if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
            "Watchpost hit an internal error; the details are in the proxy's log. Try again, and tell the operator if it persists.".to_owned()
        } else {
            self.to_string()
        };
        (
            status,
            Json(ApiError {
                error: code.to_owned(),
                message,
            }),
        )
            .into_response()
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
