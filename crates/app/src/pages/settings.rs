//! A project's name and service settings, and archiving it. Admins change
//! them; everyone can read them.

use std::collections::BTreeMap;

use domain::api::Role;
use domain::project::{Platform, Project, ProjectForm, ProjectPatch};
use leptos::prelude::*;

use crate::api::{self, ApiError};
use crate::state::{use_auth, use_project};

#[component]
pub fn SettingsPage() -> impl IntoView {
    let project = use_project();
    view! {
        <section class="page" data-testid="settings-page">
            <h2>"Settings"</h2>
            {project.view("the settings", |project| view! { <SettingsForm project/> })}
        </section>
    }
}

/// What the proxy said about each field after the last save.
type Problems = RwSignal<BTreeMap<String, String>>;

#[component]
fn SettingsForm(project: Project) -> impl IntoView {
    let auth = use_auth();
    let open = use_project();
    let is_admin = move || auth.can(Role::Admin);
    let id = project.id;
    let archived = project.archived;
    let form = RwSignal::new(ProjectForm::new(&project));
    let problems: Problems = RwSignal::new(BTreeMap::new());
    let status = RwSignal::new(None::<Result<&'static str, String>>);
    let busy = RwSignal::new(false);

    let save = move |patch: ProjectPatch, done: &'static str| {
        busy.set(true);
        status.set(None);
        leptos::task::spawn_local(async move {
            match api::update_project(id, patch).await {
                Ok(_) => {
                    problems.set(BTreeMap::new());
                    status.set(Some(Ok(done)));
                    open.reload();
                }
                Err(err) => {
                    let err = auth.noticed(err);
                    if let ApiError::Refused { fields, .. } = &err {
                        problems.set(fields.clone());
                    }
                    status.set(Some(Err(err.to_string())));
                }
            }
            busy.set(false);
        });
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save(form.get_untracked().patch(), "Saved.");
    };
    let toggle_archived = move |_| {
        let patch = ProjectPatch {
            archived: Some(!archived),
            ..ProjectPatch::default()
        };
        save(patch, if archived { "Unarchived." } else { "Archived." });
    };

    let field = move |name: &'static str,
                      label: &'static str,
                      hint: &'static str,
                      get: fn(&ProjectForm) -> &String,
                      set: fn(&mut ProjectForm) -> &mut String| {
        view! { <Field name label hint form problems get set disabled=Signal::derive(move || !is_admin()) /> }
    };

    view! {
        {move || (!is_admin()).then(|| view! {
            <p class="note" data-testid="settings-read-only">"Only an admin can change these settings. Sign in with the admin passcode to edit them."</p>
        })}
        <form class="card form settings" on:submit=submit data-testid="settings-form" novalidate>
            {field("name", "Project name", "", |f| &f.name, |f| &mut f.name)}
            {field("sentry_org", "Sentry organization", "Empty: the proxy's SENTRY_ORG.", |f| &f.sentry_org, |f| &mut f.sentry_org)}
            {field("sentry_project", "Sentry project (backend)", "The slug, as in voxanne-backend.", |f| &f.sentry_project, |f| &mut f.sentry_project)}
            {field("sentry_frontend_project", "Sentry project (frontend)", "Only if the launch has a separate frontend.", |f| &f.sentry_frontend_project, |f| &mut f.sentry_frontend_project)}
            {field("render_service_id", "Render service id", "srv-…, from the service's URL.", |f| &f.render_service_id, |f| &mut f.render_service_id)}
            <FieldRow name="health_urls" label="Health URLs" hint="One per line, up to 5." problems>
                <textarea id="field-health_urls" rows="2" prop:value=move || form.with(|f| f.health_urls.clone())
                    on:input=move |ev| form.update(|f| f.health_urls = event_target_value(&ev))
                    disabled=move || !is_admin() data-testid="field-health_urls"></textarea>
            </FieldRow>
            <FieldRow name="platform" label="Platform" hint="" problems>
                <select id="field-platform" prop:value=move || form.with(|f| f.platform.clone())
                    on:change=move |ev| form.update(|f| f.platform = event_target_value(&ev))
                    disabled=move || !is_admin() data-testid="field-platform">
                    <option value="">"Not set"</option>
                    {Platform::ALL.map(|p| view! { <option value=p.name()>{p.label()}</option> })}
                </select>
            </FieldRow>
            {field("slack_channel", "Slack channel", "Where alerts go, as in #production-alerts.", |f| &f.slack_channel, |f| &mut f.slack_channel)}
            {field("timezone", "Time zone", "An IANA name such as Europe/London, for checkpoint times.", |f| &f.timezone, |f| &mut f.timezone)}
            {move || status.get().map(|status| match status {
                Ok(message) => view! { <p class="saved" role="status" data-testid="settings-saved">{message}</p> }.into_any(),
                Err(message) => view! { <p class="field-error" role="alert" data-testid="settings-error">{message}</p> }.into_any(),
            })}
            <div class="row">
                <button type="submit" disabled=move || busy.get() || !is_admin() data-testid="settings-save">
                    {move || if busy.get() { "Saving…" } else { "Save settings" }}
                </button>
                <button type="button" class="quiet" on:click=toggle_archived disabled=move || busy.get() || !is_admin() data-testid="settings-archive">
                    {if archived { "Unarchive project" } else { "Archive project" }}
                </button>
            </div>
        </form>
    }
}

/// A label, the control, a hint and the proxy's message about the field.
#[component]
fn FieldRow(
    name: &'static str,
    label: &'static str,
    hint: &'static str,
    problems: Problems,
    children: Children,
) -> impl IntoView {
    view! {
        <div class="field" class:invalid=move || problems.with(|p| p.contains_key(name))>
            <label for=format!("field-{name}")>{label}</label>
            {children()}
            {(!hint.is_empty()).then(|| view! { <small class="hint">{hint}</small> })}
            {move || problems.with(|p| p.get(name).cloned()).map(|message| view! {
                <p class="field-error" role="alert" data-testid=format!("error-{name}")>{message}</p>
            })}
        </div>
    }
}

#[component]
fn Field(
    name: &'static str,
    label: &'static str,
    hint: &'static str,
    form: RwSignal<ProjectForm>,
    problems: Problems,
    get: fn(&ProjectForm) -> &String,
    set: fn(&mut ProjectForm) -> &mut String,
    disabled: Signal<bool>,
) -> impl IntoView {
    view! {
        <FieldRow name label hint problems>
            <input id=format!("field-{name}") type="text" prop:value=move || form.with(|f| get(f).clone())
                on:input=move |ev| form.update(|f| *set(f) = event_target_value(&ev))
                disabled=move || disabled.get()
                aria-invalid=move || problems.with(|p| p.contains_key(name)).then_some("true")
                data-testid=format!("field-{name}")/>
        </FieldRow>
    }
}
