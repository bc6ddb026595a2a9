//! Browser notifications, for whoever allows them: every few seconds the
//! watches at a glance are read again, and what newly needs someone in any
//! project (`Glance::news`: a checkpoint overdue, health down, an escalation
//! open, a handover waiting) is raised as a notification. The first reading
//! is the baseline, so opening the app does not replay the day.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use domain::watch::Glance;
use leptos::prelude::*;
use wasm_bindgen::JsValue;
use web_sys::{Notification, NotificationOptions, NotificationPermission};

use crate::api;

/// How often the glances are read while notifications are allowed.
const EVERY: Duration = Duration::from_secs(15);

/// "Notify me" while the browser has not been asked; nothing once it has.
#[component]
pub fn Notifications() -> impl IntoView {
    let unasked = RwSignal::new(permission() == Some(NotificationPermission::Default));
    // Plain shared state rather than a signal: nothing shows it, and a new
    // signal type costs the wasm more than this whole component.
    let seen: Arc<Mutex<Option<Vec<Glance>>>> = Arc::default();
    let poll = move || {
        if permission() != Some(NotificationPermission::Granted) {
            return;
        }
        let seen = seen.clone();
        leptos::task::spawn_local(async move {
            let Ok(now) = api::watches().await else {
                return;
            };
            let Ok(mut seen) = seen.lock() else {
                return;
            };
            if let Some(before) = seen.as_ref() {
                let nothing = Glance::default();
                for glance in &now {
                    let then = before.iter().find(|b| b.project == glance.project);
                    for news in glance.news(then.unwrap_or(&nothing)) {
                        raise(&glance.name, &news);
                    }
                }
            }
            *seen = Some(now);
        });
    };
    poll();
    if let Ok(handle) = set_interval_with_handle(poll.clone(), EVERY) {
        on_cleanup(move || handle.clear());
    }
    let ask = move |_| {
        let Ok(asked) = Notification::request_permission() else {
            return;
        };
        let poll = poll.clone();
        leptos::task::spawn_local(async move {
            let _ = wasm_bindgen_futures::JsFuture::from(asked).await;
            unasked.set(false);
            poll();
        });
    };
    move || {
        unasked.get().then(|| {
            view! {
                <button type="button" class="link" on:click=ask.clone() data-testid="notify-me"
                    title="Tell me when a checkpoint is overdue, health goes down or an escalation opens">
                    "Notify me"
                </button>
            }
        })
    }
}

/// The browser's answer so far; `None` where there are no notifications.
fn permission() -> Option<NotificationPermission> {
    let supported = js_sys::Reflect::has(&js_sys::global(), &JsValue::from_str("Notification"))
        .unwrap_or(false);
    supported.then(Notification::permission)
}

fn raise(project: &str, news: &str) {
    let options = NotificationOptions::new();
    options.set_body(news);
    let _ = Notification::new_with_options(&format!("Watchpost · {project}"), &options);
}
