//! A banner that says when Watchpost cannot be reached, and what to do.

use std::time::Duration;

use domain::api::HealthStatus;
use leptos::prelude::*;

use crate::api;

const POLL: Duration = Duration::from_secs(5);

/// Whether the proxy answers, as last seen.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Connection {
    Checking,
    Up,
    /// The proxy answers but some of its services do not.
    Degraded(Vec<String>),
    Down,
}

#[component]
pub fn ConnectionBanner() -> impl IntoView {
    let connection = RwSignal::new(Connection::Checking);
    let check = move || {
        leptos::task::spawn_local(async move {
            let next = match api::health().await {
                Ok(health) if health.status == HealthStatus::Ok => Connection::Up,
                Ok(health) => Connection::Degraded(
                    health
                        .services
                        .iter()
                        .filter(|(_, up)| !**up)
                        .map(|(name, _)| name.to_owned())
                        .collect(),
                ),
                Err(_) => Connection::Down,
            };
            if connection.get_untracked() != next {
                connection.set(next);
            }
        });
    };
    check();
    let _ = set_interval_with_handle(check, POLL);

    move || {
        let (class, title, detail) = match connection.get() {
            Connection::Checking | Connection::Up => return None,
            Connection::Degraded(services) => (
                "banner banner-warn",
                "Watchpost is having trouble. ",
                format!(
                    "Not answering: {}. What you do may not be saved; whoever runs Watchpost should look at its log. ",
                    services.join(", ")
                ),
            ),
            Connection::Down => (
                "banner banner-error",
                "Watchpost cannot be reached. ",
                "Check this device's connection; if it persists, whoever runs Watchpost should check that it is running. Retrying every 5 seconds. "
                    .to_owned(),
            ),
        };
        Some(view! {
            <div class=class role="alert" data-testid="connection-banner">
                <strong>{title}</strong>
                {detail}
                <button type="button" on:click=move |_| check()>"Retry now"</button>
            </div>
        })
    }
}
