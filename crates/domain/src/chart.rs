//! The watch's charts, drawn as SVG for the Watch tab and the printed report
//! alike: each health URL's response time with its down periods marked, and
//! Sentry's errors per hour, each with a time axis, a value axis, the target as
//! a line, and a sentence a screen reader reads instead. The proxy draws them
//! (it knows the project's zone); the app only places the markup, so none of
//! this is in the wasm. Only numbers, axis labels and escaped text go in.

use nanoserde::{DeBin, SerBin};
use serde::{Deserialize, Serialize};

use crate::attention::host_and_path;
use crate::health::Point;
use crate::playbook::Decimal;
use crate::watch::span;

/// The plot's view box: it stretches to the chart's width; its height is the
/// plot's height in pixels, so text drawn beside it keeps its shape.
pub const WIDTH: i64 = 600;
pub const HEIGHT: i64 = 140;
/// Above the plot, and the height of one line of tick labels below it.
const TOP: i64 = 6;
const LINE: i64 = 14;

/// A chart ready to show: its SVG markup and its caption.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, SerBin, DeBin)]
pub struct Chart {
    pub svg: String,
    /// What it shows in words, or when its first point will come.
    pub caption: String,
}

/// Accepted Sentry errors per hour (`GET /api/projects/{id}/errors`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, SerBin, DeBin)]
pub struct ErrorHours {
    /// Each hour's start (Unix seconds) and its count, oldest first.
    pub hours: Vec<(i64, u64)>,
    /// Why there are none, when Sentry could not say.
    pub problem: Option<String>,
    /// The hours drawn (empty when Sentry could not say).
    pub chart: Chart,
}

/// A mark on the time axis: when (Unix seconds) and what it reads, as the
/// project's zone tells it ("14:00", "Mon 02:00"), with the watch's hour
/// below it when the tick falls on one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tick {
    pub at: i64,
    pub label: String,
    pub hour: Option<i64>,
}

/// What every chart of one screen shares: its window (Unix ms), its time
/// axis, and how a time reads in the project's zone.
pub struct Frame<'a> {
    pub from_ms: i64,
    pub to_ms: i64,
    pub ticks: &'a [Tick],
    pub time: &'a dyn Fn(i64) -> String,
}

impl std::fmt::Debug for Frame<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Frame")
            .field("from_ms", &self.from_ms)
            .field("to_ms", &self.to_ms)
            .field("ticks", &self.ticks)
            .finish_non_exhaustive()
    }
}

/// A rectangle in the view box.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub x: i64,
    pub y: i64,
    pub width: i64,
    pub height: i64,
}

/// The smallest of 1, 2 and 5 times a power of ten at or above `max`: an
/// axis's top that reads well.
pub fn nice_max(max: u64) -> u64 {
    let mut step = 1;
    loop {
        for factor in [1, 2, 5] {
            if step * factor >= max.max(1) {
                return step * factor;
            }
        }
        step *= 10;
    }
}

/// Where the time axis has its marks, from `from` to `to` (Unix seconds):
/// at most seven, a quarter of an hour to a day apart. During a watch they
/// fall on its hours counted from `run_start` (every 4 hours: the
/// checkpoints); otherwise on round hours of the project's clock, whose
/// offset from UTC is `offset`.
pub fn tick_times(from: i64, to: i64, run_start: Option<i64>, offset: i64) -> Vec<i64> {
    const STEPS: [i64; 8] = [900, 1800, 3600, 7200, 14_400, 21_600, 43_200, 86_400];
    let span = (to - from).max(1);
    let step = STEPS
        .into_iter()
        .find(|step| span / step <= 6)
        .unwrap_or(86_400);
    let anchor = run_start.unwrap_or(-offset);
    let first = from + (anchor - from).rem_euclid(step);
    (0..)
        .map(|k| first + k * step)
        .take_while(|at| *at <= to)
        .collect()
}

/// Where the hour starting at each of `hours` ends, with the hour of
/// `now_ms`: the errors chart's window in Unix ms, from the first hour counted.
pub fn hours_window(hours: &[(i64, u64)], now_ms: i64) -> (i64, i64) {
    let to = now_ms.div_euclid(3_600_000) * 3600 + 3600;
    let from = hours.first().map_or(to - 3600, |(at, _)| *at);
    (from * 1000, to * 1000)
}

/// Where time `at` (any unit) falls between `from` and `to` across the width.
/// (64-bit arithmetic: a window of years in ms times the width still fits.)
fn x_of(at: i64, from: i64, to: i64) -> i64 {
    let range = (to - from).max(1);
    (at - from).clamp(0, range).saturating_mul(WIDTH) / range
}

/// Where `value` falls on an axis from 0 (bottom) to `top`.
fn y_of(value: u64, top: u64) -> i64 {
    let top = top.clamp(1, u64::MAX / HEIGHT as u64);
    HEIGHT - (value.min(top) * HEIGHT as u64 / top) as i64
}

/// The latency line of a health chart (an SVG path's `d`), broken where a
/// probe got no answer.
pub fn latency_path(points: &[Point], from: i64, to: i64, top: u64) -> String {
    line_path(
        points
            .iter()
            .map(|point| (point.at, point.latency_ms.map(u64::from))),
        from,
        to,
        top,
    )
}

/// A line through `points` (a time between `from` and `to`, a value on an
/// axis up to `top`) as an SVG path's `d`, broken where a value is missing.
fn line_path(
    points: impl IntoIterator<Item = (i64, Option<u64>)>,
    from: i64,
    to: i64,
    top: u64,
) -> String {
    let mut path = String::new();
    let mut pen_down = false;
    for (at, value) in points {
        match value {
            Some(value) => {
                let command = if pen_down { 'L' } else { 'M' };
                let (x, y) = (x_of(at, from, to), y_of(value, top));
                path.push_str(&format!("{command}{x} {y}"));
                pen_down = true;
            }
            None => pen_down = false,
        }
    }
    path
}

/// The periods when a health URL was failing, as bands across the chart: from
/// a failing point to the next point.
pub fn down_bands(points: &[Point], from: i64, to: i64) -> Vec<Rect> {
    let mut bands: Vec<Rect> = Vec::new();
    for (index, point) in points.iter().enumerate() {
        if point.ok {
            continue;
        }
        let start = x_of(point.at, from, to);
        let end = points
            .get(index + 1)
            .map_or(x_of(to, from, to), |next| x_of(next.at, from, to));
        match bands.last_mut() {
            Some(band) if band.x + band.width >= start => band.width = end - band.x,
            _ => bands.push(Rect {
                x: start,
                y: 0,
                width: (end - start).max(2),
                height: HEIGHT,
            }),
        }
    }
    bands
}

/// One bar per hour of errors (hours in Unix seconds, the window in ms).
pub fn error_bars(hours: &[(i64, u64)], from_ms: i64, to_ms: i64, top: u64) -> Vec<Rect> {
    hours
        .iter()
        .filter(|(_, count)| *count > 0)
        .map(|(at, count)| {
            let x = x_of(at * 1000, from_ms, to_ms);
            let y = y_of(*count, top);
            Rect {
                x,
                y,
                width: (x_of((at + 3600) * 1000, from_ms, to_ms) - x - 1).max(1),
                height: HEIGHT - y,
            }
        })
        .collect()
}

/// `url`'s response time over the frame, its down periods shaded, with
/// `target_ms` as a line; `empty` says when the first sample will come.
pub fn latency_chart(
    url: &str,
    points: &[Point],
    frame: &Frame,
    target_ms: Option<u64>,
    empty: &str,
) -> Chart {
    let slowest = points.iter().filter_map(|p| p.latency_ms).max();
    let top = nice_max(slowest.map_or(1, u64::from).max(target_ms.unwrap_or(0)));
    let mut body = String::new();
    for band in down_bands(points, frame.from_ms, frame.to_ms) {
        body.push_str(&rect("down", band));
    }
    let line = latency_path(points, frame.from_ms, frame.to_ms, top);
    if !line.is_empty() {
        body.push_str(&format!(r#"<path class="line" d="{line}"/>"#));
    }
    let caption = if points.is_empty() {
        empty.to_owned()
    } else {
        describe_latency(url, points, frame.time)
    };
    let axis = Axis {
        top,
        unit: " ms",
        target: target_ms,
        mark: "target",
    };
    Chart {
        svg: draw(frame, &axis, &body, &caption),
        caption,
    }
}

/// Sentry's errors per hour over the frame, with `target` (errors per hour)
/// as a line; `empty` says when the first hour will be counted.
pub fn errors_chart(
    hours: &[(i64, u64)],
    frame: &Frame,
    target: Option<u64>,
    empty: &str,
) -> Chart {
    let most = hours.iter().map(|(_, count)| *count).max();
    let top = nice_max(most.unwrap_or(1).max(target.unwrap_or(0)));
    let body: String = error_bars(hours, frame.from_ms, frame.to_ms, top)
        .into_iter()
        .map(|bar| rect("bar", bar))
        .collect();
    let caption = if hours.is_empty() {
        empty.to_owned()
    } else {
        describe_errors(hours, frame.time)
    };
    let axis = Axis {
        top,
        unit: " per hour",
        target,
        mark: "target",
    };
    Chart {
        svg: draw(frame, &axis, &body, &caption),
        caption,
    }
}

/// The error watch's readings over the frame: the share of failed
/// transactions of each round (Unix ms, percent; `None` for a round that saw
/// no transaction, which breaks the line), with the error-rate target (whole
/// percent) as a line.
pub fn failure_chart(
    rounds: &[(i64, Option<f64>)],
    frame: &Frame,
    target: Option<u64>,
    empty: &str,
) -> Chart {
    let highest = rounds
        .iter()
        .filter_map(|(_, percent)| *percent)
        .fold(0.0, f64::max);
    let top = nice_max((highest.ceil() as u64).max(target.unwrap_or(0)));
    // Hundredths of a percent on an axis a hundred times as tall.
    let hundredths = rounds
        .iter()
        .map(|(at, percent)| (*at, percent.map(|percent| (percent * 100.0).round() as u64)));
    let line = line_path(hundredths, frame.from_ms, frame.to_ms, top * 100);
    let body = if line.is_empty() {
        String::new()
    } else {
        format!(r#"<path class="line" d="{line}"/>"#)
    };
    let caption = describe_failures(rounds, frame.time).unwrap_or_else(|| empty.to_owned());
    let axis = Axis {
        top,
        unit: "%",
        target,
        mark: "target",
    };
    Chart {
        svg: draw(frame, &axis, &body, &caption),
        caption,
    }
}

/// The host's memory over the frame (Unix ms, MB, oldest first), with its
/// limit as a line when Render says it: the Watch tab's memory chart.
pub fn memory_chart(
    readings: &[(i64, f64)],
    frame: &Frame,
    limit: Option<f64>,
    empty: &str,
) -> Chart {
    let peak = readings.iter().map(|(_, mb)| *mb).fold(0.0, f64::max);
    let limit = limit
        .filter(|limit| *limit > 0.0)
        .map(|limit| limit.round() as u64);
    let top = nice_max((peak.ceil() as u64).max(limit.unwrap_or(0)));
    let points = readings
        .iter()
        .map(|(at, mb)| (*at, Some(mb.max(0.0).round() as u64)));
    let line = line_path(points, frame.from_ms, frame.to_ms, top);
    let body = if line.is_empty() {
        String::new()
    } else {
        format!(r#"<path class="line" d="{line}"/>"#)
    };
    let caption = match (
        readings.last(),
        readings.iter().rev().max_by(|a, b| a.1.total_cmp(&b.1)),
    ) {
        (Some((last_at, last)), Some((peak_at, peak))) => format!(
            "Memory: {} MB at {}; the most, {} MB, at {}{}.",
            last.round(),
            (frame.time)(last_at.div_euclid(1000)),
            peak.round(),
            (frame.time)(peak_at.div_euclid(1000)),
            limit.map_or_else(String::new, |limit| format!("; the limit is {limit} MB"))
        ),
        _ => empty.to_owned(),
    };
    let axis = Axis {
        top,
        unit: " MB",
        target: limit,
        mark: "limit",
    };
    Chart {
        svg: draw(frame, &axis, &body, &caption),
        caption,
    }
}

/// What the failure chart shows, in words; `None` without a reading.
fn describe_failures(
    rounds: &[(i64, Option<f64>)],
    time: &dyn Fn(i64) -> String,
) -> Option<String> {
    let read: Vec<(i64, f64)> = rounds
        .iter()
        .filter_map(|(at, percent)| Some((*at, (*percent)?)))
        .collect();
    let (last_at, last) = *read.last()?;
    let (worst_at, worst) = read
        .iter()
        .copied()
        .rev()
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    let shown = |percent: f64| Decimal((percent * 100.0).round() / 100.0);
    Some(format!(
        "Failed transactions: {}% at {}; the most, {}%, at {}.",
        shown(last),
        time(last_at.div_euclid(1000)),
        shown(worst),
        time(worst_at.div_euclid(1000))
    ))
}

/// A chart's value axis: from 0 to `top`, and its target.
struct Axis {
    top: u64,
    unit: &'static str,
    target: Option<u64>,
    /// What the line at `target` is: "target", or "limit".
    mark: &'static str,
}

fn rect(class: &str, r: Rect) -> String {
    format!(
        r#"<rect class="{class}" x="{}" y="{}" width="{}" height="{}"/>"#,
        r.x, r.y, r.width, r.height
    )
}

/// The chart's markup: an outer SVG in pixels that holds the text, so that
/// labels keep their shape at any width, around a plot whose view box
/// stretches to the width. Gridlines mark the top, the middle and each tick;
/// the target is a dashed line with its value.
fn draw(frame: &Frame, axis: &Axis, body: &str, label: &str) -> String {
    let rows = if frame.ticks.iter().any(|tick| tick.hour.is_some()) {
        2
    } else {
        1
    };
    let height = TOP + HEIGHT + rows * LINE + 4;
    let mut plot = format!(
        r#"<svg class="plot" y="{TOP}" width="100%" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" preserveAspectRatio="none"><rect class="area" width="{WIDTH}" height="{HEIGHT}"/>"#
    );
    let mut text = String::new();
    let mut grid = |y: i64| plot.push_str(&format!(r#"<path class="grid" d="M0 {y}H{WIDTH}"/>"#));
    for value in [axis.top, axis.top / 2] {
        let y = y_of(value, axis.top);
        grid(y);
        text.push_str(&format!(
            r#"<text class="value" x="4" y="{}">{}{}</text>"#,
            TOP + y + 11,
            grouped(value),
            axis.unit
        ));
    }
    for (index, tick) in frame.ticks.iter().enumerate() {
        let x = x_of(tick.at * 1000, frame.from_ms, frame.to_ms);
        // Every other label is "minor": a phone's narrow chart shows half.
        let minor = if index % 2 == 1 { " minor" } else { "" };
        plot.push_str(&format!(r#"<path class="grid" d="M{x} 0V{HEIGHT}"/>"#));
        // Per mille of the width as a percentage with one decimal: no floats.
        let permille = x * 1000 / WIDTH;
        let anchor = match permille {
            0..40 => "start",
            961.. => "end",
            _ => "middle",
        };
        let at = format!(
            r#"x="{}.{}%" text-anchor="{anchor}""#,
            permille / 10,
            permille % 10
        );
        let y = TOP + HEIGHT + LINE;
        text.push_str(&format!(
            r#"<text class="tick{minor}" {at} y="{y}">{}</text>"#,
            escape(&tick.label)
        ));
        if let Some(hour) = tick.hour {
            text.push_str(&format!(
                r#"<text class="hour{minor}" {at} y="{}">hour {hour}</text>"#,
                y + LINE
            ));
        }
    }
    plot.push_str(body);
    if let Some(target) = axis.target {
        let y = y_of(target, axis.top);
        plot.push_str(&format!(r#"<path class="target" d="M0 {y}H{WIDTH}"/>"#));
        text.push_str(&format!(
            r#"<text class="target" x="100%" dx="-4" y="{}" text-anchor="end">{} {}{}</text>"#,
            TOP + (y - 3).max(10),
            axis.mark,
            grouped(target),
            axis.unit
        ));
    }
    plot.push_str("</svg>");
    format!(
        r#"<svg class="chart-svg" width="100%" height="{height}" role="img" aria-label="{}">{plot}{text}</svg>"#,
        escape(label)
    )
}

/// `1,240` for 1240: numbers as people read them.
pub fn grouped(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// Text safe inside an attribute or an element.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// What the latency chart shows, in words, times as `time` says them.
pub fn describe_latency(url: &str, points: &[Point], time: &dyn Fn(i64) -> String) -> String {
    let slowest = points
        .iter()
        .filter_map(|p| Some((p.latency_ms?, p.at)))
        .max_by_key(|(ms, _)| *ms);
    let downs = points
        .iter()
        .zip(std::iter::once(None).chain(points.iter().map(Some)))
        .filter(|(point, before)| !point.ok && before.is_none_or(|b| b.ok))
        .count();
    let mut text = format!("Response time of {}", host_and_path(url));
    match slowest {
        Some((ms, at)) => text.push_str(&format!(
            ": slowest {} ms, at {}",
            grouped(u64::from(ms)),
            time(at.div_euclid(1000))
        )),
        None => text.push_str(": no answer yet"),
    }
    match downs {
        0 => text.push_str("; never down."),
        1 => text.push_str("; down once (shaded)."),
        n => text.push_str(&format!("; down {n} times (shaded).")),
    }
    text
}

/// What the errors chart shows, in words, times as `time` says them.
pub fn describe_errors(hours: &[(i64, u64)], time: &dyn Fn(i64) -> String) -> String {
    let total: u64 = hours.iter().map(|(_, count)| count).sum();
    match hours.iter().max_by_key(|(_, count)| *count) {
        Some((at, most)) if *most > 0 => format!(
            "{} errors in {} hours; the most, {}, in the hour from {}.",
            grouped(total),
            hours.len(),
            grouped(*most),
            time(*at)
        ),
        _ => format!("No errors in {}.", span(hours.len() as i64 * 3600)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::watch::utc;

    fn point(at: i64, ok: bool, latency_ms: Option<u32>) -> Point {
        Point { at, ok, latency_ms }
    }

    fn frame<'a>(from_ms: i64, to_ms: i64, ticks: &'a [Tick]) -> Frame<'a> {
        Frame {
            from_ms,
            to_ms,
            ticks,
            time: &utc,
        }
    }

    #[test]
    fn the_failure_chart_draws_each_round_and_breaks_where_none_was_seen() {
        let hour = 1_795_000_000_000 - 1_795_000_000_000 % 3_600_000;
        let rounds = [
            (hour, Some(0.5)),
            (hour + 300_000, Some(8.0)),
            (hour + 600_000, None),
            (hour + 900_000, Some(0.25)),
        ];
        let chart = failure_chart(
            &rounds,
            &frame(hour, hour + 3_600_000, &[]),
            Some(1),
            "none",
        );
        // 8% tops the axis at 10%; the target is 1%.
        assert!(chart.svg.contains(">10%</text>"), "{}", chart.svg);
        assert!(chart.svg.contains(">target 1%</text>"), "{}", chart.svg);
        // Two pieces: the round without transactions breaks the line.
        let line = chart
            .svg
            .split(r#"class="line" d=""#)
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_default();
        assert_eq!(line.matches('M').count(), 2, "{line}");
        assert_eq!(
            chart.caption,
            format!(
                "Failed transactions: 0.25% at {}; the most, 8%, at {}.",
                utc(hour / 1000 + 900),
                utc(hour / 1000 + 300)
            )
        );
        let empty = failure_chart(
            &[(hour, None)],
            &frame(hour, hour + 1, &[]),
            Some(1),
            "none",
        );
        assert_eq!(empty.caption, "none");
    }

    #[test]
    fn the_memory_chart_draws_the_readings_under_the_limit() {
        let hour = 1_795_000_000_000 - 1_795_000_000_000 % 3_600_000;
        let readings = [
            (hour, 180.4),
            (hour + 600_000, 240.0),
            (hour + 1_200_000, 200.2),
        ];
        let chart = memory_chart(
            &readings,
            &frame(hour, hour + 3_600_000, &[]),
            Some(512.0),
            "none",
        );
        // The 512 MB limit tops the axis at 1,000 MB and is marked as such.
        assert!(chart.svg.contains(">limit 512 MB</text>"), "{}", chart.svg);
        assert!(chart.svg.contains(r#"class="line" d="M"#), "{}", chart.svg);
        assert_eq!(
            chart.caption,
            format!(
                "Memory: 200 MB at {}; the most, 240 MB, at {}; the limit is 512 MB.",
                utc(hour / 1000 + 1200),
                utc(hour / 1000 + 600)
            )
        );
        let empty = memory_chart(&[], &frame(hour, hour + 1, &[]), None, "none");
        assert_eq!(empty.caption, "none");
        assert!(!empty.svg.contains("limit"), "{}", empty.svg);
    }

    #[test]
    fn an_axis_tops_at_one_two_or_five_times_a_power_of_ten() {
        let tops: Vec<u64> = [0, 1, 3, 7, 10, 11, 143, 600, 5001].map(nice_max).to_vec();
        assert_eq!(tops, [1, 1, 5, 10, 10, 20, 200, 1000, 10_000]);
    }

    #[test]
    fn numbers_are_grouped_by_thousands() {
        let grouped: Vec<String> = [0, 999, 1000, 1_234_567].map(grouped).to_vec();
        assert_eq!(grouped, ["0", "999", "1,000", "1,234,567"]);
    }

    #[test]
    fn a_watch_is_marked_at_its_checkpoints_and_other_windows_at_round_local_hours() {
        let start = 1_795_000_000;
        let hours: Vec<i64> = tick_times(start, start + 24 * 3600, Some(start), 0)
            .iter()
            .map(|at| (at - start) / 3600)
            .collect();
        assert_eq!(hours, [0, 4, 8, 12, 16, 20, 24]);
        // Three hours into a watch: every half hour from its start.
        let minutes: Vec<i64> = tick_times(start, start + 3 * 3600 + 60, Some(start), 0)
            .iter()
            .map(|at| (at - start) / 60)
            .collect();
        assert_eq!(minutes, [0, 30, 60, 90, 120, 150, 180]);
        // A day in Central European Time (UTC+1): 00:00, 04:00, … local.
        let from = 1_795_000_000; // 11:06:40 UTC, 12:06:40 CET
        let ticks = tick_times(from, from + 24 * 3600, None, 3600);
        assert_eq!(ticks.len(), 6);
        assert!(ticks.iter().all(|at| (at + 3600) % (4 * 3600) == 0));
        assert_eq!(utc(ticks[0]), "2026-11-18 15:00 UTC"); // 16:00 CET
        // An hour: every quarter.
        let ticks = tick_times(from, from + 3600, None, 3600);
        assert_eq!(ticks.len(), 4);
        assert!(ticks.iter().all(|at| at % 900 == 0));
    }

    #[test]
    fn the_latency_line_spans_the_window_and_breaks_where_nothing_answered() {
        let points = [
            point(0, true, Some(100)),
            point(500, true, Some(200)),
            point(600, false, None),
            point(1000, true, Some(50)),
        ];
        assert_eq!(latency_path(&points, 0, 1000, 200), "M0 70L300 0M600 105");
        assert_eq!(latency_path(&[], 0, 10, 1), "");
    }

    #[test]
    fn down_periods_become_bands_that_merge_when_they_touch() {
        let points = [
            point(0, true, Some(1)),
            point(100, false, Some(1)),
            point(200, false, None),
            point(300, true, Some(1)),
            point(900, false, None),
        ];
        let bands = down_bands(&points, 0, 1000);
        assert_eq!(
            bands,
            [
                Rect {
                    x: 60,
                    y: 0,
                    width: 120,
                    height: HEIGHT
                },
                Rect {
                    x: 540,
                    y: 0,
                    width: 60,
                    height: HEIGHT
                },
            ]
        );
        assert_eq!(
            describe_latency("https://a.example/health", &points, &utc),
            "Response time of a.example/health: slowest 1 ms, at 1970-01-01 00:00 UTC; down 2 times (shaded)."
        );
    }

    #[test]
    fn a_latency_chart_has_its_axes_its_target_and_only_escaped_text() {
        let ticks = [
            Tick {
                at: 0,
                label: "Mon 01:00".to_owned(),
                hour: Some(0),
            },
            Tick {
                at: 3600,
                label: "02:00".to_owned(),
                hour: Some(1),
            },
        ];
        let points = [point(0, true, Some(40)), point(1_800_000, false, None)];
        let chart = latency_chart(
            "https://x.example/\"<script>",
            &points,
            &frame(0, 3_600_000, &ticks),
            Some(100),
            "unused",
        );
        let svg = &chart.svg;
        // The axis tops at the target when every answer was faster.
        assert!(
            svg.contains(r#"<text class="value" x="4" y="17">100 ms</text>"#),
            "{svg}"
        );
        assert!(svg.contains(r#">50 ms</text>"#), "{svg}");
        assert!(
            svg.contains(r#"<path class="target" d="M0 0H600"/>"#),
            "{svg}"
        );
        assert!(svg.contains(">target 100 ms</text>"), "{svg}");
        assert!(
            svg.contains(r#"x="0.0%" text-anchor="start" y="160">Mon 01:00</text>"#),
            "{svg}"
        );
        assert!(
            svg.contains(r#"x="100.0%" text-anchor="end" y="174">hour 1</text>"#),
            "{svg}"
        );
        assert!(
            svg.contains(r#"<rect class="down" x="300" y="0" width="300""#),
            "{svg}"
        );
        assert!(svg.contains(r#"<path class="line" d="M0 84"/>"#), "{svg}");
        assert!(svg.contains("x.example/&quot;&lt;script&gt;"), "{svg}");
        assert!(!svg.contains("<script"), "{svg}");
        assert_eq!(
            chart.caption,
            "Response time of x.example/\"<script>: slowest 40 ms, at 1970-01-01 00:00 UTC; down once (shaded)."
        );
        // No samples yet: the axes, and when the first comes.
        let empty = latency_chart("https://x.example", &[], &frame(0, 1, &[]), None, "Soon.");
        assert_eq!(empty.caption, "Soon.");
        assert!(!empty.svg.contains("class=\"line\""));
        assert!(empty.svg.contains("aria-label=\"Soon.\""));
    }

    #[test]
    fn an_hour_of_errors_is_a_bar_as_tall_as_its_share_of_the_axis() {
        let hours = [(0, 2), (3600, 0), (7200, 5)];
        // At 02:30 the three hours fill the width.
        let (from_ms, to_ms) = hours_window(&hours, 9_000_000);
        assert_eq!((from_ms, to_ms), (0, 3 * 3_600_000));
        let bars = error_bars(&hours, from_ms, to_ms, 5);
        assert_eq!(
            bars,
            [
                Rect {
                    x: 0,
                    y: 84,
                    width: 199,
                    height: 56
                },
                Rect {
                    x: 400,
                    y: 0,
                    width: 199,
                    height: 140
                },
            ]
        );
        assert_eq!(
            describe_errors(&hours, &utc),
            "7 errors in 3 hours; the most, 5, in the hour from 1970-01-01 02:00 UTC."
        );
        assert_eq!(
            describe_errors(&[(0, 0), (3600, 0)], &utc),
            "No errors in 2 h 00 min."
        );
        let chart = errors_chart(&hours, &frame(from_ms, to_ms, &[]), Some(5), "unused");
        assert!(chart.svg.contains(&rect("bar", bars[1])), "{}", chart.svg);
        assert!(
            chart.svg.contains(">target 5 per hour</text>"),
            "{}",
            chart.svg
        );
        assert_eq!(chart.caption, describe_errors(&hours, &utc));
        let empty = errors_chart(&[], &frame(0, 3_600_000, &[]), Some(5), "At 15:00.");
        assert_eq!(empty.caption, "At 15:00.");
    }
}
