//! Watchpost's shared crate: the playbook model, the API messages and the pure
//! rules both the proxy and the app rely on.
//!
//! It does no I/O: callers hand it strings and values, it hands back data or
//! errors. That keeps every rule testable natively and fast, and lets the same
//! code run in the browser.

pub mod action;
pub mod alerts;
pub mod api;
pub mod attention;
pub mod binary;
pub mod chart;
pub mod check;
pub mod condition;
pub mod database;
pub mod dsn;
pub mod errors;
pub mod escalation;
pub mod health;
pub mod host;
pub mod json;
pub mod keyed;
pub mod playbook;
pub mod project;
pub mod quota;
pub mod route;
pub mod run;
pub mod signoff;
pub mod snapshot;
pub mod sync;
pub mod watch;

pub use check::{CheckKind, Verify};
pub use playbook::{Playbook, PlaybookError};
