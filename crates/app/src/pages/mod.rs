//! One page per file.

pub mod escalate;
pub mod project;
pub mod projects;
pub mod settings;
pub mod setup;
pub mod sign_in;
pub mod timeline;
pub mod watch;
