//! Health conditions, in the style of Gatus: what a health URL's answer must
//! show for the service to count as up. Each is `<subject> <op> <value>`:
//!
//! - `[STATUS] == 200`, `[STATUS] < 300`: the HTTP status;
//! - `[RESPONSE_TIME] < 100`: milliseconds to the answer;
//! - `[BODY].status == ok`, `[BODY].checks.0.state != down`: a value of the
//!   JSON body, by key (or an array's index); `*` stands for every value of
//!   an object or array, each of which must meet it (`[BODY].services.* ==
//!   true`);
//! - `any(ok, healthy)` on the right: one of these.
//!
//! Watchpost adds one thing to Gatus' syntax: a body path ending in `?`
//! holds when the body has no such value, so the defaults also accept a
//! plain `200 OK` without JSON.
//!
//! `==` and `!=` compare text (a JSON number as written, `true`, `false`,
//! `null`); `<`, `<=`, `>` and `>=` compare numbers.

use std::fmt;

/// What a health URL must show when a project names no conditions: a 2xx,
/// and where the body says so, a healthy status (seed 002's `ok`, seed
/// 003's `healthy`, and `up` and `pass`, which other health libraries send)
/// and every service up.
pub const DEFAULT_CONDITIONS: [&str; 3] = [
    "[STATUS] < 300",
    "[BODY].status? == any(ok, healthy, up, pass)",
    "[BODY].services.*? == true",
];

/// Conditions a project may name at most, and characters in each.
pub const CONDITIONS_MAX: usize = 10;
const CONDITION_CHARS_MAX: usize = 200;

#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    subject: Subject,
    op: Op,
    expected: Vec<String>,
    /// `any(…)` on the right: one of `expected`.
    any: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum Subject {
    Status,
    ResponseTime,
    Body { path: Vec<String>, optional: bool },
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    const ALL: [(&'static str, Op); 6] = [
        ("==", Op::Eq),
        ("!=", Op::Ne),
        ("<=", Op::Le),
        (">=", Op::Ge),
        ("<", Op::Lt),
        (">", Op::Gt),
    ];

    fn text(self) -> &'static str {
        Op::ALL
            .iter()
            .find(|(_, op)| *op == self)
            .map_or("==", |(text, _)| text)
    }

    fn words(self) -> &'static str {
        match self {
            Op::Eq => "should be",
            Op::Ne => "should not be",
            Op::Lt => "should be below",
            Op::Le => "should be at most",
            Op::Gt => "should be above",
            Op::Ge => "should be at least",
        }
    }
}

/// What a health URL answered, as the conditions read it.
#[derive(Debug, Clone, Copy)]
pub struct Answer<'a> {
    pub status: u16,
    pub response_ms: u64,
    /// The body, when it is JSON.
    pub body: Option<&'a serde_json::Value>,
}

/// A condition that was not met, in words ("the status code should be
/// below 300"), and what was seen instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmet {
    pub wanted: String,
    pub seen: String,
}

impl fmt::Display for Unmet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (saw {})", self.wanted, self.seen)
    }
}

impl Condition {
    /// Reads one condition, or says what is wrong with it.
    pub fn parse(text: &str) -> Result<Condition, String> {
        let text = text.trim();
        if text.chars().count() > CONDITION_CHARS_MAX {
            return Err(format!(
                "a condition has at most {CONDITION_CHARS_MAX} characters"
            ));
        }
        let (at, op_text, op) = Op::ALL
            .iter()
            .filter_map(|(op_text, op)| text.find(op_text).map(|at| (at, *op_text, *op)))
            .min_by_key(|(at, _, _)| *at)
            .ok_or_else(|| format!("“{text}” has no comparison: write it like [STATUS] == 200"))?;
        let (left, right) = (text[..at].trim(), text[at + op_text.len()..].trim());
        let subject = match left {
            "[STATUS]" => Subject::Status,
            "[RESPONSE_TIME]" => Subject::ResponseTime,
            body if body.starts_with("[BODY]") => {
                let rest = &body["[BODY]".len()..];
                let (rest, optional) = match rest.strip_suffix('?') {
                    Some(rest) => (rest, true),
                    None => (rest, false),
                };
                let path: Vec<String> = match rest.strip_prefix('.') {
                    Some(path) => path.split('.').map(str::to_owned).collect(),
                    None if rest.is_empty() => Vec::new(),
                    None => return Err(format!("“{left}”: a body path goes [BODY].key.key")),
                };
                if path
                    .iter()
                    .any(|key| key.is_empty() || key.contains(char::is_whitespace))
                {
                    return Err(format!("“{left}”: a body path goes [BODY].key.key"));
                }
                Subject::Body { path, optional }
            }
            other => {
                return Err(format!(
                    "“{other}” is not [STATUS], [RESPONSE_TIME] or [BODY].path"
                ));
            }
        };
        let (expected, any) = match right
            .strip_prefix("any(")
            .and_then(|inner| inner.strip_suffix(')'))
        {
            Some(inner) => (inner.split(',').map(unquoted).collect::<Vec<_>>(), true),
            None => (vec![unquoted(right)], false),
        };
        if expected.iter().any(String::is_empty) {
            return Err(format!("“{text}” compares with nothing"));
        }
        let condition = Condition {
            subject,
            op,
            expected,
            any,
        };
        let numeric = !matches!(op, Op::Eq | Op::Ne);
        if numeric
            && (condition.any || condition.expected.iter().any(|e| e.parse::<f64>().is_err()))
        {
            return Err(format!("“{text}”: {op_text} compares with a number"));
        }
        if matches!(condition.subject, Subject::Status | Subject::ResponseTime)
            && condition.expected.iter().any(|e| e.parse::<f64>().is_err())
        {
            return Err(format!("“{text}”: {left} is a number"));
        }
        Ok(condition)
    }

    /// Whether `answer` meets the condition; what was seen when it does not.
    pub fn check(&self, answer: &Answer<'_>) -> Result<(), Unmet> {
        let unmet = |seen: String| Unmet {
            wanted: self.words(),
            seen,
        };
        // Each value with where it was, for a body: `services.database`.
        let values: Vec<(String, String)> = match &self.subject {
            Subject::Status => vec![(String::new(), answer.status.to_string())],
            Subject::ResponseTime => vec![(String::new(), answer.response_ms.to_string())],
            Subject::Body { path, optional } => {
                match answer.body.and_then(|body| at(body, path, String::new())) {
                    Some(values) => values
                        .into_iter()
                        .map(|(place, value)| (place, text(value)))
                        .collect(),
                    None if *optional => return Ok(()),
                    None if answer.body.is_none() => {
                        return Err(unmet("a body that is not JSON".into()));
                    }
                    None => return Err(unmet("nothing there".into())),
                }
            }
        };
        match values.iter().find(|(_, value)| !self.holds(value)) {
            None => Ok(()),
            // A response time is said with its unit.
            Some((_, value)) if matches!(self.subject, Subject::ResponseTime) => {
                Err(unmet(format!("{value} ms")))
            }
            Some((place, value)) if place.is_empty() => Err(unmet(value.clone())),
            // The place, where the words say "every …" rather than naming it.
            Some((place, value)) => match &self.subject {
                Subject::Body { path, .. } if path.join(".") == *place => {
                    Err(unmet(format!("“{value}”")))
                }
                _ => Err(unmet(format!("{place}: “{value}”"))),
            },
        }
    }

    /// The condition as people say it: "the status code should be below
    /// 300", "status should be ok, healthy, up or pass".
    pub fn words(&self) -> String {
        let subject = match &self.subject {
            Subject::Status => "the status code".to_owned(),
            Subject::ResponseTime => "the response time".to_owned(),
            Subject::Body { path, .. } if path.is_empty() => "the body".to_owned(),
            Subject::Body { path, .. } if path.iter().any(|key| key == "*") => {
                format!("every {}", path.join("."))
            }
            Subject::Body { path, .. } => path.join("."),
        };
        let unit = if matches!(self.subject, Subject::ResponseTime) {
            " ms"
        } else {
            ""
        };
        let (op, expected) = match self.expected.split_last() {
            Some(_) if self.op == Op::Ne && self.expected.len() > 1 => {
                ("should be none of", self.expected.join(", "))
            }
            Some((last, rest)) if !rest.is_empty() => {
                (self.op.words(), format!("{} or {last}", rest.join(", ")))
            }
            _ => (self.op.words(), self.expected.join("")),
        };
        format!("{subject} {op} {expected}{unit}")
    }

    fn holds(&self, value: &str) -> bool {
        let number = |text: &str| text.parse::<f64>().ok();
        let one = |expected: &str| match self.op {
            Op::Eq => {
                value == expected || number(value).is_some_and(|v| Some(v) == number(expected))
            }
            Op::Ne => {
                value != expected && !number(value).is_some_and(|v| Some(v) == number(expected))
            }
            op => match (number(value), number(expected)) {
                (Some(v), Some(e)) => match op {
                    Op::Lt => v < e,
                    Op::Le => v <= e,
                    Op::Gt => v > e,
                    _ => v >= e,
                },
                _ => false,
            },
        };
        match self.op {
            Op::Ne => self.expected.iter().all(|expected| one(expected)),
            _ => self.expected.iter().any(|expected| one(expected)),
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.subject {
            Subject::Status => write!(f, "[STATUS]")?,
            Subject::ResponseTime => write!(f, "[RESPONSE_TIME]")?,
            Subject::Body { path, optional } => {
                write!(f, "[BODY]")?;
                for key in path {
                    write!(f, ".{key}")?;
                }
                if *optional {
                    write!(f, "?")?;
                }
            }
        }
        write!(f, " {} ", self.op.text())?;
        if self.any {
            write!(f, "any({})", self.expected.join(", "))
        } else {
            write!(f, "{}", self.expected.join(""))
        }
    }
}

/// The conditions a health URL is judged by: the project's, or the defaults.
pub fn conditions(texts: &[String]) -> Vec<Condition> {
    let parsed: Vec<Condition> = texts
        .iter()
        .filter_map(|text| Condition::parse(text).ok())
        .collect();
    if parsed.is_empty() {
        DEFAULT_CONDITIONS
            .iter()
            .filter_map(|text| Condition::parse(text).ok())
            .collect()
    } else {
        parsed
    }
}

/// Every condition `answer` does not meet.
pub fn unmet(conditions: &[Condition], answer: &Answer<'_>) -> Vec<Unmet> {
    conditions
        .iter()
        .filter_map(|condition| condition.check(answer).err())
        .collect()
}

/// Why a project's conditions cannot be used, if they cannot.
pub fn conditions_problem(texts: &[String]) -> Option<String> {
    if texts.len() > CONDITIONS_MAX {
        return Some(format!("at most {CONDITIONS_MAX} conditions"));
    }
    texts.iter().find_map(|text| Condition::parse(text).err())
}

fn unquoted(text: &str) -> String {
    let text = text.trim();
    text.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text)
        .to_owned()
}

/// The values at `path` (a `*` fans out), each with the keys that led to
/// it after `place`; `None` when a key is missing.
fn at<'a>(
    value: &'a serde_json::Value,
    path: &[String],
    place: String,
) -> Option<Vec<(String, &'a serde_json::Value)>> {
    let Some((key, rest)) = path.split_first() else {
        return Some(vec![(place, value)]);
    };
    let deeper = |key: &str| {
        if place.is_empty() {
            key.to_owned()
        } else {
            format!("{place}.{key}")
        }
    };
    if key == "*" {
        let children: Vec<(String, &serde_json::Value)> = match value {
            serde_json::Value::Object(map) => map.iter().map(|(k, v)| (deeper(k), v)).collect(),
            serde_json::Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| (deeper(&i.to_string()), v))
                .collect(),
            _ => return None,
        };
        let mut found = Vec::new();
        for (place, child) in children {
            found.extend(at(child, rest, place)?);
        }
        return Some(found);
    }
    let child = match value {
        serde_json::Value::Object(map) => map.get(key),
        serde_json::Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    }?;
    at(child, rest, deeper(key))
}

fn text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn judged(texts: &[&str], status: u16, body: Option<serde_json::Value>) -> Vec<String> {
        let texts: Vec<String> = texts.iter().map(|t| (*t).to_owned()).collect();
        let answer = Answer {
            status,
            response_ms: 42,
            body: body.as_ref(),
        };
        unmet(&conditions(&texts), &answer)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn the_defaults_accept_every_seed_s_health_answer_and_a_plain_200() {
        let ok = |status, body| judged(&[], status, body).is_empty();
        assert!(
            ok(
                200,
                Some(json!({ "status": "ok", "services": { "database": true, "vapi": true } }))
            ),
            "seed 002"
        );
        assert!(
            ok(
                200,
                Some(json!({ "status": "healthy", "sentry": { "status": "connected" } }))
            ),
            "seed 003"
        );
        assert!(ok(200, Some(json!({ "status": "up" }))));
        assert!(ok(200, Some(json!({ "status": "pass" }))));
        assert!(ok(200, None), "a plain 200 without JSON");
        assert!(ok(204, None));
        assert_eq!(
            judged(
                &[],
                200,
                Some(json!({ "status": "ok", "services": { "database": false, "vapi": true } }))
            ),
            ["every services.* should be true (saw services.database: “false”)"]
        );
        assert_eq!(
            judged(&[], 200, Some(json!({ "status": "degraded" }))),
            ["status should be ok, healthy, up or pass (saw “degraded”)"]
        );
        assert_eq!(
            judged(&[], 503, None),
            ["the status code should be below 300 (saw 503)"]
        );
    }

    #[test]
    fn a_team_s_own_conditions_replace_the_defaults() {
        let own = [
            "[STATUS] == 200",
            "[BODY].db.latency_ms < 50",
            "[RESPONSE_TIME] < 100",
        ];
        assert!(judged(&own, 200, Some(json!({ "db": { "latency_ms": 12 } }))).is_empty());
        assert_eq!(
            judged(&own, 200, Some(json!({ "db": { "latency_ms": 75.5 } }))),
            ["db.latency_ms should be below 50 (saw “75.5”)"]
        );
        assert_eq!(
            judged(&own, 200, Some(json!({ "status": "ok" }))),
            ["db.latency_ms should be below 50 (saw nothing there)"],
            "a path without the ? must be there"
        );
        assert_eq!(
            judged(&own, 200, None),
            ["db.latency_ms should be below 50 (saw a body that is not JSON)"]
        );
        let slow = Answer {
            status: 200,
            response_ms: 142,
            body: None,
        };
        let said: Vec<String> = unmet(&conditions(&["[RESPONSE_TIME] < 100".to_owned()]), &slow)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            said,
            ["the response time should be below 100 ms (saw 142 ms)"]
        );
        let checks = [
            "[BODY].checks.*.state != any(down, failing)",
            "[BODY].checks.0.name == db",
        ];
        let body = json!({ "checks": [{ "name": "db", "state": "up" }, { "name": "queue", "state": "down" }] });
        assert_eq!(
            judged(&checks, 200, Some(body)),
            ["every checks.*.state should be none of down, failing (saw checks.1.state: “down”)"]
        );
    }

    #[test]
    fn a_condition_that_cannot_be_read_says_why() {
        for bad in [
            "status is ok",
            "[HEADERS].x == 1",
            "[STATUS] < ok",
            "[STATUS] == ok",
            "[BODY].status < any(1, 2)",
            "[BODY]..status == ok",
            "[BODY].status ==",
            "[BODYstatus] == ok",
        ] {
            assert!(Condition::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(conditions_problem(&["[STATUS] == 200".into()]), None);
        assert!(
            conditions_problem(&vec!["[STATUS] == 200".to_owned(); CONDITIONS_MAX + 1]).is_some()
        );
        // A condition reads back as it is written, spaces normalised.
        let condition = Condition::parse(r#"[BODY].status==any(ok,"healthy")"#).unwrap();
        assert_eq!(condition.to_string(), "[BODY].status == any(ok, healthy)");
    }
}
