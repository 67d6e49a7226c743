//! How a deployment moves through its stages over time, and the build log that goes with it.
//!
//! Nothing runs in the background: a deployment's stages are a function of its creation time, the step
//! delay and an optional failure plan, worked out whenever it is read.

use chrono::{DateTime, TimeDelta, Utc};

use crate::state::DeploymentRecord;

/// The stages of a deployment, in order (the SDK's `Stage.name` enum). [uncertain] Whether direct
/// uploads really show `clone_repo` and `build`; the reference's example shows all five.
pub(crate) const STAGES: [&str; 5] = ["queued", "initialize", "clone_repo", "build", "deploy"];

/// The index of the `deploy` stage.
pub(crate) const DEPLOY_STAGE: usize = 4;

/// A deployment set to fail (by a fault): at which stage, with which log lines.
#[derive(Debug, Clone)]
pub(crate) struct FailurePlan {
    pub stage: usize,
    pub lines: Vec<String>,
}

/// One stage as the API shows it.
pub(crate) struct StageInfo {
    pub name: &'static str,
    pub status: &'static str,
    pub started_on: Option<DateTime<Utc>>,
    pub ended_on: Option<DateTime<Utc>>,
}

/// All stages at one moment.
pub(crate) struct StageView {
    pub stages: Vec<StageInfo>,
    /// Index of `latest_stage`: the last stage that has started.
    pub latest: usize,
    pub finished: bool,
    pub succeeded: bool,
}

impl DeploymentRecord {
    /// Stages that have run to completion by `now` (0 to 5).
    fn completed_steps(&self, now: DateTime<Utc>) -> usize {
        if self.step_delay.is_zero() {
            return STAGES.len();
        }
        let elapsed = (now - self.created_on).to_std().unwrap_or_default();
        let steps = elapsed.as_nanos() / self.step_delay.as_nanos();
        usize::try_from(steps).unwrap_or(usize::MAX).min(STAGES.len())
    }

    fn stage_start(&self, index: usize) -> DateTime<Utc> {
        let offset = self.step_delay.saturating_mul(index as u32);
        self.created_on + TimeDelta::from_std(offset).unwrap_or_default()
    }

    /// The stages at `now`.
    pub(crate) fn stage_view(&self, now: DateTime<Utc>) -> StageView {
        let done = self.completed_steps(now);
        let fail_at = self.failure.as_ref().map(|plan| plan.stage.min(DEPLOY_STAGE));
        let mut stages = Vec::with_capacity(STAGES.len());
        let mut latest = 0;
        for (index, name) in STAGES.iter().enumerate() {
            let (status, started_on, ended_on) = if fail_at.is_some_and(|f| index > f) {
                ("idle", None, None)
            } else if index < done {
                let status = if fail_at == Some(index) { "failure" } else { "success" };
                (status, Some(self.stage_start(index)), Some(self.stage_start(index + 1)))
            } else if index == done {
                ("active", Some(self.stage_start(index)), None)
            } else {
                ("idle", None, None)
            };
            if status != "idle" {
                latest = index;
            }
            stages.push(StageInfo {
                name,
                status,
                started_on,
                ended_on,
            });
        }
        let failed = fail_at.is_some_and(|f| done > f);
        StageView {
            stages,
            latest,
            finished: failed || done >= STAGES.len(),
            succeeded: !failed && done >= STAGES.len(),
        }
    }

    /// The build log at `now`, oldest first.
    pub(crate) fn log_lines(&self, now: DateTime<Utc>) -> Vec<(DateTime<Utc>, String)> {
        let view = self.stage_view(now);
        let mut lines = Vec::new();
        for (index, stage) in view.stages.iter().enumerate() {
            let (Some(started), ended) = (stage.started_on, stage.ended_on) else {
                continue;
            };
            match STAGES[index] {
                "initialize" => lines.push((started, "Initializing build environment...".to_string())),
                "clone_repo" => lines.push((started, "Direct Upload: there is no repository to clone".to_string())),
                "build" => {
                    let files = self.manifest.len();
                    lines.push((
                        started,
                        format!("Direct Upload: no build step; {files} files in the manifest"),
                    ));
                    lines.extend(self.warnings.iter().map(|w| (started, format!("Warning: {w}"))));
                }
                "deploy" => lines.push((
                    started,
                    "Deploying your site to Cloudflare's global network...".to_string(),
                )),
                _ => {}
            }
            let Some(ended) = ended else { continue };
            match (stage.status, STAGES[index]) {
                ("failure", _) => {
                    let plan_lines = self.failure.as_ref().map(|plan| plan.lines.clone()).unwrap_or_default();
                    lines.extend(plan_lines.into_iter().map(|line| (ended, line)));
                }
                ("success", "initialize") => {
                    lines.push((ended, "Success: Finished initializing build environment".to_string()))
                }
                ("success", "deploy") => {
                    lines.push((ended, "Success: Assets published!".to_string()));
                    lines.push((ended, "Success: Your site was deployed!".to_string()));
                }
                _ => {}
            }
        }
        lines
    }
}

/// The stage index for a name (`deploy` when unknown).
pub(crate) fn stage_index(name: &str) -> usize {
    STAGES.iter().position(|stage| *stage == name).unwrap_or(DEPLOY_STAGE)
}
