//! The setup work the proxy does when an admin asks: each action, which
//! failed checks it answers, what it asks the admin to confirm, and what it
//! sets. The proxy carries them out; the rules of what to do live here.

use nanoserde::{DeBin, SerBin};
use serde::{Deserialize, Serialize};

use crate::check::CheckKind;
use crate::playbook::Item;
use crate::project::{Platform, Project};

/// Defines [`ActionKind`] with its wire name and label in one table.
macro_rules! actions {
    ($( $variant:ident = $name:literal, $label:literal; )*) => {
        /// Something the proxy can change on a service, for an admin.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ActionKind { $( $variant, )* }

        impl ActionKind {
            pub const ALL: &'static [ActionKind] = &[$( ActionKind::$variant, )*];

            /// The name the API uses: `POST .../actions/{name}`.
            pub fn name(self) -> &'static str {
                match self { $( ActionKind::$variant => $name, )* }
            }

            /// The button's text.
            pub fn label(self) -> &'static str {
                match self { $( ActionKind::$variant => $label, )* }
            }
        }
    };
}

actions! {
    CreateProject = "sentry.create_project", "Create the Sentry project";
    CreateAlertRules = "sentry.create_alert_rules", "Create the missing alert rules";
    SetEnvVars = "render.set_env_vars", "Set the missing env vars";
    Deploy = "render.deploy", "Deploy on Render";
    SlackTest = "slack.test_message", "Send a Slack test message";
    TestEvent = "sentry.test_event", "Send a test event";
    Rollback = "render.rollback", "Roll back on Render";
}

impl ActionKind {
    pub fn from_name(name: &str) -> Option<ActionKind> {
        ActionKind::ALL
            .iter()
            .copied()
            .find(|kind| kind.name() == name)
    }

    /// The action that fixes `item` when its check fails, if there is one.
    pub fn for_item(item: &Item) -> Option<ActionKind> {
        match item.verify.check()? {
            // The frontend project is created in Sentry by hand: its platform
            // (Next.js) is not the backend's, and it is optional.
            CheckKind::SentryProject
                if item.with.get("project").map(String::as_str) == Some("backend") =>
            {
                Some(ActionKind::CreateProject)
            }
            CheckKind::SentryAlertRule => Some(ActionKind::CreateAlertRules),
            CheckKind::RenderEnvVar | CheckKind::RenderDsnMatches => Some(ActionKind::SetEnvVars),
            CheckKind::RenderDeployLive => Some(ActionKind::Deploy),
            CheckKind::SlackWebhook => Some(ActionKind::SlackTest),
            CheckKind::SentryEvents => Some(ActionKind::TestEvent),
            _ => None,
        }
    }

    /// Whether the action can change what `item`'s check finds: the items
    /// to check again once it is done.
    pub fn affects(self, item: &Item) -> bool {
        let backend = item.with.get("project").map(String::as_str) == Some("backend");
        ActionKind::for_item(item) == Some(self)
            || (self == ActionKind::CreateProject
                && backend
                && item.verify.check() == Some(CheckKind::SentryDsn))
    }

    /// What the admin confirms before the action runs, in words.
    pub fn confirmation(self, project: &Project) -> String {
        let or_unset = |value: &Option<String>, what: &str| {
            value.clone().unwrap_or_else(|| format!("(no {what} set)"))
        };
        match self {
            ActionKind::CreateProject => format!(
                "Create the Sentry project “{}” ({}) in the team “{}”?",
                or_unset(&project.sentry_project, "Sentry project"),
                project.platform.map_or("platform not set", Platform::label),
                or_unset(&project.sentry_team, "Sentry team"),
            ),
            ActionKind::CreateAlertRules => {
                "Create the alert rules of the playbook that Sentry does not have yet?".to_owned()
            }
            ActionKind::SetEnvVars => format!(
                "Set the missing Sentry variables on the Render service {}? They take effect at the next deploy.",
                or_unset(&project.render_service_id, "service id"),
            ),
            ActionKind::Deploy => format!(
                "Start a deploy of {} on Render now?",
                or_unset(&project.render_service_id, "service id"),
            ),
            ActionKind::SlackTest => "Post a test message to the Slack channel?".to_owned(),
            ActionKind::TestEvent => {
                "Send a test error to Sentry through the project's DSN, and wait for it to appear?"
                    .to_owned()
            }
            ActionKind::Rollback => format!(
                "Roll {} back to its previous live deploy on Render? Type the service's name to confirm.",
                or_unset(&project.render_service_id, "service id"),
            ),
        }
    }
}

/// How an action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, SerBin, DeBin)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    /// It changed what it says it changed.
    Done,
    /// Everything was already in place; nothing was changed.
    Unchanged,
    /// Started; its result follows in a later entry (a test event on its way).
    Pending,
    Failed,
}

impl ActionStatus {
    pub fn name(self) -> &'static str {
        match self {
            ActionStatus::Done => "done",
            ActionStatus::Unchanged => "unchanged",
            ActionStatus::Pending => "pending",
            ActionStatus::Failed => "failed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ActionStatus::Done => "done",
            ActionStatus::Unchanged => "nothing to change",
            ActionStatus::Pending => "under way",
            ActionStatus::Failed => "failed",
        }
    }
}

/// The traces sample rate seed 000 recommends for production.
pub const TRACES_SAMPLE_RATE: &str = "0.1";

/// The title every test event Watchpost sends starts with, followed by its
/// id; it also carries the tag `watchpost:test`. Counts, new issues and
/// critical issues leave such issues out.
pub const TEST_EVENT_TITLE: &str = "Watchpost test event";

/// Whether an issue of that title is one of Watchpost's test events.
pub fn is_test_event(title: &str) -> bool {
    title.starts_with(TEST_EVENT_TITLE)
}

/// The env vars a Render service needs for Sentry (seed 000), with the value
/// each should have: `SENTRY_DSN` is the project's public DSN; `NODE_ENV`
/// only for Node.js; `SENTRY_RELEASE` the deployed commit, when known.
pub fn wanted_env_vars(
    public_dsn: &str,
    platform: Option<Platform>,
    deployed_commit: Option<&str>,
) -> Vec<(&'static str, String)> {
    let mut wanted = vec![
        ("SENTRY_DSN", public_dsn.to_owned()),
        ("SENTRY_ENVIRONMENT", "production".to_owned()),
        ("SENTRY_TRACES_SAMPLE_RATE", TRACES_SAMPLE_RATE.to_owned()),
        ("SENTRY_SEND_DEFAULT_PII", "false".to_owned()),
    ];
    if matches!(platform, Some(Platform::Node | Platform::Nextjs)) {
        wanted.push(("NODE_ENV", "production".to_owned()));
    }
    if let Some(commit) = deployed_commit {
        wanted.push(("SENTRY_RELEASE", commit.to_owned()));
    }
    wanted
}

/// Variables whose value, once set, is the team's choice: set when missing,
/// never overwritten.
const TEAM_S_CHOICE: [&str; 2] = ["SENTRY_TRACES_SAMPLE_RATE", "SENTRY_RELEASE"];

/// Which of `wanted` to set, given what the service has: a variable that is
/// missing, or (but for the team's own choices) whose value differs.
/// `present` says whether a present value is the wanted one.
pub fn env_vars_to_set<'a>(
    wanted: &'a [(&'static str, String)],
    present: impl Fn(&str) -> Option<bool>,
) -> Vec<&'a (&'static str, String)> {
    wanted
        .iter()
        .filter(|(key, _)| match present(key) {
            None => true,
            Some(same) => !same && !TEAM_S_CHOICE.contains(key),
        })
        .collect()
}

/// The SDK's start-up code for a platform, filled in with the project's
/// public DSN and the seeds' settings, for the "wait for the first event" view.
pub fn sdk_snippet(platform: Platform, public_dsn: &str) -> String {
    match platform {
        Platform::Node => format!(
            "// instrument.js, required before anything else\nconst Sentry = require(\"@sentry/node\");\n\nSentry.init({{\n  dsn: process.env.SENTRY_DSN || \"{public_dsn}\",\n  environment: process.env.SENTRY_ENVIRONMENT || \"production\",\n  tracesSampleRate: {TRACES_SAMPLE_RATE},\n  sendDefaultPii: false,\n}});\n\n// after all routes of the Express app:\n// Sentry.setupExpressErrorHandler(app);\n"
        ),
        Platform::Fastapi => format!(
            "# main.py, before the FastAPI app is created\nimport os\nimport sentry_sdk\n\nsentry_sdk.init(\n    dsn=os.environ.get(\"SENTRY_DSN\", \"{public_dsn}\"),\n    environment=os.environ.get(\"SENTRY_ENVIRONMENT\", \"production\"),\n    traces_sample_rate={TRACES_SAMPLE_RATE},\n    send_default_pii=False,\n)\n"
        ),
        Platform::Nextjs => format!(
            "// sentry.server.config.ts and sentry.client.config.ts\nimport * as Sentry from \"@sentry/nextjs\";\n\nSentry.init({{\n  dsn: process.env.NEXT_PUBLIC_SENTRY_DSN || \"{public_dsn}\",\n  environment: process.env.SENTRY_ENVIRONMENT || \"production\",\n  tracesSampleRate: {TRACES_SAMPLE_RATE},\n  sendDefaultPii: false,\n}});\n"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Verify;
    use crate::keyed::Keyed;

    fn item(check: CheckKind, with: &[(&str, &str)]) -> Item {
        Item {
            id: "x".into(),
            text: "x".into(),
            verify: Verify::Check(check),
            with: with
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<Keyed<String>>(),
        }
    }

    #[test]
    fn names_round_trip_and_failed_checks_find_their_action() {
        for kind in ActionKind::ALL {
            assert_eq!(ActionKind::from_name(kind.name()), Some(*kind));
        }
        assert_eq!(ActionKind::from_name("render.restart"), None);
        let backend = item(CheckKind::SentryProject, &[("project", "backend")]);
        assert_eq!(
            ActionKind::for_item(&backend),
            Some(ActionKind::CreateProject)
        );
        let frontend = item(CheckKind::SentryProject, &[("project", "frontend")]);
        assert_eq!(ActionKind::for_item(&frontend), None);
        let env = item(CheckKind::RenderEnvVar, &[("key", "NODE_ENV")]);
        assert_eq!(ActionKind::for_item(&env), Some(ActionKind::SetEnvVars));
        assert_eq!(
            ActionKind::for_item(&item(CheckKind::HealthEndpoint, &[])),
            None
        );
    }

    #[test]
    fn only_missing_or_wrong_variables_are_set_and_a_chosen_sample_rate_stays() {
        let wanted = wanted_env_vars(
            "https://k@o1.ingest.sentry.io/4",
            Some(Platform::Node),
            Some("b2c3d4e"),
        );
        let keys: Vec<&str> = wanted.iter().map(|(key, _)| *key).collect();
        assert!(keys.contains(&"NODE_ENV"));
        assert!(wanted.contains(&("SENTRY_RELEASE", "b2c3d4e".to_owned())));
        let fastapi = wanted_env_vars(
            "https://k@o1.ingest.sentry.io/4",
            Some(Platform::Fastapi),
            None,
        );
        assert!(
            !fastapi
                .iter()
                .any(|(key, _)| *key == "NODE_ENV" || *key == "SENTRY_RELEASE")
        );

        let set = env_vars_to_set(&wanted, |key| match key {
            "SENTRY_DSN" => Some(true),
            "SENTRY_ENVIRONMENT" => Some(false),
            "SENTRY_TRACES_SAMPLE_RATE" | "SENTRY_RELEASE" => Some(false),
            _ => None,
        });
        let set: Vec<&str> = set.iter().map(|(key, _)| *key).collect();
        assert_eq!(
            set,
            ["SENTRY_ENVIRONMENT", "SENTRY_SEND_DEFAULT_PII", "NODE_ENV"]
        );
    }

    #[test]
    fn snippets_carry_the_dsn_and_the_seeds_settings() {
        for platform in Platform::ALL {
            let snippet = sdk_snippet(platform, "https://k@o1.ingest.sentry.io/4");
            assert!(
                snippet.contains("https://k@o1.ingest.sentry.io/4"),
                "{snippet}"
            );
            assert!(snippet.contains("0.1"), "{snippet}");
            assert!(snippet.to_lowercase().contains("production"), "{snippet}");
        }
    }

    #[test]
    fn the_confirmation_names_what_will_change() {
        let mut project = Project::blank(1);
        project.sentry_project = Some("voxanne".into());
        project.sentry_team = Some("launch".into());
        project.platform = Some(Platform::Node);
        let asked = ActionKind::CreateProject.confirmation(&project);
        assert_eq!(
            asked,
            "Create the Sentry project “voxanne” (Node.js) in the team “launch”?"
        );
        project.render_service_id = None;
        assert!(
            ActionKind::Deploy
                .confirmation(&project)
                .contains("(no service id set)")
        );
    }
}
