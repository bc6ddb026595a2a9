//! One page per file.

pub mod escalate;
pub mod project;
pub mod projects;
pub mod setup;
pub mod timeline;
pub mod watch;
