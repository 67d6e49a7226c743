//! The one table `make bench` prints: every figure as the median of its runs, its spread
//! (min – max), its target and whether the target is met.

use std::fmt::Write;

/// What a figure must reach.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// No target: context (a baseline, a time to read).
    None,
    /// The median must be below this.
    Below(f64),
    /// The median must be at most this.
    AtMost(f64),
    /// The median must be at least this.
    AtLeast(f64),
    /// The median must be within this fraction of 1 (a ratio that should be about 1).
    AboutOne(f64),
}

impl Target {
    fn met(self, value: f64) -> Option<bool> {
        match self {
            Target::None => None,
            Target::Below(limit) => Some(value < limit),
            Target::AtMost(limit) => Some(value <= limit),
            Target::AtLeast(limit) => Some(value >= limit),
            Target::AboutOne(tolerance) => Some((value - 1.0).abs() <= tolerance),
        }
    }

    fn describe(self, unit: &str) -> String {
        let unit = if unit.is_empty() {
            String::new()
        } else {
            format!(" {unit}")
        };
        match self {
            Target::None => String::new(),
            Target::Below(limit) => format!("< {}{unit}", number(limit)),
            Target::AtMost(limit) => format!("≤ {}{unit}", number(limit)),
            Target::AtLeast(limit) => format!("≥ {}{unit}", number(limit)),
            Target::AboutOne(tolerance) => format!("1 ± {}", number(tolerance)),
        }
    }
}

/// One row: a figure from its samples.
#[derive(Debug, Clone)]
pub struct Figure {
    /// What it is, e.g. `ingest: init`.
    pub name: String,
    /// Unit of the median and spread, e.g. `ms`.
    pub unit: &'static str,
    /// Median of the samples.
    pub median: f64,
    /// Smallest and largest sample; `None` for a single measurement or a derived figure.
    pub spread: Option<(f64, f64)>,
    /// How many samples.
    pub runs: usize,
    /// Its target.
    pub target: Target,
}

/// The median and the spread of `samples` (which must not be empty).
pub fn median(samples: &[f64]) -> (f64, f64, f64) {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let middle = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    };
    (middle, sorted[0], sorted[n - 1])
}

/// A section title or a figure.
#[derive(Debug, Clone)]
enum Row {
    Section(String),
    Figure(Figure),
}

/// Every figure of a `make bench` run, in the order measured.
#[derive(Debug, Default)]
pub struct Report {
    rows: Vec<Row>,
    notes: Vec<String>,
}

impl Report {
    /// Starts a section of the table.
    pub fn section(&mut self, title: impl Into<String>) {
        self.rows.push(Row::Section(title.into()));
    }

    /// Adds a figure from repeated samples. No samples: nothing is added.
    pub fn samples(&mut self, name: impl Into<String>, unit: &'static str, samples: &[f64], target: Target) {
        if samples.is_empty() {
            return;
        }
        let (middle, min, max) = median(samples);
        self.rows.push(Row::Figure(Figure {
            name: name.into(),
            unit,
            median: middle,
            spread: (samples.len() > 1).then_some((min, max)),
            runs: samples.len(),
            target,
        }));
    }

    /// Adds a single or derived figure (no spread).
    pub fn value(&mut self, name: impl Into<String>, unit: &'static str, value: f64, target: Target) {
        self.rows.push(Row::Figure(Figure {
            name: name.into(),
            unit,
            median: value,
            spread: None,
            runs: 1,
            target,
        }));
    }

    /// A line printed under the table (method, caveats).
    pub fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    /// The figures, for checks.
    pub fn figures(&self) -> impl Iterator<Item = &Figure> {
        self.rows.iter().filter_map(|r| match r {
            Row::Figure(f) => Some(f),
            Row::Section(_) => None,
        })
    }

    /// The table as Markdown, then the notes and every missed target.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "| figure | median | spread (min – max) | runs | target | met |");
        let _ = writeln!(out, "|---|---:|---:|---:|---|---|");
        for row in &self.rows {
            match row {
                Row::Section(title) => {
                    let _ = writeln!(out, "| **{title}** | | | | | |");
                }
                Row::Figure(f) => {
                    let spread = f
                        .spread
                        .map(|(min, max)| format!("{} – {}", number(min), number(max)))
                        .unwrap_or_else(|| "–".into());
                    let met = match f.target.met(f.median) {
                        Some(true) => "yes",
                        Some(false) => "**NO**",
                        None => "",
                    };
                    let median = format!("{} {}", number(f.median), f.unit);
                    let _ = writeln!(
                        out,
                        "| {} | {} | {spread} | {} | {} | {met} |",
                        f.name,
                        median.trim_end(),
                        f.runs,
                        f.target.describe(f.unit)
                    );
                }
            }
        }
        for note in &self.notes {
            let _ = writeln!(out, "\n{note}");
        }
        let missed: Vec<&str> = self
            .figures()
            .filter(|f| f.target.met(f.median) == Some(false))
            .map(|f| f.name.as_str())
            .collect();
        let _ = if missed.is_empty() {
            writeln!(out, "\nEvery target is met.")
        } else {
            writeln!(out, "\nTargets missed: {}.", missed.join(", "))
        };
        out
    }
}

/// A number with as many decimals as its size deserves: 431.6, 7.02, 0.134.
pub fn number(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 1000.0 || value.fract() == 0.0 {
        format!("{value:.0}")
    } else if magnitude >= 100.0 {
        format!("{value:.1}")
    } else if magnitude >= 1.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), (2.5, 1.0, 4.0));
        assert_eq!(median(&[5.0, 1.0, 3.0]), (3.0, 1.0, 5.0));
    }

    #[test]
    fn a_missed_target_is_flagged_and_listed() {
        let mut report = Report::default();
        report.section("cold start");
        report.samples("ingest: init", "ms", &[7.0, 8.0, 30.0], Target::Below(15.0));
        report.samples("status: init", "ms", &[16.0, 17.0, 18.0], Target::Below(15.0));
        report.value("ratio", "", 1.02, Target::AboutOne(0.25));
        let table = report.render();
        assert!(
            table.contains("| ingest: init | 8 ms | 7 – 30 | 3 | < 15 ms | yes |"),
            "{table}"
        );
        assert!(
            table.contains("| status: init | 17 ms | 16 – 18 | 3 | < 15 ms | **NO** |"),
            "{table}"
        );
        assert!(table.contains("| ratio | 1.02 | – | 1 | 1 ± 0.250 | yes |"), "{table}");
        assert!(table.contains("Targets missed: status: init."), "{table}");
    }
}
