//! `record`: the environment's new live state, written only by the lease's holder and only
//! over an older release.

use baton_domain::deployment::LiveRelease;
use baton_domain::ports::{ApprovalStore, ConfigSource, DeploymentStore, Leases, Mailer, ReleaseStore, Timeline};
use baton_domain::{BatonError, ErrorKind, Release};

use super::{LEASE_TTL, Lifecycle, Step};

/// Tries against concurrent writers before leaving it to the state machine's retry.
const RECORD_TRIES: usize = 5;

impl<C, S, M> Lifecycle<C, S, M>
where
    C: ConfigSource,
    S: ReleaseStore + DeploymentStore + Timeline + Leases + ApprovalStore,
    M: Mailer,
{
    /// Records `live` as `env`'s current release; answers the number of the release it
    /// replaced, if any. Idempotent: a release already recorded is left as it is. Only a
    /// redeploy records an older release over a newer one (a rollback).
    pub(super) async fn record_live(
        &self,
        env: &str,
        release: &Release,
        live: LiveRelease,
        step: &Step,
    ) -> Result<Option<u64>, BatonError> {
        let fence = step
            .fence
            .ok_or_else(|| BatonError::invalid("record needs the lease's fence (leaseFence)"))?;
        let holder = step.holder();
        if !self.store.renew(env, &holder, fence, LEASE_TTL).await? {
            return Err(BatonError::lease_lost(env, &holder));
        }
        for _ in 0..RECORD_TRIES {
            let state = self.store.environment_state(env).await?;
            if let Some(current) = &state.current {
                if current.release_id == release.id && (!step.redeploying() || current.fence == live.fence) {
                    // recorded by an earlier try
                    return Ok(state.previous.as_ref().map(|p| p.number));
                }
                if current.number > release.number && !step.redeploying() {
                    return Err(BatonError {
                        kind: ErrorKind::Superseded,
                        message: format!(
                            "release {} is already live in {env}; release {} is not recorded over it",
                            current.number, release.number
                        ),
                    });
                }
            }
            let expected = state.current.as_ref().map(|c| c.release_id.clone());
            if self
                .store
                .record_environment(&state.advanced(live.clone()), expected.as_ref())
                .await?
            {
                return Ok(state.current.as_ref().map(|c| c.number));
            }
        }
        Err(BatonError::transient(format!(
            "the state of {env} kept changing while release {} was recorded; trying again",
            release.number
        )))
    }
}
