//! EventBridge schedules (`Type: Schedule` events in `template.yaml`), as the runner emulates
//! them: a function with a `rate(...)` schedule is invoked with EventBridge's "Scheduled Event"
//! at that rate, or at the local stack's own interval (`baton-local up --schedule-every 30`), so
//! a person trying the stack sees a 15-minute check within seconds. `cron(...)` schedules (the
//! weekly digest) are not fired: a test or a person invokes the function when it wants one.
//! Tests start stacks with schedules off and invoke the function themselves, to stay
//! deterministic.

use std::sync::Arc;
use std::time::Duration;

use baton_app::Function;
use serde_json::json;
use tokio::sync::watch;

use crate::template::ACCOUNT_ID;

/// Which schedules the runner fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Schedules {
    /// None (tests: they invoke the function when they want a run).
    Off,
    /// Each `rate(...)` schedule at its own rate.
    #[default]
    AsDeclared,
    /// Each `rate(...)` schedule at this interval instead.
    Every(Duration),
}

/// A function's schedule.
pub struct Scheduled {
    /// The function's name, for the log.
    pub name: String,
    /// The schedule expression, e.g. `rate(15 minutes)`.
    pub expression: String,
    /// The function.
    pub handler: Arc<dyn Function>,
}

/// The interval of a `rate(value unit)` expression; `None` for `cron(...)` or anything else.
pub fn rate(expression: &str) -> Option<Duration> {
    let inner = expression.trim().strip_prefix("rate(")?.strip_suffix(')')?;
    let (value, unit) = inner.trim().split_once(' ')?;
    let value: u64 = value.trim().parse().ok().filter(|v| *v > 0)?;
    let seconds = match unit.trim() {
        "minute" | "minutes" => 60,
        "hour" | "hours" => 3600,
        "day" | "days" => 86_400,
        _ => return None,
    };
    Some(Duration::from_secs(value * seconds))
}

/// Fires `scheduled` as `mode` says until `stop` turns true.
pub async fn run(scheduled: Scheduled, mode: Schedules, region: String, mut stop: watch::Receiver<bool>) {
    let every = match (mode, rate(&scheduled.expression)) {
        (Schedules::Off, _) | (_, None) => return,
        (Schedules::AsDeclared, Some(every)) => every,
        (Schedules::Every(every), Some(_)) => every,
    };
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
        let now = chrono::Utc::now();
        let id = baton_domain::sha256_hex(format!("{}{now:?}", scheduled.name).as_bytes());
        let event = json!({
            "version": "0",
            "id": &id[..32],
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": ACCOUNT_ID,
            "time": now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "region": region,
            "resources": [format!("arn:aws:events:{region}:{ACCOUNT_ID}:rule/{}-schedule", scheduled.name)],
            "detail": {}
        });
        // A failed run is not retried here: the next tick is the retry, as with EventBridge's
        // own schedule after its retries.
        if let Err(e) = scheduled.handler.invoke(event).await {
            tracing::warn!(function = %scheduled.name, error = %e.message, "scheduled invocation failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_read_and_crons_are_not() {
        assert_eq!(rate("rate(15 minutes)"), Some(Duration::from_secs(900)));
        assert_eq!(rate("rate(1 hour)"), Some(Duration::from_secs(3600)));
        assert_eq!(rate("rate(0 minutes)"), None);
        assert_eq!(rate("cron(0 7 ? * MON *)"), None);
    }
}
