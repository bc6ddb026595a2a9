//! The messages the proxy and the app exchange over HTTP.

use std::collections::BTreeMap;

use nanoserde::{DeJson, SerJson};
use serde::{Deserialize, Serialize};

/// `GET /api/health`, in the format the seeds ask teams to serve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DeJson)]
pub struct Health {
    pub status: HealthStatus,
    /// Each dependency and whether it answers.
    pub services: BTreeMap<String, bool>,
    /// RFC 3339.
    pub timestamp: String,
    /// Seconds since the server started.
    pub uptime: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, DeJson)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    #[nserde(rename = "ok")]
    Ok,
    #[nserde(rename = "degraded")]
    Degraded,
}

impl Health {
    /// The status follows from the services: ok only when every one is up.
    pub fn new(services: BTreeMap<String, bool>, timestamp: String, uptime: u64) -> Self {
        let status = if services.values().all(|up| *up) {
            HealthStatus::Ok
        } else {
            HealthStatus::Degraded
        };
        Health {
            status,
            services,
            timestamp,
            uptime,
        }
    }
}

/// The body of every error answer from `/api`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, DeJson)]
pub struct ApiError {
    /// A stable, machine-readable code such as `not_found`.
    pub error: String,
    /// What went wrong and what to do, for people.
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, DeJson)]
pub struct Project {
    pub id: i64,
    pub name: String,
    pub archived: bool,
}

/// `POST /api/projects`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, SerJson)]
#[serde(deny_unknown_fields)]
pub struct NewProject {
    pub name: String,
}

pub const PROJECT_NAME_MAX: usize = 80;

impl NewProject {
    /// The trimmed name, or why it cannot be used.
    pub fn validated_name(&self) -> Result<String, String> {
        let name = self.name.trim();
        if name.is_empty() {
            Err("a project needs a name".to_owned())
        } else if name.chars().count() > PROJECT_NAME_MAX {
            Err(format!(
                "a project name has at most {PROJECT_NAME_MAX} characters"
            ))
        } else if name.chars().any(char::is_control) {
            Err("a project name cannot contain control characters".to_owned())
        } else {
            Ok(name.to_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_is_degraded_when_any_service_is_down() {
        let up = Health::new([("store".to_owned(), true)].into(), "t".into(), 1);
        assert_eq!(up.status, HealthStatus::Ok);
        let down = Health::new(
            [("store".to_owned(), true), ("x".to_owned(), false)].into(),
            "t".into(),
            1,
        );
        assert_eq!(down.status, HealthStatus::Degraded);
        let json = serde_json::to_value(&down).unwrap();
        assert_eq!(json["status"], "degraded");
        assert_eq!(json["services"]["x"], false);
    }

    #[test]
    fn the_app_decodes_what_the_proxy_sends_and_sends_what_it_reads() {
        use nanoserde::{DeJson, SerJson};
        let health = Health::new(
            [("store".to_owned(), false)].into(),
            "2026-11-22T12:00:00Z".into(),
            7,
        );
        let json = serde_json::to_string(&health).unwrap();
        assert_eq!(Health::deserialize_json(&json).ok(), Some(health));

        let projects = vec![Project {
            id: 1,
            name: "Voxanne «backend» → 2".into(),
            archived: true,
        }];
        let json = serde_json::to_string(&projects).unwrap();
        assert_eq!(Vec::<Project>::deserialize_json(&json).ok(), Some(projects));

        let error = ApiError {
            error: "not_found".into(),
            message: "there is no project \"9\"".into(),
        };
        let json = serde_json::to_string(&error).unwrap();
        assert_eq!(ApiError::deserialize_json(&json).ok(), Some(error));

        let new = NewProject {
            name: "Quote \" and \\ backslash".into(),
        };
        let back: NewProject = serde_json::from_str(&new.serialize_json()).unwrap();
        assert_eq!(back, new);
    }

    #[test]
    fn project_names_are_trimmed_and_bounded() {
        let name = |s: &str| NewProject { name: s.to_owned() }.validated_name();
        assert_eq!(name("  Voxanne  "), Ok("Voxanne".to_owned()));
        assert!(name("   ").is_err());
        assert!(name(&"x".repeat(PROJECT_NAME_MAX + 1)).is_err());
        assert!(name(&"é".repeat(PROJECT_NAME_MAX)).is_ok());
        assert!(name("a\u{7}b").is_err());
    }
}
