use super::*;
use crate::check::CheckKind;

fn launch() -> Playbook {
    match Playbook::default_launch() {
        Ok(playbook) => playbook,
        Err(err) => panic!("the shipped playbook must be valid: {err}"),
    }
}

/// The shipped playbook with one edit, which must be present exactly once.
fn edited(from: &str, to: &str) -> Result<Playbook, PlaybookError> {
    assert_eq!(
        Playbook::DEFAULT_TOML.matches(from).count(),
        1,
        "edit target `{from}` must be unique"
    );
    Playbook::from_toml(&Playbook::DEFAULT_TOML.replacen(from, to, 1))
}

fn problems(result: Result<Playbook, PlaybookError>) -> Vec<Problem> {
    match result {
        Err(PlaybookError::Invalid(problems)) => problems,
        other => panic!("expected validation problems, got {other:?}"),
    }
}

fn syntax(result: Result<Playbook, PlaybookError>) -> String {
    match result {
        Err(err @ PlaybookError::Syntax(_)) => err.to_string(),
        other => panic!("expected a syntax error, got {other:?}"),
    }
}

#[test]
fn the_setup_wizard_covers_sentry_render_and_slack() {
    let playbook = launch();
    let sections: Vec<&str> = playbook.setup.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        sections,
        ["sentry", "render", "slack", "backups", "database"]
    );

    for id in [
        "sentry-backend-project-exists",
        "sentry-frontend-project-exists",
        "sentry-backend-dsn",
        "render-env-send-default-pii",
        "render-env-traces-sample-rate",
        "sentry-release-live",
        "render-dsn-matches",
        "sentry-backend-events",
        "slack-webhook-works",
        "sentry-slack-installed",
    ] {
        assert!(playbook.item(id).is_some(), "the wizard should have `{id}`");
    }
    let frontend = &playbook.setup[0]
        .steps
        .iter()
        .find(|s| s.id == "sentry-frontend-project");
    assert!(
        frontend.is_some_and(|step| step.optional),
        "the frontend project is optional"
    );

    let alerts = playbook.setup[0]
        .steps
        .iter()
        .find(|s| s.id == "sentry-alerts")
        .map(|s| &s.items);
    let rules: Vec<&str> = alerts
        .into_iter()
        .flatten()
        .filter_map(|i| i.with.get("rule"))
        .map(String::as_str)
        .collect();
    assert_eq!(
        rules,
        ["high_error_rate", "new_issue", "error_spike"],
        "three alert rules"
    );
}

#[test]
fn the_watch_has_six_checkpoints_and_a_sign_off_at_24_hours() {
    let watch = launch().watch;
    let hours: Vec<u32> = watch.checkpoints.iter().map(|c| c.hour).collect();
    assert_eq!(hours, [0, 4, 8, 12, 16, 20, 24]);
    let sign_offs: Vec<u32> = watch
        .checkpoints
        .iter()
        .filter(|c| c.sign_off)
        .map(|c| c.hour)
        .collect();
    assert_eq!(sign_offs, [24]);
    assert!(watch.checkpoints.iter().all(|c| !c.items.is_empty()));
    assert!(watch.normal.iter().any(|n| n.contains("429")));
    assert!(watch.critical.iter().any(|c| c.contains("WebSocket")));
}

#[test]
fn the_interval_targets_carry_the_seed_numbers_and_units() {
    let watch = launch().watch;
    let targets: Vec<(&str, String)> = watch
        .routine
        .iter()
        .flat_map(|r| &r.targets)
        .map(|t| (t.id.as_str(), t.bound.to_string()))
        .collect();
    let expect = [
        ("error-count", "< 5 per hour"),
        ("error-rate", "< 1%"),
        ("new-issues", "= 0"),
        ("health-latency", "< 100 ms"),
        ("calls-latency", "< 500 ms"),
        ("webhooks-latency", "< 200 ms"),
        ("assistants-latency", "< 1000 ms"),
        ("p99", "< 1000 ms"),
    ];
    for (id, bound) in expect {
        assert!(
            targets.contains(&(id, bound.to_owned())),
            "missing {id} {bound} in {targets:?}"
        );
    }
}

#[test]
fn every_item_says_how_it_is_verified() {
    let playbook = launch();
    let (mut manual, mut live) = (0, 0);
    for item in playbook.items() {
        match item.verify {
            Verify::Manual => manual += 1,
            Verify::Check(_) => live += 1,
        }
    }
    assert!(
        manual > 0 && live > manual,
        "mostly live checks: {live} live, {manual} manual"
    );
    let used: HashSet<CheckKind> = playbook
        .items()
        .filter_map(|item| item.verify.check())
        .collect();
    assert!(
        used.contains(&CheckKind::SentryAlertRule) && used.contains(&CheckKind::RenderDsnMatches)
    );
}

#[test]
fn the_escalation_trees_follow_the_seed() {
    let playbook = launch();
    let ids: Vec<&str> = playbook.escalations.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["error-rate", "health-check", "new-critical-issue"]);

    let error_rate = &playbook.escalations[0];
    assert_eq!(
        error_rate.threshold.map(|b| b.to_string()),
        Some("> 5%".to_owned())
    );

    let severity = &playbook.escalations[2];
    let Some(Node::Question { options, .. }) = severity.node("severity") else {
        panic!("severity question")
    };
    let labels: Vec<&str> = options
        .iter()
        .map(|o| o.label.split(':').next().unwrap_or_default())
        .collect();
    assert_eq!(labels, ["Critical", "High", "Medium", "Low"]);
    let outcomes: Vec<Outcome> = (0..4)
        .map(|answer| {
            match severity
                .walk(&[answer])
                .ok()
                .and_then(|path| path.last().cloned().cloned())
            {
                Some(Node::Outcome { outcome, .. }) => outcome,
                other => panic!("answer {answer} should end in an outcome, got {other:?}"),
            }
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            Outcome::Rollback,
            Outcome::Fix,
            Outcome::Monitor,
            Outcome::Document
        ]
    );
}

#[test]
fn a_walk_follows_answers_and_rejects_impossible_ones() {
    let health = &launch().escalations[1];
    // retry → still failing → logs → database false → supabase → persists → rollback
    let path = health
        .walk(&[0, 1, 0, 0, 0, 0])
        .map(|p| p.iter().map(|n| n.id()).collect::<Vec<_>>());
    assert_eq!(
        path,
        Ok(vec![
            "wait-retry",
            "recovered",
            "render-logs",
            "database-false",
            "check-supabase",
            "persists",
            "health-rollback"
        ])
    );
    assert_eq!(
        health.walk(&[0, 7]),
        Err(WalkError::NoSuchAnswer {
            depth: 1,
            answer: 7
        })
    );
    assert_eq!(
        health.walk(&[0, 0, 0]),
        Err(WalkError::NoSuchAnswer {
            depth: 2,
            answer: 0
        }),
        "an outcome ends the walk"
    );
}

#[test]
fn bounds_decide_whether_a_value_is_within_target() {
    let below = Bound {
        comparison: Comparison::Below,
        value: 1.0,
        unit: Unit::Percent,
    };
    assert!(below.holds(0.5) && !below.holds(1.0));
    let exactly = Bound {
        comparison: Comparison::Exactly,
        value: 0.0,
        unit: Unit::Count,
    };
    assert!(exactly.holds(0.0) && !exactly.holds(1.0));
    let above = Bound {
        comparison: Comparison::Above,
        value: 5.0,
        unit: Unit::Percent,
    };
    assert!(above.holds(5.1) && !above.holds(5.0));
    let at_most = Bound {
        comparison: Comparison::AtMost,
        value: 100.0,
        unit: Unit::Ms,
    };
    assert!(at_most.holds(100.0) && !at_most.holds(100.5));
    assert_eq!(at_most.to_string(), "≤ 100 ms");
}

#[test]
fn bounds_print_at_most_two_decimals() {
    let bound = |value| {
        Bound {
            comparison: Comparison::Below,
            value,
            unit: Unit::Percent,
        }
        .to_string()
    };
    assert_eq!(bound(0.5), "< 0.5%");
    assert_eq!(bound(0.05), "< 0.05%");
    assert_eq!(bound(99.95), "< 99.95%");
    assert_eq!(bound(1.0), "< 1%");
    assert_eq!(bound(12.345), "< 12.35%");
    assert_eq!(bound(-2.5), "< -2.5%");
}

#[test]
fn the_playbook_survives_a_json_round_trip() {
    // The proxy sends it to the app as JSON; nothing may be lost on the way.
    let playbook = launch();
    let json = serde_json::to_string(&playbook).unwrap_or_default();
    let back: Playbook = serde_json::from_str(&json).unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(back, playbook);
}

#[test]
fn the_app_decodes_exactly_what_the_proxy_sends() {
    // The proxy sends the app a compact binary form (nanoserde), which it
    // decodes with much less code than JSON would need.
    let playbook = launch();
    match Playbook::deserialize_bin(&playbook.serialize_bin()) {
        Ok(decoded) => assert_eq!(decoded, playbook),
        Err(err) => panic!("the app cannot read the playbook: {err}"),
    }
}

#[test]
fn a_truncated_or_unknown_binary_playbook_is_refused() {
    let bytes = launch().serialize_bin();
    assert!(Playbook::deserialize_bin(&bytes[..bytes.len() / 2]).is_err());
    let unknown_check = [(CheckKind::ALL.len() + 1) as u8];
    assert!(Verify::deserialize_bin(&unknown_check).is_err());
    assert_eq!(Verify::deserialize_bin(&[0]).ok(), Some(Verify::Manual));
}

// ---- bad input: each names the place ----

#[test]
fn an_unknown_key_is_refused_with_its_line() {
    let message = syntax(edited("minutes = 1\n", "minutes = 1\nminuets = 2\n"));
    assert!(message.contains("unknown field `minuets`"), "{message}");
    assert!(message.contains("line "), "{message}");
}

#[test]
fn a_target_without_a_unit_is_refused_with_its_line() {
    let message = syntax(edited(
        "label = \"Webhooks\", bound = { comparison = \"<\", value = 200, unit = \"ms\" }",
        "label = \"Webhooks\", bound = { comparison = \"<\", value = 200 }",
    ));
    assert!(message.contains("missing field `unit`"), "{message}");
    assert!(message.contains("line "), "{message}");
}

#[test]
fn an_unknown_unit_is_refused() {
    let message = syntax(edited(
        "label = \"Errors\", bound = { comparison = \"<\", value = 5, unit = \"per_hour\"",
        "label = \"Errors\", bound = { comparison = \"<\", value = 5, unit = \"per_day\"",
    ));
    assert!(
        message.contains("per_day") && message.contains("per_hour"),
        "{message}"
    );
}

#[test]
fn a_misspelt_check_is_refused() {
    let message = syntax(edited(
        "verify = \"render.service\"",
        "verify = \"render.servise\"",
    ));
    assert!(
        message.contains("unknown check `render.servise`"),
        "{message}"
    );
}

#[test]
fn malformed_toml_is_a_syntax_error() {
    let message = syntax(Playbook::from_toml("title = \"unterminated\n"));
    assert!(message.contains("line 1"), "{message}");
}

#[test]
fn duplicate_ids_are_named_with_their_place() {
    let found = problems(edited(
        "id = \"alert-new-issue\"",
        "id = \"alert-high-error-rate\"",
    ));
    assert_eq!(
        found,
        [Problem {
            at: "setup[0].steps[5].items[1]".into(),
            message: "duplicate id `alert-high-error-rate`".into()
        }]
    );
}

#[test]
fn an_item_and_a_target_cannot_share_an_id() {
    let found = problems(edited("id = \"p99\"", "id = \"h20-performance\""));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].at, "watch.routine[4].targets[4]");
}

#[test]
fn a_dangling_branch_is_named() {
    let found = problems(edited(
        "next = \"check-supabase\"",
        "next = \"check-supabsae\"",
    ));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].at, "escalations[1].nodes[4]");
    assert!(
        found[0]
            .message
            .contains("leads to `check-supabsae`, which is not a node"),
        "{found:?}"
    );
}

#[test]
fn a_missing_start_node_is_named() {
    let found = problems(edited("start = \"severity\"", "start = \"triage\""));
    assert_eq!(
        found,
        [Problem {
            at: "escalations[2].start".into(),
            message: "start node `triage` does not exist".into()
        }]
    );
}

#[test]
fn a_loop_and_an_unreachable_node_are_refused() {
    // "wait-retry" pointing at itself loops, and leaves the rest of the tree unreachable.
    let found = problems(edited("next = \"recovered\"", "next = \"wait-retry\""));
    let messages: Vec<&str> = found.iter().map(|p| p.message.as_str()).collect();
    assert!(
        messages.contains(&"`wait-retry` leads back to `wait-retry`: a decision tree cannot loop"),
        "{messages:?}"
    );
    assert!(
        messages.contains(&"`recovered` cannot be reached from the start node"),
        "{messages:?}"
    );
}

#[test]
fn a_question_needs_two_options() {
    let found = problems(edited(
        "options = [\n  { label = \"Yes\", next = \"transient\" },\n  { label = \"No, still failing\", next = \"render-logs\" },\n]",
        "options = [\n  { label = \"Yes\", next = \"transient\" },\n]",
    ));
    let messages: Vec<&str> = found.iter().map(|p| p.message.as_str()).collect();
    assert!(
        messages.contains(&"question `recovered` needs at least two options"),
        "{messages:?}"
    );
}

#[test]
fn check_parameters_are_validated() {
    let found = problems(edited(
        "with = { rule = \"error_spike\" }",
        "with = { rule = \"spike\" }",
    ));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].at, "setup[0].steps[5].items[2]");
    assert!(found[0].message.contains("expected one of"), "{found:?}");
}

#[test]
fn checkpoints_must_be_in_order_and_end_with_the_sign_off() {
    let found = problems(edited("hour = 12\n", "hour = 7\n"));
    assert_eq!(found[0].at, "watch.checkpoints[3]");
    assert!(
        found[0].message.contains("does not come after"),
        "{found:?}"
    );

    let found = problems(edited("sign_off = true\n", ""));
    assert!(
        found
            .iter()
            .any(|p| p.message.contains("must be the sign-off")),
        "{found:?}"
    );

    let found = problems(edited("duration_hours = 24", "duration_hours = 48"));
    assert!(
        found.iter().any(|p| p
            .message
            .contains("sign-off is at hour 24 but the watch lasts 48")),
        "{found:?}"
    );
}

#[test]
fn ids_must_be_url_safe() {
    let found = problems(edited("id = \"h8-memory\"", "id = \"H8 memory\""));
    assert_eq!(
        found[0].message,
        "id `H8 memory` must be lowercase letters, digits and inner dashes"
    );
}

#[test]
fn percentages_stay_within_100() {
    let found = problems(edited(
        "value = 5, unit = \"percent\"",
        "value = 500, unit = \"percent\"",
    ));
    assert_eq!(
        found,
        [Problem {
            at: "escalations[0].threshold".into(),
            message: "500% is not a percentage".into()
        }]
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let source = Playbook::DEFAULT_TOML
        .replacen(
            "id = \"alert-new-issue\"",
            "id = \"alert-high-error-rate\"",
            1,
        )
        .replacen("start = \"severity\"", "start = \"triage\"", 1);
    let err = Playbook::from_toml(&source)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.starts_with("the playbook has 2 problem(s):"), "{err}");
    assert!(
        err.contains("escalations[2].start: start node `triage` does not exist"),
        "{err}"
    );
}

#[test]
fn the_health_tree_retries_after_30_seconds_and_measures_2_minutes_of_failing() {
    let playbook = Playbook::default_launch().expect("the launch playbook");
    let health = playbook
        .escalations
        .iter()
        .find(|e| e.id == "health-check")
        .expect("the health tree");
    assert!(matches!(
        health.node("wait-retry"),
        Some(Node::Step {
            retry_after_seconds: Some(30),
            ..
        })
    ));
    assert!(matches!(
        health.node("persists"),
        Some(Node::Question {
            failing_for_seconds: Some(120),
            ..
        })
    ));
    // Elsewhere they are refused: the error-rate tree is not detected by a health check.
    let source = include_str!("../../../../playbooks/launch.toml")
        .replacen(
            "next = \"find-cause\"",
            "next = \"find-cause\"\nretry_after_seconds = 30",
            1,
        )
        .replacen(
            "text = \"Within 5 minutes: what is the root cause?\"",
            "text = \"Within 5 minutes: what is the root cause?\"\nfailing_for_seconds = 60",
            1,
        );
    let problems = Playbook::from_toml(&source)
        .expect_err("refused")
        .to_string();
    assert!(problems.contains("failing_for_seconds"), "{problems}");
    assert!(
        !problems.contains("retry_after_seconds"),
        "error rate has a live check: {problems}"
    );
}

#[test]
fn every_platform_has_its_seed_s_sdk_settings_and_bad_ones_are_named() {
    let playbook = launch();
    for platform in crate::project::Platform::ALL {
        let sdk = playbook
            .sdk_for(platform)
            .expect("settings for every platform");
        assert!(
            sdk.settings
                .iter()
                .all(|s| s.seed.starts_with("the ") && !s.seed.contains("seed")),
            "each value names its document as the team calls it: {sdk:?}"
        );
    }
    let mut broken = launch();
    let mut twice = broken.sdk[0].clone();
    twice.settings[0].key = "sentry traces".into();
    broken.sdk.push(twice);
    let problems: Vec<String> = broken.problems().iter().map(|p| p.to_string()).collect();
    assert!(
        problems
            .iter()
            .any(|p| p.contains("a second SDK for the same platform")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("sdk[3].settings[0]: key names an env var")),
        "{problems:?}"
    );
}

#[test]
fn the_charts_draw_the_playbooks_own_targets() {
    let playbook = launch();
    assert_eq!(
        playbook.chart_target(CheckKind::HealthLatency, Unit::Ms),
        Some(100)
    );
    assert_eq!(
        playbook.chart_target(CheckKind::SentryErrorCount, Unit::PerHour),
        Some(5)
    );
    assert_eq!(
        playbook.chart_target(CheckKind::SentryErrorCount, Unit::Ms),
        None
    );
}

#[test]
fn what_watchpost_measured_answers_the_question_instead_of_asking_it() {
    let playbook = launch();
    let health = playbook
        .escalations
        .iter()
        .find(|escalation| escalation.id == "health-check")
        .expect("the health tree");
    let recovered = health.node("recovered").expect("does it pass now?");
    assert_eq!(recovered.measured_answer(Some(true), None), Some(0), "Yes");
    assert_eq!(
        recovered.measured_answer(Some(false), Some(600)),
        Some(1),
        "No, still failing"
    );
    assert_eq!(
        recovered.measured_answer(None, Some(600)),
        None,
        "no retry yet"
    );
    let persists = health.node("persists").expect("failing for 2 minutes?");
    assert_eq!(persists.measured_answer(None, Some(180)), Some(0));
    assert_eq!(persists.measured_answer(None, Some(120)), Some(1));
    assert_eq!(
        persists.measured_answer(None, Some(0)),
        Some(1),
        "nothing failing"
    );
    assert_eq!(
        persists.measured_answer(Some(false), None),
        None,
        "no samples read"
    );
    let asked = health
        .node("database-false")
        .expect("a question nobody measures");
    assert_eq!(asked.measured_answer(Some(false), Some(600)), None);
    // Only a question right after a retry is answered by it.
    let problems = problems(edited(
        "text = \"Does the health answer show the database as false?\"",
        "text = \"Does the health answer show the database as false?\"\nanswered_by_retry = true",
    ));
    assert!(
        problems
            .iter()
            .any(|p| p.to_string().contains("answered_by_retry")),
        "{problems:?}"
    );
}
