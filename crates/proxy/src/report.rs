//! The launch report as a page to print or keep: the verdict and each
//! criterion's evidence, the checkpoints with their shift notes, the charts,
//! every snapshot and the whole timeline. Built here rather than in the app,
//! so that it costs the first load nothing and prints the same from any
//! browser; maud escapes every piece of people's text.
//!
//! Printing: tables take the page's width with fixed columns and wrap long
//! words, so nothing is cut at the right edge of A4 or Letter; a row, a
//! chart or a heading never splits across pages, and a table's header is
//! repeated on each page it spans.

use std::sync::LazyLock;

use base64::Engine;
use domain::health::{Report, Stats};
use domain::playbook::{Decimal, Playbook};
use domain::project::Project;
use domain::run::{Entry, RunState};
use domain::signoff::SignOffReport;
use domain::snapshot::Verdict;
use domain::watch::utc;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use sha2::{Digest, Sha256};

use crate::clock::unix_seconds;

/// Everything the report shows, read by the route.
#[derive(Debug)]
pub struct LaunchReport<'a> {
    pub project: &'a Project,
    pub playbook: &'a Playbook,
    pub run: &'a RunState,
    pub sign_off: &'a SignOffReport,
    /// The sampler's figures over the watch's run, with the charts.
    pub health: &'a Report,
    pub timeline: &'a [Entry],
    /// Unix seconds.
    pub generated_at: i64,
}

const STYLE: &str = r#"
:root { color-scheme: light dark; --line: #c8ccd2; --muted: #5b6270; --ok: #17753a; --bad: #b42318; --na: #8a6100; }
* { box-sizing: border-box; }
body { font: 10.5pt/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5rem auto; max-width: 60rem; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
h2 { font-size: 1.15rem; margin: 1.75rem 0 .5rem; break-after: avoid; page-break-after: avoid; }
p { margin: .35rem 0; }
.meta, .muted, figcaption { color: var(--muted); }
.verdict { font-size: 1.1rem; font-weight: 600; padding: .5rem .75rem; border-left: .35rem solid var(--bad); }
.verdict.approved { border-color: var(--ok); }
table { width: 100%; border-collapse: collapse; table-layout: fixed; margin: .25rem 0 1rem; }
thead { display: table-header-group; }
th, td { text-align: left; vertical-align: top; padding: .3rem .4rem; border-bottom: 1px solid var(--line); overflow-wrap: anywhere; }
th { font-weight: 600; border-bottom-width: 2px; }
tr, figure, .stats { break-inside: avoid; page-break-inside: avoid; }
td.note { white-space: pre-line; }
.w-when { width: 9.5rem; } .w-short { width: 6rem; } .w-status { width: 7rem; } .w-who { width: 7rem; } .w-third { width: 33%; }
/* Headings and status words never break inside a word ("unmeasur|ed"). */
th, td.met, td.not_met, td.unmeasured, td.waived, td.passed, td.failed, td.not_measurable { overflow-wrap: normal; word-break: normal; hyphens: manual; }
.met, .passed { color: var(--ok); font-weight: 600; }
.not_met, .failed { color: var(--bad); font-weight: 600; }
.unmeasured, .waived, .not_measurable { color: var(--na); font-weight: 600; }
figure { margin: .5rem 0 1rem; }
figure svg { display: block; width: 100%; overflow: visible; }
svg path { fill: none; vector-effect: non-scaling-stroke; }
svg .area { fill: none; stroke: var(--line); vector-effect: non-scaling-stroke; }
svg .grid { stroke: var(--line); stroke-width: .5; }
svg .line { stroke: #2456a6; stroke-width: 1.5; }
svg path.target { stroke: var(--bad); stroke-dasharray: 5 4; }
svg .down { fill: #d92d20; opacity: .3; }
svg .bar { fill: #6941c6; }
svg text { font-size: 9px; fill: var(--muted); }
svg text.target { fill: var(--bad); }
.stats { display: flex; flex-wrap: wrap; gap: .25rem 1.5rem; margin: .25rem 0; }
.print-hint { border: 1px dashed var(--line); padding: .4rem .6rem; }
@media (prefers-color-scheme: dark) {
  :root { --line: #3a404a; --muted: #a3aab6; --ok: #4ade80; --bad: #f97066; --na: #fdb022; }
  body { background: #14171c; color: #e8eaee; }
  svg .line { stroke: #84adff; }
}
@media print {
  :root { color-scheme: light; --line: #c8ccd2; --muted: #444; --ok: #17753a; --bad: #b42318; --na: #8a6100; }
  body { margin: 0; max-width: none; padding: 0; background: #fff; color: #000; }
  .print-hint { display: none; }
  svg .line { stroke: #2456a6; }
}
@page { size: auto; margin: 14mm 12mm; }
"#;

/// The page's Content-Security-Policy: no script at all, and only this
/// page's own stylesheet.
pub static CONTENT_SECURITY_POLICY: LazyLock<String> = LazyLock::new(|| {
    let digest = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(STYLE));
    format!(
        "default-src 'none'; style-src 'sha256-{digest}'; img-src data:; base-uri 'none'; \
         form-action 'none'; frame-ancestors 'none'"
    )
});

/// The report as a whole HTML page.
pub fn html(report: &LaunchReport) -> String {
    let project = report.project;
    let times = Times::of(project);
    let title = format!("Launch report: {}", project.name);
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    h1 { (title) }
                    p.meta {
                        "Generated " (times.unix(report.generated_at)) " by Watchpost. "
                        @if let Some(watch) = &report.run.watch {
                            "Watch started " (times.unix(watch.schedule.start)) " by " (watch.by) "; "
                            "times in the project's time zone, " (project.timezone) " (" (times.offset(watch.schedule.start)) ")."
                        } @else {
                            "No watch has started."
                        }
                    }
                    p.print-hint {
                        "To print or save as PDF, use your browser's Print (Ctrl+P or ⌘P); A4 and Letter both fit. "
                        a href="?format=markdown" data-testid="report-markdown" { "Download it as Markdown" }
                    }
                }
                // The first page carries the verdict, the criteria and the charts.
                main {
                    (verdict(report.sign_off, &times))
                    (criteria(report.sign_off))
                    (charts(report, &times))
                    (checkpoints(report, &times))
                    (snapshots(report.run, &times))
                    (timeline(report, &times))
                }
            }
        }
    };
    page.into_string()
}

/// The page's times, in the project's time zone: `2026-11-23 14:05 CET`.
struct Times(jiff::tz::TimeZone);

impl Times {
    fn of(project: &Project) -> Self {
        Times(jiff::tz::TimeZone::get(&project.timezone).unwrap_or(jiff::tz::TimeZone::UTC))
    }

    fn unix(&self, seconds: i64) -> String {
        self.format(seconds, "%Y-%m-%d %H:%M %Z")
    }

    fn when(&self, rfc3339: &str) -> String {
        unix_seconds(rfc3339).map_or_else(|| rfc3339.to_owned(), |at| self.unix(at))
    }

    /// The zone's offset at `seconds`, `UTC+01:00`, for the page's header.
    fn offset(&self, seconds: i64) -> String {
        format!("UTC{}", self.format(seconds, "%:z"))
    }

    fn format(&self, seconds: i64, pattern: &str) -> String {
        jiff::Timestamp::from_second(seconds).map_or_else(
            |_| utc(seconds),
            |at| at.to_zoned(self.0.clone()).strftime(pattern).to_string(),
        )
    }
}

fn verdict(sign_off: &SignOffReport, times: &Times) -> Markup {
    let approved = sign_off.signed_off_by.is_some();
    let text = match (&sign_off.signed_off_by, &sign_off.signed_off_at) {
        (Some(by), Some(at)) => format!("Approved for launch by {by} at {}.", times.when(at)),
        _ => sign_off.verdict(),
    };
    html! {
        p.verdict.approved[approved] data-testid="report-verdict" { (text) }
    }
}

fn criteria(sign_off: &SignOffReport) -> Markup {
    html! {
        h2 { "Success criteria" }
        table data-testid="report-criteria" {
            thead { tr { th.w-third { "Criterion" } th.w-short { "Standing" } th { "Evidence" } } }
            tbody {
                @for criterion in &sign_off.criteria {
                    tr {
                        td { (criterion.text) }
                        td class=(criterion.standing.name()) { (criterion.standing.badge().0) }
                        td { (criterion.evidence) }
                    }
                }
            }
        }
    }
}

fn checkpoints(report: &LaunchReport, times: &Times) -> Markup {
    let Some(watch) = &report.run.watch else {
        return html! {};
    };
    html! {
        h2 { "Checkpoints" }
        table data-testid="report-checkpoints" {
            thead { tr { th.w-short { "Hour" } th { "Checkpoint" } th.w-when { "Due" } th { "Done" } th.w-third { "Shift note" } } }
            tbody {
                @for checkpoint in &report.playbook.watch.checkpoints {
                    @let done = report.run.completion(checkpoint.hour);
                    tr {
                        td { (checkpoint.hour) }
                        td { (checkpoint.title) }
                        td { (times.unix(watch.schedule.due_at(checkpoint))) }
                        td {
                            @match done {
                                Some(done) => { (done.by) " at " (times.when(&done.at)) }
                                None => { span.muted { "not completed" } }
                            }
                        }
                        td.note { @if let Some(done) = done { (done.note) } }
                    }
                }
            }
        }
    }
}

fn charts(report: &LaunchReport, times: &Times) -> Markup {
    let health = report.health;
    html! {
        h2 { "Health over the run" }
        (stats("Every URL", &health.overall))
        @for url in &health.urls {
            @if !url.points.is_empty() {
                figure data-testid="report-latency-chart" {
                    (PreEscaped(&url.chart.svg))
                    figcaption { (url.chart.caption) }
                }
                (stats(&url.url, &url.stats))
            }
        }
        @if health.urls.iter().all(|url| url.points.is_empty()) {
            p.muted { "No health samples were recorded." }
        }
        @if !health.transitions.is_empty() {
            table {
                thead { tr { th.w-when { "When" } th.w-short { "Change" } th.w-third { "URL" } th { "Detail" } } }
                tbody {
                    @for change in &health.transitions {
                        tr { td { (times.when(&change.at)) } td { (change.kind) } td { (change.url) } td { (change.detail) } }
                    }
                }
            }
        }
        h2 { "Errors per hour (Sentry)" }
        // No drawing: the caption says why Sentry could not say.
        @if health.errors.svg.is_empty() {
            p.muted { "Sentry could not say: " (health.errors.caption) }
        } @else {
            figure data-testid="report-errors-chart" {
                (PreEscaped(&health.errors.svg))
                figcaption { (health.errors.caption) }
            }
        }
        h2 { "Failed transactions (the error watch)" }
        figure data-testid="report-failures-chart" {
            (PreEscaped(&health.failures.svg))
            figcaption { (health.failures.caption) }
        }
        h2 { "Memory (the host)" }
        @if health.memory.svg.is_empty() {
            p.muted { (health.memory.caption) }
        } @else {
            figure data-testid="report-memory-chart" {
                (PreEscaped(&health.memory.svg))
                figcaption { (health.memory.caption) }
            }
        }
    }
}

fn stats(of: &str, stats: &Stats) -> Markup {
    let ms = |value: Option<u32>| value.map_or_else(|| "–".to_owned(), |ms| format!("{ms} ms"));
    html! {
        div.stats {
            strong { (of) }
            span { "uptime " (stats.uptime_percent.map_or_else(|| "–".to_owned(), |p| format!("{}%", Decimal(p)))) }
            span { "p50 " (ms(stats.p50_ms)) }
            span { "p95 " (ms(stats.p95_ms)) }
            span { "p99 " (ms(stats.p99_ms)) }
            span { (stats.samples) " samples" }
        }
    }
}

/// The snapshots' measured targets row by row; what could not be measured
/// is counted in its snapshot's row and said once below, grouped by target.
fn snapshots(run: &RunState, times: &Times) -> Markup {
    let unmeasured = unmeasured_targets(run);
    html! {
        h2 { "Snapshots" }
        @if run.snapshots.is_empty() {
            p.muted { "No snapshot was taken." }
        } @else {
            table data-testid="report-snapshots" {
                thead { tr { th.w-when { "When" } th.w-short { "Checkpoint" } th { "Target" } th.w-status { "Status" } } }
                tbody {
                    @for snapshot in &run.snapshots {
                        @let not_measured = snapshot.judgments.iter().filter(|j| j.status == Verdict::NotMeasurable).count();
                        @for judgment in snapshot.judgments.iter().filter(|j| j.status != Verdict::NotMeasurable) {
                            tr {
                                td { (times.when(&snapshot.at)) }
                                td { (checkpoint_words(snapshot.checkpoint)) }
                                td { (judgment.condition()) small.muted { " (" (judgment.measure) ")" } }
                                td class=(judgment.status.name()) { (judgment.status.name().replace('_', " ")) }
                            }
                        }
                        @if not_measured > 0 {
                            tr {
                                td { (times.when(&snapshot.at)) }
                                td { (checkpoint_words(snapshot.checkpoint)) }
                                td.muted { (not_measured) " target(s): see below" }
                                td.not_measurable { "not measurable" }
                            }
                        }
                    }
                }
            }
            @if !unmeasured.is_empty() {
                p data-testid="report-unmeasured" {
                    (unmeasured.len()) " target(s) could not be measured at "
                    (run.snapshots.iter().filter(|s| s.judgments.iter().any(|j| j.status == Verdict::NotMeasurable)).count())
                    " snapshot(s): "
                    @for (at, (label, count, why)) in unmeasured.iter().enumerate() {
                        @if at > 0 { "; " }
                        (label) " (" (count) "×: " (why) ")"
                    }
                    "."
                }
            }
        }
    }
}

fn checkpoint_words(checkpoint: Option<u32>) -> String {
    checkpoint.map_or_else(|| "asked".to_owned(), |hour| format!("hour {hour}"))
}

/// Each target some snapshot could not measure: its label, in how many
/// snapshots, and why (the latest reason), in the playbook's order.
fn unmeasured_targets(run: &RunState) -> Vec<(String, usize, String)> {
    let mut found: Vec<(String, usize, String)> = Vec::new();
    for judgment in run
        .snapshots
        .iter()
        .flat_map(|snapshot| &snapshot.judgments)
        .filter(|judgment| judgment.status == Verdict::NotMeasurable)
    {
        match found
            .iter_mut()
            .find(|(label, ..)| *label == judgment.label)
        {
            Some((_, count, why)) => {
                *count += 1;
                why.clone_from(&judgment.measure);
            }
            None => found.push((judgment.label.clone(), 1, judgment.measure.clone())),
        }
    }
    found
}

fn timeline(report: &LaunchReport, times: &Times) -> Markup {
    html! {
        h2 { "Timeline" }
        table data-testid="report-timeline" {
            thead { tr { th.w-when { "When" } th.w-who { "Who" } th { "What" } } }
            tbody {
                @for entry in report.timeline {
                    tr { td { (times.when(&entry.at)) } td { (entry.actor) } td { (entry.describe_fully(report.playbook)) } }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::Charts;
    use domain::run::Change;
    use domain::signoff::{RunHealth, evaluate};

    fn entry(id: u64, actor: &str, change: Change) -> Entry {
        Entry {
            id,
            op_id: format!("op-{id}"),
            actor: actor.into(),
            at: format!("2026-11-24T0{id}:00:00Z"),
            change,
        }
    }

    #[test]
    fn the_page_escapes_peoples_text_and_allows_only_its_own_style() {
        let playbook = Playbook::default_launch().expect("the launch playbook");
        let project = Project {
            name: "Voxanne <b>".into(),
            timezone: "Europe/London".into(),
            ..Project::blank(1)
        };
        let mut health = Report {
            window: "run".into(),
            from: "2026-11-18T11:06:40Z".into(),
            to: "2026-11-19T11:06:40Z".into(),
            from_ms: 1_795_000_000_000,
            now_ms: 1_795_086_400_000,
            clock_speed: 1,
            sample_interval_seconds: 30,
            overall: Stats::of([]),
            urls: Vec::new(),
            transitions: Vec::new(),
            errors: domain::chart::Chart::default(),
            failures: domain::chart::Chart::default(),
            memory: domain::chart::Chart::default(),
        };
        let timeline = vec![
            entry(
                1,
                "Ana",
                Change::WatchScheduled {
                    start: 1_795_000_000,
                    grace_seconds: 900,
                },
            ),
            entry(
                2,
                "<img src=x onerror=alert(1)>",
                Change::CheckpointCompleted {
                    hour: 0,
                    note: "all <script>alert(1)</script> fine".into(),
                },
            ),
        ];
        let run = RunState::fold(&timeline);
        let sign_off = evaluate(&playbook, &run, &RunHealth::default());
        let hours = [(1_794_999_600, 3), (1_795_003_200, 0)];
        health.errors = Charts::of_hours(&playbook, &project.timezone, &run, &hours, health.now_ms)
            .errors(&hours);
        let page = html(&LaunchReport {
            project: &project,
            playbook: &playbook,
            run: &run,
            sign_off: &sign_off,
            health: &health,
            timeline: &timeline,
            generated_at: 1_795_090_000,
        });
        assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
        assert!(page.contains("<title>Launch report: Voxanne &lt;b&gt;</title>"));
        assert!(
            !page.contains("<script>") && !page.contains("<img"),
            "{page}"
        );
        assert!(page.contains("all &lt;script&gt;alert(1)&lt;/script&gt; fine"));
        assert!(
            page.contains("Not approved yet: 8 criteria block it."),
            "{page}"
        );
        // In the project's zone, with its offset once.
        assert!(
            page.contains("Watch started 2026-11-18 11:06 GMT by Ana"),
            "{page}"
        );
        assert!(page.contains("Europe/London (UTC+00:00)"), "{page}");
        assert!(page.contains("No health samples were recorded."));
        assert!(page.contains("3 errors in 2 hours"), "{page}");
        for section in ["report-criteria", "report-checkpoints", "report-timeline"] {
            assert!(
                page.contains(&format!("data-testid=\"{section}\"")),
                "{section}"
            );
        }
        // The policy's hash is of the stylesheet the page carries.
        let style = page
            .split_once("<style>")
            .and_then(|(_, rest)| rest.split_once("</style>"))
            .map(|(style, _)| style)
            .expect("a stylesheet");
        let digest = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(style));
        assert!(CONTENT_SECURITY_POLICY.contains(&format!("style-src 'sha256-{digest}'")));
        assert!(CONTENT_SECURITY_POLICY.starts_with("default-src 'none'"));
        // One landmark; the verdict, the criteria and the charts come first.
        assert!(page.contains("<main>"), "{page}");
        let at = |testid: &str| {
            page.find(&format!("data-testid=\"{testid}\""))
                .unwrap_or(usize::MAX)
        };
        assert!(at("report-criteria") < at("report-checkpoints"));
    }

    #[test]
    fn what_could_not_be_measured_is_said_once_grouped_by_target() {
        use domain::playbook::{Bound, Comparison, Unit};
        use domain::snapshot::Judgment;
        let judgment = |label: &str, status: Verdict, measure: &str| Judgment {
            target: label.to_lowercase(),
            label: label.into(),
            status,
            observed: (status != Verdict::NotMeasurable).then_some(0.5),
            bound: Bound {
                comparison: Comparison::Below,
                value: 1.0,
                unit: Unit::Percent,
            },
            measure: measure.into(),
        };
        let snapshot = |id: u64, hour: u32| {
            entry(
                id,
                "Watchpost",
                Change::Snapshot {
                    checkpoint: Some(hour),
                    judgments: vec![
                        judgment("Error rate", Verdict::Passed, "failure_rate()"),
                        judgment("p99", Verdict::NotMeasurable, "no transactions"),
                        judgment("Webhooks", Verdict::NotMeasurable, "no transaction mapped"),
                    ],
                },
            )
        };
        let run = RunState::fold(&[snapshot(1, 0), snapshot(2, 4)]);
        let times = Times(jiff::tz::TimeZone::UTC);
        let page = snapshots(&run, &times).into_string();
        assert!(
            page.contains("2 target(s) could not be measured at 2 snapshot(s): p99 (2×: no transactions); Webhooks (2×: no transaction mapped)."),
            "{page}"
        );
        assert_eq!(page.matches("see below").count(), 2, "one row per snapshot");
        assert_eq!(page.matches("Error rate").count(), 2);
    }
}
