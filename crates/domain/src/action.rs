//! The setup work the proxy does when an admin asks: each action, which
//! failed checks it answers, what it asks the admin to confirm, and what it
//! sets. The proxy carries them out; the rules of what to do live here.

use nanoserde::{DeBin, SerBin};
use serde::{Deserialize, Serialize};

use crate::check::CheckKind;
use crate::playbook::Item;
use crate::playbook::Sdk;
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
    FitSampleRate = "render.fit_sample_rate", "Lower the traces sample rate to fit";
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
            CheckKind::RenderEnvVar | CheckKind::RenderDsnMatches | CheckKind::SentryRelease => {
                Some(ActionKind::SetEnvVars)
            }
            CheckKind::RenderDeployLive => Some(ActionKind::Deploy),
            CheckKind::SlackWebhook => Some(ActionKind::SlackTest),
            CheckKind::SentryEvents => Some(ActionKind::TestEvent),
            CheckKind::SentryQuota => Some(ActionKind::FitSampleRate),
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

    /// What the admin confirms before the action runs, in words; `service`
    /// is the Render service as people know it (“voxanne-backend”).
    pub fn confirmation(self, project: &Project, service: &str) -> String {
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
            ActionKind::SetEnvVars => {
                format!("Set these variables on {service}? They take effect at the next deploy.")
            }
            ActionKind::Deploy => format!("Start a deploy of {service} on Render now?"),
            ActionKind::SlackTest => "Post a test message to the Slack channel?".to_owned(),
            ActionKind::TestEvent => {
                "Send a test error to Sentry through the project's DSN, and wait for it to appear?"
                    .to_owned()
            }
            ActionKind::FitSampleRate => format!(
                "Lower SENTRY_TRACES_SAMPLE_RATE on {service} to the rate that fits this month's quota? It takes effect at the next deploy."
            ),
            ActionKind::Rollback => format!(
                "Roll {service} back to its previous live deploy on Render? Type the service's name to confirm."
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

/// The title every test event Watchpost sends starts with, followed by its
/// id; it also carries the tag `watchpost:test`. Counts, new issues and
/// critical issues leave such issues out.
pub const TEST_EVENT_TITLE: &str = "Watchpost test event";

/// Whether an issue of that title is one of Watchpost's test events.
pub fn is_test_event(title: &str) -> bool {
    title.starts_with(TEST_EVENT_TITLE)
}

/// The env vars a Render service needs for Sentry, with the value each
/// should have: the DSN variable holds the project's public DSN, the rest
/// come from the platform's seed (`sdk`).
pub fn wanted_env_vars(public_dsn: &str, sdk: &Sdk) -> Vec<(String, String)> {
    let mut wanted = vec![(sdk.dsn.clone(), public_dsn.to_owned())];
    wanted.extend(
        sdk.settings
            .iter()
            .map(|setting| (setting.key.clone(), setting.value.clone())),
    );
    wanted
}

/// Which of `wanted` to set, given what the service has: a variable that is
/// missing, or (but for the team's own choices) whose value differs.
/// `present` says whether a present value is the wanted one.
pub fn env_vars_to_set<'a>(
    wanted: &'a [(String, String)],
    sdk: &Sdk,
    present: impl Fn(&str) -> Option<bool>,
) -> Vec<&'a (String, String)> {
    let team_s_choice = |key: &str| {
        sdk.settings
            .iter()
            .any(|setting| setting.key == key && setting.team_choice)
    };
    wanted
        .iter()
        .filter(|(key, _)| match present(key) {
            None => true,
            Some(same) => !same && !team_s_choice(key),
        })
        .collect()
}

/// The variable a fixed release was set in, which the next deploy leaves
/// stale: the snippets take the release from the deployed commit instead.
pub const FIXED_RELEASE: &str = "SENTRY_RELEASE";

/// The SDK's start-up code for a platform, filled in with the project's
/// public DSN and its seed's settings, for the "initialize Sentry" step and
/// the "wait for the first event" view. The release is the commit Render
/// deployed (`RENDER_GIT_COMMIT`), so it follows every deploy.
pub fn sdk_snippet(sdk: &Sdk, public_dsn: &str) -> String {
    let value = |key: &str, default: &str| {
        sdk.settings
            .iter()
            .find(|setting| setting.key == key)
            .map_or_else(|| default.to_owned(), |setting| setting.value.clone())
    };
    let (traces, profiles, errors) = (
        value("SENTRY_TRACES_SAMPLE_RATE", "0.1"),
        value("SENTRY_PROFILES_SAMPLE_RATE", "0"),
        value("SENTRY_SAMPLE_RATE", "1.0"),
    );
    let dsn = &sdk.dsn;
    match sdk.platform {
        Platform::Node => format!(
            "// instrument.js, required before anything else\nconst Sentry = require(\"@sentry/node\");\n\nSentry.init({{\n  dsn: process.env.{dsn} || \"{public_dsn}\",\n  environment: process.env.SENTRY_ENVIRONMENT || \"production\",\n  release: process.env.RENDER_GIT_COMMIT,\n  tracesSampleRate: Number(process.env.SENTRY_TRACES_SAMPLE_RATE || {traces}),\n  profilesSampleRate: Number(process.env.SENTRY_PROFILES_SAMPLE_RATE || {profiles}),\n  sendDefaultPii: false,\n  // Health checks (Watchpost probes every 30 s) cost quota and tell nothing.\n  ignoreTransactions: [/\\/health\\b/],\n}});\n\n// after all routes of the Express app:\n// Sentry.setupExpressErrorHandler(app);\n"
        ),
        Platform::Fastapi => format!(
            "# main.py, before the FastAPI app is created\nimport os\nimport sentry_sdk\n\n\ndef traces_sampler(context):\n    # Health checks (Watchpost probes every 30 s) cost quota and tell nothing.\n    if context.get(\"asgi_scope\", {{}}).get(\"path\", \"\").endswith(\"/health\"):\n        return 0\n    return float(os.environ.get(\"SENTRY_TRACES_SAMPLE_RATE\", \"{traces}\"))\n\n\nsentry_sdk.init(\n    dsn=os.environ.get(\"{dsn}\", \"{public_dsn}\"),\n    environment=os.environ.get(\"SENTRY_ENVIRONMENT\", \"production\"),\n    release=os.environ.get(\"RENDER_GIT_COMMIT\"),\n    sample_rate=float(os.environ.get(\"SENTRY_SAMPLE_RATE\", \"{errors}\")),\n    traces_sampler=traces_sampler,\n    profiles_sample_rate=float(os.environ.get(\"SENTRY_PROFILES_SAMPLE_RATE\", \"{profiles}\")),\n    send_default_pii=False,\n)\n\n# Where payments are handled, the tags the payments alert rule reads:\n# sentry_sdk.set_tag(\"feature_area\", \"payments\")\n# sentry_sdk.set_tag(\"external_service\", \"stripe\")\n"
        ),
        Platform::Nextjs => format!(
            "// sentry.server.config.ts and sentry.client.config.ts\nimport * as Sentry from \"@sentry/nextjs\";\n\nSentry.init({{\n  dsn: process.env.{dsn} || \"{public_dsn}\",\n  environment: process.env.NEXT_PUBLIC_SENTRY_ENVIRONMENT || \"production\",\n  // Render sets RENDER_GIT_COMMIT at build time; next.config exposes it.\n  release: process.env.RENDER_GIT_COMMIT,\n  tracesSampleRate: {traces},\n  sendDefaultPii: false,\n  // Health checks (Watchpost probes every 30 s) cost quota and tell nothing.\n  ignoreTransactions: [/\\/health\\b/],\n}});\n"
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

    fn sdk(platform: Platform) -> Sdk {
        crate::Playbook::default_launch()
            .expect("the launch playbook")
            .sdk_for(platform)
            .cloned()
            .expect("an SDK for every platform")
    }

    #[test]
    fn each_platform_gets_its_own_seed_s_values_and_a_chosen_sample_rate_stays() {
        let dsn = "https://k@o1.ingest.sentry.io/4";
        let node = sdk(Platform::Node);
        let wanted = wanted_env_vars(dsn, &node);
        let value = |wanted: &[(String, String)], key: &str| {
            wanted
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(value(&wanted, "SENTRY_DSN").as_deref(), Some(dsn));
        assert_eq!(value(&wanted, "NODE_ENV").as_deref(), Some("production"));
        assert_eq!(
            value(&wanted, "SENTRY_TRACES_SAMPLE_RATE").as_deref(),
            Some("0.1")
        );
        assert_eq!(
            value(&wanted, FIXED_RELEASE),
            None,
            "the release follows deploys"
        );
        let fastapi = wanted_env_vars(dsn, &sdk(Platform::Fastapi));
        assert_eq!(
            value(&fastapi, "SENTRY_TRACES_SAMPLE_RATE").as_deref(),
            Some("0.05")
        );
        assert_eq!(
            value(&fastapi, "SENTRY_SAMPLE_RATE").as_deref(),
            Some("0.8")
        );
        assert_eq!(
            value(&fastapi, "SENTRY_PROFILES_SAMPLE_RATE").as_deref(),
            Some("0.02")
        );
        assert_eq!(value(&fastapi, "NODE_ENV"), None);
        let nextjs = wanted_env_vars(dsn, &sdk(Platform::Nextjs));
        assert_eq!(
            value(&nextjs, "NEXT_PUBLIC_SENTRY_DSN").as_deref(),
            Some(dsn)
        );
        assert_eq!(
            value(&nextjs, "NEXT_PUBLIC_SENTRY_ENVIRONMENT").as_deref(),
            Some("production")
        );

        let set = env_vars_to_set(&wanted, &node, |key| match key {
            "SENTRY_DSN" => Some(true),
            "SENTRY_ENVIRONMENT" => Some(false),
            "SENTRY_TRACES_SAMPLE_RATE" => Some(false),
            _ => None,
        });
        let set: Vec<&str> = set.iter().map(|(key, _)| key.as_str()).collect();
        assert_eq!(
            set,
            [
                "SENTRY_ENVIRONMENT",
                "SENTRY_PROFILES_SAMPLE_RATE",
                "SENTRY_SEND_DEFAULT_PII",
                "NODE_ENV"
            ],
            "a sample rate the team set stays"
        );
    }

    #[test]
    fn snippets_carry_the_dsn_the_seed_s_settings_and_a_release_that_follows_deploys() {
        for platform in Platform::ALL {
            let sdk = sdk(platform);
            let snippet = sdk_snippet(&sdk, "https://k@o1.ingest.sentry.io/4");
            assert!(
                snippet.contains("https://k@o1.ingest.sentry.io/4"),
                "{snippet}"
            );
            assert!(snippet.contains(&sdk.dsn), "{snippet}");
            assert!(snippet.contains("RENDER_GIT_COMMIT"), "{snippet}");
            assert!(snippet.to_lowercase().contains("production"), "{snippet}");
            // Seed 003: health checks are left out of tracing.
            assert!(
                snippet.contains("ignoreTransactions: [/\\/health\\b/]")
                    || snippet.contains(".endswith(\"/health\")"),
                "{snippet}"
            );
        }
        let fastapi = sdk_snippet(&sdk(Platform::Fastapi), "https://k@o1.ingest.sentry.io/4");
        // The tags the payments rule reads, as the snippet sets them.
        for filter in crate::alerts::PAYMENT_TAGS {
            let crate::alerts::Filter::Tag { key, .. } = filter else {
                unreachable!("tags")
            };
            assert!(fastapi.contains(&format!("set_tag(\"{key}\"")), "{fastapi}");
        }
        for value in ["\"0.05\"", "\"0.8\"", "\"0.02\""] {
            assert!(fastapi.contains(value), "seed 003's {value}: {fastapi}");
        }
    }

    #[test]
    fn the_confirmation_names_what_will_change() {
        let mut project = Project::blank(1);
        project.sentry_project = Some("voxanne".into());
        project.sentry_team = Some("launch".into());
        project.platform = Some(Platform::Node);
        let asked = ActionKind::CreateProject.confirmation(&project, "“api”");
        assert_eq!(
            asked,
            "Create the Sentry project “voxanne” (Node.js) in the team “launch”?"
        );
        project.sentry_team = None;
        assert!(
            ActionKind::CreateProject
                .confirmation(&project, "“api”")
                .contains("(no Sentry team set)")
        );
        assert_eq!(
            ActionKind::Deploy.confirmation(&project, "“api”"),
            "Start a deploy of “api” on Render now?"
        );
    }
}
