//! `settled`: the end of a release's settle window (`release.settle_seconds`). If a newer
//! release was made meanwhile (CI pushed the rest of a burst), this one ends as superseded
//! before anyone is mailed, under the first environment's `supersede` policy; otherwise the
//! release goes on to its first approval request.

use baton_domain::config::SupersedePolicy;
use baton_domain::ports::{ApprovalStore, ConfigSource, DeploymentStore, Leases, Mailer, ReleaseStore, Timeline};
use baton_domain::{BatonConfig, BatonError, ErrorKind};
use serde_json::{Value, json};

use super::{Lifecycle, Step};

impl<C, S, M> Lifecycle<C, S, M>
where
    C: ConfigSource,
    S: ReleaseStore + DeploymentStore + Timeline + Leases + ApprovalStore,
    M: Mailer,
{
    /// `{"settled": true}`, or `Baton.Superseded` naming the newer release.
    pub(super) async fn settled(&self, step: &Step, config: &BatonConfig) -> Result<Value, BatonError> {
        let release = self.release(&step.release_id).await?;
        // Under `queue` every release waits its turn and is asked about: nothing to collect.
        let supersedes = config
            .environments
            .first()
            .is_some_and(|e| e.on_newer_release == SupersedePolicy::Supersede);
        if !supersedes || step.redeploying() {
            return Ok(json!({ "settled": true }));
        }
        let cursor = self.store.release_cursor().await?;
        if cursor.number > release.number {
            let by = cursor
                .release
                .map(|id| id.to_string())
                .unwrap_or_else(|| format!("release {}", cursor.number));
            tracing::info!(release = %release.id, by = %by, "superseded within the settle window");
            return Err(BatonError {
                kind: ErrorKind::Superseded,
                message: format!("replaced by {by} within the settle window, before anyone was asked"),
            });
        }
        Ok(json!({ "settled": true }))
    }
}
