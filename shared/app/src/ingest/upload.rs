//! One upload: validate, register, and release when the set is complete.

use std::io::{BufReader, Read};
use std::time::Duration;

use baton_domain::config::{ComponentKind, STATE_MAX_BYTES};
use baton_domain::manifest::Manifest;
use baton_domain::package::{PackageContents, RejectCode};
use baton_domain::ports::{ConfigSource, Creation, PackageOutcome, Registration, ReleaseStore, Workflow};
use baton_domain::release::{ComponentChange, PackageRef, ReleasePlan, Snapshot, plan_release};
use baton_domain::web::{WebLimits, validate_site_archive};
use baton_domain::{
    BatonConfig, BatonError, Package, PackageKey, PackageMetadata, RejectedPackage, Rejection, Release, ReleaseId,
};
use chrono::Utc;

use super::Ingest;
use super::event::Upload;
use super::spool::{Spool, Spooled, SpooledObject};

/// How often release creation is re-planned when concurrent uploads move the counter.
const RELEASE_ATTEMPTS: u32 = 12;

impl<C, A, S, W> Ingest<C, A, S, W>
where
    C: ConfigSource,
    A: Spool,
    S: ReleaseStore,
    W: Workflow,
{
    pub(super) async fn handle_upload(&self, upload: &Upload) -> Result<(), BatonError> {
        let config = self.config.config().await?;
        let (key, kind) = match PackageKey::parse(&upload.key, &config) {
            Ok(parsed) => parsed,
            Err(rejection) => {
                return self
                    .reject(upload, &upload.tag, rejection, PackageMetadata::default())
                    .await;
            }
        };
        let component = config
            .component(&key.component)
            .ok_or_else(|| BatonError::internal("component vanished from the configuration"))?;
        let max_bytes = match kind {
            ComponentKind::Web => component.max_total_bytes(),
            ComponentKind::State => STATE_MAX_BYTES,
        };
        // Spooled to /tmp, never into memory: a package is read from its file, once.
        let object = match self
            .artefacts
            .spool(&upload.key, upload.version_id.as_deref(), max_bytes)
            .await?
        {
            // Without a version in the event (an unversioned bucket), the newest object is read;
            // if it is not the one this event announced, the key was written again since, and
            // that upload's own event registers or refuses its bytes.
            Spooled::Object(object)
                if upload.version_id.is_none() && upload.etag.as_ref().is_some_and(|e| *e != object.etag) =>
            {
                tracing::warn!(key = %upload.key, event_etag = ?upload.etag, current_etag = %object.etag, "the key holds a later upload than this event's; that upload's own event handles it");
                return Ok(());
            }
            Spooled::Object(object) => object,
            Spooled::Missing => {
                tracing::warn!(key = %upload.key, "the uploaded object no longer exists; nothing to register");
                return Ok(());
            }
            Spooled::TooLarge { size, etag } => {
                let what_to_do = match kind {
                    ComponentKind::Web => {
                        "make the site smaller, or raise this component's max_total_mib in baton.yaml"
                    }
                    ComponentKind::State => {
                        "a manifest lists applications and their settings only (see docs/manifest.md)"
                    }
                };
                let rejection = Rejection::new(
                    RejectCode::TooLarge,
                    format!(
                        "the package is {size} bytes; a {kind} package may be at most {max_bytes} bytes: {what_to_do}"
                    ),
                );
                return self.reject(upload, &etag, rejection, PackageMetadata::default()).await;
            }
        };
        let metadata = PackageMetadata::from_user_metadata(&object.user_metadata);
        let (etag, version_id, size, sha256) = (
            object.etag.clone(),
            object.version_id.clone(),
            object.size,
            object.sha256.clone(),
        );
        let contents = match validate(kind, object, component, &config)? {
            Ok(contents) => contents,
            Err(rejection) => return self.reject(upload, &etag, rejection, metadata).await,
        };
        let package = Package {
            component: key.component.clone(),
            version: key.version.clone(),
            kind,
            object_key: upload.key.clone(),
            s3_version_id: version_id,
            size,
            sha256,
            metadata: metadata.clone(),
            contents,
            registered_at: Utc::now(),
        };
        let registration = self
            .store
            .register_package(&package, &baton_domain::search::entries(&package))
            .await?;
        let registered = match registration {
            Registration::New => {
                tracing::info!(component = %package.component, version = %package.version, sha256 = %package.sha256, "package registered");
                Some(&package)
            }
            Registration::Duplicate { release: Some(release) } => {
                tracing::info!(component = %package.component, version = %package.version, release = %release, "package already registered and released");
                return self.ensure_started(&release).await;
            }
            Registration::Duplicate { release: None } => {
                tracing::info!(component = %package.component, version = %package.version, "package already registered; finishing its release check");
                // Its metadata may differ from this upload's (same bytes, other notes): the
                // release takes the package as first registered, read from the store.
                None
            }
            Registration::Conflict { existing } => {
                let rejection = Rejection::new(
                    RejectCode::VersionConflict,
                    format!(
                        "version already published with other content: {} {} was registered at {} with sha256 {}; versions are immutable, publish a new version",
                        existing.component,
                        existing.version,
                        existing.registered_at.to_rfc3339(),
                        existing.sha256
                    ),
                );
                return self.reject(upload, &etag, rejection, metadata).await;
            }
        };
        let trigger = PackageRef::of(&package);
        self.release_if_new(&config, &trigger, registered).await
    }

    /// Makes the release `trigger` calls for, if any. `registered` is the trigger's package
    /// when this event registered it (so it need not be read back).
    async fn release_if_new(
        &self,
        config: &BatonConfig,
        trigger: &PackageRef,
        registered: Option<&Package>,
    ) -> Result<(), BatonError> {
        for attempt in 0..RELEASE_ATTEMPTS {
            let read = self.store.release_state().await?;
            let (heads, raises_head) = read.heads_with(trigger);
            let superseded = PackageOutcome::Superseded {
                release: read.cursor.release.clone(),
            };
            let outcome = match plan_release(config, &heads, &read.cursor) {
                ReleasePlan::Waiting { missing } => {
                    tracing::info!(component = %trigger.component, version = %trigger.version, missing = ?missing, "no release yet: waiting for the first package of every component");
                    PackageOutcome::Waiting { missing }
                }
                ReleasePlan::UpToDate => superseded,
                ReleasePlan::New { snapshot, .. } if snapshot.get(&trigger.component) != Some(trigger) => {
                    // A higher version of this component is already registered; that upload's
                    // own event makes the release that holds it.
                    tracing::info!(component = %trigger.component, version = %trigger.version, "a higher version is already registered; no release for this one");
                    superseded
                }
                ReleasePlan::New {
                    number,
                    snapshot,
                    changes,
                } => {
                    let changed = self.changed_packages(&snapshot, &changes, registered).await?;
                    let release = Release::assemble(
                        number,
                        snapshot,
                        changes,
                        &changed,
                        &read.cursor,
                        &trigger.object_key,
                        Utc::now(),
                    );
                    match self.store.create_release(&release, &read, trigger).await? {
                        Creation::Created => {
                            let versions: Vec<String> = release
                                .snapshot
                                .values()
                                .map(|p| format!("{} {}", p.component, p.version))
                                .collect();
                            tracing::info!(release = %release.id, number = release.number, versions = %versions.join(", "), "release created");
                            // The release just written, as written: no need to read it back.
                            return self.start(&release).await;
                        }
                        Creation::AlreadyReleased(existing) => return self.ensure_started(&existing).await,
                        Creation::CursorMoved => {
                            // Another upload made a release or raised a head meanwhile: back
                            // off a little and plan again.
                            tokio::time::sleep(backoff(attempt)).await;
                            continue;
                        }
                    }
                }
            };
            if raises_head {
                // No release, but the head must rise. Written first, then everything read again:
                // of two uploads that each found the set incomplete, the later reader sees the
                // other's head (a release planned meanwhile checked the heads it read).
                self.store.advance_head(trigger).await?;
                continue;
            }
            return self.store.note_outcome(trigger, &outcome).await;
        }
        Err(BatonError::transient(
            "releases kept being created concurrently; the upload will be retried",
        ))
    }

    /// The packages of a new release's changes, for its notes: the one this event registered
    /// is at hand; any other is read (one batch read, only when there are others).
    async fn changed_packages(
        &self,
        snapshot: &Snapshot,
        changes: &[ComponentChange],
        registered: Option<&Package>,
    ) -> Result<Vec<Package>, BatonError> {
        let mut at_hand = Vec::new();
        let mut to_read = Vec::new();
        for change in changes {
            match (registered, snapshot.get(&change.component)) {
                (Some(p), Some(r)) if *r == PackageRef::of(p) => at_hand.push(p.clone()),
                (_, Some(r)) => to_read.push(r.clone()),
                (_, None) => {}
            }
        }
        if !to_read.is_empty() {
            at_hand.extend(self.store.packages(&to_read).await?);
        }
        Ok(at_hand)
    }

    async fn ensure_started(&self, id: &ReleaseId) -> Result<(), BatonError> {
        let release = self
            .store
            .release(id)
            .await?
            .ok_or_else(|| BatonError::transient(format!("{id} is not readable yet; retry")))?;
        self.start(&release).await
    }

    async fn start(&self, release: &Release) -> Result<(), BatonError> {
        let started = self.workflow.start(release).await?;
        tracing::info!(release = %release.id, ?started, "release workflow running");
        Ok(())
    }

    async fn reject(
        &self,
        upload: &Upload,
        tag: &str,
        rejection: Rejection,
        metadata: PackageMetadata,
    ) -> Result<(), BatonError> {
        let mut parts = upload
            .key
            .strip_prefix(baton_domain::package::PACKAGE_PREFIX)
            .unwrap_or("")
            .split('/');
        let rejected = RejectedPackage {
            object_key: upload.key.clone(),
            object_tag: if tag.is_empty() {
                "unknown".to_string()
            } else {
                tag.to_string()
            },
            component: parts.next().filter(|c| !c.is_empty()).map(str::to_string),
            version: parts.next().filter(|v| !v.is_empty()).map(str::to_string),
            rejection,
            metadata,
            rejected_at: Utc::now(),
        };
        tracing::warn!(key = %rejected.object_key, code = ?rejected.rejection.code, reason = %rejected.rejection.reason, "package rejected");
        self.store.record_rejection(&rejected).await
    }
}

/// Validates a spooled package by kind: the outer error is the function's own trouble (the
/// spool could not be read back), the inner one the package's.
fn validate(
    kind: ComponentKind,
    object: SpooledObject,
    component: &baton_domain::config::ComponentConfig,
    config: &BatonConfig,
) -> Result<Result<PackageContents, Rejection>, BatonError> {
    let unreadable = |e: std::io::Error| BatonError::internal(format!("reading the spooled package back failed ({e})"));
    Ok(match kind {
        ComponentKind::Web => validate_site_archive(
            BufReader::new(object.file),
            &WebLimits::with_total(component.max_total_bytes()),
        ),
        ComponentKind::State => {
            // At most STATE_MAX_BYTES were spooled: small enough to read whole.
            let mut bytes = Vec::with_capacity(object.size as usize);
            object
                .file
                .take(STATE_MAX_BYTES + 1)
                .read_to_end(&mut bytes)
                .map_err(unreadable)?;
            validate_manifest(&bytes, component, config)
        }
    })
}

fn validate_manifest(
    bytes: &[u8],
    component: &baton_domain::config::ComponentConfig,
    config: &BatonConfig,
) -> Result<PackageContents, Rejection> {
    let manifest = Manifest::parse(bytes, &config.environment_names())?;
    // A manifest names the secrets Baton reads for its applications: only those under the
    // component's prefix, never Baton's own credentials (issue 13).
    manifest.check_secret_namespace(component.secure_properties_prefix(), &config.platform_secrets())?;
    Ok(manifest.contents())
}

/// 20 ms, 40 ms, ... capped at 640 ms, with up to 50% jitter so racing uploads spread out.
fn backoff(attempt: u32) -> Duration {
    let base = 20u64 << attempt.min(5);
    let mut byte = [0u8; 1];
    let jitter = if getrandom::fill(&mut byte).is_ok() {
        u64::from(byte[0]) * base / 512
    } else {
        0
    };
    Duration::from_millis(base + jitter)
}
