//! A simulated CloudHub 2.0 deployment and its lifecycle (§10): time-driven, computed on read.
//!
//! A POST or PATCH starts a rollout of a new spec version. Over the apply delay the new replicas go
//! PENDING (first third) → STARTING → STARTED, then the deployment is APPLIED and the old replicas
//! go. A failing version instead crash-loops (PENDING "CrashLoopBackoff" ↔ RECOVERING) and the
//! deployment turns FAILED at the end of the delay, the previous replicas (if any) still serving.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::http::{now_ms, random_suffix};
use crate::spec::CheckedSpec;

/// What secure property values are echoed as: the platform encrypts them and whether it masks or
/// omits them on GET is unconfirmed (§11 q3); never echoing plaintext is the safe reading.
pub(crate) const SECRET_MASK: &str = "********";

/// A replica of a settled spec.
#[derive(Debug, Clone)]
pub(crate) struct SimReplica {
    pub(crate) id: String,
    pub(crate) spec_version: String,
    pub(crate) running: bool,
}

#[derive(Debug, Clone)]
pub(crate) enum RolloutKind {
    /// Start replicas of the new spec.
    Start,
    /// Start replicas that crash-loop; FAILED at the end of the delay.
    Fail { reason: String },
    /// Stop the replicas (desiredState STOPPED).
    Stop,
}

/// A spec version being applied.
#[derive(Debug, Clone)]
pub(crate) struct Rollout {
    pub(crate) spec_version: String,
    pub(crate) started: Instant,
    pub(crate) replica_ids: Vec<String>,
    pub(crate) kind: RolloutKind,
    pub(crate) rolling: bool,
    pub(crate) failed: bool,
}

/// One deployment.
#[derive(Debug, Clone)]
pub(crate) struct Deployment {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) env_id: String,
    pub(crate) created_ms: i64,
    pub(crate) modified_ms: i64,
    /// The stored desired spec: `{"target":…, "application":…}` as normalized on write.
    pub(crate) spec: Value,
    pub(crate) checked: CheckedSpec,
    pub(crate) desired_version: String,
    pub(crate) last_successful_version: Option<String>,
    pub(crate) last_successful_runtime: Option<String>,
    pub(crate) stable: Vec<SimReplica>,
    pub(crate) rollout: Option<Rollout>,
    pub(crate) public_url: String,
}

impl Deployment {
    /// A new deployment, APPLYING its first spec.
    pub(crate) fn create(
        id: String,
        name: String,
        env_id: String,
        spec: Value,
        checked: CheckedSpec,
        failure: Option<String>,
    ) -> Self {
        let now = creation_ms();
        let public_url = format!(
            "https://{name}-{}.sim-1.{}.cloudhub.io",
            random_suffix(6),
            checked.region_code
        );
        let mut deployment = Self {
            id,
            name,
            env_id,
            created_ms: now,
            modified_ms: now,
            spec,
            checked: checked.clone(),
            desired_version: String::new(),
            last_successful_version: None,
            last_successful_runtime: None,
            stable: Vec::new(),
            rollout: None,
            public_url,
        };
        deployment.start_rollout(deployment.spec.clone(), checked, failure);
        deployment
    }

    /// Replaces the desired spec with a new version and starts rolling it out.
    pub(crate) fn start_rollout(&mut self, spec: Value, checked: CheckedSpec, failure: Option<String>) {
        self.spec = spec;
        self.desired_version = crate::http::uuid();
        self.modified_ms = now_ms();
        // Replicas still starting from an abandoned rollout simply disappear; settled ones stay.
        let kind = match (checked.started, failure) {
            (false, _) => RolloutKind::Stop,
            (true, Some(reason)) => RolloutKind::Fail { reason },
            (true, None) => RolloutKind::Start,
        };
        let replica_ids = (0..checked.replicas).map(|_| self.new_replica_id()).collect();
        self.rollout = Some(Rollout {
            spec_version: self.desired_version.clone(),
            started: Instant::now(),
            replica_ids,
            kind,
            rolling: checked.rolling,
            failed: false,
        });
        self.checked = checked;
    }

    fn new_replica_id(&self) -> String {
        format!("{}-{}-{}", self.name, random_suffix(9), random_suffix(5))
    }

    /// Moves the lifecycle forward to now.
    pub(crate) fn advance(&mut self, delay: Duration) {
        let Some(rollout) = self.rollout.as_mut() else { return };
        if rollout.started.elapsed() < delay {
            return;
        }
        match &rollout.kind {
            RolloutKind::Start => {
                self.stable = rollout
                    .replica_ids
                    .iter()
                    .map(|id| SimReplica {
                        id: id.clone(),
                        spec_version: rollout.spec_version.clone(),
                        running: true,
                    })
                    .collect();
                self.settle_success();
            }
            RolloutKind::Stop => {
                for replica in &mut self.stable {
                    replica.running = false;
                }
                self.settle_success();
            }
            RolloutKind::Fail { .. } if !rollout.failed => {
                rollout.failed = true;
                self.modified_ms = now_ms();
            }
            RolloutKind::Fail { .. } => {}
        }
    }

    fn settle_success(&mut self) {
        self.rollout = None;
        self.last_successful_version = Some(self.desired_version.clone());
        self.last_successful_runtime = self.checked.runtime_version.clone();
        self.modified_ms = now_ms();
    }

    /// `APPLYING`, `APPLIED` or `FAILED`.
    pub(crate) fn status(&self) -> &'static str {
        match &self.rollout {
            None => "APPLIED",
            Some(rollout) if rollout.failed => "FAILED",
            Some(_) => "APPLYING",
        }
    }

    /// The replicas as the API shows them now.
    pub(crate) fn replicas_json(&self, delay: Duration) -> Vec<Value> {
        let replica = |id: &str, state: &str, version: &str, reason: &str| {
            json!({ "id": id, "state": state, "deploymentLocation": "sim-node-1",
                    "currentDeploymentVersion": version, "reason": reason })
        };
        let Some(rollout) = &self.rollout else {
            return self
                .stable
                .iter()
                .map(|r| {
                    replica(
                        &r.id,
                        if r.running { "STARTED" } else { "STOPPED" },
                        &r.spec_version,
                        "",
                    )
                })
                .collect();
        };
        let elapsed = rollout.started.elapsed();
        let fraction = if delay.is_zero() {
            1.0
        } else {
            elapsed.as_secs_f64() / delay.as_secs_f64()
        };
        let mut shown = Vec::new();
        for old in self.stable.iter().filter(|r| r.running) {
            let state = match rollout.kind {
                RolloutKind::Stop => Some("STOPPING"),
                // Rolling keeps the old replicas until the new ones started; after a failure the
                // platform rolls back, so they serve again whatever the strategy.
                _ if rollout.rolling || rollout.failed => Some("STARTED"),
                _ if fraction < 1.0 / 3.0 => Some("STOPPING"),
                _ => None,
            };
            if let Some(state) = state {
                shown.push(replica(&old.id, state, &old.spec_version, ""));
            }
        }
        for id in &rollout.replica_ids {
            match &rollout.kind {
                RolloutKind::Stop => {}
                RolloutKind::Start => {
                    let state = if fraction < 1.0 / 3.0 { "PENDING" } else { "STARTING" };
                    shown.push(replica(id, state, &rollout.spec_version, ""));
                }
                RolloutKind::Fail { reason } => {
                    // A crash loop alternates PENDING and RECOVERING indefinitely (§6.4).
                    let half_period = (delay / 4).max(Duration::from_millis(50));
                    let phase = elapsed.as_millis() / half_period.as_millis().max(1);
                    let state = if phase.is_multiple_of(2) {
                        "PENDING"
                    } else {
                        "RECOVERING"
                    };
                    shown.push(replica(id, state, &rollout.spec_version, reason));
                }
            }
        }
        shown
    }

    /// The detail object (§6.4).
    pub(crate) fn detail_json(&self, delay: Duration) -> Value {
        let replicas = self.replicas_json(delay);
        let running = replicas.iter().any(|r| r["state"] == "STARTED");
        let mut application = self.spec.get("application").cloned().unwrap_or_else(|| json!({}));
        application["status"] = json!(if running { "RUNNING" } else { "NOT_RUNNING" });
        application["objectStoreV2Enabled"] = json!(false);
        if let Some(secure) = application
            .pointer_mut("/configuration/mule.agent.application.properties.service/secureProperties")
            .and_then(Value::as_object_mut)
        {
            for value in secure.values_mut() {
                *value = json!(SECRET_MASK);
            }
        }
        let mut target = self.spec.get("target").cloned().unwrap_or_else(|| json!({}));
        if let Some(settings) = target.get_mut("deploymentSettings").and_then(Value::as_object_mut) {
            let unique_id = self
                .public_url
                .trim_start_matches("https://")
                .split('.')
                .next()
                .unwrap_or_default();
            let unique_id = unique_id.rsplit('-').next().unwrap_or_default().to_string();
            // `generateDefaultPublicUrl: false` (anypoint-cli sends it when `--publicEndpoints`
            // names no cloudhub.io endpoint) means no generated URL; absent means true.
            let generate = settings.get("generateDefaultPublicUrl").and_then(Value::as_bool) != Some(false);
            let http = settings.entry("http").or_insert_with(|| json!({}));
            if let Some(http) = http.as_object_mut() {
                let inbound = http.entry("inbound").or_insert_with(|| json!({}));
                let mut urls: Vec<String> = inbound
                    .get("publicUrl")
                    .and_then(Value::as_str)
                    .map(|custom| vec![custom.to_string()])
                    .unwrap_or_default();
                if generate {
                    urls.insert(0, self.public_url.clone());
                }
                inbound["publicUrl"] = if urls.is_empty() {
                    Value::Null
                } else {
                    json!(urls.join(","))
                };
                inbound["internalUrl"] = json!(format!("http://{}.{}.svc.cluster.local:8081", self.name, self.env_id));
                inbound["uniqueId"] = json!(unique_id);
            }
        }
        json!({
            "id": self.id,
            "name": self.name,
            "creationDate": self.created_ms,
            "lastModifiedDate": self.modified_ms,
            "desiredVersion": self.desired_version,
            "lastSuccessfulVersion": self.last_successful_version,
            "status": self.status(),
            "replicas": replicas,
            "application": application,
            "target": target,
        })
    }

    /// The slim list item (§6.5): no ref, replicas, vCores or settings.
    pub(crate) fn summary_json(&self, delay: Duration) -> Value {
        let running = self.replicas_json(delay).iter().any(|r| r["state"] == "STARTED");
        json!({
            "id": self.id,
            "name": self.name,
            "creationDate": self.created_ms,
            "lastModifiedDate": self.modified_ms,
            "target": { "provider": "MC", "targetId": self.checked.target_id },
            "status": self.status(),
            "application": { "status": if running { "RUNNING" } else { "NOT_RUNNING" } },
            "currentRuntimeVersion": self.checked.runtime_version,
            "lastSuccessfulRuntimeVersion": self.last_successful_runtime,
        })
    }
}

/// A creation time in epoch milliseconds, strictly later than every earlier one, so listings
/// ordered by creation are stable even for deployments created in the same millisecond.
fn creation_ms() -> i64 {
    use std::sync::atomic::{AtomicI64, Ordering};
    static LAST: AtomicI64 = AtomicI64::new(0);
    let now = now_ms();
    let previous = LAST.fetch_max(now, Ordering::SeqCst);
    if previous >= now {
        LAST.fetch_add(1, Ordering::SeqCst) + 1
    } else {
        now
    }
}
