use proptest::prelude::*;

use super::*;

fn entry(id: u64, actor: &str, change: Change) -> Entry {
    Entry {
        id,
        op_id: format!("op-{id}"),
        actor: actor.to_owned(),
        at: format!("2026-11-22T12:00:{id:02}Z"),
        change,
    }
}

fn ticked(item: &str) -> Change {
    Change::Ticked {
        item: item.to_owned(),
    }
}

fn unticked(item: &str) -> Change {
    Change::Unticked {
        item: item.to_owned(),
    }
}

#[test]
fn the_last_entry_about_an_item_wins_and_records_who_and_when() {
    let log = [
        entry(1, "ana", ticked("h0-baseline")),
        entry(2, "ben", unticked("h0-baseline")),
        entry(3, "cy", ticked("h0-baseline")),
        entry(4, "ana", ticked("h16-business-hours")),
    ];
    let state = RunState::fold(&log);
    assert_eq!(
        state.tick("h0-baseline"),
        Some(&Tick {
            by: "cy".into(),
            at: "2026-11-22T12:00:03Z".into()
        })
    );
    assert_eq!(
        state.tick("h16-business-hours").map(|t| t.by.as_str()),
        Some("ana")
    );
    assert_eq!(RunState::fold(&log[..2]).tick("h0-baseline"), None);
    assert_eq!(state.last_entry, 4);
}

/// One entry of each kind, as a plausible run.
fn every_kind() -> Vec<Entry> {
    vec![
        entry(
            1,
            "ana",
            Change::Note {
                text: "deploy 41 is live".into(),
                item: None,
            },
        ),
        entry(
            2,
            "ana",
            Change::MetricRecorded {
                target: "error-rate".into(),
                value: 0.4,
            },
        ),
        entry(
            3,
            "ana",
            Change::MetricRecorded {
                target: "error-rate".into(),
                value: 0.7,
            },
        ),
        entry(
            4,
            "proxy",
            check_result("h0-health", CheckStatus::Passed, "ok in 41 ms"),
        ),
        entry(
            5,
            "ben",
            Change::DecisionTaken {
                escalation: "new-critical-issue".into(),
                answers: vec![1],
                outcome: Outcome::Fix,
                note: "PR 812".into(),
            },
        ),
        entry(
            6,
            "ben",
            Change::Handover {
                to: "cy".into(),
                note: "quiet night so far".into(),
            },
        ),
        entry(
            7,
            "cy",
            Change::SignOff {
                approved: true,
                note: String::new(),
            },
        ),
        entry(8, "dana", ticked("h0-baseline")),
        entry(9, "dana", unticked("h16-business-hours")),
        entry(
            11,
            "ed",
            Change::ActionTaken {
                action: "render.set_env_vars".into(),
                status: ActionStatus::Done,
                changed: [("SENTRY_ENVIRONMENT".to_owned(), "set".to_owned())].into(),
                message: "Set 1 variable.".into(),
            },
        ),
        entry(
            12,
            "fay",
            Change::WatchScheduled {
                start: 1_795_000_000,
                grace_seconds: 900,
            },
        ),
        entry(
            13,
            "fay",
            Change::CheckpointCompleted {
                hour: 0,
                note: "baseline: 0.2% errors".into(),
            },
        ),
        entry(
            14,
            "watchpost",
            Change::Snapshot {
                checkpoint: Some(4),
                judgments: vec![Judgment {
                    target: "health-latency".into(),
                    label: "Health endpoint".into(),
                    status: Verdict::Failed,
                    observed: Some(143.0),
                    bound: crate::playbook::Bound {
                        comparison: crate::playbook::Comparison::Below,
                        value: 100.0,
                        unit: crate::playbook::Unit::Ms,
                    },
                    measure: "GET https://api.example/health".into(),
                }],
            },
        ),
        entry(
            15,
            "watchpost",
            Change::HealthChanged {
                url: "https://api.example/health".into(),
                up: false,
                since: 1_795_000_100_000,
                detail: "503, down: database".into(),
            },
        ),
        entry(
            16,
            "watchpost",
            Change::Restarted {
                url: "https://api.example/health".into(),
                uptime_before: 7200,
                uptime_after: 4,
            },
        ),
        entry(17, "gil", Change::HandoverAcknowledged { hour: 0 }),
        entry(
            18,
            "dana",
            Change::CriterionWaived {
                criterion: "success-websockets".into(),
                reason: "no sockets yet".into(),
            },
        ),
        entry(
            19,
            "watchpost",
            Change::ErrorRateChanged {
                above: true,
                percent: 7.25,
                transactions: 400,
                window_seconds: 300,
                threshold: "> 5%".into(),
            },
        ),
        entry(
            20,
            "watchpost",
            Change::WatchTakenOver {
                replica: "web-2".into(),
            },
        ),
    ]
}

#[test]
fn every_kind_of_entry_lands_in_the_state() {
    let log = every_kind();
    let state = RunState::fold(&log);
    assert_eq!(state.notes.len(), 1);
    assert!(
        state.error_rate.as_ref().is_some_and(|rate| rate.above),
        "the error watch's crossing"
    );
    assert_eq!(
        state.metrics.get("error-rate").map(|m| m.value).unwrap(),
        0.7,
        "the latest measurement counts"
    );
    assert_eq!(
        state.checks.get("h0-health").unwrap().status,
        CheckStatus::Passed
    );
    assert_eq!(state.decisions[0].outcome, Outcome::Fix);
    assert_eq!(
        state.on_watch.as_deref(),
        Some("gil"),
        "who took the watch last"
    );
    assert_eq!(
        state.sign_off.as_ref().map(|s| (s.approved, s.by.as_str())),
        Some((true, "cy"))
    );
    let action = state.actions.get("render.set_env_vars").unwrap();
    assert_eq!(
        (action.status, action.by.as_str()),
        (ActionStatus::Done, "ed")
    );
    let watch = state.watch.as_ref().unwrap();
    assert_eq!(
        (watch.schedule.start, watch.by.as_str()),
        (1_795_000_000, "fay")
    );
    assert_eq!(
        state.acknowledged.get("0").map(|t| t.by.as_str()),
        Some("gil")
    );
    assert_eq!(state.completion(0).map(|c| c.by.as_str()), Some("fay"));
    assert_eq!(state.completion(4), None);
    assert_eq!(state.snapshots[0].checkpoint, Some(4));
    let health = state.health.get("https://api.example/health").unwrap();
    assert!(!health.up);
    assert_eq!(state.restarts[0].uptime_after, 4);

    let playbook = Playbook::default_launch().unwrap();
    let said: Vec<String> = log[9..].iter().map(|e| e.describe(&playbook)).collect();
    // What each saw is in its details, and all of it in the exports.
    assert_eq!(log[9].details(), ["Set 1 variable."]);
    assert_eq!(
        log[11].describe_fully(&playbook),
        "completed hour 0 “Start: baseline”: baseline: 0.2% errors"
    );
    assert_eq!(
        said,
        [
            "Set the missing env vars: done",
            "scheduled the watch from 2026-11-18 11:06 UTC, overdue 15 min after each checkpoint",
            "completed hour 0 “Start: baseline”",
            "snapshot at hour 4: 0 on target, 1 off (Health endpoint 143 ms > 100 ms target)",
            "https://api.example/health is down: 503, down: database",
            "https://api.example/health restarted (uptime 2 h 00 min → 4 s)",
            "took the watch, acknowledging the handover at hour 0",
            "waived “WebSocket connections stable”: no sockets yet",
            "error rate beyond the escalation's > 5%: 7.25% of 400 transactions in the last 5 min",
            "keeps the watch from server web-2 now",
        ]
    );
}

#[test]
fn the_next_checkpoint_waits_until_someone_acknowledges_the_handover() {
    let playbook = Playbook::default_launch().unwrap();
    let complete = |hour| Change::CheckpointCompleted {
        hour,
        note: String::new(),
    };
    let mut state = RunState::default();
    let refused = state.refuses(&playbook, &complete(0));
    assert_eq!(
        refused.as_deref(),
        Some("start the watch before completing a checkpoint")
    );
    state.apply(&entry(
        1,
        "ana",
        Change::WatchScheduled {
            start: 0,
            grace_seconds: 900,
        },
    ));
    assert_eq!(state.refuses(&playbook, &complete(0)), None);
    state.apply(&entry(2, "ana", complete(0)));
    assert_eq!(
        state
            .pending_handover(&playbook)
            .map(|(h, d)| (h, d.by.as_str())),
        Some((0, "ana"))
    );
    assert_eq!(
        state.refuses(&playbook, &complete(4)).as_deref(),
        Some("acknowledge ana's handover of hour 0 before completing hour 4")
    );
    assert_eq!(
        state.refuses(&playbook, &complete(0)),
        None,
        "a retry of the same completion"
    );
    let ack = |hour| Change::HandoverAcknowledged { hour };
    assert!(
        state.refuses(&playbook, &ack(4)).is_some(),
        "hour 4 has no handover yet"
    );
    assert_eq!(state.refuses(&playbook, &ack(0)), None);
    state.apply(&entry(3, "ben", ack(0)));
    assert_eq!(state.on_watch.as_deref(), Some("ben"));
    assert_eq!(state.pending_handover(&playbook), None);
    assert_eq!(state.refuses(&playbook, &complete(4)), None);
    // After the sign-off's checkpoint nobody comes next.
    state.apply(&entry(4, "ben", complete(24)));
    assert_eq!(state.pending_handover(&playbook), None);
    assert_eq!(
        ack(30).problem(&playbook).as_deref(),
        Some("the watch has no checkpoint at hour 30")
    );
}

#[test]
fn starting_a_watch_puts_the_starter_on_watch_when_nobody_is() {
    let state = RunState::fold(&[entry(
        1,
        "fay",
        Change::WatchScheduled {
            start: 0,
            grace_seconds: 60,
        },
    )]);
    assert_eq!(state.on_watch.as_deref(), Some("fay"));
}

#[test]
fn entries_are_described_in_the_playbook_s_words() {
    let playbook = Playbook::default_launch().unwrap();
    let say = |change| entry(1, "ana", change).describe(&playbook);
    assert_eq!(
        say(ticked("h0-baseline")),
        "ticked “Baseline metrics recorded”"
    );
    assert_eq!(
        say(ticked("gone")),
        "ticked “gone”",
        "an unknown item shows its id"
    );
    assert_eq!(
        say(Change::MetricRecorded {
            target: "error-rate".into(),
            value: 0.7
        }),
        "recorded Error rate: 0.7"
    );
    assert_eq!(
        say(Change::DecisionTaken {
            escalation: "new-critical-issue".into(),
            answers: vec![0],
            outcome: Outcome::Rollback,
            note: String::new()
        }),
        "decided “Roll back” for New critical issue appears"
    );
    assert_eq!(
        say(check_result(
            "h0-health",
            CheckStatus::Unsupported,
            "The server has no such endpoint."
        )),
        "checked “The health endpoint responds”: not supported by this server"
    );
    assert_eq!(
        say(check_result(
            "p99",
            CheckStatus::Passed,
            "p99 of all: 210 ms."
        )),
        "checked “p99, most endpoints”: passed",
        "a routine target by its label, not its id"
    );
}

#[test]
fn entries_serialise_with_kind_and_payload() {
    let json = serde_json::to_value(entry(1, "ana", ticked("x"))).unwrap_or_default();
    assert_eq!(json["kind"], "ticked");
    assert_eq!(json["payload"]["item"], "x");
    assert_eq!(json["actor"], "ana");
    assert_eq!(json["op_id"], "op-1");
    let back: Entry = serde_json::from_value(json).unwrap();
    assert_eq!(back, entry(1, "ana", ticked("x")));
}

#[test]
fn a_stream_entry_is_received_once() {
    let mut state = RunState::default();
    assert!(state.receive(&entry(1, "ana", ticked("a"))));
    assert!(state.receive(&entry(2, "ben", ticked("b"))));
    assert!(!state.receive(&entry(2, "ben", ticked("b"))), "replayed");
    assert!(!state.receive(&entry(1, "ana", ticked("a"))), "older");
    assert_eq!(state.last_entry, 2);
}

/// Ticks and unticks of a few items by a few people.
fn toggles() -> impl Strategy<Value = Vec<Entry>> {
    prop::collection::vec((0..4usize, 0..3usize, any::<bool>()), 0..40).prop_map(|ops| {
        ops.into_iter()
            .enumerate()
            .map(|(n, (item, actor, tick))| {
                let item = format!("item-{item}");
                let change = if tick { ticked(&item) } else { unticked(&item) };
                entry(n as u64 + 1, ["ana", "ben", "cy"][actor], change)
            })
            .collect()
    })
}

proptest! {
    #[test]
    fn a_stream_replayed_after_reconnects_folds_each_entry_once(
        entries in toggles(),
        resumes in prop::collection::vec((0..40usize, 0..40usize), 0..5),
    ) {
        // The stream delivers in id order; after each reconnect it replays
        // from some earlier entry.
        let mut deliveries: Vec<Entry> = Vec::new();
        let mut next = 0;
        for (until, back) in resumes {
            let until = until.clamp(next, entries.len());
            deliveries.extend_from_slice(&entries[next..until]);
            next = until - back.min(until);
        }
        deliveries.extend_from_slice(&entries[next..]);
        let mut state = RunState::default();
        let received: Vec<Entry> = deliveries
            .into_iter()
            .filter(|entry| state.receive(entry))
            .collect();
        prop_assert_eq!(&received, &entries);
        prop_assert_eq!(state, RunState::fold(&entries));
    }

    #[test]
    fn folding_in_steps_equals_folding_at_once(entries in toggles(), split in 0..40usize) {
        let split = split.min(entries.len());
        let mut state = RunState::fold(&entries[..split]);
        for entry in &entries[split..] {
            state.apply(entry);
        }
        prop_assert_eq!(state, RunState::fold(&entries));
    }

    #[test]
    fn an_item_is_ticked_exactly_when_its_last_entry_ticks_it(entries in toggles()) {
        let state = RunState::fold(&entries);
        for item in (0..4).map(|n| format!("item-{n}")) {
            let last = entries.iter().rev().find_map(|entry| match &entry.change {
                Change::Ticked { item: i } if *i == item => Some((true, entry)),
                Change::Unticked { item: i } if *i == item => Some((false, entry)),
                _ => None,
            });
            match last {
                Some((true, entry)) => prop_assert_eq!(
                    state.tick(&item),
                    Some(&Tick { by: entry.actor.clone(), at: entry.at.clone() })
                ),
                _ => prop_assert_eq!(state.tick(&item), None),
            }
        }
    }
}

#[test]
fn the_app_reads_entries_in_binary_and_writes_new_ones_the_proxy_reads() {
    use nanoserde::{DeBin, SerBin};
    let mut log = every_kind();
    log.push(entry(
        10,
        "dana",
        Change::Note {
            text: "quote \" and \\ and «é»".into(),
            item: Some("h0-baseline".into()),
        },
    ));
    for (kind, _) in KINDS {
        assert!(
            log.iter().any(|e| e.change.kind() == kind),
            "{kind} is covered"
        );
    }
    for sent in &log {
        // The stream and the outbox carry entries in the binary form.
        assert_eq!(
            Entry::deserialize_bin(&sent.serialize_bin()).ok().as_ref(),
            Some(sent)
        );

        let new = NewEntry {
            op_id: sent.op_id.clone(),
            change: sent.change.clone(),
        };
        let written = new.to_json();
        let read: NewEntry =
            serde_json::from_str(&written).unwrap_or_else(|e| panic!("{e}: {written}"));
        assert_eq!(read, new);
    }
    // A whole outbox, as local storage keeps it.
    let text = crate::binary::to_base64(&log.serialize_bin());
    let bytes = crate::binary::from_base64(&text).unwrap_or_default();
    assert_eq!(Vec::<Entry>::deserialize_bin(&bytes).ok(), Some(log));
    assert!(
        Entry::deserialize_bin(&bytes[..3]).is_err(),
        "a truncated entry is refused"
    );
}

#[test]
fn a_new_entry_reads_kind_and_payload_and_refuses_unknown_kinds() {
    let new: NewEntry = serde_json::from_str(
        r#"{"op_id":"op-1","kind":"ticked","payload":{"item":"h0-baseline"}}"#,
    )
    .unwrap();
    assert_eq!(new.change, ticked("h0-baseline"));
    let unknown =
        serde_json::from_str::<NewEntry>(r#"{"op_id":"x","kind":"shrugged","payload":{}}"#);
    assert!(unknown.unwrap_err().to_string().contains("shrugged"));
    for extra in [
        r#"{"op_id":"x","kind":"sign_off","payload":{"approved":false,"x":1}}"#,
        r#"{"op_id":"x","kind":"ticked","payload":{"item":"a","by":"boss"}}"#,
    ] {
        assert!(serde_json::from_str::<NewEntry>(extra).is_err(), "{extra}");
    }
}

#[test]
fn people_may_add_only_what_fits_the_playbook() {
    let playbook = Playbook::default_launch().unwrap();
    let problem = |change: Change| change.problem(&playbook);
    assert_eq!(problem(ticked("h0-baseline")), None);
    assert!(problem(ticked("nope")).unwrap().contains("no item"));
    assert!(
        problem(ticked("h0-health")).unwrap().contains("live check"),
        "live checks are not ticked by hand"
    );
    let note = |text: &str| Change::Note {
        text: text.into(),
        item: None,
    };
    assert_eq!(problem(note("deploy 41 is live")), None);
    assert!(problem(note("  ")).is_some());
    assert!(problem(note(&"x".repeat(TEXT_MAX + 1))).is_some());
    let metric = |target: &str, value: f64| Change::MetricRecorded {
        target: target.into(),
        value,
    };
    assert_eq!(problem(metric("error-rate", 0.4)), None);
    assert!(problem(metric("error-rate", f64::NAN)).is_some());
    assert!(problem(metric("mood", 1.0)).is_some());
    assert!(
        problem(check_result("h0-health", CheckStatus::Passed, "forged")).is_some(),
        "only the proxy records check results"
    );
    let decide = |answers: Vec<usize>, outcome| Change::DecisionTaken {
        escalation: "new-critical-issue".into(),
        answers,
        outcome,
        note: String::new(),
    };
    assert_eq!(problem(decide(vec![0], Outcome::Rollback)), None);
    assert!(
        problem(decide(vec![0], Outcome::Monitor)).is_some(),
        "the walk must end at the outcome"
    );
    assert!(problem(decide(vec![9], Outcome::Rollback)).is_some());
    assert!(
        problem(decide(vec![], Outcome::Rollback)).is_some(),
        "a walk that has not ended"
    );
    assert!(
        problem(Change::Handover {
            to: " ".into(),
            note: String::new()
        })
        .is_some()
    );
}

#[test]
fn what_the_server_writes_is_never_written_by_hand() {
    let playbook = Playbook::default_launch().unwrap();
    let server_kinds = [
        "sign_off",
        "criterion_waived",
        "watch_scheduled",
        "check_result",
        "action_taken",
        "snapshot",
        "health_changed",
        "restarted",
        "error_rate_changed",
        "watch_taken_over",
    ];
    for entry in every_kind() {
        let kind = entry.change.kind();
        let problem = entry.change.problem(&playbook);
        if server_kinds.contains(&kind) {
            let problem = problem.unwrap_or_else(|| panic!("{kind} was accepted by hand"));
            assert!(
                problem.contains("POST /api/") || problem.contains("proxy"),
                "{kind}: the refusal names where it is written: {problem}"
            );
        } else {
            assert_eq!(problem, None, "{kind} is a person's to write");
        }
    }
}

#[test]
fn operation_ids_are_short_and_plain() {
    assert_eq!(op_id_problem("7f9c2ba4-e88f-11ee-9a3b-0242ac120002"), None);
    assert!(op_id_problem("").is_some());
    assert!(op_id_problem("has space").is_some());
    assert!(op_id_problem(&"a".repeat(OP_ID_MAX + 1)).is_some());
}

#[test]
fn the_timeline_filters_by_kind_and_person() {
    let log = every_kind();
    let only = |kind: Option<&str>, actor: Option<&str>| {
        let filter = EntryFilter {
            kind: kind.map(Into::into),
            actor: actor.map(Into::into),
        };
        log.iter()
            .filter(|e| filter.matches(e))
            .map(|e| e.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(only(None, None).len(), log.len());
    assert_eq!(only(Some("metric_recorded"), None), [2, 3]);
    assert_eq!(only(None, Some("ben")), [5, 6]);
    assert_eq!(only(Some("note"), Some("ben")), Vec::<u64>::new());
    assert_eq!(
        actors(&log),
        [
            "ana",
            "proxy",
            "ben",
            "cy",
            "dana",
            "ed",
            "fay",
            "watchpost",
            "gil"
        ]
    );
    for entry in &log {
        let kind = entry.change.kind();
        assert_eq!(
            KINDS
                .iter()
                .find(|(name, _)| *name == kind)
                .map(|(_, label)| *label),
            Some(entry.change.kind_label())
        );
    }
}

#[test]
fn a_filter_becomes_the_export_links_query() {
    assert_eq!(EntryFilter::default().query(), "");
    let filter = EntryFilter {
        kind: Some("note".into()),
        actor: Some("Ana B&Co/é".into()),
    };
    assert_eq!(filter.query(), "&kind=note&actor=Ana%20B%26Co%2F%C3%A9");
}

#[test]
fn the_markdown_export_is_one_table_row_per_entry() {
    let playbook = Playbook::default_launch().unwrap();
    let mut log = every_kind();
    log[0].change = Change::Note {
        text: "a | b\nc".into(),
        item: None,
    };
    let md = markdown("Voxanne", &log, &playbook);
    assert!(md.starts_with("# Timeline: Voxanne\n"));
    assert_eq!(
        md.lines().filter(|l| l.starts_with("| 2026")).count(),
        log.len()
    );
    assert!(
        md.contains("| 2026-11-22 12:00:01 | ana | noted: a \\| b c |"),
        "{md}"
    );
    assert!(markdown("Empty", &[], &playbook).contains("Nothing has been recorded"));
}

#[test]
fn the_markdown_export_renders_peoples_text_as_text() {
    let playbook = Playbook::default_launch().unwrap();
    let mut log = every_kind();
    let hostile = [
        "<script>alert(1)</script>",
        "[docs](javascript:alert(1))",
        "<img src=x onerror=alert(1)>",
        "see JavaScript:void(0) and <javascript:alert(1)>",
        "![x](https://evil.example/t.png) **loud** `code` &amp;",
    ];
    for (entry, text) in log.iter_mut().zip(hostile) {
        entry.change = Change::Note {
            text: text.into(),
            item: None,
        };
    }
    let md = markdown("<b>Voxanne</b>", &log, &playbook);
    let rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| 2026")).collect();
    assert_eq!(rows.len(), log.len(), "{md}");
    for needle in ["<", ">", "](", "javascript:", "JavaScript:", "!["] {
        assert!(!md.contains(needle), "{needle:?} survived in:\n{md}");
    }
    assert!(
        md.starts_with("# Timeline: &lt;b&gt;Voxanne&lt;/b&gt;\n"),
        "{md}"
    );
    assert!(
        rows[0].contains("noted: &lt;script&gt;alert\\(1\\)&lt;/script&gt;"),
        "{}",
        rows[0]
    );
    assert!(
        rows[1].contains("\\[docs\\]\\(javascript&#58;alert"),
        "{}",
        rows[1]
    );
    assert!(
        rows[4].contains("\\!\\[x\\]") && rows[4].contains("\\*\\*loud\\*\\* \\`code\\` &amp;amp;"),
        "{}",
        rows[4]
    );
}

fn check_result(item: &str, status: CheckStatus, message: &str) -> Change {
    Change::CheckResult {
        item: item.into(),
        check: "health.endpoint".into(),
        status,
        observed: [("latency".to_owned(), "41 ms".to_owned())].into(),
        message: message.into(),
        duration_ms: 41,
    }
}
