//! The watch's charts as geometry: where each point, bar and down period
//! goes in an SVG's view box, and a sentence a screen reader reads instead.
//! Coordinates are whole numbers, so that the app never formats a float
//! (see ARCHITECTURE.md on what costs the wasm most).

use nanoserde::{DeBin, SerBin};
use serde::{Deserialize, Serialize};

use crate::health::Point;
use crate::watch::{span, utc};

/// The view box every chart is drawn in; the SVG scales to its box.
pub const WIDTH: i64 = 600;
pub const HEIGHT: i64 = 150;

/// Accepted Sentry errors per hour (`GET /api/projects/{id}/errors`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, SerBin, DeBin)]
pub struct ErrorHours {
    /// Each hour's start (Unix seconds) and its count, oldest first.
    pub hours: Vec<(i64, u64)>,
    /// Why there are none, when Sentry could not say.
    pub problem: Option<String>,
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

/// Where time `at` (any unit) falls between `from` and `to` across the width.
/// (64-bit arithmetic: a window of years in ms times the width still fits,
/// and 128-bit division would add its routines to the wasm.)
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
/// probe got no answer, and its axis top in ms.
pub fn latency_path(points: &[Point], from: i64, to: i64) -> (String, u64) {
    let top = nice_max(
        points
            .iter()
            .filter_map(|p| p.latency_ms)
            .max()
            .map_or(1, u64::from),
    );
    let mut path = String::new();
    let mut pen_down = false;
    for point in points {
        match point.latency_ms {
            Some(ms) => {
                let command = if pen_down { 'L' } else { 'M' };
                let (x, y) = (x_of(point.at, from, to), y_of(u64::from(ms), top));
                path.push_str(&format!("{command}{x} {y}"));
                pen_down = true;
            }
            None => pen_down = false,
        }
    }
    (path, top)
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

/// One bar per hour of errors, and the axis top.
pub fn error_bars(hours: &[(i64, u64)], from: i64, to: i64) -> (Vec<Rect>, u64) {
    let top = nice_max(hours.iter().map(|(_, count)| *count).max().unwrap_or(1));
    let bars = hours
        .iter()
        .filter(|(_, count)| *count > 0)
        .map(|(at, count)| {
            let x = x_of(*at, from, to);
            let y = y_of(*count, top);
            Rect {
                x,
                y,
                width: (x_of(at + 3600, from, to) - x - 1).max(1),
                height: HEIGHT - y,
            }
        })
        .collect();
    (bars, top)
}

/// A chart as the watch tab and the report show it: its SVG markup, its
/// axis's top, and the sentence a screen reader reads instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chart {
    pub svg: String,
    pub top: u64,
    pub label: String,
}

/// `url`'s response time from `from` to `to` (Unix ms), its down periods
/// marked.
pub fn latency_chart(url: &str, points: &[Point], from: i64, to: i64) -> Chart {
    let (line, top) = latency_path(points, from, to);
    let label = describe_latency(url, points);
    Chart {
        svg: svg(&label, &down_bands(points, from, to), &[], &line),
        top,
        label,
    }
}

/// Sentry's errors per hour, from the first hour counted to the end of the
/// hour of `now_ms`.
pub fn errors_chart(hours: &[(i64, u64)], now_ms: i64) -> Chart {
    let to = now_ms.div_euclid(1000) / 3600 * 3600 + 3600;
    let from = hours.first().map_or(to - 3600, |(at, _)| *at);
    let (bars, top) = error_bars(hours, from, to);
    let label = describe_errors(hours);
    Chart {
        svg: svg(&label, &[], &bars, ""),
        top,
        label,
    }
}

/// The SVG markup of a chart: the app inserts it as it is, which costs the
/// wasm far less than building each element as a view (measured by
/// `scripts/size`: the charts as Leptos views cost 6.2 KB). Only numbers and
/// the escaped `label` go in.
pub fn svg(label: &str, down: &[Rect], bars: &[Rect], line: &str) -> String {
    let mut out = format!(
        r#"<svg viewBox="0 0 {WIDTH} {HEIGHT}" preserveAspectRatio="none" role="img" aria-label="{}">"#,
        escape(label)
    );
    for (class, rects) in [("down", down), ("bar", bars)] {
        for r in rects {
            out.push_str(&format!(
                r#"<rect class="{class}" x="{}" y="{}" width="{}" height="{}"/>"#,
                r.x, r.y, r.width, r.height
            ));
        }
    }
    if !line.is_empty() {
        out.push_str(&format!(r#"<path class="line" d="{line}"/>"#));
    }
    out.push_str("</svg>");
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

/// What the latency chart shows, in words.
pub fn describe_latency(url: &str, points: &[Point]) -> String {
    let slowest = points
        .iter()
        .filter_map(|p| Some((p.latency_ms?, p.at)))
        .max_by_key(|(ms, _)| *ms);
    let downs = points
        .iter()
        .zip(std::iter::once(None).chain(points.iter().map(Some)))
        .filter(|(point, before)| !point.ok && before.is_none_or(|b| b.ok))
        .count();
    let mut text = format!("Response time of {url}");
    match slowest {
        Some((ms, at)) => text.push_str(&format!(
            ": slowest {ms} ms, at {}",
            utc(at.div_euclid(1000))
        )),
        None => text.push_str(": no answer yet"),
    }
    match downs {
        0 => text.push_str("; never down."),
        1 => text.push_str("; down once."),
        n => text.push_str(&format!("; down {n} times.")),
    }
    text
}

/// What the errors chart shows, in words.
pub fn describe_errors(hours: &[(i64, u64)]) -> String {
    let total: u64 = hours.iter().map(|(_, count)| count).sum();
    match hours.iter().max_by_key(|(_, count)| *count) {
        Some((at, most)) if *most > 0 => format!(
            "{total} errors in {} hours; the most, {most}, in the hour from {}.",
            hours.len(),
            utc(*at)
        ),
        _ => format!("No errors in {}.", span(hours.len() as i64 * 3600)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(at: i64, ok: bool, latency_ms: Option<u32>) -> Point {
        Point { at, ok, latency_ms }
    }

    #[test]
    fn an_axis_tops_at_one_two_or_five_times_a_power_of_ten() {
        let tops: Vec<u64> = [0, 1, 3, 7, 10, 11, 143, 600, 5001].map(nice_max).to_vec();
        assert_eq!(tops, [1, 1, 5, 10, 10, 20, 200, 1000, 10_000]);
    }

    #[test]
    fn the_latency_line_spans_the_window_and_breaks_where_nothing_answered() {
        let points = [
            point(0, true, Some(100)),
            point(500, true, Some(200)),
            point(600, false, None),
            point(1000, true, Some(50)),
        ];
        let (path, top) = latency_path(&points, 0, 1000);
        assert_eq!(top, 200);
        assert_eq!(path, "M0 75L300 0M600 113");
        assert_eq!(latency_path(&[], 0, 10), (String::new(), 1));
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
            describe_latency("https://a.example/health", &points),
            "Response time of https://a.example/health: slowest 1 ms, at 1970-01-01 00:00 UTC; down 2 times."
        );
    }

    #[test]
    fn the_markup_holds_only_numbers_and_the_escaped_label() {
        let band = Rect {
            x: 1,
            y: 0,
            width: 2,
            height: HEIGHT,
        };
        let markup = svg("a \"<script>'&", &[band], &[], "M0 1L2 3");
        assert_eq!(
            markup,
            "<svg viewBox=\"0 0 600 150\" preserveAspectRatio=\"none\" role=\"img\" \
             aria-label=\"a &quot;&lt;script&gt;&#39;&amp;\">\
             <rect class=\"down\" x=\"1\" y=\"0\" width=\"2\" height=\"150\"/>\
             <path class=\"line\" d=\"M0 1L2 3\"/></svg>"
        );
    }

    #[test]
    fn an_hour_of_errors_is_a_bar_as_tall_as_its_share_of_the_axis() {
        let hours = [(0, 2), (3600, 0), (7200, 5)];
        let (bars, top) = error_bars(&hours, 0, 3 * 3600);
        assert_eq!(top, 5);
        assert_eq!(
            bars,
            [
                Rect {
                    x: 0,
                    y: 90,
                    width: 199,
                    height: 60
                },
                Rect {
                    x: 400,
                    y: 0,
                    width: 199,
                    height: 150
                },
            ]
        );
        assert_eq!(
            describe_errors(&hours),
            "7 errors in 3 hours; the most, 5, in the hour from 1970-01-01 02:00 UTC."
        );
        assert_eq!(
            describe_errors(&[(0, 0), (3600, 0)]),
            "No errors in 2 h 00 min."
        );
        // The chart ends with the hour now is in: at 02:30 the three hours
        // fill the width, as above.
        let label = describe_errors(&hours);
        assert_eq!(
            errors_chart(&hours, 9_000_000),
            Chart {
                svg: svg(&label, &[], &bars, ""),
                top: 5,
                label,
            }
        );
    }
}
