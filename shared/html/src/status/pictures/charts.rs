//! Small trend charts under the delivery figures: one bar per week over the last twelve, for
//! deployments to production, lead time and time waiting for sign-off.

use baton_domain::ports::status::{Trends, WeekTrend};
use maud::{Markup, html};

use super::Tone;
use crate::status::duration_words;
use crate::time::Clock;

const WIDTH: i32 = 300;
const HEIGHT: i32 = 100;
/// Room under the bars for the first and last week's dates.
const AXIS: i32 = 16;

/// One chart: its title, a value per week (`None`: nothing measured that week) and how a value
/// reads.
struct Series<'a> {
    id: &'a str,
    title: &'a str,
    values: Vec<Option<i64>>,
    words: fn(i64) -> String,
}

fn week_label(w: &WeekTrend, clock: Clock) -> String {
    w.starts.with_timezone(&clock.zone).format("%-d %b").to_string()
}

fn chart(series: &Series, trends: &Trends, clock: Clock) -> Markup {
    let n = trends.weeks.len().max(1) as i32;
    let slot = WIDTH / n;
    let max = series.values.iter().flatten().copied().max().unwrap_or(0).max(1);
    let plot = HEIGHT - AXIS;
    let summary = match trends.weeks_known {
        k if k == trends.weeks.len() => format!("Week by week over the last {} weeks.", trends.weeks.len()),
        0 => "No week is covered by the releases read yet.".to_string(),
        k => format!(
            "Only the last {k} of {} weeks are known: older releases were not read.",
            trends.weeks.len()
        ),
    };
    let (fill, stroke) = Tone::Changing.colours();
    let title_id = format!("{}-title", series.id);
    let desc_id = format!("{}-desc", series.id);
    html! {
        figure.card.figure {
            figcaption { h3 { (series.title) } }
            svg.picture role="img" aria-labelledby={ (title_id) " " (desc_id) } viewBox={ "0 0 " (WIDTH) " " (HEIGHT) }
                width="100%" preserveAspectRatio="xMidYMin meet" font-family="system-ui, sans-serif" {
                title id=(title_id) { (series.title) ", per week" }
                desc id=(desc_id) { (summary) " Highest: " ((series.words)(max)) "." }
                line x1="0" y1=(plot) x2=(WIDTH) y2=(plot) stroke="#d8dce3" {}
                @for (i, (w, v)) in trends.weeks.iter().zip(&series.values).enumerate() {
                    @let x = i as i32 * slot + 2;
                    @if !w.known {
                        // Unknown weeks: an outline, so nobody reads them as zero.
                        rect x=(x) y=(plot - 6) width=(slot - 4) height="6" fill="none" stroke="#d8dce3" stroke-dasharray="2 2" {}
                    } @else if let Some(v) = v {
                        @let h = ((*v as f64 / max as f64) * f64::from(plot - 14)).round().max(2.0) as i32;
                        rect x=(x) y=(plot - h) width=(slot - 4) height=(h) fill=(stroke) {}
                    } @else {
                        rect x=(x) y=(plot - 2) width=(slot - 4) height="2" fill=(fill) stroke=(stroke) stroke-width="0.5" {}
                    }
                }
                text x="0" y="10" font-size="10" fill="#4a5160" { ((series.words)(max)) }
                @if let (Some(first), Some(last)) = (trends.weeks.first(), trends.weeks.last()) {
                    text x="0" y=(HEIGHT - 2) font-size="10" fill="#4a5160" { (week_label(first, clock)) }
                    text x=(WIDTH) y=(HEIGHT - 2) text-anchor="end" font-size="10" fill="#4a5160" { "week of " (week_label(last, clock)) }
                }
            }
            ul.sr-only {
                @for (w, v) in trends.weeks.iter().zip(&series.values) {
                    li {
                        "Week of " (week_label(w, clock)) ": "
                        @match (w.known, v) {
                            (false, _) => "not known",
                            (true, Some(v)) => ((series.words)(*v)),
                            (true, None) => "nothing measured",
                        }
                    }
                }
            }
        }
    }
}

/// The three charts, under the delivery figures.
pub(crate) fn trend_charts(trends: &Trends, clock: Clock) -> Markup {
    let deployments = Series {
        id: "trend-deployments",
        title: "Deployments to production",
        values: trends.weeks.iter().map(|w| Some(w.deployments as i64)).collect(),
        words: |n| format!("{n} {}", if n == 1 { "deployment" } else { "deployments" }),
    };
    let lead = Series {
        id: "trend-lead-time",
        title: "Lead time",
        values: trends
            .weeks
            .iter()
            .map(|w| w.lead_time.map(|l| l.median_seconds))
            .collect(),
        words: duration_words,
    };
    let wait = Series {
        id: "trend-sign-off",
        title: "Waiting for sign-off",
        values: trends
            .weeks
            .iter()
            .map(|w| w.approval_wait.map(|l| l.median_seconds))
            .collect(),
        words: duration_words,
    };
    html! {
        section aria-labelledby="trends" {
            h2 id="trends" { "Trends, last " (trends.weeks.len()) " weeks" }
            div.figures {
                (chart(&deployments, trends, clock))
                (chart(&lead, trends, clock))
                (chart(&wait, trends, clock))
            }
            p.muted.small { "One bar a week, newest on the right; lead time and waits are medians. Dashed: a week older than the releases read." }
        }
    }
}
