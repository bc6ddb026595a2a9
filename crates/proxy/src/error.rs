//! The one error type of the HTTP API. Every failure answers JSON
//! `{"error","message"}`; a 5xx keeps its cause in the log, never in the answer.

use std::time::Duration;

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::api::ApiError;
use domain::project::FieldProblem;

use crate::auth::Limited;

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
    /// Some fields of a form cannot be used; each says why.
    #[error("{}", fields_message(.0))]
    InvalidFields(Vec<FieldProblem>),
    #[error("{0}")]
    MethodNotAllowed(String),
    /// No session, or it has ended.
    #[error("{0}")]
    Unauthorized(String),
    /// Signed in, but the role does not allow it, or the request is cross-site.
    #[error("{0}")]
    Forbidden(String),
    /// The request does not fit the current state (an archived project, an op_id reused).
    #[error("{0}")]
    Conflict(String),
    /// A rollback would be overtaken by a newer deploy still on its way;
    /// `deploy` is what to name in `over_deploy` to go ahead anyway.
    #[error("{message}")]
    DeployInProgress { message: String, deploy: String },
    #[error("{}; try again in {} seconds", limited_message(*.0), .1.as_secs())]
    TooManyAttempts(Limited, Duration),
    /// Beyond the caps on live streams.
    #[error("{0}")]
    TooManyStreams(String),
    /// The request was addressed to a host Watchpost is not served as.
    #[error("{0}")]
    UnknownHost(String),
    #[error("{0}")]
    Timeout(String),
    /// A failure inside the proxy; the text goes to the log only.
    #[error("{0}")]
    Internal(String),
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
            Error::InvalidFields(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            Error::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            Error::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Error::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            Error::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            Error::DeployInProgress { .. } => (StatusCode::CONFLICT, "deploy_in_progress"),
            Error::TooManyAttempts(..) | Error::TooManyStreams(_) => {
                (StatusCode::TOO_MANY_REQUESTS, "too_many_requests")
            }
            Error::UnknownHost(_) => (StatusCode::MISDIRECTED_REQUEST, "unknown_host"),
            Error::Timeout(_) => (StatusCode::SERVICE_UNAVAILABLE, "timeout"),
            Error::Store(_) | Error::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl Error {
    /// A request whose form is wrong (a query value out of range).
    pub fn bad_request(message: impl Into<String>) -> Self {
        Error::BadBody {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
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

impl From<QueryRejection> for Error {
    fn from(rejection: QueryRejection) -> Self {
        Error::BadBody {
            status: StatusCode::BAD_REQUEST,
            message: rejection.body_text(),
        }
    }
}

impl From<PathRejection> for Error {
    fn from(rejection: PathRejection) -> Self {
        Error::BadBody {
            status: StatusCode::BAD_REQUEST,
            message: rejection.body_text(),
        }
    }
}

fn limited_message(limited: Limited) -> &'static str {
    match limited {
        Limited::Client => "too many sign-in attempts from this address",
        Limited::Name => "too many sign-in attempts for this name",
        Limited::Server => {
            "Watchpost is receiving too many sign-in attempts; this is a guard against guessing"
        }
    }
}

fn fields_message(problems: &[FieldProblem]) -> String {
    match problems {
        // The form marks each field; the message names no field by its id.
        [one] => format!("A setting cannot be used: {}", one.message),
        _ => format!("{} settings cannot be used; see each field", problems.len()),
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        // Internal causes stay in the log; the other 5xx (a timeout) say what happened.
        let message = if matches!(self, Error::Store(_) | Error::Internal(_)) {
            tracing::error!(error = %self, "request failed");
            "Watchpost hit an internal error; the details are in the proxy's log. Try again, and tell the operator if it persists.".to_owned()
        } else {
            self.to_string()
        };
        let fields = match &self {
            Error::InvalidFields(problems) => problems
                .iter()
                .map(|p| (p.field.to_owned(), p.message.clone()))
                .collect(),
            Error::DeployInProgress { deploy, .. } => {
                [("over_deploy".to_owned(), deploy.clone())].into()
            }
            _ => Default::default(),
        };
        let mut response = (
            status,
            Json(ApiError {
                error: code.to_owned(),
                message,
                fields,
            }),
        )
            .into_response();
        if let Error::TooManyAttempts(_, wait) = self
            && let Ok(value) = HeaderValue::from_str(&wait.as_secs().to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
