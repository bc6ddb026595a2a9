//! Extractors whose rejections answer in the API's JSON error format, and
//! answers in the format the client asked for.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use domain::binary::{MEDIA_TYPE, encode};
use nanoserde::SerBin;

use crate::AppState;
use crate::error::Error;

/// `axum::Json`, but a malformed or oversized body answers `{"error","message"}`,
/// and a body must be a JSON object: serde reads a struct from an array too
/// (`[null, null]` for two optional fields), which no route means to accept.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = Error;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, Error> {
        // The content type, the size and the syntax, as axum checks them.
        let axum::Json(value) =
            axum::Json::<serde_json::Value>::from_request(request, state).await?;
        if !value.is_object() {
            return Err(Error::bad_request(
                "the body must be a JSON object, such as {}",
            ));
        }
        // Read again as `T`, so a field's error is the one axum gives.
        let bytes = serde_json::to_vec(&value)
            .map_err(|err| Error::Internal(format!("a JSON value did not serialize: {err}")))?;
        let axum::Json(body) = axum::Json::<T>::from_bytes(&bytes)?;
        Ok(Json(body))
    }
}

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// `axum::extract::Query`, but a bad query string answers `{"error","message"}`.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(Error))]
pub struct Query<T>(pub T);

/// `axum::extract::Path`, but a malformed id answers `{"error","message"}`.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(Error))]
pub struct Path<T>(pub T);

/// The client's address (see `Network::client_ip`), or 0.0.0.0 when the
/// server was not started with connection info.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
        Ok(ClientIp(state.network.client_ip(peer, &parts.headers)))
    }
}

/// How the client wants its answers: JSON, or the app's binary form when it
/// sends `Accept: application/octet-stream` (see `domain::binary`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Binary,
}

impl<S: Send + Sync> FromRequestParts<S> for Format {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        let binary = parts
            .headers
            .get(header::ACCEPT)
            .and_then(|accept| accept.to_str().ok())
            .is_some_and(|accept| accept.contains(MEDIA_TYPE));
        Ok(if binary { Format::Binary } else { Format::Json })
    }
}

/// A successful answer, in the format the client asked for.
#[derive(Debug)]
pub struct Reply<T>(pub Format, pub T);

impl<T: serde::Serialize + SerBin> IntoResponse for Reply<T> {
    fn into_response(self) -> Response {
        self.0.reply(&self.1)
    }
}

impl Format {
    /// `value` as the client asked for it; for values the caller keeps.
    pub fn reply<T: serde::Serialize + SerBin>(self, value: &T) -> Response {
        let mut response = match self {
            Format::Json => axum::Json(value).into_response(),
            Format::Binary => ([(header::CONTENT_TYPE, MEDIA_TYPE)], encode(value)).into_response(),
        };
        response
            .headers_mut()
            .insert(header::VARY, HeaderValue::from_static("accept"));
        response
    }
}
