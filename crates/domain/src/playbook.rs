//! The playbook: what a team does to set up monitoring, keep a 24-hour watch
//! and decide what to do when things go wrong.
//!
//! It is data, written by people in TOML (`playbooks/launch.toml` holds the
//! seeds' content). [`Playbook::from_toml`] parses and validates it; every
//! problem is reported with the place it is at, so a team editing its own
//! playbook can fix it without reading code.

use std::collections::{HashMap, HashSet};
use std::fmt;

use nanoserde::{DeBin, SerBin};
use serde::{Deserialize, Serialize};

use crate::check::{CheckKind, Verify, param_problems};
use crate::keyed::Keyed;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, SerBin, DeBin)]
#[serde(deny_unknown_fields)]
pub struct Playbook {
    pub title: String,
    #[serde(default)]
    pub summary: String,
    /// The setup wizard, one section per service (Sentry, Render, Slack).
    pub setup: Vec<SetupSection>,
    pub watch: Watch,
    pub escalations: Vec<Escalation>,
    /// What must hold at the 24-hour sign-off.
    pub success_criteria: Vec<Item>,
    /// Each platform's SDK settings, from its own seed.
    #[serde(default)]
    pub sdk: Vec<Sdk>,
}

/// The SDK settings a platform's seed gives: set on the host by "Set the env
/// vars", compared by the env var checks, written into the SDK snippet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, SerBin, DeBin)]
#[serde(deny_unknown_fields)]
pub struct Sdk {
    pub platform: crate::project::Platform,
    /// The variable the DSN goes in (`SENTRY_DSN`, `NEXT_PUBLIC_SENTRY_DSN`).
    pub dsn: String,
    pub settings: Vec<SdkSetting>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, SerBin, DeBin)]
#[serde(deny_unknown_fields)]
pub struct SdkSetting {
    pub key: String,
    pub value: String,
    /// The document the value comes from, as the team calls it: "the
    /// Sentry monitoring guide".
    pub seed: String,
    /// A value the team may choose (a sample rate): set when missing, never
    /// overwritten, and shown beside the seed's.
    #[serde(default)]
    pub team_choice: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, SerBin, DeBin)]
#[serde(deny_unknown_fields)]
pub struct SetupSection {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub summary: String,
    pub steps: Vec<Step>,
}

/// A wizard step: what to do (`instructions`) and what proves it done (`items`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, SerBin, DeBin)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub instructions: Vec<String>,
    /// Steps a team may skip, such as the frontend project when there is none.
    #[serde(default)]
    pub optional: bool,
    /// The step installs the SDK: it shows the start-up code to copy.
    #[serde(default)]
    pub sdk_snippet: bool,
    pub items: Vec<Item>,
}

/// Something that is either true or not yet, and says how that is known.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, SerBin, DeBin)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub id: String,
    pub text: String,
    pub verify: Verify,
    /// Parameters of the live check, such as `{ key = "SENTRY_DSN" }`.
    #[serde(default, skip_serializing_if = "Keyed::is_empty")]
    pub with: Keyed<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, SerBin, DeBin)]
#[serde(deny_unknown_fields)]
pub struct Watch {
    pub duration_hours: u32,
    pub checkpoints: Vec<Checkpoint>,
    /// "What to check at each interval".
    pub routine: Vec<RoutineCheck>,
    /// Errors that are expected and need no action.
    pub normal: Vec<String>,
    /// Errors that must be fixed.
    pub critical: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, SerBin, DeBin)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    pub hour: u32,
    pub title: String,
    /// The final checkpoint, where the team approves (or not) the launch.
    #[serde(default)]
    pub sign_off: bool,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, SerBin, DeBin)]
#[serde(deny_unknown_fields)]
pub struct RoutineCheck {
    pub id: String,
    pub title: String,
    /// How long the check takes a person, as the seed estimates it.
    pub minutes: u32,
    #[serde(default)]
    pub instructions: Vec<String>,
    #[serde(default)]
    pub items: Vec<Item>,
    #[serde(default)]
    pub targets: Vec<Target>,
    /// What to do when this check fails.
    #[serde(default)]
    pub if_failing: Vec<String>,
}

/// A metric with the bound it must stay within.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, SerBin, DeBin)]
#[serde(deny_unknown_fields)]
pub struct Target {
    pub id: String,
    pub label: String,
    pub bound: Bound,
    pub verify: Verify,
    #[serde(default, skip_serializing_if = "Keyed::is_empty")]
    pub with: Keyed<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, SerBin, DeBin)]
#[serde(deny_unknown_fields)]
pub struct Bound {
    pub comparison: Comparison,
    pub value: f64,
    pub unit: Unit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, SerBin, DeBin)]
pub enum Comparison {
    #[serde(rename = "<")]
    Below,
    #[serde(rename = "<=")]
    AtMost,
    #[serde(rename = ">")]
    Above,
    #[serde(rename = ">=")]
    AtLeast,
    #[serde(rename = "=")]
    Exactly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, SerBin, DeBin)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Percent,
    Ms,
    PerHour,
    Count,
}

impl Comparison {
    /// The operator as playbooks and the API write it: `<`, `<=`, `>`, `>=`, `=`.
    pub fn symbol(self) -> &'static str {
        match self {
            Comparison::Below => "<",
            Comparison::AtMost => "<=",
            Comparison::Above => ">",
            Comparison::AtLeast => ">=",
            Comparison::Exactly => "=",
        }
    }
}

impl Unit {
    /// The name playbooks and the API use.
    pub fn name(self) -> &'static str {
        match self {
            Unit::Percent => "percent",
            Unit::Ms => "ms",
            Unit::PerHour => "per_hour",
            Unit::Count => "count",
        }
    }
}

impl Bound {
    /// Whether an observed value satisfies the bound.
    pub fn holds(&self, observed: f64) -> bool {
        match self.comparison {
            Comparison::Below => observed < self.value,
            Comparison::AtMost => observed <= self.value,
            Comparison::Above => observed > self.value,
            Comparison::AtLeast => observed >= self.value,
            Comparison::Exactly => observed == self.value,
        }
    }
}

impl fmt::Display for Bound {
    /// `< 1%`, `< 100 ms`, `< 5 per hour`, `= 0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.comparison {
            Comparison::Below => "<",
            Comparison::AtMost => "≤",
            Comparison::Above => ">",
            Comparison::AtLeast => "≥",
            Comparison::Exactly => "=",
        };
        write!(f, "{op} {}", Decimal(self.value))?;
        match self.unit {
            Unit::Percent => f.write_str("%"),
            Unit::Ms => f.write_str(" ms"),
            Unit::PerHour => f.write_str(" per hour"),
            Unit::Count => Ok(()),
        }
    }
}

/// Displays a number with at most two decimals and no trailing zeros, using
/// integer formatting only: float formatting would add several KB to the app.
#[derive(Debug, Clone, Copy)]
pub struct Decimal(pub f64);

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_decimal(f, self.0)
    }
}

fn write_decimal(f: &mut fmt::Formatter<'_>, value: f64) -> fmt::Result {
    let hundredths = (value * 100.0).round() as i64;
    if hundredths < 0 {
        f.write_str("-")?;
    }
    let (whole, fraction) = (
        hundredths.unsigned_abs() / 100,
        hundredths.unsigned_abs() % 100,
    );
    match fraction {
        0 => write!(f, "{whole}"),
        tenths if tenths % 10 == 0 => write!(f, "{whole}.{}", tenths / 10),
        _ => write!(f, "{whole}.{fraction:02}"),
    }
}

/// A decision tree for one kind of trouble.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, SerBin, DeBin)]
#[serde(deny_unknown_fields)]
pub struct Escalation {
    pub id: String,
    pub title: String,
    /// The condition that starts this procedure, for people.
    pub trigger: String,
    /// The measured condition, when there is one (error rate > 5%).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<Bound>,
    /// The live check that detects the trigger.
    pub detected_by: Verify,
    pub start: String,
    pub nodes: Vec<Node>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, SerBin, DeBin)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Node {
    /// Something to do, then go on to `next`.
    Step {
        id: String,
        text: String,
        next: String,
        /// Wait this long, then run the escalation's detecting check again
        /// ("wait 30 seconds and retry"): the app runs the timer.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_seconds: Option<u32>,
    },
    /// A question whose answer picks the branch.
    Question {
        id: String,
        text: String,
        options: Vec<Choice>,
        /// The first option holds when a health URL has been failing longer
        /// than this, by the sampler's data ("persists for more than 2
        /// minutes"): the app says which answer the samples give.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        failing_for_seconds: Option<u32>,
        /// The first option holds when the retry of the step before passed
        /// ("does the health check pass now?"): the retry answers it.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        answered_by_retry: bool,
    },
    /// Where a branch ends: the decision taken.
    Outcome {
        id: String,
        text: String,
        outcome: Outcome,
        #[serde(default)]
        steps: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, SerBin, DeBin)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub label: String,
    pub next: String,
}

/// The four decisions the seeds name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, SerBin, DeBin)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Rollback,
    Fix,
    Monitor,
    Document,
}

impl Outcome {
    /// The name playbooks and the API use.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Rollback => "rollback",
            Outcome::Fix => "fix",
            Outcome::Monitor => "monitor",
            Outcome::Document => "document",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Outcome::Rollback => "Roll back",
            Outcome::Fix => "Fix and redeploy",
            Outcome::Monitor => "Monitor",
            Outcome::Document => "Document and fix later",
        }
    }
}

impl Node {
    pub fn id(&self) -> &str {
        match self {
            Node::Step { id, .. } | Node::Question { id, .. } | Node::Outcome { id, .. } => id,
        }
    }

    pub fn text(&self) -> &str {
        match self {
            Node::Step { text, .. } | Node::Question { text, .. } | Node::Outcome { text, .. } => {
                text
            }
        }
    }

    /// What an answer at this node says, for the record of a walk.
    pub fn answer_label(&self, answer: usize) -> Option<&str> {
        match self {
            Node::Question { options, .. } => {
                options.get(answer).map(|choice| choice.label.as_str())
            }
            Node::Step { .. } => Some("done"),
            Node::Outcome { .. } => None,
        }
    }

    /// The nodes this one leads to, in option order.
    /// The answer Watchpost's own measurements give, when they give one,
    /// so that the walk does not ask it: the retry's result (`retry_passed`),
    /// or how long the health samples say a URL has been failing
    /// (`failing_for`, in seconds; 0 when none is). Either way the first
    /// option is the one that holds.
    pub fn measured_answer(
        &self,
        retry_passed: Option<bool>,
        failing_for: Option<i64>,
    ) -> Option<usize> {
        let first_holds = match self {
            Node::Question {
                answered_by_retry: true,
                ..
            } => retry_passed?,
            Node::Question {
                failing_for_seconds: Some(limit),
                ..
            } => failing_for? > i64::from(*limit),
            _ => return None,
        };
        Some(if first_holds { 0 } else { 1 })
    }

    pub fn successors(&self) -> Vec<&str> {
        match self {
            Node::Step { next, .. } => vec![next.as_str()],
            Node::Question { options, .. } => {
                options.iter().map(|choice| choice.next.as_str()).collect()
            }
            Node::Outcome { .. } => Vec::new(),
        }
    }
}

impl Escalation {
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|node| node.id() == id)
    }

    /// Follows a walk through the tree: one answer per node passed, `0` for a
    /// step ("done") and the option index for a question. Returns the nodes
    /// visited, the last being where the walk stands now.
    pub fn walk(&self, answers: &[usize]) -> Result<Vec<&Node>, WalkError> {
        let mut node = self.node(&self.start).ok_or(WalkError::BrokenTree)?;
        let mut path = vec![node];
        for (depth, &answer) in answers.iter().enumerate() {
            let next = node.successors();
            let Some(next) = next.get(answer) else {
                return Err(WalkError::NoSuchAnswer { depth, answer });
            };
            node = self.node(next).ok_or(WalkError::BrokenTree)?;
            path.push(node);
        }
        Ok(path)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WalkError {
    #[error("answer {answer} at step {depth} is not one of the choices there")]
    NoSuchAnswer { depth: usize, answer: usize },
    #[error("the decision tree refers to a node it does not have")]
    BrokenTree,
}

impl Playbook {
    /// The playbook that ships with Watchpost, built from the teams' seed documents.
    pub const DEFAULT_TOML: &'static str = include_str!("../../../playbooks/launch.toml");

    pub fn default_launch() -> Result<Self, PlaybookError> {
        Self::from_toml(Self::DEFAULT_TOML)
    }

    /// Parses and validates a playbook.
    pub fn from_toml(source: &str) -> Result<Self, PlaybookError> {
        let playbook: Playbook =
            toml::from_str(source).map_err(|err| PlaybookError::Syntax(err.to_string()))?;
        let problems = playbook.problems();
        if problems.is_empty() {
            Ok(playbook)
        } else {
            Err(PlaybookError::Invalid(problems))
        }
    }

    /// Every checklist item in the playbook, in reading order.
    pub fn items(&self) -> impl Iterator<Item = &Item> {
        self.placed_items().map(|(_, item)| item)
    }

    /// Every checklist item with where it sits; the place is formatted only
    /// when a problem is reported.
    fn placed_items(&self) -> impl Iterator<Item = (ItemPlace, &Item)> {
        let setup = self.setup.iter().enumerate().flat_map(|(s, section)| {
            section.steps.iter().enumerate().flat_map(move |(t, step)| {
                step.items
                    .iter()
                    .enumerate()
                    .map(move |(i, item)| (ItemPlace::Setup(s, t, i), item))
            })
        });
        let checkpoints = self
            .watch
            .checkpoints
            .iter()
            .enumerate()
            .flat_map(|(c, checkpoint)| {
                checkpoint
                    .items
                    .iter()
                    .enumerate()
                    .map(move |(i, item)| (ItemPlace::Checkpoint(c, i), item))
            });
        let routine = self
            .watch
            .routine
            .iter()
            .enumerate()
            .flat_map(|(r, check)| {
                check
                    .items
                    .iter()
                    .enumerate()
                    .map(move |(i, item)| (ItemPlace::Routine(r, i), item))
            });
        let criteria = self
            .success_criteria
            .iter()
            .enumerate()
            .map(|(i, item)| (ItemPlace::Criterion(i), item));
        setup.chain(checkpoints).chain(routine).chain(criteria)
    }

    /// Finds a checklist item by id.
    pub fn item(&self, id: &str) -> Option<&Item> {
        self.items().find(|item| item.id == id)
    }

    /// The routine's health item: what is checked again after a rollback.
    pub fn health_item(&self) -> Option<&Item> {
        self.watch
            .routine
            .iter()
            .flat_map(|routine| &routine.items)
            .find(|item| item.verify.check() == Some(CheckKind::HealthEndpoint))
    }

    /// What people call the item or routine target `id`: its text or
    /// label; the id itself only when the playbook has neither.
    pub fn label_of<'a>(&'a self, id: &'a str) -> &'a str {
        self.item(id)
            .map(|item| item.text.as_str())
            .unwrap_or_else(|| self.target(id).map_or(id, |target| target.label.as_str()))
    }

    /// An item, or a routine target as the item that measures it: what a
    /// live check can be run for.
    pub fn checkable(&self, id: &str) -> Option<Item> {
        self.item(id).cloned().or_else(|| {
            self.target(id).map(|target| Item {
                id: target.id.clone(),
                text: target.label.clone(),
                verify: target.verify,
                with: target.with.clone(),
            })
        })
    }

    /// How many ids a live check can be run for: the most one request may name.
    pub fn checkable_count(&self) -> usize {
        let items = self.items().filter(|item| item.verify.check().is_some());
        let targets = self
            .watch
            .routine
            .iter()
            .flat_map(|check| &check.targets)
            .filter(|target| target.verify.check().is_some());
        items.count() + targets.count()
    }

    /// The SDK settings of `platform`'s seed, when the playbook has them.
    pub fn sdk_for(&self, platform: crate::project::Platform) -> Option<&Sdk> {
        self.sdk.iter().find(|sdk| sdk.platform == platform)
    }

    /// The SDK settings of the project's platform, once it has one.
    pub fn sdk_of(&self, project: &crate::project::Project) -> Option<&Sdk> {
        self.sdk_for(project.platform?)
    }

    /// Finds a target of the routine checks by id.
    pub fn target(&self, id: &str) -> Option<&Target> {
        self.watch
            .routine
            .iter()
            .flat_map(|check| &check.targets)
            .find(|target| target.id == id)
    }

    /// The bound that `check` measures in `unit`, as a whole number: the
    /// line a chart draws (the health endpoint's response time, the errors
    /// per hour).
    pub fn chart_target(&self, check: CheckKind, unit: Unit) -> Option<u64> {
        self.watch
            .routine
            .iter()
            .flat_map(|routine| &routine.targets)
            .find(|target| target.verify.check() == Some(check) && target.bound.unit == unit)
            .map(|target| target.bound.value.max(0.0) as u64)
    }

    /// Everything wrong with a parsed playbook; empty when it is valid.
    pub fn problems(&self) -> Vec<Problem> {
        let mut report = Report::default();
        report.text("title", &self.title);
        if self.setup.is_empty() {
            report.push("setup", "the setup wizard has no sections");
        }

        // Items, targets and steps share one id space: the run log refers to them by id.
        let mut ids = IdSpace::default();
        let mut section_ids = IdSpace::default();
        for (s, section) in self.setup.iter().enumerate() {
            let at = format!("setup[{s}]");
            report.id(&mut section_ids, &at, &section.id);
            report.text(&format!("{at}.title"), &section.title);
            if section.steps.is_empty() {
                report.push(&at, format!("section `{}` has no steps", section.id));
            }
            for (t, step) in section.steps.iter().enumerate() {
                let at = format!("{at}.steps[{t}]");
                report.id(&mut ids, &at, &step.id);
                report.text(&format!("{at}.title"), &step.title);
                if step.items.is_empty() {
                    report.push(
                        &at,
                        format!(
                            "step `{}` has no items, so nothing can show it done",
                            step.id
                        ),
                    );
                }
            }
        }
        for (place, item) in self.placed_items() {
            let at = place.to_string();
            report.id(&mut ids, &at, &item.id);
            report.text(&format!("{at}.text"), &item.text);
            report.params(&at, item.verify, &item.with);
        }
        for (r, check) in self.watch.routine.iter().enumerate() {
            let at = format!("watch.routine[{r}]");
            report.id(&mut ids, &at, &check.id);
            if check.items.is_empty() && check.targets.is_empty() {
                report.push(
                    &at,
                    format!("routine check `{}` has neither items nor targets", check.id),
                );
            }
            for (g, target) in check.targets.iter().enumerate() {
                let at = format!("{at}.targets[{g}]");
                report.id(&mut ids, &at, &target.id);
                report.text(&format!("{at}.label"), &target.label);
                report.bound(&format!("{at}.bound"), &target.bound);
                report.params(&at, target.verify, &target.with);
            }
        }

        self.check_schedule(&mut report);

        let mut tree_ids = IdSpace::default();
        for (e, escalation) in self.escalations.iter().enumerate() {
            let at = format!("escalations[{e}]");
            report.id(&mut tree_ids, &at, &escalation.id);
            if let Some(bound) = &escalation.threshold {
                report.bound(&format!("{at}.threshold"), bound);
            }
            check_tree(&mut report, &at, escalation);
        }
        if self.success_criteria.is_empty() {
            report.push("success_criteria", "the sign-off has no success criteria");
        }
        for (i, sdk) in self.sdk.iter().enumerate() {
            let at = format!("sdk[{i}]");
            if self.sdk[..i]
                .iter()
                .any(|other| other.platform == sdk.platform)
            {
                report.push(&at, "a second SDK for the same platform");
            }
            let variable = |name: &str| {
                !name.is_empty()
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
            };
            if !variable(&sdk.dsn) {
                report.push(&at, "dsn names an env var, such as SENTRY_DSN");
            }
            for (j, setting) in sdk.settings.iter().enumerate() {
                let at = format!("{at}.settings[{j}]");
                if !variable(&setting.key) {
                    report.push(
                        &at,
                        "key names an env var, such as SENTRY_TRACES_SAMPLE_RATE",
                    );
                } else if setting.value.is_empty() || setting.seed.trim().is_empty() {
                    report.push(&at, "a setting has a value and the seed it comes from");
                }
            }
        }
        report.problems
    }

    fn check_schedule(&self, report: &mut Report) {
        let watch = &self.watch;
        if watch.duration_hours == 0 {
            report.push(
                "watch.duration_hours",
                "the watch must last at least one hour",
            );
        }
        if watch.checkpoints.is_empty() {
            report.push("watch.checkpoints", "the watch has no checkpoints");
        }
        let mut previous: Option<u32> = None;
        for (c, checkpoint) in watch.checkpoints.iter().enumerate() {
            let at = format!("watch.checkpoints[{c}]");
            if previous.is_some_and(|hour| checkpoint.hour <= hour) {
                report.push(
                    &at,
                    format!(
                        "hour {} does not come after the checkpoint before it",
                        checkpoint.hour
                    ),
                );
            }
            if checkpoint.hour > watch.duration_hours {
                report.push(
                    &at,
                    format!(
                        "hour {} is past the end of a {}-hour watch",
                        checkpoint.hour, watch.duration_hours
                    ),
                );
            }
            if checkpoint.items.is_empty() {
                report.push(
                    &at,
                    format!("the hour-{} checkpoint has no items", checkpoint.hour),
                );
            }
            let last = c + 1 == watch.checkpoints.len();
            if checkpoint.sign_off && !last {
                report.push(&at, "only the last checkpoint can be the sign-off");
            }
            if last && !checkpoint.sign_off {
                report.push(
                    &at,
                    "the last checkpoint must be the sign-off (`sign_off = true`)",
                );
            }
            if last && checkpoint.sign_off && checkpoint.hour != watch.duration_hours {
                report.push(
                    &at,
                    format!(
                        "the sign-off is at hour {} but the watch lasts {} hours",
                        checkpoint.hour, watch.duration_hours
                    ),
                );
            }
            previous = Some(checkpoint.hour);
        }
    }
}

/// Structural rules of a decision tree: ids unique, every branch lands on a
/// node, no cycles, every node reachable, every path ends in an outcome.
fn check_tree(report: &mut Report, at: &str, escalation: &Escalation) {
    let mut node_ids = IdSpace::default();
    for (n, node) in escalation.nodes.iter().enumerate() {
        report.id(&mut node_ids, &format!("{at}.nodes[{n}]"), node.id());
        report.text(&format!("{at}.nodes[{n}].text"), node.text());
    }
    let index: HashMap<&str, usize> = escalation
        .nodes
        .iter()
        .enumerate()
        .map(|(n, node)| (node.id(), n))
        .collect();
    if !index.contains_key(escalation.start.as_str()) {
        report.push(
            &format!("{at}.start"),
            format!("start node `{}` does not exist", escalation.start),
        );
        return;
    }
    let mut dangling = false;
    for (n, node) in escalation.nodes.iter().enumerate() {
        let retries = matches!(
            node,
            Node::Step {
                retry_after_seconds: Some(_),
                ..
            }
        );
        if retries && escalation.detected_by.check().is_none() {
            report.push(
                &format!("{at}.nodes[{n}].retry_after_seconds"),
                "a retry runs the escalation's detecting check again: set `detected_by` to a live check".to_owned(),
            );
        }
        let measured = matches!(
            node,
            Node::Question {
                failing_for_seconds: Some(_),
                ..
            }
        );
        if measured && escalation.detected_by.check() != Some(CheckKind::HealthEndpoint) {
            report.push(
                &format!("{at}.nodes[{n}].failing_for_seconds"),
                "how long something has been failing is measured for health endpoints only: set `detected_by = \"health.endpoint\"`".to_owned(),
            );
        }
        let after_retry = escalation.nodes.iter().any(|before| {
            matches!(before, Node::Step { next, retry_after_seconds: Some(_), .. } if next == node.id())
        });
        if matches!(
            node,
            Node::Question {
                answered_by_retry: true,
                ..
            }
        ) && !after_retry
        {
            report.push(
                &format!("{at}.nodes[{n}].answered_by_retry"),
                "only a question that follows a step with `retry_after_seconds` is answered by the retry".to_owned(),
            );
        }
        if let Node::Question { options, .. } = node
            && options.len() < 2
        {
            report.push(
                &format!("{at}.nodes[{n}]"),
                format!("question `{}` needs at least two options", node.id()),
            );
        }
        for next in node.successors() {
            if !index.contains_key(next) {
                dangling = true;
                report.push(
                    &format!("{at}.nodes[{n}]"),
                    format!(
                        "`{}` leads to `{next}`, which is not a node of this tree",
                        node.id()
                    ),
                );
            }
        }
    }
    if dangling {
        return;
    }

    // Depth-first search from the start: grey nodes are on the current path.
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        White,
        Grey,
        Black,
    }
    let mut marks = vec![Mark::White; escalation.nodes.len()];
    let mut stack = vec![(index[escalation.start.as_str()], 0usize)];
    marks[stack[0].0] = Mark::Grey;
    while let Some(&mut (n, ref mut child)) = stack.last_mut() {
        let successors = escalation.nodes[n].successors();
        if let Some(next) = successors.get(*child) {
            *child += 1;
            let m = index[next];
            match marks[m] {
                Mark::White => {
                    marks[m] = Mark::Grey;
                    stack.push((m, 0));
                }
                Mark::Grey => report.push(
                    &format!("{at}.nodes[{n}]"),
                    format!(
                        "`{}` leads back to `{next}`: a decision tree cannot loop",
                        escalation.nodes[n].id()
                    ),
                ),
                Mark::Black => {}
            }
        } else {
            marks[n] = Mark::Black;
            stack.pop();
        }
    }
    for (n, mark) in marks.iter().enumerate() {
        if *mark == Mark::White {
            report.push(
                &format!("{at}.nodes[{n}]"),
                format!(
                    "`{}` cannot be reached from the start node",
                    escalation.nodes[n].id()
                ),
            );
        }
    }
}

/// Where an item sits in the document, as a problem report names it.
#[derive(Debug, Clone, Copy)]
enum ItemPlace {
    Setup(usize, usize, usize),
    Checkpoint(usize, usize),
    Routine(usize, usize),
    Criterion(usize),
}

impl fmt::Display for ItemPlace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ItemPlace::Setup(s, t, i) => write!(f, "setup[{s}].steps[{t}].items[{i}]"),
            ItemPlace::Checkpoint(c, i) => write!(f, "watch.checkpoints[{c}].items[{i}]"),
            ItemPlace::Routine(r, i) => write!(f, "watch.routine[{r}].items[{i}]"),
            ItemPlace::Criterion(i) => write!(f, "success_criteria[{i}]"),
        }
    }
}

#[derive(Default)]
struct IdSpace(HashSet<String>);

#[derive(Default)]
struct Report {
    problems: Vec<Problem>,
}

impl Report {
    fn push(&mut self, at: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            at: at.to_owned(),
            message: message.into(),
        });
    }

    fn text(&mut self, at: &str, text: &str) {
        if text.trim().is_empty() {
            self.push(at, "must not be empty");
        }
    }

    /// Ids appear in URLs and in the run log: lowercase letters, digits and dashes.
    fn id(&mut self, space: &mut IdSpace, at: &str, id: &str) {
        let well_formed = !id.is_empty()
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !id.starts_with('-')
            && !id.ends_with('-');
        if !well_formed {
            self.push(
                at,
                format!("id `{id}` must be lowercase letters, digits and inner dashes"),
            );
        } else if !space.0.insert(id.to_owned()) {
            self.push(at, format!("duplicate id `{id}`"));
        }
    }

    fn params(&mut self, at: &str, verify: Verify, with: &Keyed<String>) {
        for message in param_problems(verify, with) {
            self.push(at, message);
        }
    }

    fn bound(&mut self, at: &str, bound: &Bound) {
        if !bound.value.is_finite() {
            self.push(at, "the value must be a finite number");
        } else if bound.value < 0.0 {
            self.push(at, "the value cannot be negative");
        } else if bound.unit == Unit::Percent && bound.value > 100.0 {
            self.push(at, format!("{}% is not a percentage", bound.value));
        }
    }
}

/// One thing wrong with a playbook, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// A path into the document, such as `watch.checkpoints[2].items[0]`.
    pub at: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlaybookError {
    /// Not TOML, or not the playbook's shape; the message has line and column.
    #[error("the playbook cannot be read: {0}")]
    Syntax(String),
    #[error("the playbook has {} problem(s):\n{}", .0.len(), list(.0))]
    Invalid(Vec<Problem>),
}

fn list(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|problem| format!("  - {problem}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests;
