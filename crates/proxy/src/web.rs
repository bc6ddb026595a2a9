//! Serving the built app: hashed assets cached forever, `index.html` never
//! cached, unknown page paths answered with the app (its router takes over),
//! and a Content-Security-Policy that allows the app and nothing external.
//!
//! The build compresses every asset once, at brotli's and gzip's highest
//! levels (`name.br`, `name.gz` beside each file), and these are what a
//! browser gets: the wasm is 22 KB smaller than brotli at the quality a
//! server can afford per request. Nothing here compresses per request.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::body::Bytes;
use axum::extract::Request;
use axum::handler::HandlerWithoutStateExt;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine;
use sha2::{Digest, Sha256};
use tower_http::services::ServeDir;

/// The built app, read once at start-up.
#[derive(Debug)]
pub struct WebApp {
    dist: PathBuf,
    /// `None` when the app has not been built.
    index: Option<String>,
    /// `index.html` as the build compressed it, by content coding.
    index_encoded: Vec<(&'static str, Bytes)>,
    csp: HeaderValue,
}

impl WebApp {
    pub fn load(dist: &Path) -> Self {
        let index = std::fs::read_to_string(dist.join("index.html")).ok();
        let csp = content_security_policy(index.as_deref().unwrap_or_default());
        let index_encoded = [("br", "index.html.br"), ("gzip", "index.html.gz")]
            .into_iter()
            .filter_map(|(coding, file)| {
                Some((coding, Bytes::from(std::fs::read(dist.join(file)).ok()?)))
            })
            .collect();
        WebApp {
            dist: dist.to_owned(),
            index,
            index_encoded,
            csp,
        }
    }

    pub fn is_built(&self) -> bool {
        self.index.is_some()
    }

    pub fn csp(&self) -> HeaderValue {
        self.csp.clone()
    }

    pub fn router(self: Arc<Self>) -> Router {
        let web = self.clone();
        let fallback = move |uri: Uri, headers: HeaderMap| async move { web.page(&uri, &headers) };
        let files = ServeDir::new(&self.dist)
            .append_index_html_on_directories(false)
            .precompressed_br()
            .precompressed_gzip()
            .fallback(fallback.into_service());
        Router::new()
            .fallback_service(files)
            .layer(middleware::from_fn(cache_control))
    }

    /// A path that is not a file: the app's own routes get `index.html`, a
    /// missing asset (the path has an extension) gets a plain 404.
    fn page(&self, uri: &Uri, headers: &HeaderMap) -> Response {
        let last_segment = uri.path().rsplit('/').next().unwrap_or_default();
        if last_segment.contains('.') && last_segment != "index.html" {
            return (StatusCode::NOT_FOUND, "not found").into_response();
        }
        let accepted = headers
            .get_all(header::ACCEPT_ENCODING)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(|coding| coding.split(';').next().unwrap_or_default().trim())
            .collect::<Vec<_>>();
        let encoded = self
            .index_encoded
            .iter()
            .find(|(coding, _)| accepted.contains(coding));
        match (&self.index, encoded) {
            (Some(_), Some((coding, body))) => (
                [
                    (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                    (header::CONTENT_ENCODING, coding),
                    (header::VARY, "accept-encoding"),
                ],
                body.clone(),
            )
                .into_response(),
            (Some(index), None) => Html(index.clone()).into_response(),
            (None, _) => (
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "The Watchpost app has not been built: {} has no index.html. Run scripts/run, or point --dist at a Trunk build.",
                    self.dist.display()
                ),
            )
                .into_response(),
        }
    }
}

/// Trunk names every asset it hashes `name-<16+ hex digits>[_bg].ext`: those
/// never change, so browsers may keep them; anything else must be revalidated.
async fn cache_control(request: Request, next: Next) -> Response<Body> {
    let hashed = request
        .uri()
        .path()
        .rsplit('/')
        .next()
        .is_some_and(is_hashed);
    let mut response = next.run(request).await;
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"));
    let policy = if hashed && response.status().is_success() && !is_html {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    response
}

/// A stylesheet, a script, the wasm or the manifest: browsers apply a
/// Content-Security-Policy to documents and workers only, so on these it
/// would be about 370 bytes of the first load each, for nothing. Documents
/// (the page, an SVG opened on its own, an API answer) keep it.
pub fn is_subresource(response: &Response) -> bool {
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    matches!(
        essence,
        "text/css"
            | "text/javascript"
            | "application/javascript"
            | "application/wasm"
            | "application/manifest+json"
    )
}

fn is_hashed(file_name: &str) -> bool {
    let stem = file_name.split('.').next().unwrap_or_default();
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-')
        .is_some_and(|(_, hash)| hash.len() >= 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Only the app's own origin, plus the inline loader script Trunk writes into
/// `index.html`, allowed by its hash rather than by `'unsafe-inline'`.
fn content_security_policy(index_html: &str) -> HeaderValue {
    let hashes: String = inline_scripts(index_html)
        .map(|script| {
            let digest = Sha256::digest(script.as_bytes());
            format!(
                " 'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            )
        })
        .collect();
    let policy = format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{hashes}; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; font-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'self'; \
         form-action 'self'; frame-ancestors 'none'"
    );
    HeaderValue::from_str(&policy)
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"))
}

/// The bodies of `<script>` elements that have no `src`.
fn inline_scripts(html: &str) -> impl Iterator<Item = &str> {
    html.split("<script").skip(1).filter_map(|rest| {
        let (attributes, rest) = rest.split_once('>')?;
        let (body, _) = rest.split_once("</script>")?;
        (!attributes.contains("src=")).then_some(body)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trunk_hashed_names_are_recognised() {
        assert!(is_hashed("watchpost-app-3f2a9c1b7d4e5f60_bg.wasm"));
        assert!(is_hashed("watchpost-app-3f2a9c1b7d4e5f60.js"));
        assert!(is_hashed("style-0123456789abcdef.css"));
        assert!(!is_hashed("index.html"));
        assert!(!is_hashed("manifest.webmanifest"));
        assert!(!is_hashed("icon-192.png"));
    }

    #[test]
    fn inline_scripts_are_allowed_by_hash_only() {
        let html = r#"<script type="module">import init from '/a.js';</script><script src="/b.js"></script>"#;
        let bodies: Vec<&str> = inline_scripts(html).collect();
        assert_eq!(bodies, ["import init from '/a.js';"]);
        let csp = content_security_policy(html);
        let csp = csp.to_str().unwrap_or_default();
        assert!(csp.contains("'sha256-"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert!(csp.contains("connect-src 'self'"), "{csp}");
    }
}
