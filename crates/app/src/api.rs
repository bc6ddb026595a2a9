//! Every HTTP call the app makes, each returning `Result`. Same origin only:
//! the proxy serves both the app and `/api`.

use std::fmt;

use domain::Playbook;
use domain::api::{Health, NewProject, Project};
use nanoserde::{DeJson, SerJson};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, RequestInit, Response};

/// Why a call failed, worded for the person looking at the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// No answer at all: the proxy is down or the network is gone.
    Unreachable,
    /// The proxy answered with an error.
    Refused { status: u16, message: String },
    /// The proxy answered something this app does not understand.
    Garbled(String),
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Unreachable => f.write_str(
                "Cannot reach the Watchpost proxy. Check that it is still running (scripts/run), then retry.",
            ),
            ApiError::Refused { status, message } => write!(f, "{message} (HTTP {status})"),
            ApiError::Garbled(detail) => write!(
                f,
                "The proxy sent an answer this page cannot read ({detail}). Reload the page; the app may be out of date."
            ),
        }
    }
}

impl std::error::Error for ApiError {}

pub async fn health() -> Result<Health, ApiError> {
    // A degraded proxy answers 503 with the same body: read it either way.
    let (_, body) = send("GET", "/api/health", None).await?;
    parse(&body)
}

pub async fn playbook() -> Result<Playbook, ApiError> {
    get("/api/playbook").await
}

pub async fn projects() -> Result<Vec<Project>, ApiError> {
    get("/api/projects").await
}

pub async fn project(id: i64) -> Result<Project, ApiError> {
    get(&format!("/api/projects/{id}")).await
}

pub async fn create_project(name: String) -> Result<Project, ApiError> {
    post("/api/projects", &NewProject { name }).await
}

async fn get<T: DeJson>(path: &str) -> Result<T, ApiError> {
    let (status, body) = send("GET", path, None).await?;
    decode(status, &body)
}

async fn post<B: SerJson, T: DeJson>(path: &str, body: &B) -> Result<T, ApiError> {
    let (status, body) = send("POST", path, Some(body.serialize_json())).await?;
    decode(status, &body)
}

fn decode<T: DeJson>(status: u16, body: &str) -> Result<T, ApiError> {
    if (200..300).contains(&status) {
        return parse(body);
    }
    let message = domain::api::ApiError::deserialize_json(body)
        .map(|error| error.message)
        .unwrap_or_else(|_| "The proxy refused the request.".to_owned());
    Err(ApiError::Refused { status, message })
}

fn parse<T: DeJson>(body: &str) -> Result<T, ApiError> {
    T::deserialize_json(body).map_err(|err| ApiError::Garbled(err.to_string()))
}

async fn send(method: &str, path: &str, body: Option<String>) -> Result<(u16, String), ApiError> {
    let window = web_sys::window().ok_or(ApiError::Unreachable)?;
    let init = RequestInit::new();
    init.set_method(method);
    let headers = Headers::new().map_err(|_| ApiError::Unreachable)?;
    let _ = headers.set("accept", "application/json");
    if let Some(body) = body {
        let _ = headers.set("content-type", "application/json");
        init.set_body(&JsValue::from_str(&body));
    }
    init.set_headers(&headers);
    let response = JsFuture::from(window.fetch_with_str_and_init(path, &init))
        .await
        .map_err(|_| ApiError::Unreachable)?;
    let response: Response = response.dyn_into().map_err(|_| ApiError::Unreachable)?;
    let text = response.text().map_err(|_| ApiError::Unreachable)?;
    let text = JsFuture::from(text)
        .await
        .map_err(|_| ApiError::Unreachable)?;
    Ok((response.status(), text.as_string().unwrap_or_default()))
}
