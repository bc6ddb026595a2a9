//! The messages the proxy and the app exchange over HTTP.

use std::collections::BTreeMap;

use nanoserde::{DeBin, SerBin};
use serde::{Deserialize, Serialize};

use crate::keyed::Keyed;

/// `GET /api/health`, in the format the seeds ask teams to serve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, SerBin, DeBin)]
pub struct Health {
    pub status: HealthStatus,
    /// Each dependency and whether it answers.
    pub services: Keyed<bool>,
    /// RFC 3339.
    pub timestamp: String,
    /// Seconds since the server started.
    pub uptime: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, SerBin, DeBin)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    Ok,
    Degraded,
}

impl Health {
    /// The status follows from the services: ok only when every one is up.
    pub fn new(services: Keyed<bool>, timestamp: String, uptime: u64) -> Self {
        let status = if services.iter().all(|(_, up)| *up) {
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// A stable, machine-readable code such as `not_found`.
    pub error: String,
    /// What went wrong and what to do, for people.
    pub message: String,
    /// For a form: what is wrong with each field, by field name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
}

/// Who may do what. Each role may do everything the ones before it may.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, SerBin, DeBin,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads everything.
    Viewer,
    /// Ticks, notes and decides.
    Member,
    /// Creates projects and changes their settings.
    Admin,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Member => "member",
            Role::Admin => "admin",
        }
    }

    pub fn from_name(name: &str) -> Option<Role> {
        [Role::Viewer, Role::Member, Role::Admin]
            .into_iter()
            .find(|role| role.name() == name)
    }
}

/// `POST /api/session`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    pub name: String,
    pub passcode: String,
}

/// Who is signed in: the answer of `GET` and `POST /api/session`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, SerBin, DeBin)]
pub struct Session {
    pub name: String,
    pub role: Role,
    /// When the session ends, RFC 3339.
    pub expires: String,
}

pub const DISPLAY_NAME_MAX: usize = 40;

/// The display name a person signs in with, trimmed, or why it cannot be used.
/// It is how the timeline says who did what, so it must be readable.
pub fn validated_display_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() {
        Err("type your name, so the team sees who did what".to_owned())
    } else if name.chars().count() > DISPLAY_NAME_MAX {
        Err(format!("a name has at most {DISPLAY_NAME_MAX} characters"))
    } else if name.chars().any(char::is_control) {
        Err("a name cannot contain control characters".to_owned())
    } else if name.chars().any(is_invisible) {
        Err(
            "a name cannot contain invisible or text-direction characters; type it plainly"
                .to_owned(),
        )
    } else {
        Ok(name.to_owned())
    }
}

/// Characters that show nothing, or reorder what follows, so that two names
/// that look alike are different text (or a name looks empty): zero-width
/// and joiner characters, bidirectional controls, fillers, tags.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{2800}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFFB}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
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
        use nanoserde::{DeBin, SerBin};
        let health = Health::new(
            [("store".to_owned(), false)].into(),
            "2026-11-22T12:00:00Z".into(),
            7,
        );
        assert_eq!(
            Health::deserialize_bin(&health.serialize_bin()).ok(),
            Some(health)
        );

        let session = Session {
            name: "Dana «night»".into(),
            role: Role::Member,
            expires: "2026-11-23T00:00:00Z".into(),
        };
        assert_eq!(
            Session::deserialize_bin(&session.serialize_bin()).ok(),
            Some(session)
        );
    }

    #[test]
    fn form_errors_name_their_fields_and_are_left_out_when_there_are_none() {
        let error = ApiError {
            error: "invalid".into(),
            message: "2 settings cannot be used".into(),
            fields: [("timezone".to_owned(), "not a zone".to_owned())].into(),
        };
        let json = serde_json::to_value(&error).unwrap();
        assert_eq!(json["fields"]["timezone"], "not a zone");
        let plain = ApiError {
            fields: BTreeMap::new(),
            ..error
        };
        let json = serde_json::to_value(&plain).unwrap();
        assert!(json.get("fields").is_none(), "{json}");
    }

    #[test]
    fn roles_are_ordered_by_what_they_may_do() {
        assert!(Role::Viewer < Role::Member && Role::Member < Role::Admin);
        for role in [Role::Viewer, Role::Member, Role::Admin] {
            assert_eq!(Role::from_name(role.name()), Some(role));
        }
    }

    #[test]
    fn display_names_are_trimmed_and_bounded() {
        assert_eq!(validated_display_name(" Dana "), Ok("Dana".to_owned()));
        assert!(validated_display_name("").is_err());
        assert!(validated_display_name(&"x".repeat(DISPLAY_NAME_MAX + 1)).is_err());
        assert!(validated_display_name("a\nb").is_err());
    }

    #[test]
    fn display_names_refuse_invisible_and_direction_characters() {
        for name in [
            "da\u{200B}na",
            "\u{202E}anad",
            "dana\u{2066}",
            "\u{200B}\u{200C}\u{200D}",
            "\u{3164}",
            "\u{2800}",
            "da\u{FEFF}na",
            "dana\u{E0041}",
        ] {
            let refused = validated_display_name(name);
            assert!(
                refused.as_ref().is_err_and(|why| why.contains("invisible")),
                "{name:?}: {refused:?}"
            );
        }
        assert_eq!(
            validated_display_name("Zoë Ångström-Đặng 李"),
            Ok("Zoë Ångström-Đặng 李".to_owned())
        );
    }
}

/// What an action would do now, for its confirmation to show: a rollback of
/// the project's Render service (`GET /api/projects/{id}/rollback`), or any
/// other action (`GET /api/projects/{id}/actions/{action}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, SerBin, DeBin)]
pub struct ActionPreview {
    /// The Render service's name, where the action changes one: what the
    /// admin types to confirm a rollback.
    pub service: Option<String>,
    /// What it will do, a sentence each, in the project's time zone: the
    /// deploy a rollback leaves and the one it returns to; each variable set
    /// on Render, its value masked where it is not the playbook's.
    pub plan: Vec<String>,
    /// Why the rest could not be read, and what to do.
    pub problem: Option<String>,
}

/// The SDK's start-up code for the project's platform, filled in with the
/// backend project's public DSN (`GET /api/projects/{id}/sdk-snippet`), for
/// the step that installs the SDK and the wait for the first event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, SerBin, DeBin)]
pub struct Snippet {
    /// What the code is for: "Initialize Sentry in Node.js".
    pub caption: String,
    pub code: String,
    /// What could not be filled in (the DSN, the platform), and what to do.
    pub problem: Option<String>,
}
