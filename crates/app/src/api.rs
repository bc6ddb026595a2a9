//! Every HTTP call the app makes, each returning `Result`. Same origin only:
//! the proxy serves both the app and `/api`, and the session cookie goes with
//! each call by itself.
//!
//! Answers come in the app's binary form (`domain::binary`): a JSON decoder
//! would cost the wasm about 20 KB gzip. Requests are JSON, as the API takes
//! them; error bodies are JSON too, read with the browser's own parser.

use std::fmt;

use domain::Playbook;
use domain::action::ActionKind;
use domain::api::{ActionPreview, Health, Session, SignIn, Snippet};
use domain::binary::{self, MEDIA_TYPE};
use domain::health::Report;
use domain::keyed::Keyed;
use domain::project::{Project, ProjectPatch};
use domain::run::{Entry, NewEntry};
use domain::signoff::SignOffReport;
use domain::watch::Glance;
use nanoserde::DeBin;
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
        fields: Keyed<String>,
    },
    /// The proxy answered something this app does not understand: the page
    /// is older than the proxy.
    Garbled,
}

impl ApiError {
    /// The HTTP status, when the proxy answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Refused { status, .. } => Some(*status),
            ApiError::Unreachable | ApiError::Garbled => None,
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
                "Watchpost cannot be reached. Check this device's connection, then try again.",
            ),
            // The proxy's own words: what went wrong and what to do.
            ApiError::Refused { message, .. } => f.write_str(message),
            ApiError::Garbled => f.write_str(
                "Watchpost sent an answer this page cannot read. Reload the page: it is out of date.",
            ),
        }
    }
}

impl std::error::Error for ApiError {}

pub async fn health() -> Result<Health, ApiError> {
    // A degraded proxy answers 503 with the same body: read it either way.
    let response = send("GET", "/api/health", None).await?;
    parse(&response).await
}

pub async fn playbook() -> Result<Playbook, ApiError> {
    get("/api/playbook").await
}

/// Who is signed in; `Err` with status 401 when nobody is.
pub async fn session() -> Result<Session, ApiError> {
    get("/api/session").await
}

pub async fn sign_in(name: String, passcode: String) -> Result<Session, ApiError> {
    call("POST", "/api/session", SignIn { name, passcode }.to_json()).await
}

pub async fn sign_out() -> Result<(), ApiError> {
    match accepted(send("DELETE", "/api/session", None).await?).await {
        // Already signed out (elsewhere, or expired): the same end.
        Err(err) if err.is_signed_out() => Ok(()),
        answer => answer.map(drop),
    }
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
    call("POST", "/api/projects", patch.to_json()).await
}

pub async fn update_project(id: i64, patch: ProjectPatch) -> Result<Project, ApiError> {
    call("PATCH", &format!("/api/projects/{id}"), patch.to_json()).await
}

/// Adds an operation to a project's log; a repeat of a stored one is `Ok` too.
/// The stored entry itself comes back over the live stream.
pub async fn append(project: i64, entry: &Entry) -> Result<(), ApiError> {
    let new = NewEntry {
        op_id: entry.op_id.clone(),
        change: entry.change.clone(),
    };
    let path = format!("/api/projects/{project}/log");
    accepted(send("POST", &path, Some(new.to_json())).await?)
        .await
        .map(drop)
}

/// Asks the proxy to run live checks (one item, or several; none for the whole
/// setup). The results come back over the live stream, as log entries.
pub async fn run_checks(project: i64, items: &[String]) -> Result<(), ApiError> {
    let (path, body) = match items {
        [one] => (format!("/api/projects/{project}/checks/{one}"), None),
        _ => (
            format!("/api/projects/{project}/checks"),
            Some(domain::json::check_request(items)),
        ),
    };
    accepted(send("POST", &path, body).await?).await.map(drop)
}

/// Asks the proxy to carry out an action (admins). What it did comes back
/// over the live stream, as an `action_taken` entry.
pub async fn run_action(
    project: i64,
    action: ActionKind,
    seed_003_rules: bool,
) -> Result<(), ApiError> {
    let path = format!("/api/projects/{project}/actions/{}", action.name());
    let body = if seed_003_rules {
        r#"{"seed_003_rules":true}"#
    } else {
        "{}"
    };
    accepted(send("POST", &path, Some(body.to_owned())).await?)
        .await
        .map(drop)
}

/// Rolls the Render service back (admins), `confirm` being its name as
/// typed and `over` the newer deploy in progress the admin saw and rolls
/// back over. What follows comes over the live stream, as `action_taken`
/// entries.
pub async fn rollback(project: i64, confirm: String, over: Option<String>) -> Result<(), ApiError> {
    let mut body = domain::json::Object::default().text("confirm", &confirm);
    if let Some(deploy) = &over {
        body = body.text("over_deploy", deploy);
    }
    let body = body.finish();
    let path = format!("/api/projects/{project}/rollback");
    accepted(send("POST", &path, Some(body)).await?)
        .await
        .map(drop)
}

/// What an action would do now, for its confirmation.
pub async fn action_preview(project: i64, action: ActionKind) -> Result<ActionPreview, ApiError> {
    let path = match action {
        ActionKind::Rollback => format!("/api/projects/{project}/rollback"),
        _ => format!("/api/projects/{project}/actions/{}", action.name()),
    };
    get(&path).await
}

/// The SDK's start-up code for the project, filled in with its public DSN.
pub async fn sdk_snippet(project: i64) -> Result<Snippet, ApiError> {
    get(&format!("/api/projects/{project}/sdk-snippet")).await
}

/// Each success criterion as the proxy measures it now.
pub async fn sign_off_report(project: i64) -> Result<SignOffReport, ApiError> {
    get(&format!("/api/projects/{project}/sign-off")).await
}

/// Waives what has a reason and signs off (admins); refused with what blocks it.
pub async fn sign_off(
    project: i64,
    waivers: &[(String, String)],
    note: &str,
) -> Result<SignOffReport, ApiError> {
    let body = domain::json::sign_off_request(waivers, note);
    call("POST", &format!("/api/projects/{project}/sign-off"), body).await
}

/// Every open project's watch at a glance.
pub async fn watches() -> Result<Vec<Glance>, ApiError> {
    get("/api/watches").await
}

/// Starts the watch now, or from `start` (RFC 3339).
pub async fn start_watch(project: i64, start: Option<String>) -> Result<(), ApiError> {
    let body = match start {
        Some(start) => domain::json::Object::default().text("start", &start),
        None => domain::json::Object::default(),
    };
    let path = format!("/api/projects/{project}/watch");
    accepted(send("POST", &path, Some(body.finish())).await?)
        .await
        .map(drop)
}

/// Asks the proxy to judge every target now; the snapshot and each check
/// come back over the live stream.
pub async fn take_snapshot(project: i64) -> Result<(), ApiError> {
    let path = format!("/api/projects/{project}/snapshots");
    accepted(send("POST", &path, None).await?).await.map(drop)
}

/// The sampler's figures for `window` (`1h`, `24h` or `run`), with the server's clock.
pub async fn health_report(project: i64, window: &str) -> Result<Report, ApiError> {
    get(&format!("/api/projects/{project}/health?window={window}")).await
}

async fn get<T: DeBin>(path: &str) -> Result<T, ApiError> {
    decode(send("GET", path, None).await?).await
}

/// Sends a JSON body (`to_json` of a shared type) and decodes the answer.
async fn call<T: DeBin>(method: &str, path: &str, json: String) -> Result<T, ApiError> {
    decode(send(method, path, Some(json)).await?).await
}

async fn decode<T: DeBin>(response: Response) -> Result<T, ApiError> {
    parse(&accepted(response).await?).await
}

/// The response when the proxy accepted the request, or what it refused.
async fn accepted(response: Response) -> Result<Response, ApiError> {
    if response.ok() {
        return Ok(response);
    }
    Err(refused(response.status(), &text(&response).await?))
}

/// The API's error body, `{"error","message","fields"}`.
fn refused(status: u16, body: &str) -> ApiError {
    let error = js_sys::JSON::parse(body).unwrap_or(JsValue::NULL);
    let field =
        |value: &JsValue, name: &str| js_sys::Reflect::get(value, &JsValue::from_str(name)).ok();
    let message = field(&error, "message")
        .and_then(|message| message.as_string())
        .unwrap_or_else(|| {
            "Watchpost could not do this just now. Try again in a moment.".to_owned()
        });
    let mut fields = Keyed::default();
    if let Some(problems) = field(&error, "fields").filter(JsValue::is_object) {
        let problems: js_sys::Object = problems.unchecked_into();
        for key in js_sys::Object::keys(&problems).iter() {
            let Some(name) = key.as_string() else {
                continue;
            };
            if let Some(problem) = field(&problems, &name).and_then(|p| p.as_string()) {
                fields.insert(&name, problem);
            }
        }
    }
    ApiError::Refused {
        status,
        message,
        fields,
    }
}

async fn parse<T: DeBin>(response: &Response) -> Result<T, ApiError> {
    let buffer = JsFuture::from(response.array_buffer().map_err(|_| ApiError::Unreachable)?)
        .await
        .map_err(|_| ApiError::Unreachable)?;
    let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
    binary::decode(&bytes).map_err(|_| ApiError::Garbled)
}

async fn text(response: &Response) -> Result<String, ApiError> {
    let text = response.text().map_err(|_| ApiError::Unreachable)?;
    let text = JsFuture::from(text)
        .await
        .map_err(|_| ApiError::Unreachable)?;
    Ok(text.as_string().unwrap_or_default())
}

async fn send(method: &str, path: &str, json: Option<String>) -> Result<Response, ApiError> {
    let window = web_sys::window().ok_or(ApiError::Unreachable)?;
    let init = RequestInit::new();
    init.set_method(method);
    let headers = Headers::new().map_err(|_| ApiError::Unreachable)?;
    let _ = headers.set("accept", MEDIA_TYPE);
    if let Some(json) = json {
        let _ = headers.set("content-type", "application/json");
        init.set_body(&JsValue::from_str(&json));
    }
    init.set_headers(&headers);
    let response = JsFuture::from(window.fetch_with_str_and_init(path, &init))
        .await
        .map_err(|_| ApiError::Unreachable)?;
    response.dyn_into().map_err(|_| ApiError::Unreachable)
}
