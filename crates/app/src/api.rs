//! Every HTTP call the app makes, each returning `Result`. Same origin only:
//! the proxy serves both the app and `/api`, and the session cookie goes with
//! each call by itself.

use std::collections::BTreeMap;
use std::fmt;

use domain::Playbook;
use domain::api::{Health, Session, SignIn};
use domain::project::{Project, ProjectPatch};
use domain::run::{Entry, NewEntry};
use nanoserde::{DeBin, DeJson, SerJson};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, RequestInit, Response};

/// Why a call failed, worded for the person looking at the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// No answer at all: the proxy is down or the network is gone.
    Unreachable,
    /// The proxy answered with an error.
    Refused {
        status: u16,
        message: String,
        /// For a form: what is wrong with each field.
        fields: BTreeMap<String, String>,
    },
    /// The proxy answered something this app does not understand.
    Garbled(String),
}

impl ApiError {
    /// The HTTP status, when the proxy answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Refused { status, .. } => Some(*status),
            ApiError::Unreachable | ApiError::Garbled(_) => None,
        }
    }

    /// The session is gone (expired, signed out elsewhere): sign in again.
    pub fn is_signed_out(&self) -> bool {
        self.status() == Some(401)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Unreachable => f.write_str(
                "Cannot reach the Watchpost proxy. Check that it is still running (scripts/run), then retry.",
            ),
            ApiError::Refused {
                status, message, ..
            } => write!(f, "{message} (HTTP {status})"),
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
    let response = send("GET", "/api/health", None).await?;
    parse(&text(&response).await?)
}

pub async fn playbook() -> Result<Playbook, ApiError> {
    // The compact binary form: see the proxy's routes/playbook.rs.
    let response = send("GET", "/api/playbook", Some(Body::Accept(BINARY))).await?;
    if !response.ok() {
        return Err(refused(response.status(), &text(&response).await?));
    }
    let buffer = JsFuture::from(response.array_buffer().map_err(|_| ApiError::Unreachable)?)
        .await
        .map_err(|_| ApiError::Unreachable)?;
    let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
    Playbook::deserialize_bin(&bytes).map_err(|err| ApiError::Garbled(err.to_string()))
}

const BINARY: &str = "application/octet-stream";

/// Who is signed in; `Err` with status 401 when nobody is.
pub async fn session() -> Result<Session, ApiError> {
    get("/api/session").await
}

pub async fn sign_in(name: String, passcode: String) -> Result<Session, ApiError> {
    call("POST", "/api/session", &SignIn { name, passcode }).await
}

pub async fn sign_out() -> Result<(), ApiError> {
    let response = send("DELETE", "/api/session", None).await?;
    if response.ok() || response.status() == 401 {
        return Ok(());
    }
    Err(refused(response.status(), &text(&response).await?))
}

pub async fn projects() -> Result<Vec<Project>, ApiError> {
    get("/api/projects").await
}

pub async fn project(id: i64) -> Result<Project, ApiError> {
    get(&format!("/api/projects/{id}")).await
}

pub async fn create_project(name: String) -> Result<Project, ApiError> {
    let patch = ProjectPatch {
        name: Some(name),
        ..ProjectPatch::default()
    };
    call("POST", "/api/projects", &patch).await
}

pub async fn update_project(id: i64, patch: ProjectPatch) -> Result<Project, ApiError> {
    call("PATCH", &format!("/api/projects/{id}"), &patch).await
}

/// Adds an operation to a project's log; a repeat of a stored one is `Ok` too.
pub async fn append(project: i64, entry: &Entry) -> Result<Entry, ApiError> {
    let new = NewEntry {
        op_id: entry.op_id.clone(),
        change: entry.change.clone(),
    };
    call("POST", &format!("/api/projects/{project}/log"), &new).await
}

async fn get<T: DeJson>(path: &str) -> Result<T, ApiError> {
    decode(send("GET", path, None).await?).await
}

async fn call<B: SerJson, T: DeJson>(method: &str, path: &str, body: &B) -> Result<T, ApiError> {
    decode(send(method, path, Some(Body::Json(body.serialize_json()))).await?).await
}

async fn decode<T: DeJson>(response: Response) -> Result<T, ApiError> {
    let body = text(&response).await?;
    if response.ok() {
        return parse(&body);
    }
    Err(refused(response.status(), &body))
}

fn refused(status: u16, body: &str) -> ApiError {
    let (message, fields) = match domain::api::ApiError::deserialize_json(body) {
        Ok(error) => (error.message, error.fields),
        Err(_) => ("The proxy refused the request.".to_owned(), BTreeMap::new()),
    };
    ApiError::Refused {
        status,
        message,
        fields,
    }
}

fn parse<T: DeJson>(body: &str) -> Result<T, ApiError> {
    T::deserialize_json(body).map_err(|err| ApiError::Garbled(err.to_string()))
}

async fn text(response: &Response) -> Result<String, ApiError> {
    let text = response.text().map_err(|_| ApiError::Unreachable)?;
    let text = JsFuture::from(text)
        .await
        .map_err(|_| ApiError::Unreachable)?;
    Ok(text.as_string().unwrap_or_default())
}

enum Body {
    Json(String),
    /// No body; ask for this content type instead of JSON.
    Accept(&'static str),
}

async fn send(method: &str, path: &str, body: Option<Body>) -> Result<Response, ApiError> {
    let window = web_sys::window().ok_or(ApiError::Unreachable)?;
    let init = RequestInit::new();
    init.set_method(method);
    let headers = Headers::new().map_err(|_| ApiError::Unreachable)?;
    match body {
        Some(Body::Json(json)) => {
            let _ = headers.set("accept", "application/json");
            let _ = headers.set("content-type", "application/json");
            init.set_body(&JsValue::from_str(&json));
        }
        Some(Body::Accept(accept)) => {
            let _ = headers.set("accept", accept);
        }
        None => {
            let _ = headers.set("accept", "application/json");
        }
    }
    init.set_headers(&headers);
    let response = JsFuture::from(window.fetch_with_str_and_init(path, &init))
        .await
        .map_err(|_| ApiError::Unreachable)?;
    response.dyn_into().map_err(|_| ApiError::Unreachable)
}
