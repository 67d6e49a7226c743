//! The demo: pushes the sample packages as CI would and reports what Baton made of them.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use baton_aws::DynamoStore;
use baton_domain::Release;
use baton_domain::ports::ReleaseStore;

use crate::LocalStack;

/// Zips a site folder (the React build output) the way CI would: paths relative to its root.
pub fn zip_folder(dir: &Path) -> Result<Vec<u8>> {
    let mut files = Vec::new();
    collect(dir, dir, &mut files)?;
    files.sort();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, path) in files {
        out.start_file(name, zip::write::SimpleFileOptions::default())?;
        out.write_all(&std::fs::read(&path)?)?;
    }
    Ok(out.finish()?.into_inner())
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, std::path::PathBuf)>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            collect(root, &path, files)?;
        } else {
            let name = path.strip_prefix(root)?.to_string_lossy().replace('\\', "/");
            files.push((name, path));
        }
    }
    Ok(())
}

/// Uploads the sample manifest and site as version `version`, with CI's metadata.
pub async fn push_samples(stack: &LocalStack, root: &Path, version: &str) -> Result<()> {
    let s3 = crate::path_style_s3(&stack.sdk);
    let manifest = std::fs::read(root.join("samples/state/manifest.yaml")).context("reading the sample manifest")?;
    let site = zip_folder(&root.join("samples/web/site"))?;
    let uploads = [
        (
            format!("packages/state/{version}/manifest.yaml"),
            manifest,
            "3f2c1d9",
            "Patient API 1.4.2 and Admissions API 2.1.0",
        ),
        (
            format!("packages/web/{version}/site.zip"),
            site,
            "aa11bb2",
            "Patient Portal home page",
        ),
    ];
    for (key, body, commit, notes) in uploads {
        s3.put_object()
            .bucket(&stack.bucket)
            .key(&key)
            .body(body.into())
            .metadata("commit", commit)
            .metadata("branch", "main")
            .metadata("build-url", "https://ci.example.com/baton-demo/1")
            .metadata("notes", notes)
            .send()
            .await
            .with_context(|| format!("uploading {key}"))?;
        println!("  uploaded s3://{}/{key}", stack.bucket);
    }
    Ok(())
}

/// Waits for the newest release to exist and returns it.
pub async fn wait_for_release(stack: &LocalStack, number: u64, timeout: Duration) -> Result<Release> {
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&stack.sdk), stack.resource_name("Table")?);
    let deadline = Instant::now() + timeout;
    loop {
        let cursor = store.release_cursor().await.map_err(|e| anyhow::anyhow!("{e}"))?;
        if cursor.number >= number
            && let Some(id) = cursor.release
            && let Some(release) = store.release(&id).await.map_err(|e| anyhow::anyhow!("{e}"))?
        {
            return Ok(release);
        }
        if Instant::now() > deadline {
            bail!("no release {number} within {} s; see the log above", timeout.as_secs());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A release in words.
pub fn describe(release: &Release) -> String {
    let mut out = format!(
        "Release {} ({}), created {}\n",
        release.number,
        release.id,
        release.created_at.format("%Y-%m-%d %H:%M:%S UTC")
    );
    for change in &release.changes {
        let from = change
            .from
            .as_ref()
            .map(|v| v.to_string())
            .unwrap_or_else(|| "nothing".into());
        out.push_str(&format!("  {}: {} -> {}\n", change.component, from, change.to));
    }
    for note in &release.notes {
        out.push_str(&format!(
            "  note {} {}: {} (commit {})\n",
            note.component,
            note.version,
            note.metadata.notes.as_deref().unwrap_or("-"),
            note.metadata.commit.as_deref().unwrap_or("-")
        ));
    }
    out.push_str(&format!("  content hash {}\n", release.content_hash));
    out
}

/// Approves release `number` for `environment` from its mailed link, as a person would.
pub async fn approve_from_mail(stack: &LocalStack, number: u64, environment: &str) -> Result<bool> {
    let subject = format!("Approve release {number} for {environment}?");
    let link = stack.outbox.lock().ok().and_then(|mails| {
        mails
            .iter()
            .find(|m| m.subject.contains(&subject))
            .and_then(|m| m.links.first().cloned())
    });
    let Some(link) = link else { return Ok(false) };
    let (base, token) = link.split_once("?token=").context("approval link without a token")?;
    let form = [
        ("token", token),
        ("decision", "approve"),
        ("confirm", "yes"),
        ("comment", "approved by make demo"),
    ];
    let answer = reqwest::Client::new().post(base).form(&form).send().await?;
    Ok(answer.status().is_success())
}

/// Prints the release's timeline as it grows until it ends; with `auto_approve`, approves each
/// environment as its mail arrives.
pub async fn follow(
    stack: &LocalStack,
    number: u64,
    environments: &[String],
    auto_approve: bool,
    timeout: Duration,
) -> Result<Release> {
    use baton_domain::ports::Timeline;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&stack.sdk), stack.resource_name("Table")?);
    let id = baton_domain::ReleaseId::from_number(number);
    let deadline = Instant::now() + timeout;
    let mut shown = 0;
    let mut approved: Vec<String> = Vec::new();
    loop {
        // Status first, then events: once the status is final, the events read after it include
        // the last ones.
        let release = store
            .release(&id)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .context("release vanished")?;
        let events = store.events(&id).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        print_events(&events[shown.min(events.len())..], false);
        shown = events.len();
        if is_final(release.status) {
            return Ok(release);
        }
        if auto_approve {
            let pending: Vec<&String> = environments.iter().filter(|e| !approved.contains(e)).collect();
            for env in pending {
                if approve_from_mail(stack, number, env).await? {
                    approved.push(env.clone());
                }
            }
        }
        if Instant::now() > deadline {
            bail!("release {number} did not finish within {} s", timeout.as_secs());
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// The demo's story: pushes the samples as version 1.0.0, shows release 1, and follows it to
/// its end (approving each environment from its mail with `auto_approve`). Returns the number
/// of the release it followed.
pub async fn run(stack: &LocalStack, root: &Path, auto_approve: bool) -> Result<u64> {
    println!("\nPushing the sample packages as CI would:");
    push_samples(stack, root, "1.0.0").await?;
    let release = wait_for_release(stack, 1, Duration::from_secs(60)).await?;
    println!("\n{}", describe(&release));
    let environments: Vec<String> = ["TEST", "PROD"].iter().map(|e| e.to_string()).collect();
    let timeout = if auto_approve {
        println!("Approving each environment from its mail (AUTO_APPROVE). Timeline:");
        Duration::from_secs(300)
    } else {
        println!(
            "Baton has mailed the release manager. Open {}/_local/outbox, follow the link,",
            stack.http_url
        );
        println!("review the release and press Approve: TEST first, then (after TEST is live) PROD.");
        println!("Follow it on {}/ . Timeline:", stack.http_url);
        Duration::from_secs(24 * 3_600)
    };
    let finished = follow(stack, release.number, &environments, auto_approve, timeout).await?;
    println!("\nRelease {} finished: {:?}", finished.number, finished.status);
    Ok(finished.number)
}

/// Reports every release from number `from` on as it is made, and its timeline as it grows,
/// until the task is dropped.
pub async fn report_releases(stack: &LocalStack, from: u64) -> Result<()> {
    use baton_domain::ports::Timeline;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&stack.sdk), stack.resource_name("Table")?);
    let mut next = from;
    // Releases still moving, with how many of their events were printed.
    let mut open: Vec<(baton_domain::ReleaseId, usize)> = Vec::new();
    loop {
        let cursor = store.release_cursor().await.map_err(|e| anyhow::anyhow!("{e}"))?;
        while next <= cursor.number {
            let id = baton_domain::ReleaseId::from_number(next);
            if let Some(release) = store.release(&id).await.map_err(|e| anyhow::anyhow!("{e}"))? {
                println!("\n{}", describe(&release));
                open.push((id, 0));
            }
            next += 1;
        }
        let mut still_open = Vec::new();
        for (id, shown) in open {
            let release = store.release(&id).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let events = store.events(&id).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            print_events(&events[shown.min(events.len())..], true);
            match release {
                Some(release) if is_final(release.status) => {
                    println!("  Release {} finished: {:?}", release.number, release.status);
                }
                _ => still_open.push((id, events.len())),
            }
        }
        open = still_open;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Whether a release has reached one of its end states.
fn is_final(status: baton_domain::release::ReleaseStatus) -> bool {
    use baton_domain::release::ReleaseStatus::*;
    matches!(
        status,
        Released | Rejected | Expired | Superseded | Failed | RolledBack | Blocked
    )
}

/// Prints timeline events, each with its release's number when `labelled` (several releases
/// may move at once).
fn print_events(events: &[baton_domain::ports::ReleaseEvent], labelled: bool) {
    for event in events {
        let release = if labelled {
            format!("release {}  ", event.release_id.number_text())
        } else {
            String::new()
        };
        let env = event
            .environment
            .as_deref()
            .map(|e| format!(" [{e}]"))
            .unwrap_or_default();
        println!(
            "  {release}{}  {:<20}{env} {} — {}",
            event.at.format("%H:%M:%S"),
            event.kind,
            event.actor,
            event.detail
        );
    }
}
