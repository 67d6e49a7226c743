//! Step Functions' limits for one execution, and the worst case a configuration allows.
//!
//! A release is one Standard execution: at most 25,000 history events and one year. Every loop
//! in the state machine is bounded by the configuration: the lease wait by a number of tries
//! (`workflow.lease_wait_timeout` over `workflow.lease_wait_seconds`), the CloudHub rollout and
//! rollback polls by `workflow.rollout_deadline`, the approval waits by each environment's
//! `approval_ttl` (asked at most [`MAX_PLAN_ROUNDS`] + 1 times when the plan changes). From those
//! [`BatonConfig::worst_case`] derives the most events and the longest time an execution could
//! take, and validation refuses a configuration whose worst case breaks a limit.
//!
//! The events each part of the state machine writes are in [`STEP_COSTS`];
//! `tests/e2e/tests/bounds.rs` derives them from `infra/statemachine/release.asl.json` and fails
//! if a change to the state machine makes any of them larger.

use std::time::Duration;

use super::{BatonConfig, ComponentKind};

/// Step Functions' limit of history events per Standard execution.
pub const MAX_HISTORY_EVENTS: u64 = 25_000;

/// Step Functions' limit of one Standard execution's duration.
pub const MAX_EXECUTION: Duration = Duration::from_secs(365 * 86_400);

/// The events a configuration may plan for: the rest of [`MAX_HISTORY_EVENTS`] is margin.
pub const HISTORY_BUDGET: u64 = 20_000;

/// How often one environment's plan may change between approval and deployment before the
/// release ends instead of asking again.
pub const MAX_PLAN_ROUNDS: u64 = 3;

/// Retries of a task that still let it succeed: the state machine's Retry blocks allow 5
/// attempts, so a task that succeeds was retried at most 4 times.
pub const RETRIES_THAT_SUCCEED: u64 = 4;

/// The seconds the retries before a success wait at least: 2, 4, 8, 16 s (interval 2 s, backoff
/// rate 2), for 0 to [`RETRIES_THAT_SUCCEED`] retries.
const RETRY_WAITS: [u64; 5] = [0, 2, 6, 14, 30];

/// History events of one pass of each part of the state machine, retries included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepCosts {
    /// Once per execution: preparing, the settle window, the environments' map, the final steps.
    pub per_execution: u64,
    /// Once per environment and round (pre-flight, approval, lease, re-plan, checks), besides
    /// what depends on the components.
    pub per_round: u64,
    /// Per component, per environment and round: its pre-flight and re-plan iterations.
    pub per_component_round: u64,
    /// Once per environment: deploying the waves, recording, and rolling back if it fails.
    pub per_deployment: u64,
    /// Per component and environment: its deployment and its rollback.
    pub per_component_deployment: u64,
    /// One try for the environment's lease that finds it taken (the wait, the try, the choice).
    pub per_lease_wait: u64,
    /// One wait on a freeze (the waiting task, the next try for the lease, the choice), retries
    /// not counted.
    pub per_freeze_wait: u64,
    /// One check of a CloudHub rollout or rollback (the wait, the check, the choice), retries
    /// not counted: [`poll_loop_events`] adds them.
    pub per_poll: u64,
    /// The events one retry of a task adds (scheduled, started, failed).
    pub per_retry: u64,
    /// One failure question (`on_failure: ask`): the choice to ask, the waiting task, reading
    /// the answer, the choice it makes. A Retry then deploys the waves again (counted apart).
    pub per_failure_question: u64,
}

/// The costs of `infra/statemachine/release.asl.json`.
pub const STEP_COSTS: StepCosts = StepCosts {
    per_execution: 100,
    per_round: 180,
    per_component_round: 50,
    per_deployment: 120,
    per_component_deployment: 70,
    per_lease_wait: 9,
    per_freeze_wait: 25,
    per_poll: 9,
    per_retry: 3,
    per_failure_question: 40,
};

/// The most events and the longest time one release's execution could take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorstCase {
    /// History events.
    pub events: u64,
    /// Events of the lease waits, in every environment.
    pub lease_wait_events: u64,
    /// Events of the rollout and rollback polls, in every environment.
    pub poll_events: u64,
    /// Time.
    pub duration: Duration,
    /// Time spent waiting for approvals, in every environment and round.
    pub approval_time: Duration,
    /// Time spent waiting for freezes to end: at most [`MAX_FREEZE`](crate::freeze::MAX_FREEZE)
    /// in each environment that has freezes.
    pub freeze_time: Duration,
}

/// The most events a poll loop makes within `deadline` when it checks every `every`: with
/// `r` retries before each check succeeds, a check costs `per_poll + r × per_retry` events and
/// takes at least `every` plus the retries' waits, so the worst case is the worst `r`.
pub fn poll_loop_events(deadline: Duration, every: Duration, costs: &StepCosts) -> u64 {
    let every = every.as_secs().max(1);
    (0..=RETRIES_THAT_SUCCEED)
        .map(|r| {
            let checks = deadline.as_secs() / (every + RETRY_WAITS[r as usize]) + 1;
            checks * (costs.per_poll + r * costs.per_retry)
        })
        .max()
        .unwrap_or(0)
}

impl BatonConfig {
    /// The lease tries an environment's deployment makes before it gives up on a busy
    /// environment.
    pub fn lease_waits(&self) -> u64 {
        let every = u64::from(self.workflow.lease_wait_seconds.max(1));
        self.workflow.lease_wait_timeout().as_secs().div_ceil(every)
    }

    /// The worst case this configuration allows one execution, with [`STEP_COSTS`].
    pub fn worst_case(&self) -> WorstCase {
        self.worst_case_with(&STEP_COSTS)
    }

    /// The worst case with other step costs (a test derives them from the state machine).
    pub fn worst_case_with(&self, costs: &StepCosts) -> WorstCase {
        let components = self.components.len() as u64;
        let cloudhub = self
            .components
            .iter()
            .filter(|c| c.kind == ComponentKind::State)
            .count() as u64;
        let environments = self.environments.len() as u64;
        let rounds = MAX_PLAN_ROUNDS + 1;
        let deadline = self.workflow.rollout_deadline();
        let poll_every = Duration::from_secs(u64::from(self.workflow.poll_seconds));
        // Rollout, then rollback, for each CloudHub component in each environment.
        let poll_events = environments * cloudhub * 2 * poll_loop_events(deadline, poll_every, costs);
        // Each try for the lease, and in each round the one wait for a time the approvers chose.
        let lease_wait_events = environments
            * (self.lease_waits() + rounds)
            * (costs.per_lease_wait + RETRIES_THAT_SUCCEED * costs.per_retry);
        // Waits on freezes, in each environment that has them.
        let frozen = self.environments.iter().filter(|e| !e.freezes.is_empty()).count() as u64;
        let freeze_wait_events =
            frozen * crate::freeze::MAX_FREEZE_WAITS * (costs.per_freeze_wait + RETRIES_THAT_SUCCEED * costs.per_retry);
        // In each environment that asks on failure, every question may be answered Retry: the
        // waves deployed again, their rollouts polled again.
        let asking = self
            .environments
            .iter()
            .filter(|e| e.on_failure == super::OnFailure::Ask)
            .count() as u64;
        let questions = asking * crate::approval::guided_failure::MAX_QUESTIONS;
        let retry_events = questions
            * (costs.per_failure_question
                + costs.per_deployment
                + components * costs.per_component_deployment
                + cloudhub * poll_loop_events(deadline, poll_every, costs));
        let events = costs.per_execution
            + retry_events
            + freeze_wait_events
            + environments * rounds * (costs.per_round + components * costs.per_component_round)
            + environments * (costs.per_deployment + components * costs.per_component_deployment)
            + lease_wait_events
            + poll_events;
        let approval_time: Duration = self.environments.iter().map(|e| e.approval_ttl() * rounds as u32).sum();
        // Each rollout and rollback may run to its deadline plus one last check.
        let rollouts = (deadline + poll_every) * (2 * environments * cloudhub.max(1)) as u32;
        let lease = self.workflow.lease_wait_timeout() * environments as u32;
        let freeze_time = crate::freeze::MAX_FREEZE.to_std().unwrap_or_default() * frozen as u32;
        let question_time = (crate::approval::guided_failure::QUESTION_TTL + deadline + poll_every) * questions as u32;
        WorstCase {
            events,
            lease_wait_events,
            poll_events,
            duration: self.release.settle() + approval_time + rollouts + lease + freeze_time + question_time,
            approval_time,
            freeze_time,
        }
    }

    /// The problems of a configuration whose worst case breaks Step Functions' limits, each
    /// naming the field to change.
    pub(super) fn limit_problems(&self) -> Vec<(String, String)> {
        let worst = self.worst_case();
        let mut problems = Vec::new();
        if worst.events > HISTORY_BUDGET {
            let (field, advice) = if worst.poll_events >= worst.lease_wait_events {
                (
                    "workflow.poll_seconds",
                    "check CloudHub less often or shorten workflow.rollout_deadline",
                )
            } else {
                (
                    "workflow.lease_wait_seconds",
                    "try for a busy environment less often or shorten workflow.lease_wait_timeout",
                )
            };
            problems.push((
                field.to_string(),
                format!(
                    "a release could write up to {} events to its workflow's history, more than the {HISTORY_BUDGET} Baton allows \
                     (Step Functions stops an execution at {MAX_HISTORY_EVENTS}): {advice}",
                    worst.events
                ),
            ));
        }
        if worst.duration > MAX_EXECUTION {
            let longest = self
                .environments
                .iter()
                .enumerate()
                .max_by_key(|(_, e)| e.approval_ttl())
                .map(|(i, _)| format!("environments[{i}].approval_ttl"))
                .unwrap_or_else(|| "environments".to_string());
            problems.push((
                longest,
                format!(
                    "a release could wait {} days for its approvals (each environment may be asked {} times when its plan changes){}, \
                     longer than the year Step Functions lets one execution run: shorten the approval times",
                    worst.approval_time.as_secs() / 86_400,
                    MAX_PLAN_ROUNDS + 1,
                    if worst.freeze_time.is_zero() {
                        String::new()
                    } else {
                        format!(" and {} days for freezes to end", worst.freeze_time.as_secs() / 86_400)
                    }
                ),
            ));
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCAL: &str = include_str!("../../../../infra/config/baton.local.yaml");

    fn local_with(workflow: &str) -> String {
        let start = LOCAL.find("workflow:").unwrap_or(0);
        let end = LOCAL[start..].find("\n\n").map(|e| start + e).unwrap_or(LOCAL.len());
        format!("{}workflow:\n{workflow}{}", &LOCAL[..start], &LOCAL[end..])
    }

    #[test]
    fn the_shipped_and_default_pacing_stay_within_the_limits() {
        let local = BatonConfig::from_yaml(LOCAL).unwrap();
        let worst = local.worst_case();
        assert!(worst.events <= HISTORY_BUDGET, "{worst:?}");
        assert!(worst.duration <= MAX_EXECUTION, "{worst:?}");
        // AWS's defaults: 15 s polls, 30 s lease tries for 2 h, 30 min rollouts.
        let aws = BatonConfig::from_yaml(&local_with("  poll_seconds: 15\n")).unwrap();
        assert_eq!(aws.workflow.lease_wait_timeout(), Duration::from_secs(7_200));
        assert_eq!(aws.lease_waits(), 240);
        let worst = aws.worst_case();
        assert!(worst.events <= HISTORY_BUDGET, "{worst:?}");
    }

    #[test]
    fn one_second_polls_for_a_long_rollout_are_refused_naming_the_field() {
        let text = local_with("  poll_seconds: 1\n  rollout_deadline: 30m\n  lease_wait_timeout: 1m\n");
        let err = BatonConfig::from_yaml(&text).unwrap_err();
        assert_eq!(err.problems.len(), 1, "{err}");
        assert_eq!(err.problems[0].path, "workflow.poll_seconds", "{err}");
        assert!(err.to_string().contains("25000"), "{err}");
    }

    #[test]
    fn a_long_lease_wait_in_small_steps_is_refused_naming_the_field() {
        let text = local_with("  lease_wait_seconds: 1\n  lease_wait_timeout: 24h\n");
        let err = BatonConfig::from_yaml(&text).unwrap_err();
        assert_eq!(err.problems[0].path, "workflow.lease_wait_seconds", "{err}");
    }

    #[test]
    fn approval_times_that_add_up_past_a_year_are_refused() {
        let text = LOCAL.replacen("approval_ttl: 24h", "approval_ttl: 100d", 1);
        assert!(text != LOCAL, "the local configuration has a 24h approval time");
        let err = BatonConfig::from_yaml(&text).unwrap_err();
        assert_eq!(err.problems[0].path, "environments[0].approval_ttl", "{err}");
        // 100 days asked four times, and PROD's 72 hours four times.
        assert!(err.to_string().contains("412 days"), "{err}");
        // 85 days four times, with PROD's, is 352 days: allowed.
        let text = LOCAL.replacen("approval_ttl: 24h", "approval_ttl: 85d", 1);
        let config = BatonConfig::from_yaml(&text).unwrap();
        assert!(config.worst_case().duration <= MAX_EXECUTION);
    }

    #[test]
    fn the_worst_case_adds_up_every_part_of_the_execution() {
        // The local configuration (TEST and PROD, 1-second pacing, 2-minute rollouts, 3 minutes
        // of lease tries) with a second CloudHub component, and costs chosen so that no two
        // parts can stand in for each other.
        let mut config = BatonConfig::from_yaml(LOCAL).unwrap();
        let mut second = config.component("state").unwrap().clone();
        second.name = "billing".into();
        config.components.push(second);
        let costs = StepCosts {
            per_execution: 1_000,
            per_round: 100,
            per_component_round: 10,
            per_deployment: 7,
            per_component_deployment: 3,
            per_lease_wait: 5,
            per_freeze_wait: 17,
            per_poll: 2,
            per_retry: 11,
            per_failure_question: 0,
        };
        let worst = config.worst_case_with(&costs);
        // A check with one retry (13 events every 3 s, 41 of them) is the worst poll loop: 533;
        // rollout and rollback of 2 CloudHub components in 2 environments.
        assert_eq!(
            poll_loop_events(Duration::from_secs(120), Duration::from_secs(1), &costs),
            533
        );
        assert_eq!(worst.poll_events, 2 * 2 * 2 * 533);
        // 180 tries per environment and a wait for a chosen time per round, each with up to 4
        // retries.
        assert_eq!(worst.lease_wait_events, 2 * (180 + 4) * (5 + 4 * 11));
        // The execution, 4 rounds of 3 components in 2 environments, their deployments, the loops.
        assert_eq!(
            worst.events,
            1_000 + 2 * 4 * (100 + 3 * 10) + 2 * (7 + 3 * 3) + 18_032 + 4_264
        );
        // 24 h and 72 h of approval time, each asked 4 times; 8 rollouts and rollbacks of up to
        // 121 s; 3 minutes of lease tries per environment.
        assert_eq!(worst.approval_time, Duration::from_secs(4 * 96 * 3_600));
        assert_eq!(worst.duration, Duration::from_secs(4 * 96 * 3_600 + 8 * 121 + 2 * 180));
        assert_eq!(worst.freeze_time, Duration::ZERO);
        // A release may wait up to 31 days for freezes in each environment that has them.
        let freeze: crate::freeze::FreezeConfig = serde_json::from_value(
            serde_json::json!({ "reason": "weekend", "every": "Friday 16:00", "until": "Monday 08:00" }),
        )
        .unwrap();
        config.environments[1].freezes.push(freeze);
        let frozen = config.worst_case_with(&costs);
        assert_eq!(frozen.freeze_time, Duration::from_secs(31 * 86_400));
        assert_eq!(frozen.duration, worst.duration + frozen.freeze_time);
        // Up to 10 waits on freezes there, each with up to 4 retries.
        assert_eq!(frozen.events, worst.events + 10 * (17 + 4 * 11));
    }

    #[test]
    fn freezes_count_towards_the_year_an_execution_may_run() {
        // 85 days of TEST approvals asked four times, with PROD's, is 352 days: allowed alone,
        // refused with PROD's 31 days of freezes on top.
        let text = LOCAL.replacen("approval_ttl: 24h", "approval_ttl: 85d", 1).replacen(
            "    approval_ttl: 72h\n",
            "    approval_ttl: 72h\n    freezes: [{ reason: weekend, every: Friday 16:00, until: Monday 08:00 }]\n",
            1,
        );
        let err = BatonConfig::from_yaml(&text).unwrap_err();
        assert_eq!(err.problems[0].path, "environments[0].approval_ttl", "{err}");
        assert!(
            err.to_string().contains("352 days for its approvals")
                && err.to_string().contains("and 31 days for freezes to end"),
            "{err}"
        );
    }

    #[test]
    fn poll_loops_count_the_worst_number_of_retries() {
        // 30 min at 15 s: two retries before each check (15 events every 15 + 6 s, 86 checks)
        // makes more events than none (9 events, 121 checks) or four (21 events, 41 checks).
        assert_eq!(
            poll_loop_events(Duration::from_secs(1_800), Duration::from_secs(15), &STEP_COSTS),
            86 * 15
        );
        // At 1 s, no retries (9 events every second) is the worst.
        assert_eq!(
            poll_loop_events(Duration::from_secs(60), Duration::from_secs(1), &STEP_COSTS),
            61 * 9
        );
    }
}
