//! The stack drawing: browser → the site → the APIs in the order they call each other, one
//! drawing per environment, each box with its live version, its state and the version on its
//! way.

use std::collections::BTreeMap;

use baton_domain::ReleaseId;
use baton_domain::ports::status::{EnvironmentView, PendingKind, StatusView, WaitingOn};
use baton_domain::version::Version;
use maud::{Markup, html};

use super::Tone;

/// Drawing width in SVG units; it scales to the column.
const WIDTH: i32 = 320;
const BOX_HEIGHT: i32 = 44;
const ROW: i32 = 72;
const GAP: i32 = 8;

/// One box of the drawing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Part {
    /// Its name: `Browser`, a component or a CloudHub application.
    pub name: String,
    /// The component it belongs to (itself for a site), none for the browser.
    pub component: Option<String>,
    /// Its live version, if known.
    pub version: Option<String>,
    /// The version on its way, if one is.
    pub coming: Option<String>,
    /// Its state.
    pub tone: Tone,
}

/// The stack of one environment: its parts and who calls whom (indexes into `parts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Stack {
    pub parts: Vec<Part>,
    pub calls: Vec<(usize, usize)>,
}

/// The version in a CloudHub application's change words (`create at 1.4.2`, `unchanged at
/// 1.4.2`, `update: version 1.4.1 → 1.4.2`): the last word that is a version.
fn application_version(change: &str) -> Option<String> {
    change
        .split_whitespace()
        .rev()
        .find(|w| Version::parse(w).is_ok())
        .map(str::to_string)
}

/// The release on its way to `env`: the newest in flight there.
fn coming_release<'a>(view: &'a StatusView, env: &str) -> Option<&'a ReleaseId> {
    view.in_flight
        .iter()
        .find(|f| match &f.waiting_on {
            WaitingOn::SignOff { environment, .. }
            | WaitingOn::Deploying { environment }
            | WaitingOn::EnvironmentBusy { environment, .. }
            | WaitingOn::Scheduled { environment, .. }
            | WaitingOn::Freeze { environment, .. }
            | WaitingOn::Decision { environment, .. } => environment == env,
            WaitingOn::NextStep { environment } => environment.as_deref() == Some(env),
            WaitingOn::Starting | WaitingOn::Collecting { .. } => false,
        })
        .map(|f| &f.release)
}

/// Whether the latest deployment in `env` failed: a question about a failed deployment is open.
fn failed(view: &StatusView, env: &EnvironmentView) -> bool {
    env.pending.iter().any(|p| p.kind == PendingKind::Decision)
        || view
            .in_flight
            .iter()
            .any(|f| matches!(&f.waiting_on, WaitingOn::Decision { environment, .. } if *environment == env.name))
}

/// The parts and calls of one environment's stack.
pub(super) fn stack_of(view: &StatusView, env: &EnvironmentView) -> Stack {
    let versions_of = |id: Option<&ReleaseId>| -> Option<&BTreeMap<String, String>> {
        id.and_then(|id| view.recent_releases.iter().find(|r| &r.id == id))
            .map(|r| &r.versions)
    };
    let coming = versions_of(coming_release(view, &env.name));
    let deploying = env.deploying.as_ref();
    let deploying_versions = versions_of(deploying);
    let failed = failed(view, env);
    let mut parts = vec![Part {
        name: "Browser".into(),
        component: None,
        version: None,
        coming: None,
        tone: Tone::Neutral,
    }];
    let mut sites = Vec::new();
    for c in env.live.iter().flat_map(|l| &l.components) {
        let incoming = coming.and_then(|v| v.get(&c.component)).filter(|v| **v != c.version);
        // A box changes if the deploying release changes its component (or, unknown, any).
        let changes = deploying.is_some()
            && deploying_versions.is_none_or(|v| v.get(&c.component).is_some_and(|v| *v != c.version));
        let tone = match (failed, changes) {
            (true, _) => Tone::Failed,
            (false, true) => Tone::Changing,
            (false, false) => Tone::Healthy,
        };
        if c.cloudhub_applications.is_empty() {
            sites.push(parts.len());
            parts.push(Part {
                name: c.component.clone(),
                component: Some(c.component.clone()),
                version: Some(c.version.clone()),
                coming: incoming.cloned(),
                tone,
            });
        } else {
            for app in &c.cloudhub_applications {
                parts.push(Part {
                    name: app.name.clone(),
                    component: Some(c.component.clone()),
                    version: application_version(&app.change),
                    coming: incoming.map(|v| format!("{} {v}", c.component)),
                    tone,
                });
            }
        }
    }
    let index: BTreeMap<&str, usize> = parts.iter().enumerate().map(|(i, p)| (p.name.as_str(), i)).collect();
    let mut calls: Vec<(usize, usize)> = Vec::new();
    for (caller, callees) in &view.depends_on {
        let Some(&from) = index.get(caller.as_str()) else {
            continue;
        };
        for callee in callees {
            if let Some(&to) = index.get(callee.as_str()) {
                calls.push((from, to));
            }
        }
    }
    // Parts nobody is said to call are called by the sites whose calls are not configured (all
    // sites if every one's are; the browser if there is no site).
    let called: Vec<usize> = calls.iter().map(|c| c.1).collect();
    let unconfigured: Vec<usize> = sites
        .iter()
        .copied()
        .filter(|&s| !view.depends_on.contains_key(&parts[s].name))
        .collect();
    let entry = match (unconfigured.is_empty(), sites.is_empty()) {
        (false, _) => unconfigured,
        (true, false) => sites.clone(),
        (true, true) => vec![0],
    };
    for i in 1..parts.len() {
        if !sites.contains(&i) && !called.contains(&i) {
            calls.extend(entry.iter().map(|&from| (from, i)));
        }
    }
    for &site in &sites {
        calls.push((0, site));
    }
    calls.sort_unstable();
    calls.dedup();
    Stack { parts, calls }
}

/// Each part's row: the longest chain of calls from the browser to it.
fn rows(stack: &Stack) -> Vec<usize> {
    let mut row = vec![0usize; stack.parts.len()];
    // Relax at most once per part: the configuration is checked for cycles, and this bound keeps
    // an unexpected one from looping.
    for _ in 0..stack.parts.len() {
        let mut moved = false;
        for &(from, to) in &stack.calls {
            if row[to] < row[from] + 1 && row[from] < stack.parts.len() {
                row[to] = row[from] + 1;
                moved = true;
            }
        }
        if !moved {
            break;
        }
    }
    row
}

/// The words of a part, for its box and the text alternative.
fn words(p: &Part) -> String {
    let mut words = p.name.clone();
    if let Some(v) = &p.version {
        words.push_str(&format!(" {v}"));
    }
    if !p.tone.word().is_empty() {
        words.push_str(&format!(", {}", p.tone.word()));
    }
    if let Some(c) = &p.coming {
        words.push_str(&format!("; on its way: {c}"));
    }
    words
}

fn drawing(env: &EnvironmentView, stack: &Stack, n: usize) -> Markup {
    let row = rows(stack);
    let rows_used = row.iter().max().map_or(1, |m| m + 1);
    let height = (rows_used as i32 - 1) * ROW + BOX_HEIGHT + 2;
    // x, y and width of each box: a row's boxes share the width.
    let mut boxes = vec![(0, 0, 0); stack.parts.len()];
    for r in 0..rows_used {
        let members: Vec<usize> = (0..stack.parts.len()).filter(|&i| row[i] == r).collect();
        let k = members.len() as i32;
        let w = (WIDTH - 2 - GAP * (k - 1)) / k.max(1);
        for (j, &i) in members.iter().enumerate() {
            boxes[i] = (1 + j as i32 * (w + GAP), 1 + r as i32 * ROW, w);
        }
    }
    let title_id = format!("stack-{n}-title");
    let desc_id = format!("stack-{n}-desc");
    let calls: Vec<String> = stack
        .calls
        .iter()
        .map(|&(a, b)| format!("{} calls {}", stack.parts[a].name, stack.parts[b].name))
        .collect();
    html! {
        svg.picture role="img" aria-labelledby={ (title_id) " " (desc_id) } viewBox={ "0 0 " (WIDTH) " " (height) }
            width="100%" preserveAspectRatio="xMidYMin meet" font-family="system-ui, sans-serif" {
            title id=(title_id) { "The stack in " (env.name) }
            desc id=(desc_id) { (calls.join("; ")) "." }
            @for &(a, b) in &stack.calls {
                @let (ax, ay, aw) = boxes[a];
                @let (bx, by, bw) = boxes[b];
                @let (x1, y1, x2, y2) = (ax + aw / 2, ay + BOX_HEIGHT, bx + bw / 2, by - 2);
                line x1=(x1) y1=(y1) x2=(x2) y2=(y2) stroke="#4a5160" stroke-width="1.5" {}
                polygon points={ (x2) "," (y2) " " (x2 - 4) "," (y2 - 7) " " (x2 + 4) "," (y2 - 7) } fill="#4a5160" {}
            }
            @for (i, p) in stack.parts.iter().enumerate() {
                @let (x, y, w) = boxes[i];
                @let (fill, stroke) = p.tone.colours();
                rect x=(x) y=(y) width=(w) height=(BOX_HEIGHT) rx="6" fill=(fill) stroke=(stroke) stroke-width="2" {}
                // A box without a version (the browser) has its name in the middle.
                @let name_y = if p.version.is_some() || p.coming.is_some() { y + 18 } else { y + 27 };
                text x=(x + w / 2) y=(name_y) text-anchor="middle" font-size="13" font-weight="600" fill="#1a1a1a" { (p.name) }
                text x=(x + w / 2) y=(y + 35) text-anchor="middle" font-size="11" fill=(stroke) {
                    @if let Some(v) = &p.version { (v) }
                    @if !p.tone.word().is_empty() && p.tone != Tone::Healthy { " · " (p.tone.word()) }
                    @if let Some(c) = &p.coming { " → " (c) }
                }
            }
        }
        ul.sr-only {
            @for p in &stack.parts { li { (words(p)) } }
        }
    }
}

/// The section opening the overview: one drawing of the stack per environment.
pub(crate) fn stack_drawings(view: &StatusView) -> Markup {
    html! {
        section aria-labelledby="stack" {
            h2 id="stack" { "The stack" }
            div.grid {
                @for (n, env) in view.environments.iter().enumerate() {
                    figure.card.env {
                        figcaption { h3 { (env.name) } }
                        @if env.live.is_some() {
                            (drawing(env, &stack_of(view, env), n))
                        } @else {
                            p.muted { "Nothing deployed yet." }
                        }
                    }
                }
            }
            p.muted.small {
                "Green: live and healthy. Blue: a deployment is changing it. Red: the latest deployment failed. "
                "“→” shows the version on its way."
            }
        }
    }
}
