//! The plan an approver signs (DESIGN §3.5): per component, in words, what deploying the release
//! would change in one environment, computed against what is live there. Its hash is kept on the
//! approval; at deployment the plan is computed again, and a different one deploys nothing.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One environment's plan: component name to the lines of its plan.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EnvironmentPlan(pub BTreeMap<String, Vec<String>>);

impl EnvironmentPlan {
    /// SHA-256 (hex) of the plan's canonical JSON (components sorted, lines in order).
    pub fn hash(&self) -> String {
        crate::sha256_hex(serde_json::to_string(&self.0).unwrap_or_default().as_bytes())
    }

    /// The lines of one component's plan (none if it has no plan).
    pub fn lines(&self, component: &str) -> &[String] {
        self.0.get(component).map(Vec::as_slice).unwrap_or_default()
    }

    /// What differs between the approved lines of `component` and `now`, in words: `now: x`
    /// for a line only in the new plan, `approved: y` for a line only in the approved one.
    pub fn differences(&self, component: &str, now: &[String]) -> Vec<String> {
        let approved = self.lines(component);
        let mut out: Vec<String> = now
            .iter()
            .filter(|l| !approved.contains(l))
            .map(|l| format!("now: {l}"))
            .collect();
        out.extend(
            approved
                .iter()
                .filter(|l| !now.contains(l))
                .map(|l| format!("approved: {l}")),
        );
        out
    }
}

/// One component's pre-flight answer: what stands in the way of deploying it (nothing, when it
/// may be asked for) and its plan. The deploy functions write it; `lifecycle` reads it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PreflightAnswer {
    /// The component.
    pub component: String,
    /// Problems, in words.
    #[serde(default)]
    pub problems: Vec<String>,
    /// The lines of its plan.
    #[serde(default)]
    pub plan: Vec<String>,
}

impl EnvironmentPlan {
    /// The plan the pre-flight answers computed, per component.
    pub fn of(answers: &[PreflightAnswer]) -> EnvironmentPlan {
        EnvironmentPlan(answers.iter().map(|a| (a.component.clone(), a.plan.clone())).collect())
    }
}

/// Every problem of the pre-flight answers, each with its component: `web: ...`.
pub fn preflight_problems(answers: &[PreflightAnswer]) -> Vec<String> {
    answers
        .iter()
        .flat_map(|a| a.problems.iter().map(move |p| format!("{}: {p}", a.component)))
        .collect()
}

/// The plan lines of a CloudHub reconciliation: `<application>: <what happens>`, one per
/// application, in the plan's order.
pub fn cloudhub_lines(plan: &crate::reconcile::ReconcilePlan) -> Vec<String> {
    plan.summary()
        .into_iter()
        .map(|(app, text)| format!("{app}: {text}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(lines: &[(&str, &[&str])]) -> EnvironmentPlan {
        EnvironmentPlan(
            lines
                .iter()
                .map(|(c, l)| (c.to_string(), l.iter().map(|s| s.to_string()).collect()))
                .collect(),
        )
    }

    fn answer(component: &str, problems: &[&str], lines: &[&str]) -> PreflightAnswer {
        PreflightAnswer {
            component: component.into(),
            problems: problems.iter().map(|s| s.to_string()).collect(),
            plan: lines.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn the_plan_and_the_problems_come_from_every_answer_with_its_component() {
        let answers = [
            answer(
                "state",
                &["patient-api 1.4.2 is not in Exchange"],
                &["patient-api: create at 1.4.2"],
            ),
            answer("web", &[], &["site 1.0.0"]),
            answer("billing", &["no target", "no credentials"], &[]),
        ];
        assert_eq!(
            EnvironmentPlan::of(&answers),
            plan(&[
                ("state", &["patient-api: create at 1.4.2"]),
                ("web", &["site 1.0.0"]),
                ("billing", &[]),
            ])
        );
        assert_eq!(
            preflight_problems(&answers),
            [
                "state: patient-api 1.4.2 is not in Exchange",
                "billing: no target",
                "billing: no credentials"
            ]
        );
        assert!(preflight_problems(&answers[1..2]).is_empty());
    }

    #[test]
    fn cloudhub_plan_lines_name_each_application_in_order() {
        let text = include_str!("../../../samples/state/manifest.yaml");
        let desired = crate::manifest::Manifest::parse(text.as_bytes(), &["TEST", "PROD"])
            .unwrap()
            .resolve("TEST");
        let lines = cloudhub_lines(&crate::reconcile::plan(&desired, &[]));
        assert_eq!(
            lines,
            ["admissions-api: create at 2.1.0", "patient-api: create at 1.4.2"]
        );
    }

    #[test]
    fn the_hash_changes_with_any_line_and_only_then() {
        let a = plan(&[
            ("state", &["patient-api: update: replicas 1 -> 2"]),
            ("web", &["site 1.0.0"]),
        ]);
        let same = plan(&[
            ("web", &["site 1.0.0"]),
            ("state", &["patient-api: update: replicas 1 -> 2"]),
        ]);
        let other = plan(&[
            ("state", &["patient-api: update: replicas 1 -> 3"]),
            ("web", &["site 1.0.0"]),
        ]);
        assert_eq!(a.hash(), same.hash());
        assert_ne!(a.hash(), other.hash());
        assert_eq!(a.hash().len(), 64);
    }

    #[test]
    fn differences_name_what_is_new_and_what_was_approved() {
        let approved = plan(&[(
            "state",
            &["patient-api: unchanged at 1.4.2", "admissions-api: unchanged at 2.1.0"],
        )]);
        let now = vec![
            "patient-api: update: replicas 2 -> 1".to_string(),
            "admissions-api: unchanged at 2.1.0".to_string(),
        ];
        assert_eq!(
            approved.differences("state", &now),
            vec![
                "now: patient-api: update: replicas 2 -> 1".to_string(),
                "approved: patient-api: unchanged at 1.4.2".to_string()
            ]
        );
        assert!(approved.differences("state", approved.lines("state")).is_empty());
    }
}
