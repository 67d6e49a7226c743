//! `baton push`: upload a package where Baton expects it, with CI's metadata encoded so any
//! text arrives intact, and with `--wait` report Baton's verdict on that very upload.

use std::time::{Duration, Instant};

use baton_domain::PackageMetadata;
use serde_json::Value;

use crate::cli::PushArgs;
use crate::error::CliError;
use crate::target::{Answer, Api, Target};

/// Most bytes of user metadata S3 takes (keys and values, UTF-8).
const S3_METADATA_MAX: usize = 2048;
/// Longest pause between two looks at the verdict.
const POLL_MAX: Duration = Duration::from_secs(2);

/// A checked push: what goes where.
struct Upload {
    component: String,
    version: String,
    key: String,
    bytes: Vec<u8>,
    sha256: String,
    metadata: Vec<(&'static str, String)>,
}

/// What Baton made of one upload.
enum Verdict {
    /// These bytes are registered; the JSON is the verdict's `registered`.
    Registered(Value),
    /// This upload was refused, for this reason.
    Refused(String),
    /// Nothing decided on this upload yet.
    Pending,
}

/// Runs `baton push`.
pub async fn push(target: &Target, args: &PushArgs) -> Result<(), CliError> {
    let upload = prepare(args).await?;
    let bucket = target.bucket()?;
    // Ask first, when Baton can be asked: the same bytes need no upload, and other bytes under
    // a published version are refused without trying.
    let api = target.api_url.as_ref().map(|_| Api::of(target)).transpose()?;
    if let Some(api) = &api {
        match published(api, &upload).await {
            Ok(verdict) => {
                if let Some(done) = already(api, &upload, verdict) {
                    return done;
                }
            }
            Err(e) if args.wait => return Err(e),
            Err(e) => eprintln!("warning: could not ask Baton whether this version is published ({e}); uploading"),
        }
    }
    let etag = match put(target, bucket, &upload).await? {
        Put::Uploaded(etag) => etag,
        Put::KeyTaken => {
            // Another push of this version won the race: its verdict may be this one's too.
            if let Some(api) = &api
                && let Ok(verdict) = published(api, &upload).await
                && let Some(done) = already(api, &upload, verdict)
            {
                return done;
            }
            // The SDK may have retried a PUT that S3 had stored: then the key holds our bytes.
            match stored_etag_if_ours(target, bucket, &upload).await {
                Some(etag) => etag,
                None => return Err(key_taken(api.as_ref(), bucket, &upload).await),
            }
        }
    };
    println!(
        "uploaded s3://{bucket}/{} ({} bytes, sha256 {})",
        upload.key,
        upload.bytes.len(),
        upload.sha256
    );
    let Some(api) = api.filter(|_| args.wait) else {
        println!("Baton checks it in a few seconds; `baton push --wait` waits for the verdict.");
        return Ok(());
    };
    wait(&api, &upload, &etag, args.timeout).await
}

/// How a push ends when the version was registered before it: the same bytes (success,
/// nothing uploaded) or other bytes (refused); `None` when nothing is registered yet.
fn already(api: &Api, upload: &Upload, verdict: Verdict) -> Option<Result<(), CliError>> {
    match verdict {
        Verdict::Registered(registered) => {
            println!(
                "already registered: {} {} with these bytes (sha256 {}); nothing uploaded",
                upload.component, upload.version, upload.sha256
            );
            print_registered(api, &registered);
            Some(Ok(()))
        }
        Verdict::Refused(reason) => Some(Err(CliError::Refused(format!("refused: {reason}")))),
        Verdict::Pending => None,
    }
}

/// Checks the command line and reads the file; every problem is a usage error (exit 2).
async fn prepare(args: &PushArgs) -> Result<Upload, CliError> {
    if !baton_domain::config::is_component_name(&args.component) {
        return Err(CliError::Usage(format!(
            "'{}' is not a component name: it starts with a lowercase letter and uses only a-z, 0-9 and '-'",
            args.component
        )));
    }
    let version = baton_domain::Version::parse(&args.version).map_err(|_| {
        CliError::Usage(format!(
            "'{}' is not a SemVer 2.0 version such as 1.4.0 or 1.4.0-rc.1",
            args.version
        ))
    })?;
    let file_name = args
        .file
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| CliError::Usage(format!("{} does not name a file", args.file.display())))?;
    let bytes = tokio::fs::read(&args.file)
        .await
        .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", args.file.display())))?;
    if bytes.is_empty() {
        return Err(CliError::Usage(format!(
            "{} is empty; push the built package",
            args.file.display()
        )));
    }
    let metadata = PackageMetadata {
        commit: args.commit.clone(),
        branch: args.branch.clone(),
        build_url: args.build_url.clone(),
        notes: args.notes.clone(),
        author: args.author.clone(),
    }
    .to_user_metadata();
    let metadata_bytes: usize = metadata.iter().map(|(k, v)| k.len() + v.len()).sum();
    if metadata_bytes > S3_METADATA_MAX {
        return Err(CliError::Usage(format!(
            "the metadata takes {metadata_bytes} bytes once encoded; S3 keeps at most {S3_METADATA_MAX}: shorten --notes"
        )));
    }
    Ok(Upload {
        component: args.component.clone(),
        version: version.to_string(),
        key: format!(
            "{}{}/{version}/{file_name}",
            baton_domain::package::PACKAGE_PREFIX,
            args.component
        ),
        sha256: baton_domain::sha256_hex(&bytes),
        bytes,
        metadata,
    })
}

/// What became of the upload itself.
enum Put {
    /// Uploaded; the ETag identifies this upload in Baton's verdict.
    Uploaded(String),
    /// The key already holds an upload: versions are immutable.
    KeyTaken,
}

/// Uploads the package only if its key is free (`If-None-Match: *`, which CI's policy in
/// template.yaml requires): a published package is never replaced, even by mistake.
async fn put(target: &Target, bucket: &str, upload: &Upload) -> Result<Put, CliError> {
    let s3 = target.s3().await;
    let mut request = s3
        .put_object()
        .bucket(bucket)
        .key(&upload.key)
        .if_none_match("*")
        .body(upload.bytes.clone().into());
    for (key, value) in &upload.metadata {
        request = request.metadata(*key, value);
    }
    match request.send().await {
        Ok(output) => Ok(Put::Uploaded(
            output.e_tag().unwrap_or_default().trim_matches('"').to_string(),
        )),
        Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 412) => Ok(Put::KeyTaken),
        Err(e) => Err(CliError::Unreachable(format!(
            "uploading to s3://{bucket}/{} failed: {}; {}",
            upload.key,
            aws_sdk_s3::error::DisplayErrorContext(&e),
            target.hint()
        ))),
    }
}

/// The ETag of the object at the upload's key if it holds exactly these bytes.
async fn stored_etag_if_ours(target: &Target, bucket: &str, upload: &Upload) -> Option<String> {
    let object = target
        .s3()
        .await
        .get_object()
        .bucket(bucket)
        .key(&upload.key)
        .send()
        .await
        .ok()?;
    let etag = object.e_tag().unwrap_or_default().trim_matches('"').to_string();
    let bytes = object.body.collect().await.ok()?.into_bytes();
    (baton_domain::sha256_hex(&bytes) == upload.sha256).then_some(etag)
}

/// Why a taken key refuses this push: Baton's refusal of the upload that holds it, if any.
async fn key_taken(api: Option<&Api>, bucket: &str, upload: &Upload) -> CliError {
    let taken = format!(
        "s3://{bucket}/{} already holds an upload of {} {}; versions are immutable: publish a new version",
        upload.key, upload.component, upload.version
    );
    let earlier = match api {
        Some(api) => match api.get(&verdict_path(upload)).await {
            Ok(Answer::Found(answer)) => {
                refusal(&answer, upload, None).map(|reason| format!(" (Baton refused that upload: {reason})"))
            }
            _ => None,
        },
        None => None,
    };
    CliError::Refused(format!("refused: {taken}{}", earlier.unwrap_or_default()))
}

/// The verdict URL path of an upload.
fn verdict_path(upload: &Upload) -> String {
    let version = percent_encoding::utf8_percent_encode(&upload.version, percent_encoding::NON_ALPHANUMERIC);
    format!("/api/packages/{}/{version}", upload.component)
}

/// The reason Baton refused an upload to this push's key (the one with `etag`, if given).
fn refusal<'a>(answer: &'a Value, upload: &Upload, etag: Option<&str>) -> Option<&'a str> {
    answer["refused"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| {
            // A public Baton hides object keys (`(hidden)`): the verdict's route already names the
            // component and version, and the ETag tells this push's upload apart.
            let key = r["object_key"].as_str();
            (key == Some(upload.key.as_str()) || key == Some(baton_domain::access::public::HIDDEN))
                && etag.is_none_or(|e| r["etag"].as_str().map(|t| t.trim_matches('"')) == Some(e))
        })
        .map(|r| r["reason"].as_str().unwrap_or("no reason recorded"))
}

/// Before uploading: is this version already registered, with these bytes or others? Pending
/// when nothing is registered under it.
async fn published(api: &Api, upload: &Upload) -> Result<Verdict, CliError> {
    let Answer::Found(answer) = api.get(&verdict_path(upload)).await? else {
        return Ok(Verdict::Pending);
    };
    let registered = &answer["registered"];
    Ok(match registered["sha256"].as_str() {
        Some(sha) if sha == upload.sha256 => Verdict::Registered(registered.clone()),
        Some(sha) => Verdict::Refused(format!(
            "version already published with other content: {} {} was registered at {} with sha256 {sha}; \
             this file has sha256 {}. Versions are immutable: publish a new version",
            upload.component,
            upload.version,
            registered["registered_at"].as_str().unwrap_or("an earlier time"),
            upload.sha256
        )),
        None => Verdict::Pending,
    })
}

/// Baton's verdict on this upload (`etag`) in `answer`.
fn verdict_on(answer: &Value, upload: &Upload, etag: &str) -> Verdict {
    let registered = &answer["registered"];
    if registered["sha256"].as_str() == Some(upload.sha256.as_str()) {
        return Verdict::Registered(registered.clone());
    }
    match refusal(answer, upload, Some(etag)) {
        Some(reason) => Verdict::Refused(reason.to_string()),
        None => Verdict::Pending,
    }
}

/// Polls the verdict until it is decided for this upload, or `timeout` passes.
async fn wait(api: &Api, upload: &Upload, etag: &str, timeout: Duration) -> Result<(), CliError> {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(250);
    let mut registered: Option<Value> = None;
    let mut trouble: Option<String> = None;
    loop {
        // Baton busy or briefly unreachable is no verdict yet: the wait goes on to its end.
        let answer = match api.get(&verdict_path(upload)).await {
            Ok(answer) => answer,
            Err(CliError::Unreachable(why)) => {
                trouble = Some(why);
                Answer::NotFound(String::new())
            }
            Err(other) => return Err(other),
        };
        if let Answer::Found(answer) = answer {
            match verdict_on(&answer, upload, etag) {
                Verdict::Refused(reason) => return Err(CliError::Refused(format!("refused: {reason}"))),
                // Registered; wait a little more for Baton to decide about a release.
                Verdict::Registered(r) if r["state"] == "processing" => registered = Some(r),
                Verdict::Registered(r) => {
                    report_registered(api, upload, &r);
                    return Ok(());
                }
                Verdict::Pending => {}
            }
        }
        if Instant::now() >= deadline {
            return match registered {
                Some(r) => {
                    report_registered(api, upload, &r);
                    Ok(())
                }
                None => Err(CliError::TimedOut(format!(
                    "no verdict on {} {} within {}; see {}{}",
                    upload.component,
                    upload.version,
                    humantime::format_duration(timeout),
                    api.url(&verdict_path(upload)),
                    trouble.map(|t| format!(" (last answer: {t})")).unwrap_or_default()
                ))),
            };
        }
        tokio::time::sleep(pause.min(deadline.saturating_duration_since(Instant::now()))).await;
        pause = (pause * 2).min(POLL_MAX);
    }
}

fn report_registered(api: &Api, upload: &Upload, registered: &Value) {
    println!(
        "registered: {} {} (sha256 {})",
        upload.component, upload.version, upload.sha256
    );
    print_registered(api, registered);
}

/// What the registration led to, and where to follow it.
fn print_registered(api: &Api, registered: &Value) {
    if let Some(summary) = registered["summary"].as_str() {
        println!("{summary}");
    }
    if let (Some(release), Some(path)) = (registered["release"].as_str(), registered["release_url"].as_str()) {
        println!("release {}: {}", release.trim_start_matches("rel-"), api.url(path));
    }
}
