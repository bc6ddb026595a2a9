//! User journeys through the real app in headless Chromium (one of them in
//! Firefox ESR and WebKitGTK too).

use std::sync::Arc;
use std::time::Duration;

use fantoccini::Locator;
use fantoccini::key::Key;
use watchpost_e2e::{
    Engine, Watchpost, click, confirm_action, find, fits_a_phone, journey, journey_in,
    replace_text, screenshot, sign_in, testid, unplain_words, wait_for_text, wait_for_text_within,
    wait_gone,
};

/// The word check every screenshot runs finds what it must, and lets the
/// team's own words through.
#[test]
fn the_word_check_finds_ids_status_codes_and_seeds() {
    assert_eq!(
        unplain_words("Checked \"error-rate\" (HTTP 409); see seed 003 and the README."),
        ["error-rate", "HTTP 409", "seed 003", "README"]
    );
    assert_eq!(
        unplain_words("ran sentry.error_rate."),
        ["sentry.error_rate"]
    );
    assert!(
        unplain_words("Error rate 0.5% < 1%; p99 409 ms; answered 503 at Sun 14:05 CET.")
            .is_empty()
    );
}

#[tokio::test]
async fn a_team_creates_a_project_and_walks_the_setup_wizard() {
    let watchpost = Watchpost::start().await;
    let home = watchpost.url("/");
    let admin = watchpost.admin_passcode.clone();
    journey(move |c| async move {
        c.goto(&home).await.expect("open the app");
        sign_in(&c, "Dana", &admin).await;
        wait_for_text(&c, &testid("no-projects"), "No projects yet").await;

        find(&c, &testid("project-name"))
            .await
            .send_keys("Voxanne backend")
            .await
            .expect("type");
        click(&c, &testid("create-project")).await;
        wait_for_text(&c, &testid("project-list"), "Voxanne backend").await;
        c.find(Locator::LinkText("Voxanne backend"))
            .await
            .expect("link")
            .click()
            .await
            .expect("open project");

        wait_for_text(&c, &testid("project-name-heading"), "Voxanne backend").await;
        // A new project: the settings come first, and the strip says which.
        let first = wait_for_text(&c, &testid("need-settings"), "Fill in the settings first").await;
        assert!(
            first.contains("Render service id") && first.contains("Health URLs"),
            "{first}"
        );
        screenshots(&c, "attention-settings", &testid("need-settings")).await;
        let section = wait_for_text(
            &c,
            &testid("wizard-section"),
            "Create the three alert rules",
        )
        .await;
        for seed_text in [
            "Create the backend project",
            "High Error Rate Alert",
            "Error Rate Spike",
            "SENTRY_SEND_DEFAULT_PII is false",
        ] {
            assert!(
                section.contains(seed_text),
                "the Sentry section shows {seed_text:?}"
            );
        }
        let alert = find(&c, &testid("item-alert-high-error-rate"))
            .await
            .text()
            .await
            .unwrap_or_default();
        assert!(
            alert.contains("Sentry: the alert rule exists") && alert.contains("Not checked yet"),
            "{alert}"
        );
        // The proxy checks it; with no Sentry configured, it says which setting is missing.
        let project_check = testid("item-sentry-backend-project-exists");
        click(&c, &format!("{project_check} {}", testid("check-again"))).await;
        let result = wait_for_text(&c, &project_check, "not configured").await;
        assert!(result.contains("SENTRY_AUTH_TOKEN"), "{result}");
        assert!(result.contains("Checked by Dana"), "{result}");
        screenshot(&c, "setup-checked").await;
        // It could not measure for want of a setting too: that setting's
        // field is one click away, and takes the focus.
        screenshots(&c, "setup-fill-setting", &project_check).await;
        click(&c, &format!("{project_check} {}", testid("fill-setting"))).await;
        find(&c, &testid("settings-form")).await;
        let focused = c.active_element().await.expect("the focus");
        assert_eq!(
            focused.attr("id").await.ok().flatten().as_deref(),
            Some("sentry_project")
        );
        c.back().await.expect("back to the setup");

        // A manual item is ticked by hand and says who ticked it.
        let manual = testid("item-sentry-sdk-initialized");
        click(&c, &format!("{manual} input[type=checkbox]")).await;
        wait_for_text(&c, &manual, "Ticked by Dana").await;
        wait_for_text(&c, &testid("section-sentry"), "1 of").await;

        click(&c, &testid("next-section")).await;
        wait_for_text(
            &c,
            &testid("wizard-section"),
            "SENTRY_DSN on Render is the backend project's DSN",
        )
        .await;
        click(&c, &testid("section-slack")).await;
        wait_for_text(&c, &testid("wizard-section"), "Connect Sentry to Slack").await;

        // Back leaves the project; an address that is no page says so.
        c.back().await.expect("back");
        wait_for_text(&c, &testid("project-list"), "Voxanne backend").await;
        c.goto(&format!("{home}projects/1/nope"))
            .await
            .expect("open a bad address");
        wait_for_text(&c, &testid("not-found"), "Back to the projects").await;
    })
    .await;
}

#[tokio::test]
async fn the_watch_shows_every_checkpoint_target_and_criterion() {
    let watchpost = Watchpost::start().await;
    let id = watchpost
        .create_configured_project(&serde_json::json!({
            "name": "Launch",
            "sentry_project": "voxanne",
            "platform": "node",
            "render_service_id": "srv-1",
            "health_urls": ["http://127.0.0.1:9/health"],
        }))
        .await;
    let url = watchpost.url(&format!("/projects/{id}/watch"));
    let member = watchpost.member_passcode.clone();
    journey(move |c| async move {
        c.goto(&url).await.expect("open the watch");
        sign_in(&c, "Ana", &member).await;
        // Before the watch, nothing needs anyone, and the strip says so calmly.
        wait_for_text(&c, &testid("attention-calm"), "Nothing needs anyone").await;
        for hour in [0, 4, 8, 12, 16, 20] {
            wait_for_text(
                &c,
                &testid(&format!("checkpoint-{hour}")),
                &format!("Hour {hour}"),
            )
            .await;
        }
        wait_for_text(&c, &testid("checkpoint-24"), "APPROVED FOR CUSTOMER LAUNCH").await;
        for (target, bound) in [
            ("target-error-rate", "< 1%"),
            ("target-error-count", "< 5 per hour"),
            ("target-new-issues", "= 0"),
            ("target-health-latency", "< 100 ms"),
            ("target-calls-latency", "< 500 ms"),
            ("target-webhooks-latency", "< 200 ms"),
            ("target-assistants-latency", "< 1000 ms"),
            ("target-p99", "< 1000 ms"),
        ] {
            wait_for_text(&c, &testid(target), bound).await;
        }
        wait_for_text(&c, &testid("normal"), "429 rate limit errors").await;
        wait_for_text(&c, &testid("critical"), "Unhandled promise rejections").await;
        wait_for_text(
            &c,
            &testid("success-criteria"),
            "Health checks always passing",
        )
        .await;
    })
    .await;
}

#[tokio::test]
async fn an_escalation_is_walked_to_a_decision() {
    let watchpost = Watchpost::start().await;
    let id = watchpost.create_project("Launch").await;
    let url = watchpost.url(&format!("/projects/{id}/escalate"));
    let member = watchpost.member_passcode.clone();
    journey(move |c| async move {
        c.goto(&url).await.expect("open escalations");
        sign_in(&c, "Ana", &member).await;
        let procedure = testid("procedure-new-critical-issue");
        wait_for_text(&c, &procedure, "Assess the severity.").await;
        let critical = format!("{procedure} {}", testid("walk-option"));
        click(&c, &critical).await;
        let outcome = wait_for_text(&c, &procedure, "Decision: Roll back").await;
        assert!(
            outcome.contains("Wait 5 minutes for the deployment."),
            "{outcome}"
        );

        // The decision goes on the record, for the team and the timeline.
        click(&c, &format!("{procedure} {}", testid("record-decision"))).await;
        wait_for_text(&c, &procedure, "Last decided: Roll back by Ana").await;

        click(&c, &format!("{procedure} {}", testid("walk-restart"))).await;
        wait_for_text(&c, &procedure, "Assess the severity.").await;

        // Health check: retry → still failing → logs → database not false → persists → roll back.
        let health = testid("procedure-health-check");
        let done = format!("{health} {}", testid("walk-done"));
        let option = |n: usize| format!("{health} {}:nth-of-type({n})", testid("walk-option"));
        click(&c, &done).await;
        click(&c, &option(2)).await; // still failing
        click(&c, &done).await; // logs checked
        click(&c, &option(2)).await; // the database is not false
        click(&c, &option(1)).await; // failing for more than 2 minutes
        wait_for_text(&c, &health, "Decision: Roll back").await;
    })
    .await;
}

#[tokio::test]
async fn ticks_appear_on_the_timeline_with_who_and_when() {
    let watchpost = Watchpost::start().await;
    // Far from the browser's zone (this machine's, UTC).
    let id = watchpost
        .create_configured_project(
            &serde_json::json!({ "name": "Launch", "timezone": "Asia/Tokyo" }),
        )
        .await;
    let url = watchpost.url(&format!("/projects/{id}/watch"));
    let member = watchpost.member_passcode.clone();
    journey(move |c| async move {
        c.goto(&url).await.expect("open the watch");
        sign_in(&c, "Ana", &member).await;
        click(&c, &format!("{} input", testid("item-h0-baseline"))).await;
        click(&c, &testid("tab-timeline")).await;
        let entry = wait_for_text(
            &c,
            &testid("timeline-entry"),
            "ticked “Baseline metrics recorded”",
        )
        .await;
        assert!(entry.contains("Ana"), "the entry says who: {entry}");
        // When, in the project's zone; the viewer's own on hover.
        assert!(entry.contains("GMT+9"), "the entry says when: {entry}");
        let time = format!("{} time", testid("timeline-entry"));
        let yours = find(&c, &time).await.attr("title").await.expect("title");
        assert!(
            yours
                .as_deref()
                .is_some_and(|t| t.ends_with("UTC your time")),
            "{yours:?}"
        );

        // A note, then the filters: by kind, by person.
        find(&c, &testid("note-text"))
            .await
            .send_keys("DB CPU at 40% after the deploy")
            .await
            .expect("type a note");
        click(&c, &testid("add-note")).await;
        wait_for_text(
            &c,
            &testid("timeline"),
            "noted: DB CPU at 40% after the deploy",
        )
        .await;
        find(&c, &testid("filter-kind"))
            .await
            .select_by_value("note")
            .await
            .expect("filter by kind");
        wait_gone(&c, "[data-testid=\"timeline-entry\"][data-kind=\"ticked\"]").await;
        let href = find(&c, &testid("export-markdown"))
            .await
            .attr("href")
            .await
            .expect("href")
            .unwrap_or_default();
        assert!(href.ends_with("format=markdown&kind=note"), "{href}");
    })
    .await;
}

#[tokio::test]
async fn an_unreachable_proxy_is_shown_and_recovers() {
    let mut watchpost = Watchpost::start().await;
    let home = watchpost.url("/");
    let member = watchpost.member_passcode.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (restart, restarted) = tokio::sync::oneshot::channel::<()>();
    let browser = tokio::spawn(journey(move |c| async move {
        c.goto(&home).await.expect("open the app");
        sign_in(&c, "Ana", &member).await;
        find(&c, &testid("no-projects")).await;
        let _ = stop.send(());
        let banner = wait_for_text(
            &c,
            &testid("connection-banner"),
            "Watchpost cannot be reached",
        )
        .await;
        assert!(
            banner.contains("Check this device's connection"),
            "the banner says what to do: {banner}"
        );
        let _ = restarted.await;
        wait_gone(&c, &testid("connection-banner")).await;
    }));
    let _ = stopped.await;
    watchpost.stop();
    // Long enough for the banner's 5-second poll to notice.
    tokio::time::sleep(Duration::from_secs(7)).await;
    watchpost.restart().await;
    let _ = restart.send(());
    browser.await.expect("journey");
}

#[tokio::test]
async fn the_app_works_from_the_keyboard() {
    let watchpost = Watchpost::start().await;
    let home = watchpost.url("/");
    let admin = watchpost.admin_passcode.clone();
    journey(move |c| async move {
        c.goto(&home).await.expect("open the app");
        find(&c, &testid("sign-in-page")).await;
        // The first Tab reaches the skip link.
        let body = c.find(Locator::Css("body")).await.expect("body");
        body.send_keys(&char::from(Key::Tab).to_string())
            .await
            .expect("tab");
        let focused = c
            .active_element()
            .await
            .expect("focus")
            .text()
            .await
            .unwrap_or_default();
        assert_eq!(focused, "Skip to content");

        // Signing in: the name field, Tab to the passcode, Enter.
        let name = find(&c, &testid("sign-in-name")).await;
        name.click().await.expect("focus the name");
        let keys = format!(
            "Kim{}{admin}{}",
            char::from(Key::Tab),
            char::from(Key::Enter)
        );
        c.active_element()
            .await
            .expect("focus")
            .send_keys(&keys)
            .await
            .expect("type and submit");
        wait_for_text(&c, &testid("signed-in-as"), "Kim").await;

        // Typing a name and pressing Enter creates the project.
        let input = find(&c, &testid("project-name")).await;
        input
            .send_keys(&format!("Keyboard launch{}", char::from(Key::Enter)))
            .await
            .expect("type and submit");
        wait_for_text(&c, &testid("project-list"), "Keyboard launch").await;
    })
    .await;
}

/// Every view in light, dark and phone layouts (where nothing may be wider
/// than the screen); the README shows these.
#[tokio::test]
async fn screenshots_of_every_view() {
    let watchpost = Watchpost::start().await;
    let id = watchpost.create_project("Voxanne backend").await;
    let base = watchpost.url("");
    let admin = watchpost.admin_passcode.clone();
    journey(move |c| async move {
        c.goto(&format!("{base}/")).await.expect("open the app");
        find(&c, &testid("sign-in-page")).await;
        screenshot(&c, "sign-in-light").await;
        sign_in(&c, "Dana", &admin).await;
        // (name, path, the element that shows the view is there)
        let mut views = vec![(
            "projects".to_owned(),
            "/".to_owned(),
            "new-project".to_owned(),
        )];
        for view in ["setup", "watch", "escalate", "timeline", "settings"] {
            views.push((
                view.to_owned(),
                format!("/projects/{id}/{view}"),
                format!("{view}-page"),
            ));
        }
        for (theme, width, height) in [
            ("light", 1280, 900),
            ("dark", 1280, 900),
            ("phone", 390, 844),
        ] {
            c.set_window_size(width, height).await.expect("window size");
            for (name, path, ready) in &views {
                c.goto(&format!("{base}{path}")).await.expect("open view");
                find(&c, &testid(ready)).await;
                wait_gone(&c, &testid("loading")).await;
                if theme == "dark" && *name == "projects" {
                    // light → dark through the toggle, remembered for the other views.
                    let toggle = find(&c, &testid("theme-toggle")).await;
                    toggle.clone().click().await.expect("toggle");
                    toggle.clone().click().await.expect("toggle");
                    wait_for_text(&c, &testid("theme-toggle"), "dark").await;
                }
                if theme == "phone" {
                    fits_a_phone(&c, name).await;
                }
                screenshot(&c, &format!("{name}-{theme}")).await;
            }
            if theme == "dark" {
                let toggle = find(&c, &testid("theme-toggle")).await;
                toggle.click().await.expect("back to system");
            }
        }
    })
    .await;
}

/// Two people on the same watch: a tick in one browser appears in the other;
/// a tick made while the proxy is down waits in the browser, is sent when it
/// is back, and everything is still there after the restart.
/// The browsers teams use: in Chromium, Firefox ESR and WebKitGTK alike, a
/// member signs in, sees a project created meanwhile join the list without a
/// reload, opens it, and sees a tick made in another browser arrive live.
#[tokio::test]
async fn every_engine_signs_in_follows_the_list_and_sees_a_tick_arrive_live() {
    use tokio::sync::{mpsc, oneshot};

    let watchpost = Arc::new(Watchpost::start().await);
    // Ben, in Chromium, ticks the baseline of each project he is sent to.
    let (to_ben, mut projects) = mpsc::channel::<i64>(1);
    let (base, code) = (watchpost.url(""), watchpost.member_passcode.clone());
    let ben = tokio::spawn(journey(move |c| async move {
        c.goto(&format!("{base}/")).await.expect("open the app");
        sign_in(&c, "Ben", &code).await;
        while let Some(id) = projects.recv().await {
            c.goto(&format!("{base}/projects/{id}/watch"))
                .await
                .expect("open the watch");
            let baseline = testid("item-h0-baseline");
            click(&c, &format!("{baseline} input")).await;
            wait_for_text(&c, &baseline, "Ticked by Ben").await;
        }
    }));
    for engine in Engine::ALL {
        let (opened, is_open) = oneshot::channel::<i64>();
        let (home, code, elsewhere) = (
            watchpost.url("/"),
            watchpost.member_passcode.clone(),
            watchpost.clone(),
        );
        let watching = tokio::spawn(journey_in(engine, move |c| async move {
            let name = format!("Launch seen in {engine:?}");
            c.goto(&home).await.expect("open the app");
            sign_in(&c, "Ana", &code).await;
            find(
                &c,
                &format!("{}, {}", testid("no-projects"), testid("project-list")),
            )
            .await;
            // Created meanwhile, by an admin elsewhere.
            let id = elsewhere.create_project(&name).await;
            wait_for_text(&c, &testid("project-list"), &name).await;
            c.find(Locator::LinkText(&name))
                .await
                .expect("the new project's link")
                .click()
                .await
                .expect("open it");
            click(&c, &testid("tab-watch")).await;
            wait_for_text(&c, &testid("sync-status"), "Live").await;
            let _ = opened.send(id);
            wait_for_text(&c, &testid("item-h0-baseline"), "Ticked by Ben").await;
        }));
        let Ok(id) = is_open.await else {
            let ended = watching.await;
            panic!("the journey in {engine:?} ended before the project was open: {ended:?}");
        };
        to_ben.send(id).await.expect("Ben's browser is open");
        watching
            .await
            .unwrap_or_else(|err| panic!("the journey in {engine:?}: {err}"));
    }
    drop(to_ben);
    ben.await.expect("Ben's journey");
}

#[tokio::test]
async fn two_people_share_the_run_live_offline_and_across_a_restart() {
    use tokio::sync::oneshot::channel;

    let mut watchpost = Watchpost::start().await;
    let id = watchpost.create_project("Launch").await;
    let url = watchpost.url(&format!("/projects/{id}/watch"));
    let (ana_url, ben_url) = (url.clone(), url);
    let (ana_code, ben_code) = (
        watchpost.member_passcode.clone(),
        watchpost.member_passcode.clone(),
    );
    let (ben_ready, ben_is_ready) = channel::<()>();
    let (seen, ben_saw_it) = channel::<()>();
    let (stopped, proxy_stopped) = channel::<()>();
    let (queued, tick_queued) = channel::<()>();
    let baseline = testid("item-h0-baseline");
    let business = testid("item-h16-business-hours");
    let (ana_baseline, ana_business) = (baseline.clone(), business.clone());

    let ana = tokio::spawn(journey(move |c| async move {
        c.goto(&ana_url).await.expect("open the watch");
        sign_in(&c, "Ana", &ana_code).await;
        wait_for_text(&c, &testid("sync-status"), "Live").await;
        let _ = ben_is_ready.await;
        click(&c, &format!("{ana_baseline} input")).await;
        wait_for_text(&c, &ana_baseline, "Ticked by Ana").await;

        let _ = proxy_stopped.await;
        wait_for_text(&c, &testid("sync-status"), "Offline").await;
        click(&c, &format!("{ana_business} input")).await;
        wait_for_text(&c, &ana_business, "Saving…").await;
        wait_for_text(&c, &testid("sync-status"), "1 change waiting to be saved").await;
        screenshot(&c, "offline-tick-light").await;
        let _ = queued.send(());

        // Back online: the queued tick is sent once and leaves the outbox.
        wait_for_text(&c, &testid("sync-status"), "Live").await;
        wait_gone(&c, &format!("{ana_business} {}", testid("pending"))).await;
    }));
    let ben = tokio::spawn(journey(move |c| async move {
        c.goto(&ben_url).await.expect("open the watch");
        sign_in(&c, "Ben", &ben_code).await;
        wait_for_text(&c, &testid("sync-status"), "Live").await;
        let _ = ben_ready.send(());
        let started = std::time::Instant::now();
        wait_for_text(&c, &baseline, "Ticked by Ana").await;
        println!(
            "Ana's tick reached Ben's browser in {:?}",
            started.elapsed()
        );
        let _ = seen.send(());

        // The tick Ana made while the proxy was down arrives after it is back.
        wait_for_text(&c, &business, "Ticked by Ana").await;
        c.refresh().await.expect("reload");
        wait_for_text(&c, &baseline, "Ticked by Ana").await;
        wait_for_text(&c, &business, "Ticked by Ana").await;
        click(&c, &testid("tab-timeline")).await;
        let timeline = wait_for_text(&c, &testid("timeline"), "Ready for business hours").await;
        assert_eq!(
            timeline.matches("ticked").count(),
            2,
            "each tick once: {timeline}"
        );
    }));

    let _ = ben_saw_it.await;
    watchpost.stop();
    let _ = stopped.send(());
    let _ = tick_queued.await;
    watchpost.restart().await;
    ana.await.expect("Ana's journey");
    ben.await.expect("Ben's journey");
}

/// An admin renames a project, is told which setting is wrong and why,
/// archives it, which makes its run read-only, and signs out.
#[tokio::test]
async fn an_admin_changes_a_projects_settings() {
    let watchpost = Watchpost::start().await;
    let id = watchpost.create_project("Launch").await;
    let url = watchpost.url(&format!("/projects/{id}/settings"));
    let admin = watchpost.admin_passcode.clone();
    journey(move |c| async move {
        c.goto(&url).await.expect("open the settings");
        sign_in(&c, "Dana", &admin).await;
        let field = |name: &str| testid(&format!("field-{name}"));
        replace_text(&c, &field("name"), "Voxanne backend").await;
        replace_text(&c, &field("timezone"), "Mars/Olympus").await;
        click(&c, &testid("settings-save")).await;
        wait_for_text(&c, &testid("error-timezone"), "not a time zone name").await;
        wait_for_text(&c, &testid("settings-error"), "A setting cannot be used").await;

        replace_text(&c, &field("timezone"), "Europe/London").await;
        // The Sentry transaction each endpoint's p99 is read from, the path
        // Render counts it under, and the database's read-only user.
        replace_text(&c, "#transaction-calls", "POST /api/calls").await;
        replace_text(&c, "#render-path-calls", "/api/calls").await;
        replace_text(
            &c,
            &field("database_url"),
            "postgres://watchpost_ro:s3cret-pass@db.voxanne.supabase.co:5432/postgres",
        )
        .await;
        click(&c, &testid("settings-save")).await;
        wait_for_text(&c, &testid("settings-saved"), "Saved.").await;
        wait_for_text(&c, &testid("project-name-heading"), "Voxanne backend").await;
        wait_gone(&c, &testid("error-timezone")).await;
        c.refresh().await.expect("reload");
        let calls = find(&c, "#transaction-calls")
            .await
            .prop("value")
            .await
            .expect("value");
        assert_eq!(
            calls.as_deref(),
            Some("POST /api/calls"),
            "the mapping was saved"
        );
        // The connection string comes back masked, and its field stays empty.
        let set = wait_for_text(&c, &testid("database-set"), "watchpost_ro:••••@").await;
        assert!(!set.contains("s3cret"), "{set}");
        let typed = find(&c, &field("database_url"))
            .await
            .prop("value")
            .await
            .expect("value");
        assert_eq!(typed.as_deref(), Some(""));
        c.execute(
            &format!(
                "document.querySelector('{}').scrollIntoView({{block: 'center'}})",
                testid("field-transactions").replace('\'', "\\'")
            ),
            vec![],
        )
        .await
        .expect("scroll");
        screenshot(&c, "settings-transactions-light").await;
        screenshots(&c, "settings-database", &field("database_url")).await;

        click(&c, &testid("settings-archive")).await;
        wait_for_text(&c, &testid("archived"), "Archived").await;
        click(&c, &testid("tab-watch")).await;
        wait_for_text(&c, &testid("read-only"), "archived").await;
        let disabled = find(&c, &format!("{} input", testid("item-h0-baseline")))
            .await
            .attr("disabled")
            .await
            .expect("attribute");
        assert!(disabled.is_some(), "an archived run cannot be ticked");

        // Signing out ends the session here and on the proxy.
        click(&c, &testid("sign-out")).await;
        find(&c, &testid("sign-in-page")).await;
        c.refresh().await.expect("reload");
        find(&c, &testid("sign-in-page")).await;
    })
    .await;
}

/// An outbox saved by an older Watchpost is still sent; one the app cannot
/// read is kept aside and the person told, never dropped.
#[tokio::test]
async fn unsent_work_survives_an_upgrade_and_an_unreadable_outbox_is_kept() {
    use domain::binary::to_base64;
    use domain::run::{Change, Entry};
    use nanoserde::SerBin;

    let watchpost = Watchpost::start().await;
    let id = watchpost.create_project("Launch").await;
    let url = watchpost.url(&format!("/projects/{id}/watch"));
    let member = watchpost.member_passcode.clone();
    // What Watchpost 0.1 stored: the entries' binary form in base64, no version.
    let older = to_base64(
        &vec![Entry {
            id: 0,
            op_id: "from-0-1".into(),
            actor: "Ana".into(),
            at: "2026-11-22T12:00:00Z".into(),
            change: Change::Ticked {
                item: "h0-baseline".into(),
            },
        }]
        .serialize_bin(),
    );
    journey(move |c| async move {
        c.goto(&url).await.expect("open the watch");
        sign_in(&c, "Ana", &member).await;
        let key = format!("watchpost-outbox-{id}");
        c.execute(
            "localStorage.setItem(arguments[0], arguments[1])",
            vec![key.clone().into(), older.into()],
        )
        .await
        .expect("store an older outbox");
        c.refresh().await.expect("reload");
        click(&c, &testid("tab-timeline")).await;
        wait_for_text(
            &c,
            &testid("timeline-entry"),
            "ticked “Baseline metrics recorded”",
        )
        .await;

        c.execute(
            "localStorage.setItem(arguments[0], '9:written-by-a-future-watchpost')",
            vec![key.clone().into()],
        )
        .await
        .expect("store an unreadable outbox");
        c.refresh().await.expect("reload");
        let alert = wait_for_text(&c, &testid("refused"), "another version of Watchpost").await;
        assert!(alert.contains("kept"), "{alert}");
        screenshot(&c, "outbox-kept").await;
        let kept = c
            .execute(
                "const key = arguments[0];
                 const kept = Object.keys(localStorage).filter(k => k.startsWith(key + '-kept-'));
                 return [localStorage.getItem(key), kept.map(k => localStorage.getItem(k))];",
                vec![key.into()],
            )
            .await
            .expect("read local storage");
        assert_eq!(
            kept,
            serde_json::json!([null, ["9:written-by-a-future-watchpost"]]),
            "moved aside, not overwritten"
        );
        // The run goes on: a new tick is saved.
        click(&c, &testid("tab-watch")).await;
        click(&c, &format!("{} input", testid("item-h16-business-hours"))).await;
        click(&c, &testid("tab-timeline")).await;
        wait_for_text(&c, &testid("timeline"), "ticked “Ready for business hours”").await;
    })
    .await;
}

/// The setup against fake Sentry, Render, Slack and service endpoints that
/// follow the services' documents: on a launch that has only begun, the
/// admin's actions do what is missing (each confirmed first), a test event
/// arrives, every live step turns green, and a broken service turns its step
/// red with what to do.
#[tokio::test(flavor = "multi_thread")]
async fn the_wizard_checks_the_real_services_and_an_admin_s_actions_finish_the_setup() {
    use fakes::Launch;
    use fakes::launch::Stage;

    let launch = Launch::start(Stage::Bare).await;
    let watchpost = Watchpost::start_with(launch.env()).await;
    let id = watchpost
        .create_configured_project(&launch.project_settings("Voxanne backend"))
        .await;
    let setup = watchpost.url(&format!("/projects/{id}/setup"));
    let admin = watchpost.admin_passcode.clone();
    journey(move |c| async move {
        c.goto(&setup).await.expect("open the setup");
        sign_in(&c, "Dana", &admin).await;
        let item = |id: &str| testid(&format!("item-{id}"));
        let status = |id: &str| format!("{} {}", item(id), testid("check-status"));

        click(&c, &testid("check-all-sentry")).await;
        wait_for_text(&c, &status("sentry-backend-project-exists"), "failed").await;
        wait_for_text(&c, &status("sentry-frontend-project-exists"), "passed").await;
        let missing = wait_for_text(&c, &item("sentry-backend-project-exists"), "Create the Sentry project").await;
        assert!(missing.contains("create it"), "{missing}");
        screenshots(&c, "setup-action", &item("sentry-backend-project-exists")).await;

        // Each action is confirmed first, and says what it will do.
        let project_item = item("sentry-backend-project-exists");
        click(&c, &format!("{project_item} {}", testid("action-sentry.create_project"))).await;
        // The confirmation is in the page, and takes the focus: Escape closes it.
        wait_for_text(&c, &testid("confirm-plan"), "Create the Sentry project").await;
        let focused = c.active_element().await.expect("the focus");
        assert_eq!(focused.attr("data-testid").await.ok().flatten().as_deref(), Some("confirm-dialog"));
        focused.send_keys(&char::from(Key::Escape).to_string()).await.expect("Escape");
        wait_gone(&c, &testid("confirm-dialog")).await;
        click(&c, &format!("{project_item} {}", testid("action-sentry.create_project"))).await;
        let asked = confirm_action(&c, &project_item).await;
        assert_eq!(asked, "Create the Sentry project “voxanne” (Node.js) in the team “launch”?");
        wait_for_text(&c, &status("sentry-backend-project-exists"), "passed").await;
        wait_for_text(&c, &item("sentry-backend-project-exists"), "Create the Sentry project: done").await;

        click(&c, &testid("check-all-sentry")).await;
        wait_for_text(&c, &status("alert-high-error-rate"), "failed").await;
        click(&c, &format!("{} {}", item("alert-high-error-rate"), testid("action-sentry.create_alert_rules"))).await;
        // The monitoring guide's production rules too: their optional step turns green.
        let guide = wait_for_text(&c, &testid("confirm-dialog"), "Sentry monitoring guide").await;
        assert!(guide.contains("Create the alert rules of the playbook"), "{guide}");
        click(&c, &testid("confirm-guide")).await;
        confirm_action(&c, &item("alert-high-error-rate")).await;
        let rules = wait_for_text(&c, &item("alert-high-error-rate"), "Created 8 alert rules").await;
        assert!(rules.contains("New Production Issue"), "{rules}");

        wait_for_text(&c, &status("render-env-sentry-environment"), "failed").await;
        let env_item = item("render-env-sentry-environment");
        click(&c, &format!("{env_item} {}", testid("action-render.set_env_vars"))).await;
        // Each variable it will set on the service, named; the DSN masked.
        let plan = wait_for_text(&c, &testid("confirm-plan"), "SENTRY_DSN = ").await;
        assert!(plan.contains("Set these variables on “voxanne-backend”?"), "{plan}");
        assert!(plan.contains("SENTRY_ENVIRONMENT = production (new)"), "{plan}");
        assert!(plan.contains("http://public…@") && !plan.contains("publickey@"), "masked: {plan}");
        screenshots(&c, "setup-env-confirm", &testid("confirm-dialog")).await;
        confirm_action(&c, &env_item).await;
        wait_for_text(&c, &status("render-env-sentry-environment"), "passed").await;
        // The variables apply at the next deploy, which is offered.
        let set = wait_for_text(&c, &item("render-env-sentry-environment"), "Deploy on Render").await;
        assert!(set.contains("set to production"), "{set}");
        screenshots(&c, "setup-env-set", &item("render-env-sentry-environment")).await;

        // The SDK's code sits at the step that installs it, with the
        // project's public DSN as Sentry has it, opened when wanted.
        let at_step = format!("{} {}", testid("step-sentry-sdk"), testid("sdk-snippet"));
        click(&c, &format!("{at_step} summary")).await;
        let code = wait_for_text(&c, &at_step, "Sentry.init").await;
        assert!(code.contains("http://publickey@127.0.0.1"), "the public DSN: {code}");
        screenshots(&c, "setup-sdk-snippet", &at_step).await;

        // No event yet: wait for it with the SDK's code at hand, then send one.
        wait_for_text(&c, &status("sentry-backend-events"), "failed").await;
        // The backend's wait (the frontend's events item has its own).
        let backend = item("sentry-backend-events");
        click(&c, &format!("{backend} {}", testid("wait-first-event"))).await;
        wait_for_text(&c, &format!("{backend} {}", testid("first-event-status")), "Asking Sentry every 10 s").await;
        let snippet = format!("{backend} {} {}", testid("first-event"), testid("sdk-snippet"));
        let snippet = wait_for_text(&c, &snippet, "Sentry.init").await;
        // The countdown ticks every second; the code is asked for once.
        let keys_read = || {
            fakes::lock(&launch.sentry.world)
                .requests
                .iter()
                .filter(|(path, _)| path.ends_with("/keys/"))
                .count()
        };
        let before = keys_read();
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(keys_read(), before, "the DSN is not asked for again each second");
        assert!(snippet.contains("Initialize Sentry in Node.js"), "{snippet}");
        assert!(snippet.contains("SENTRY_TRACES_SAMPLE_RATE || 0.1"), "seed 002's rate: {snippet}");
        assert!(snippet.contains("release: process.env.RENDER_GIT_COMMIT"), "{snippet}");
        assert!(snippet.contains("http://publickey@127.0.0.1"), "the public DSN: {snippet}");
        screenshots(&c, "setup-first-event", &format!("{backend} {}", testid("first-event"))).await;
        click(&c, &format!("{} {}", item("sentry-backend-events"), testid("action-sentry.test_event"))).await;
        confirm_action(&c, &item("sentry-backend-events")).await;
        let arrived = wait_for_text(&c, &item("sentry-backend-events"), "arrived in Sentry after").await;
        assert!(arrived.contains("VOX-"), "{arrived}");
        wait_for_text(&c, &status("sentry-backend-events"), "passed").await;
        wait_gone(&c, &format!("{backend} {}", testid("first-event"))).await;

        // The app, deployed with the snippet, reports the live commit as its
        // release (Watchpost's own test event carries none).
        let live = fakes::lock(&launch.render.world)
            .deploys
            .values()
            .flatten()
            .find(|deploy| deploy["status"] == "live")
            .and_then(|deploy| deploy["commit"]["id"].as_str().map(str::to_owned))
            .expect("a live deploy");
        fakes::lock(&launch.sentry.world).releases.push(live);

        // Every live step of every section, green from what the services say.
        tokio::time::sleep(Duration::from_secs(5)).await;
        for section in ["sentry", "render", "slack", "backups"] {
            click(&c, &testid(&format!("section-{section}"))).await;
            click(&c, &testid(&format!("check-all-{section}"))).await;
            let live = c
                .execute(
                    "return [...document.querySelectorAll('.item.live')].map(e => e.dataset.testid.slice(5));",
                    vec![],
                )
                .await
                .expect("list live items");
            let live: Vec<String> = serde_json::from_value(live).expect("ids");
            assert!(!live.is_empty(), "{section} has live steps");
            for id in live {
                wait_for_text(&c, &status(&id), "passed").await;
            }
        }
        screenshot(&c, "setup-all-green-light").await;

        // A broken service: its step turns red and says what to do.
        launch.service.set_healthy(false);
        // Past the 5 s in which a result is reused for everyone.
        tokio::time::sleep(Duration::from_secs(5)).await;
        click(&c, &testid("section-render")).await;
        click(&c, &format!("{} {}", item("health-endpoint-ok"), testid("check-again"))).await;
        let broken = wait_for_text(&c, &status("health-endpoint-ok"), "failed").await;
        assert_eq!(broken, "failed");
        let said = wait_for_text(&c, &item("health-endpoint-ok"), "services.database: “false”").await;
        assert!(said.contains("escalation tab"), "{said}");

        screenshot(&c, "setup-broken-light").await;
    })
    .await;
}

/// `name` in light, dark and phone layouts, with `css` scrolled into view;
/// the window and theme are as before afterwards.
async fn screenshots(c: &fantoccini::Client, name: &str, css: &str) {
    let show = format!(
        "document.querySelector('{}').scrollIntoView({{block: 'center'}})",
        css.replace('\'', "\\'")
    );
    for (theme, width, height) in [
        ("light", 1280, 900),
        ("dark", 1280, 900),
        ("phone", 390, 844),
    ] {
        c.set_window_size(width, height).await.expect("window size");
        if theme == "dark" {
            let toggle = find(c, &testid("theme-toggle")).await;
            toggle.clone().click().await.expect("toggle");
            toggle.clone().click().await.expect("toggle");
            wait_for_text(c, &testid("theme-toggle"), "dark").await;
        }
        c.execute(&show, vec![]).await.expect("scroll into view");
        if theme == "phone" {
            fits_a_phone(c, name).await;
        }
        screenshot(c, &format!("{name}-{theme}")).await;
        if theme == "dark" {
            click(c, &testid("theme-toggle")).await;
            wait_for_text(c, &testid("theme-toggle"), "system").await;
        }
    }
    c.set_window_size(1280, 900).await.expect("window size");
}

/// A whole watch on a test clock (an hour of it in 1.25 seconds), from start
/// to sign-off, between two browsers: Ana starts it and allows
/// notifications; the proxy samples health and takes each checkpoint's
/// snapshot by itself; the schedule counts down on the server's clock; Ana
/// completes hour 0 with a pre-filled shift note and hands over to Ben, who
/// acknowledges it before completing hour 4; Ana is notified of the
/// checkpoints nobody completed; once hour 24 is due, Ben, an admin,
/// confirms what only people can tell, waives what nothing measures, signs
/// off, and opens the report, which fits A4 and Letter.
#[tokio::test(flavor = "multi_thread")]
async fn a_whole_watch_runs_on_a_test_clock_from_start_to_sign_off_between_two_people() {
    use fakes::Launch;
    use fakes::launch::Stage;
    use tokio::sync::oneshot::channel;

    let launch = Launch::start(Stage::Ready).await;
    let (watchpost, id) = Watchpost::for_launch(&launch, 2880).await;
    let url = watchpost.url(&format!("/projects/{id}/watch"));
    let projects = watchpost.url("/");
    let report = watchpost.url(&format!("/api/projects/{id}/sign-off?format=html"));
    let (ana_url, ben_url) = (url.clone(), url);
    let member = watchpost.member_passcode.clone();
    let admin = watchpost.admin_passcode.clone();
    let (handed, handed_over) = channel::<()>();
    let (taken, ben_took_it) = channel::<()>();
    // Ben signs off only once Ana has seen him on watch in the project list:
    // on this clock the sign-off can otherwise come first (a failed CI run).
    let (glanced, ana_glanced) = channel::<()>();

    let ana = tokio::spawn(journey(move |c| async move {
        c.goto(&ana_url).await.expect("open the watch");
        record_notifications(&c).await;
        sign_in(&c, "Ana", &member).await;
        click(&c, &testid("notify-me")).await;
        wait_gone(&c, &testid("notify-me")).await;
        wait_for_text(&c, &testid("test-clock"), "2880× faster").await;
        wait_for_text(&c, &testid("checkpoint-4"), "Hour 4").await;
        click(&c, &testid("start-watch-button")).await;
        wait_for_text(&c, &testid("watch-status"), "Started by Ana").await;

        // Hour 0 falls due at once: the proxy measures every target by itself.
        wait_for_text(&c, &testid("snapshot-when"), "At hour 0").await;
        wait_for_text(&c, &testid("judgment-health-latency"), "On target").await;
        wait_for_text(&c, &testid("health-state"), "up").await;
        let h0 = format!("{} {}", testid("checkpoint-0"), testid("checkpoint-state"));
        // "due for …" and, once the 15 minutes of grace pass, "overdue by …".
        wait_for_text(&c, &h0, "due").await;
        let h24 = format!("{} {}", testid("checkpoint-24"), testid("checkpoint-state"));
        // A live countdown on the server's clock (48 minutes of it a second).
        let countdown = wait_for_text(&c, &h24, "in ").await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let later = wait_for_text(&c, &h24, "in ").await;
        assert_ne!(countdown, later, "the countdown moves");

        // Completing hour 0 asks for a shift note, pre-filled with what is open.
        click(
            &c,
            &format!(
                "{} {}",
                testid("checkpoint-0"),
                testid("complete-checkpoint")
            ),
        )
        .await;
        let note = find(&c, &testid("shift-note-text")).await;
        let prefilled = note
            .prop("value")
            .await
            .expect("the note")
            .unwrap_or_default();
        assert!(
            prefilled.contains("Not ticked: Baseline metrics recorded"),
            "{prefilled}"
        );
        screenshots(&c, "watch-shift-note", &testid("shift-note-form")).await;
        click(&c, &testid("confirm-complete")).await;
        wait_for_text(&c, &h0, "done by Ana at").await;
        wait_for_text(
            &c,
            &format!("{} {}", testid("checkpoint-0"), testid("shift-note")),
            "Not ticked",
        )
        .await;
        let _ = handed.send(());
        let _ = ben_took_it.await;
        wait_for_text(&c, &testid("watch-status"), "On watch: Ben").await;

        // The charts: response time, errors per hour; each with its words.
        let chart = find(&c, &format!("{} svg", testid("latency-chart"))).await;
        let said = chart
            .attr("aria-label")
            .await
            .expect("a label")
            .unwrap_or_default();
        assert!(said.starts_with("Response time of 127.0.0.1"), "{said}");
        // Drawn by the proxy with its axes: the watch's hours, the target.
        let markup = chart
            .prop("outerHTML")
            .await
            .ok()
            .flatten()
            .unwrap_or_default();
        for axis in [">hour 0</text>", ">target 100 ms</text>"] {
            assert!(markup.contains(axis), "{axis} in {markup}");
        }
        wait_for_text(&c, &testid("errors-chart"), "errors in").await;
        screenshots(&c, "watch-running", &testid("health")).await;
        // The host's memory under its limit, from Render's metrics.
        wait_for_text(&c, &testid("memory-chart"), "the limit is 512 MB").await;
        screenshots(&c, "watch-memory", &testid("memory")).await;
        // Nobody completes hour 8: Ana's browser says so by itself.
        wait_for_notification(&c, "Hour 8 is overdue.").await;
        // The project list shows who has the watch and what is late.
        c.goto(&projects).await.expect("open the projects");
        let glance = wait_for_text(&c, &testid("glance"), "On watch: Ben").await;
        assert!(glance.contains("overdue"), "{glance}");
        let _ = glanced.send(());
    }));
    let ben = tokio::spawn(journey(move |c| async move {
        c.goto(&ben_url).await.expect("open the watch");
        sign_in(&c, "Ben", &admin).await;
        // "Sign off" cannot succeed before hour 24: disabled, saying when.
        // Looked at first, while hour 24 is surely far off on this clock
        // (24 hours pass in 30 s: a loaded machine took longer to get here
        // after the handover).
        wait_for_text(&c, &testid("sign-off-why-not"), "The sign-off opens").await;
        let button = find(&c, &testid("sign-off")).await;
        assert!(
            button.attr("disabled").await.expect("attr").is_some(),
            "disabled until it can succeed"
        );
        screenshots(&c, "sign-off-closed", &testid("sign-off-panel")).await;
        let _ = handed_over.await;
        // Hour 4 waits for the handover of hour 0 to be acknowledged.
        let h4 = testid("checkpoint-4");
        wait_for_text(
            &c,
            &format!("{h4} {}", testid("complete-blocked")),
            "acknowledge Ana's handover of hour 0",
        )
        .await;
        wait_for_text(
            &c,
            &format!("{} {}", testid("checkpoint-0"), testid("shift-note")),
            "Not ticked",
        )
        .await;
        // The handover waits in the strip above the tabs, taken right there.
        wait_for_text(&c, &testid("need-handover"), "Ana handed the watch over").await;
        screenshots(&c, "attention-handover", &testid("attention")).await;
        click(&c, &testid("take-watch")).await;
        wait_gone(&c, &testid("need-handover")).await;
        wait_for_text(&c, &testid("watch-status"), "On watch: Ben").await;
        let _ = taken.send(());
        // Once it is due, Ben completes hour 4.
        click(&c, &format!("{h4} {}", testid("complete-checkpoint"))).await;
        click(&c, &testid("confirm-complete")).await;
        wait_for_text(
            &c,
            &format!("{h4} {}", testid("checkpoint-state")),
            "done by Ben at",
        )
        .await;

        // Hour 24: half a minute of this clock from the start.
        wait_for_text_within(
            &c,
            &format!("{} {}", testid("checkpoint-24"), testid("checkpoint-state")),
            "due",
            Duration::from_secs(90),
        )
        .await;
        // The proxy measures the sign-off checkpoint too; the report below
        // shows that snapshot, so it is awaited as a person would see it.
        wait_for_text(&c, &testid("snapshot-when"), "At hour 24").await;
        let criterion = |id: &str| testid(&format!("criterion-{id}"));
        click(
            &c,
            &format!(
                "{} {}",
                testid("item-success-no-critical"),
                testid("check-again")
            ),
        )
        .await;
        wait_for_text(&c, &criterion("success-no-critical"), "met").await;
        wait_for_text(&c, &criterion("success-error-rate"), "met").await;
        wait_for_text(&c, &criterion("success-health"), "never down in").await;
        // Background jobs: as the health endpoint reports them at each snapshot.
        wait_for_text(&c, &criterion("success-background-jobs"), "met").await;
        // What nothing measured is waived with a reason: this launch gave
        // Watchpost no database to read.
        replace_text(
            &c,
            &testid("waive-reason"),
            "No WebSocket traffic on day one; the database is watched in Supabase",
        )
        .await;
        let _ = ana_glanced.await;
        click(&c, &testid("sign-off")).await;
        // The whole panel, so that a failure says which criteria blocked it.
        wait_for_text(&c, &testid("sign-off-panel"), "Approved for launch by Ben").await;
        wait_for_text(&c, &criterion("success-websockets"), "waived by Ben").await;
        wait_for_text(&c, &criterion("success-database"), "waived by Ben").await;
        screenshots(&c, "watch-sign-off", &testid("sign-off-panel")).await;

        // The report to print, as the panel links it.
        let link = find(&c, &testid("print-report")).await;
        let href = link.attr("href").await.expect("href").unwrap_or_default();
        assert!(report.ends_with(&href), "{href}");
        c.goto(&report).await.expect("open the report");
        wait_for_text(&c, &testid("report-verdict"), "Approved for launch by Ben").await;
        let checkpoints = wait_for_text(&c, &testid("report-checkpoints"), "Ana at").await;
        assert!(checkpoints.contains("Not ticked"), "{checkpoints}");
        find(&c, &format!("{} svg", testid("report-latency-chart"))).await;
        // Snapshots from the first checkpoint to the last (on this clock,
        // one due while another is being taken may be skipped for the later).
        let snapshots = wait_for_text(&c, &testid("report-snapshots"), "hour 24").await;
        assert!(snapshots.contains("hour 0"), "{snapshots}");
        fits_paper(&c).await;
        c.set_window_size(794, 1123).await.expect("window size");
        screenshot(&c, "report-a4").await;
    }));
    let (ana, ben) = tokio::join!(ana, ben);
    for outcome in [ana, ben] {
        if let Err(err) = outcome {
            std::panic::resume_unwind(err.into_panic());
        }
    }
}

/// Replaces the browser's notifications with a recorder that allows them, so
/// a journey can read what the app raised (headless Chromium shows none).
async fn record_notifications(c: &fantoccini::Client) {
    c.execute(
        "window.raised = [];
         window.Notification = class {
             static permission = 'default';
             static requestPermission() {
                 window.Notification.permission = 'granted';
                 return Promise.resolve('granted');
             }
             constructor(title, options) { window.raised.push(title + ': ' + options.body); }
         };",
        vec![],
    )
    .await
    .expect("record notifications");
}

/// Waits until the app has raised a notification saying `expected`.
async fn wait_for_notification(c: &fantoccini::Client, expected: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(45);
    loop {
        let raised = c
            .execute("return window.raised || [];", vec![])
            .await
            .expect("read notifications");
        let raised: Vec<String> = serde_json::from_value(raised).unwrap_or_default();
        if raised.iter().any(|n| n.contains(expected)) {
            assert!(
                raised
                    .iter()
                    .all(|n| n.starts_with("Watchpost · Voxanne backend: ")),
                "{raised:?}"
            );
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no notification said {expected:?}: {raised:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The report printed on A4 and on Letter: at each paper's printable width
/// (12 mm margins), no table, chart or cell sticks out or scrolls sideways,
/// no word breaks across lines, and rows and charts never split across
/// pages; the browser's own print makes a PDF of each.
async fn fits_paper(c: &fantoccini::Client) {
    use fantoccini::wd::{PrintConfiguration, PrintMargins, PrintSize};

    // Printable widths in CSS pixels (96 per inch): A4 186 mm, Letter 191.9 mm.
    for (paper, size, width) in [
        ("A4", PrintSize::A4, 703),
        ("Letter", PrintSize::US_LETTER, 725),
    ] {
        c.set_window_size(width, 1000).await.expect("window size");
        let measured = c
            .execute(
                "const w = document.documentElement.clientWidth;
                 const out = [...document.querySelectorAll('table, td, th, figure, svg')]
                     .filter(e => e.getBoundingClientRect().right > w + 1 || e.scrollWidth > e.clientWidth + 1)
                     .map(e => e.tagName + ' ' + e.textContent.slice(0, 40));
                 const split = [...document.querySelectorAll('tr, figure')]
                     .filter(e => getComputedStyle(e).breakInside !== 'avoid')
                     .map(e => e.tagName);
                 // A word (up to 24 letters: not a hash or a URL) on two lines.
                 const broken = [];
                 const walker = document.createTreeWalker(document.querySelector('main'), NodeFilter.SHOW_TEXT);
                 for (let node; (node = walker.nextNode()); ) {
                     for (const m of node.data.matchAll(/[A-Za-z][A-Za-z'’-]{1,23}/g)) {
                         const r = document.createRange();
                         r.setStart(node, m.index);
                         r.setEnd(node, m.index + m[0].length);
                         const lines = new Set([...r.getClientRects()].map(x => Math.round(x.top)));
                         if (lines.size > 1) broken.push(m[0]);
                     }
                 }
                 return { w, out, split, broken, page: document.documentElement.scrollWidth };",
                vec![],
            )
            .await
            .expect("measure");
        assert_eq!(
            measured["out"],
            serde_json::json!([]),
            "{paper}: {measured}"
        );
        assert_eq!(
            measured["split"],
            serde_json::json!([]),
            "{paper}: {measured}"
        );
        assert_eq!(
            measured["broken"],
            serde_json::json!([]),
            "{paper}: words broken across lines: {measured}"
        );
        assert!(
            measured["page"].as_u64() <= measured["w"].as_u64(),
            "{paper}: the page scrolls sideways: {measured}"
        );
        let margins = PrintMargins {
            top: 1.2,
            bottom: 1.2,
            left: 1.2,
            right: 1.2,
        };
        let pdf = c
            .print(
                PrintConfiguration::builder()
                    .size(size)
                    .margins(margins)
                    .build()
                    .expect("a print configuration"),
            )
            .await
            .expect("print");
        assert!(pdf.starts_with(b"%PDF"), "{paper}: a PDF");
    }
}

/// A new critical issue walked to "roll back": the seeds' git route is shown,
/// and an admin rolls back on Render after typing the service's name; the
/// page follows the deploy until it is live.
#[tokio::test(flavor = "multi_thread")]
async fn an_escalation_ends_in_a_rollback_on_render() {
    use fakes::Launch;
    use fakes::launch::Stage;

    let launch = Launch::start(Stage::Ready).await;
    let (watchpost, id) = Watchpost::for_launch(&launch, 1).await;
    let url = watchpost.url(&format!("/projects/{id}/escalate"));
    let admin = watchpost.admin_passcode.clone();
    journey(move |c| async move {
        c.goto(&url).await.expect("open the escalations");
        sign_in(&c, "Dana", &admin).await;
        let procedure = testid("procedure-new-critical-issue");
        click(&c, &format!("{procedure} {}", testid("walk-option"))).await;
        wait_for_text(
            &c,
            &format!("{procedure} {}", testid("walk-outcome")),
            "Roll back",
        )
        .await;
        wait_for_text(&c, &testid("rollback"), "git revert HEAD && git push").await;
        // Before anyone types: the name to type, what it leaves and returns to.
        wait_for_text(
            &c,
            &testid("rollback-form"),
            "Type “voxanne-backend” to confirm",
        )
        .await;
        let plan = wait_for_text(&c, &testid("rollback-plan"), "Returns to a1b2c3d").await;
        assert!(plan.contains("Leaves b2c3d4e Ship it, deployed"), "{plan}");

        replace_text(&c, &testid("rollback-confirm"), "voxanne").await;
        click(&c, &testid("rollback-button")).await;
        wait_for_text(
            &c,
            &testid("rollback"),
            "type the service's name, “voxanne-backend”",
        )
        .await;
        replace_text(&c, &testid("rollback-confirm"), "voxanne-backend").await;
        click(&c, &testid("rollback-button")).await;
        wait_for_text(&c, &testid("rollback-status"), "under way").await;
        screenshots(&c, "escalate-rollback", &testid("rollback")).await;
        {
            let mut world = fakes::lock(&launch.render.world);
            for deploy in world.deploys.values_mut().flatten() {
                if deploy["id"] == "dep-3" {
                    deploy["status"] = serde_json::json!("live");
                }
            }
        }
        wait_for_text(&c, &testid("rollback-status"), "The rollback is live after").await;
        // The health check the proxy runs after it, where it was started.
        wait_for_text(
            &c,
            &testid("rollback-health"),
            "Health after the rollback: passed",
        )
        .await;
        screenshots(&c, "escalate-rollback-done", &testid("rollback")).await;
    })
    .await;
}

/// Between checkpoints, on a test clock: the error watch reads Sentry every
/// second; when 8% of transactions fail, the escalation "Error rate above
/// 5%" opens at once above every tab, Slack is told who is on watch, the
/// chart draws the spike and the timeline says what crossed what.
#[tokio::test(flavor = "multi_thread")]
async fn an_error_rate_spike_between_checkpoints_opens_its_escalation_and_tells_slack() {
    use fakes::Launch;
    use fakes::launch::Stage;

    let launch = Launch::start(Stage::Ready).await;
    let (watchpost, id) =
        Watchpost::for_launch_with(&launch, 60, &[("WATCHPOST_ERROR_WATCH_INTERVAL", "1")]).await;
    let (watch, timeline) = (
        watchpost.url(&format!("/projects/{id}/watch")),
        watchpost.url(&format!("/projects/{id}/timeline")),
    );
    let member = watchpost.member_passcode.clone();
    journey(move |c| async move {
        c.goto(&watch).await.expect("open the watch");
        sign_in(&c, "Ana", &member).await;
        click(&c, &testid("start-watch-button")).await;
        wait_for_text(&c, &testid("watch-status"), "Started by Ana").await;
        wait_for_text(&c, &testid("failures-chart"), "Failed transactions: 0.5%").await;
        // 16 of 200 transactions fail: hours before the next checkpoint.
        launch.sentry.world.lock().expect("lock").transactions = (0..200)
            .map(|n| fakes::sentry::Transaction {
                name: "POST /api/calls".to_owned(),
                duration_ms: 120.0,
                failed: n < 16,
            })
            .collect();
        wait_for_text(
            &c,
            &testid("need-escalation"),
            "Happening now: Error rate above 5%",
        )
        .await;
        screenshots(&c, "attention-error-rate", &testid("attention")).await;
        wait_for_text(&c, &testid("failures-chart"), "the most, 8%").await;
        screenshots(&c, "watch-failures", &testid("errors")).await;
        let posted = launch
            .slack
            .messages()
            .into_iter()
            .find(|m| m.contains("Error rate above 5%"))
            .expect("Slack was told");
        assert!(posted.contains("8% of 200 transactions"), "{posted}");
        assert!(posted.contains("On watch: Ana"), "{posted}");
        c.goto(&timeline).await.expect("open the timeline");
        wait_for_text(
            &c,
            &testid("timeline"),
            "error rate beyond the escalation's > 5%: 8% of 200 transactions",
        )
        .await;
    })
    .await;
}

/// "Health check fails", walked on a test clock while the endpoint is down:
/// the retry waits 30 s of the server's clock and checks again by itself,
/// "persists for more than 2 minutes" is answered from the samples, and the
/// decision is recorded with the values that drove it.
#[tokio::test(flavor = "multi_thread")]
async fn a_failing_health_check_is_retried_and_measured_before_the_decision() {
    use fakes::Launch;
    use fakes::launch::Stage;

    let launch = Launch::start(Stage::Ready).await;
    let (watchpost, id) = Watchpost::for_launch(&launch, 60).await;
    let projects = watchpost.url("/");
    let (watch, escalate) = (
        watchpost.url(&format!("/projects/{id}/watch")),
        watchpost.url(&format!("/projects/{id}/escalate")),
    );
    let member = watchpost.member_passcode.clone();
    journey(move |c| async move {
        c.goto(&watch).await.expect("open the watch");
        sign_in(&c, "Ana", &member).await;
        click(&c, &testid("start-watch-button")).await;
        wait_for_text(&c, &testid("watch-status"), "Started by Ana").await;
        launch.service.set_healthy(false);
        wait_for_text(&c, &testid("health-state"), "down").await;
        // Above every tab: the outage and the procedure it opened, first.
        wait_for_text(
            &c,
            &testid("need-escalation"),
            "Happening now: Health check fails",
        )
        .await;
        let down = wait_for_text(&c, &testid("need-down"), "/health is down").await;
        assert!(down.contains("ago"), "{down}");
        screenshots(&c, "attention-outage", &testid("attention")).await;
        wait_for_text(&c, &testid("transitions"), "down").await;
        // The response-time chart marks the down period.
        wait_for_text(&c, &testid("latency-chart"), "down once (shaded)").await;
        find(&c, &format!("{} rect.down", testid("latency-chart"))).await;
        screenshots(&c, "watch-health-down", &testid("health")).await;
        // The project list shows the health down and its escalation open.
        c.goto(&projects).await.expect("open the projects");
        let glance = wait_for_text(&c, &testid("glance"), "open: Health check fails").await;
        assert!(glance.contains("health down (1)"), "{glance}");

        c.goto(&escalate).await.expect("open the escalations");
        let tree = testid("procedure-health-check");
        // The procedure that is happening comes first, open and marked; the
        // others are folded away.
        wait_for_text(
            &c,
            &format!("{tree} {}", testid("happening")),
            "Happening now since",
        )
        .await;
        let first = find(&c, &format!("{} details", testid("escalate-page"))).await;
        assert_eq!(
            first.attr("data-testid").await.expect("attr").as_deref(),
            Some("procedure-health-check"),
            "first in the page's order"
        );
        let folded = find(&c, &testid("procedure-new-critical-issue")).await;
        assert_eq!(
            folded.attr("open").await.expect("attr"),
            None,
            "folded away"
        );
        screenshots(&c, "escalate-happening", &testid("escalate-page")).await;
        click(&c, &format!("{tree} {}", testid("retry"))).await;
        // 30 s of a clock 60 times faster: half a second.
        wait_for_text(
            &c,
            &format!("{tree} {}", testid("retry-status")),
            "Retried: failed",
        )
        .await;
        click(&c, &format!("{tree} {}", testid("walk-done"))).await;
        // The retry answered "Does the health check pass now?": not asked again.
        let path = wait_for_text(
            &c,
            &format!("{tree} {}", testid("measured-answer")),
            "by the retry",
        )
        .await;
        assert!(!path.is_empty());
        wait_for_text(&c, &format!("{tree} .walk-path"), "→ No, still failing").await;
        let option = |n: usize| format!("{tree} {}:nth-of-type({n})", testid("walk-option"));
        click(&c, &format!("{tree} {}", testid("walk-done"))).await; // Render logs checked
        click(&c, &option(1)).await; // the database shows false
        click(&c, &format!("{tree} {}", testid("walk-done"))).await; // Supabase checked
        // "Failing for more than 2 minutes?": the samples answer it.
        let measured =
            wait_for_text(&c, &format!("{tree} .walk-path"), "by the health samples").await;
        assert!(
            measured.contains("2 minutes? → Yes (by the health samples)"),
            "{measured}"
        );
        wait_for_text(
            &c,
            &format!("{tree} {}", testid("walk-outcome")),
            "Roll back",
        )
        .await;
        click(&c, &format!("{tree} {}", testid("record-decision"))).await;
        wait_for_text(
            &c,
            &format!("{tree} {}", testid("last-decision")),
            "Roll back by Ana",
        )
        .await;
        // Decided: no longer open, though the health is still down.
        c.goto(&projects).await.expect("open the projects");
        let glance = wait_for_text(&c, &testid("glance"), "health down (1)").await;
        assert!(!glance.contains("open:"), "{glance}");
    })
    .await;
    let log: serde_json::Value = watchpost.log(id).await;
    let decision = log
        .as_array()
        .and_then(|entries| entries.iter().find(|e| e["kind"] == "decision_taken"))
        .cloned()
        .unwrap_or_default();
    let note = decision["payload"]["note"].as_str().unwrap_or_default();
    assert!(note.starts_with("failed at"), "{note}");
    assert!(note.contains("services.database: “false”"), "{note}");
    assert!(note.contains("failing for"), "{note}");
}
