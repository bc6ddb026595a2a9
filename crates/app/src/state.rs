//! State several components share, provided through context: who is signed
//! in, the playbook, and the project open now.

use std::sync::Arc;

use domain::Playbook;
use domain::api::{Role, Session};
use domain::project::Project;
use leptos::prelude::*;

use crate::api::{self, ApiError};
use crate::load::Loader;

/// Whether someone is signed in, as the proxy last said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignedIn {
    /// Asking the proxy.
    Checking,
    /// Nobody, or the session ended; `reason` says why when it ended.
    No {
        reason: Option<String>,
    },
    Yes(Session),
}

/// The session in context, for every component.
#[derive(Debug, Clone, Copy)]
pub struct Auth(pub RwSignal<SignedIn>);

impl Auth {
    /// Asks the proxy whether this browser has a session.
    pub fn provide() -> Self {
        let auth = Auth(RwSignal::new(SignedIn::Checking));
        provide_context(auth);
        auth.check();
        auth
    }

    pub fn check(self) {
        leptos::task::spawn_local(async move {
            let next = match api::session().await {
                Ok(session) => SignedIn::Yes(session),
                Err(err) if err.is_signed_out() => SignedIn::No { reason: None },
                Err(err) => SignedIn::No {
                    reason: Some(err.to_string()),
                },
            };
            self.0.set(next);
        });
    }

    /// Who is signed in, if anyone.
    pub fn session(self) -> Option<Session> {
        match self.0.get() {
            SignedIn::Yes(session) => Some(session),
            SignedIn::Checking | SignedIn::No { .. } => None,
        }
    }

    pub fn name(self) -> String {
        self.session().map(|s| s.name).unwrap_or_default()
    }

    /// Whether the person signed in has at least `role`.
    pub fn can(self, role: Role) -> bool {
        self.session().is_some_and(|session| session.role >= role)
    }

    /// The proxy said 401: the session expired or was signed out elsewhere.
    /// Unsent work stays in local storage until the person is back.
    pub fn lost(self) {
        self.0.set(SignedIn::No {
            reason: Some(
                "Your session has ended. Sign in again; nothing you did is lost.".to_owned(),
            ),
        });
    }

    /// Passes an error on, noticing when it means the session is gone.
    pub fn noticed(self, err: ApiError) -> ApiError {
        if err.is_signed_out() {
            self.lost();
        }
        err
    }
}

pub fn use_auth() -> Auth {
    expect_context::<Auth>()
}

/// The playbook the proxy serves, fetched once for the whole app.
pub fn provide_playbook() {
    provide_context(Loader::new(|| async {
        api::playbook().await.map(Arc::new)
    }));
}

pub fn use_playbook() -> Loader<Arc<Playbook>> {
    expect_context::<Loader<Arc<Playbook>>>()
}

/// The project whose pages are open; its settings page reloads it after a change.
pub type OpenProject = Loader<Project>;

pub fn use_project() -> OpenProject {
    expect_context::<OpenProject>()
}
