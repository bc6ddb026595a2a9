//! User journeys through the real app in headless Chromium.

use std::time::Duration;

use fantoccini::Locator;
use fantoccini::key::Key;
use watchpost_e2e::{
    Watchpost, click, find, journey, screenshot, testid, wait_for_text, wait_gone,
};

#[tokio::test]
async fn a_team_creates_a_project_and_walks_the_setup_wizard() {
    let watchpost = Watchpost::start().await;
    let home = watchpost.url("/");
    journey(move |c| async move {
        c.goto(&home).await.expect("open the app");
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
            alert.contains("Live check: Sentry: the alert rule exists"),
            "{alert}"
        );

        // A manual item is ticked by hand and says who ticked it.
        let manual = testid("item-sentry-sdk-initialized");
        click(&c, &format!("{manual} input[type=checkbox]")).await;
        wait_for_text(&c, &manual, "Ticked by you").await;
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
    let id = watchpost.create_project("Launch").await;
    let url = watchpost.url(&format!("/projects/{id}/watch"));
    journey(move |c| async move {
        c.goto(&url).await.expect("open the watch");
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
    journey(move |c| async move {
        c.goto(&url).await.expect("open escalations");
        let procedure = testid("procedure-new-critical-issue");
        wait_for_text(&c, &procedure, "Assess the severity.").await;
        let critical = format!("{procedure} {}", testid("walk-option"));
        click(&c, &critical).await;
        let outcome = wait_for_text(&c, &procedure, "Decision: Roll back").await;
        assert!(
            outcome.contains("Wait 5 minutes for the deployment."),
            "{outcome}"
        );

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
    let id = watchpost.create_project("Launch").await;
    let url = watchpost.url(&format!("/projects/{id}/watch"));
    journey(move |c| async move {
        c.goto(&url).await.expect("open the watch");
        click(&c, &format!("{} input", testid("item-h0-baseline"))).await;
        click(&c, &testid("tab-timeline")).await;
        let entry = wait_for_text(
            &c,
            &testid("timeline-entry"),
            "you ticked “Baseline metrics recorded”",
        )
        .await;
        assert!(entry.contains("UTC"), "the entry says when: {entry}");
    })
    .await;
}

#[tokio::test]
async fn an_unreachable_proxy_is_shown_and_recovers() {
    let mut watchpost = Watchpost::start().await;
    let home = watchpost.url("/");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (restart, restarted) = tokio::sync::oneshot::channel::<()>();
    let browser = tokio::spawn(journey(move |c| async move {
        c.goto(&home).await.expect("open the app");
        find(&c, &testid("new-project")).await;
        let _ = stop.send(());
        let banner = wait_for_text(
            &c,
            &testid("connection-banner"),
            "Cannot reach the Watchpost proxy",
        )
        .await;
        assert!(
            banner.contains("scripts/run"),
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
    journey(move |c| async move {
        c.goto(&home).await.expect("open the app");
        find(&c, &testid("new-project")).await;
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
    journey(move |c| async move {
        // (name, path, the element that shows the view is there)
        let mut views = vec![(
            "projects".to_owned(),
            "/".to_owned(),
            "new-project".to_owned(),
        )];
        for view in ["setup", "watch", "escalate", "timeline"] {
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
                    // Nothing may stick out sideways on a phone.
                    let overflow = c
                        .execute(
                            "const w = document.documentElement.clientWidth;
                             return [...document.querySelectorAll('body *')]
                                 .filter(e => e.getBoundingClientRect().right > w + 1)
                                 .map(e => e.tagName + '.' + e.className);",
                            vec![],
                        )
                        .await
                        .expect("measure");
                    assert_eq!(
                        overflow,
                        serde_json::json!([]),
                        "{name} is wider than a phone"
                    );
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
