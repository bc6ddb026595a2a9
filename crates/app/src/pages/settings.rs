//! A project's name and service settings, and archiving it. Admins change
//! them; everyone can read them.

use domain::api::Role;
use domain::keyed::Keyed;
use domain::project::{
    BACKUP_STATUS_URL, DATABASE, FRONTEND_URL, HEALTH_URLS, MAPPED_ENDPOINTS, PLATFORM, Platform,
    Project, ProjectForm, ProjectPatch, RENDER_PATHS, RENDER_SERVICE, SENTRY_FRONTEND_PROJECT,
    SENTRY_PROJECT,
};
use leptos::prelude::*;

use crate::api::{self, ApiError};
use crate::components::Submitted;
use crate::router::focus_named_field;
use crate::state::{use_auth, use_project};

#[component]
pub fn SettingsPage() -> impl IntoView {
    let project = use_project();
    // Outside the form: a save reloads the project, which rebuilds the form,
    // and what the proxy said must outlive that.
    let said = Said {
        problems: RwSignal::new(Keyed::default()),
        status: RwSignal::new(None),
    };
    view! {
        <section class="page" data-testid="settings-page">
            <h2>"Settings"</h2>
            {project.view("the settings", move |project| view! { <SettingsForm project said/> })}
        </section>
    }
}

/// What the proxy said about each field after the last save.
type Problems = RwSignal<Keyed<String>>;

/// What the proxy answered to the last save: each field's problem, and the
/// outcome ("Saved.", or the error).
#[derive(Clone, Copy)]
struct Said {
    problems: Problems,
    status: RwSignal<Option<Result<&'static str, String>>>,
}

#[component]
fn SettingsForm(project: Project, said: Said) -> impl IntoView {
    let auth = use_auth();
    let open = use_project();
    let is_admin = move || auth.can(Role::Admin);
    let (id, archived) = (project.id, project.archived);
    let form = ProjectForm::new(&project);
    let Said { problems, status } = said;
    let busy = RwSignal::new(false);

    let save = move |patch: ProjectPatch, done: &'static str| {
        busy.set(true);
        status.set(None);
        leptos::task::spawn_local(async move {
            match api::update_project(id, patch).await {
                Ok(_) => {
                    problems.set(Keyed::default());
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
    // The inputs are the browser's own: their values are read once, on submit.
    let submit = move |ev: leptos::ev::SubmitEvent| {
        let Some(form) = Submitted::read(&ev) else {
            return;
        };
        let text = |name: &str| form.text(name);
        let form = ProjectForm {
            name: text("name"),
            sentry_org: text("sentry_org"),
            sentry_project: text("sentry_project"),
            sentry_frontend_project: text("sentry_frontend_project"),
            render_service_id: text("render_service_id"),
            health_urls: text("health_urls"),
            frontend_url: text(FRONTEND_URL.field),
            platform: text("platform"),
            slack_channel: text("slack_channel"),
            timezone: text("timezone"),
            sentry_team: text("sentry_team"),
            sentry_environment: text("sentry_environment"),
            backup_status_url: text("backup_status_url"),
            transactions: MAPPED_ENDPOINTS.map(|endpoint| text(&format!("transaction-{endpoint}"))),
            render_paths: MAPPED_ENDPOINTS.map(|endpoint| text(&format!("render-path-{endpoint}"))),
            database_url: text(DATABASE.field),
            forget_database: text("forget_database") == "on",
            database_size_limit_mb: text("database_size_limit_mb"),
            plan_errors_per_month: text("plan_errors_per_month"),
            plan_transactions_per_month: text("plan_transactions_per_month"),
            backup_min_mb: text("backup_min_mb"),
            critical: text("critical"),
            health_conditions: text("health_conditions"),
        };
        save(form.patch(), "Saved.");
    };
    let toggle_archived = move |_| {
        let patch = ProjectPatch {
            archived: Some(!archived),
            ..ProjectPatch::default()
        };
        save(patch, if archived { "Unarchived." } else { "Archived." });
    };
    let platform = form.platform.clone();
    let texts = [
        ("name", "Project name", "", form.name),
        (
            "sentry_org",
            "Sentry organization",
            "Empty: the organization Watchpost was started with.",
            form.sentry_org,
        ),
        (
            SENTRY_PROJECT.field,
            SENTRY_PROJECT.label,
            "The slug, as in voxanne-backend.",
            form.sentry_project,
        ),
        (
            SENTRY_FRONTEND_PROJECT.field,
            SENTRY_FRONTEND_PROJECT.label,
            "Only if the launch has a separate frontend.",
            form.sentry_frontend_project,
        ),
        (
            "sentry_team",
            "Sentry team",
            "The team a project created from here joins.",
            form.sentry_team,
        ),
        (
            "sentry_environment",
            "Sentry environment",
            "As the SDK names it, such as production. Empty: every environment.",
            form.sentry_environment,
        ),
        (
            RENDER_SERVICE.field,
            RENDER_SERVICE.label,
            "srv-…, from the service's URL.",
            form.render_service_id,
        ),
        (
            FRONTEND_URL.field,
            FRONTEND_URL.label,
            "A page of the frontend (https://…), sampled with the health URLs; it should load within 2 s.",
            form.frontend_url,
        ),
        (
            "slack_channel",
            "Slack channel",
            "Where alerts go, as in #production-alerts.",
            form.slack_channel,
        ),
        (
            "timezone",
            "Time zone",
            "An IANA name such as Europe/London, for checkpoint times.",
            form.timezone,
        ),
        (
            BACKUP_STATUS_URL.field,
            BACKUP_STATUS_URL.label,
            "Answers the newest backup verification: JSON with verified_at and status.",
            form.backup_status_url,
        ),
        (
            "backup_min_mb",
            "Smallest healthy backup (MB)",
            "Empty: 100 MB, as the backup runbook says.",
            form.backup_min_mb,
        ),
        (
            "database_size_limit_mb",
            "Database plan size (MB)",
            "Empty: 500 MB, Supabase's free plan.",
            form.database_size_limit_mb,
        ),
        (
            "plan_errors_per_month",
            "Sentry plan: errors a month",
            "Empty: 5000, Sentry's free plan.",
            form.plan_errors_per_month,
        ),
        (
            "plan_transactions_per_month",
            "Sentry plan: transactions a month",
            "Empty: 10000, Sentry's free plan.",
            form.plan_transactions_per_month,
        ),
    ];
    let lists = [
        (
            HEALTH_URLS.field,
            HEALTH_URLS.label,
            "One per line, up to 5.",
            form.health_urls,
        ),
        (
            "health_conditions",
            "Health conditions",
            "One per line, such as [STATUS] == 200 or [BODY].status == any(ok, healthy). Empty: a 2xx, and any status and services the body reports are healthy.",
            form.health_conditions,
        ),
        (
            "critical",
            "What marks a critical issue",
            "Sentry search terms, one per line. Empty: severity:critical or level:fatal.",
            form.critical,
        ),
    ];
    let transactions = form.transactions.clone();
    let render_paths = form.render_paths.clone();
    // Sent here to fill in one setting: its field takes the focus once drawn.
    request_animation_frame(focus_named_field);

    view! {
        // A session's role never changes: signing in again rebuilds the pages.
        {(!is_admin()).then(|| view! {
            <p class="note" data-testid="settings-read-only">"Only an admin can change these settings. Sign in with the admin passcode to edit them."</p>
        })}
        <form class="card form settings" on:submit=submit data-testid="settings-form" novalidate>
            // One switch for every control: viewers and members read, admins edit.
            <fieldset disabled=move || busy.get() || !is_admin()>
                {texts.into_iter().map(|(name, label, hint, value)| view! {
                    <Field name label hint problems>
                        <input id=name name=name type="text" value=value data-testid=format!("field-{name}")/>
                    </Field>
                }).collect_view()}
                {lists.into_iter().map(|(name, label, hint, value)| view! {
                    <Field name label hint problems>
                        <textarea id=name name=name rows="2" data-testid=format!("field-{name}")>{value}</textarea>
                    </Field>
                }).collect_view()}
                <Mapping name="transactions" prefix="transaction" legend="Transactions" problems values=transactions
                    hint="The Sentry transaction each endpoint's p99 is read from, as Sentry names it (POST /api/calls)."/>
                <Mapping name=RENDER_PATHS.field prefix="render-path" legend=RENDER_PATHS.label problems values=render_paths
                    hint="The path Render counts each endpoint's requests under (/api/calls): its response times from the host, with or without Sentry's transactions."/>
                <DatabaseField set=project.database.clone() problems/>
                <Field name=PLATFORM.field label=PLATFORM.label hint="" problems>
                    <select id="platform" name="platform" data-testid="field-platform">
                        <option value="">"Not set"</option>
                        {Platform::ALL.map(|p| view! { <option value=p.name() selected=p.name() == platform>{p.label()}</option> })}
                    </select>
                </Field>
                {move || status.get().map(|status| {
                    let (class, testid, message) = match status {
                        Ok(message) => ("saved", "settings-saved", message.to_owned()),
                        Err(message) => ("field-error", "settings-error", message),
                    };
                    view! { <p class=class role="alert" data-testid=testid>{message}</p> }
                })}
                <div class="row">
                    <button type="submit" data-testid="settings-save">
                        {move || if busy.get() { "Saving…" } else { "Save settings" }}
                    </button>
                    <button type="button" class="quiet" on:click=toggle_archived data-testid="settings-archive">
                        {if archived { "Unarchive project" } else { "Archive project" }}
                    </button>
                </div>
            </fieldset>
        </form>
    }
}

/// The database's connection string: write-only. What is set shows masked
/// beside the field, which stays empty unless it is being replaced.
#[component]
fn DatabaseField(set: Option<String>, problems: Problems) -> impl IntoView {
    let hint = match &set {
        Some(_) => {
            "Set (shown without its password). Leave empty to keep it; Watchpost never shows it whole."
        }
        None => "The read-only user's postgres:// connection string. Watchpost keeps it to itself.",
    };
    view! {
        <Field name=DATABASE.field label=DATABASE.label hint problems>
            {set.clone().map(|masked| view! { <code class="masked" data-testid="database-set">{masked}</code> })}
            <input id=DATABASE.field name=DATABASE.field type="password" autocomplete="off"
                placeholder="postgres://watchpost_ro:…@host:5432/postgres" data-testid="field-database_url"/>
            {set.map(|_| view! {
                <label class="inline"><input type="checkbox" name="forget_database"/>" Forget it"</label>
            })}
        </Field>
    }
}

/// One text per endpoint of the playbook, under a legend; the group takes
/// the focus when a "Fill in" link names it.
#[component]
fn Mapping(
    name: &'static str,
    prefix: &'static str,
    legend: &'static str,
    hint: &'static str,
    values: [String; 3],
    problems: Problems,
) -> impl IntoView {
    view! {
        <fieldset class="field" id=name tabindex="-1" data-testid=format!("field-{name}")>
            <legend>{legend}</legend>
            <small class="hint">{hint}</small>
            {MAPPED_ENDPOINTS.into_iter().zip(values).map(|(endpoint, value)| {
                let id = format!("{prefix}-{endpoint}");
                view! {
                    <label for=id.clone()>{endpoint}</label>
                    <input id=id.clone() name=id type="text" value=value/>
                }
            }).collect_view()}
            {move || problems.with(|p| p.get(name).cloned()).map(|message| view! {
                <p class="field-error" role="alert" data-testid=format!("error-{name}")>{message}</p>
            })}
        </fieldset>
    }
}

/// A label, the control, a hint and the proxy's message about the field.
#[component]
fn Field(
    name: &'static str,
    label: &'static str,
    hint: &'static str,
    problems: Problems,
    children: Children,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=name>{label}</label>
            {children()}
            {(!hint.is_empty()).then(|| view! { <small class="hint">{hint}</small> })}
            {move || problems.with(|p| p.get(name).cloned()).map(|message| view! {
                <p class="field-error" role="alert" data-testid=format!("error-{name}")>{message}</p>
            })}
        </div>
    }
}
