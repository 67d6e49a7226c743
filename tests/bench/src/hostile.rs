//! Ingest's peak memory per hostile package (issue 14, item 6): the real `ingest` binary, a
//! fresh process per package (so each figure is that package's own peak, `VmHWM`), fed the one
//! upload message of that package as Lambda's event source would, against a local stack.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use aws_sdk_sqs::types::{Message, MessageSystemAttributeName};
use baton_e2e::Harness;

use crate::process;
use crate::runtime_api::RuntimeApi;
use crate::table::{Report, Target};

#[path = "../../e2e/tests/common/hostile.rs"]
mod packages;

/// Most a hostile package may make ingest hold (the bound), in MB.
const PEAK_RSS_MB: f64 = 256.0;

/// The upload message for `key`, waiting for it; others (S3's TestEvent) are deleted.
async fn message_for(h: &Harness, queue_url: &str, key: &str) -> Result<Message> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let encoded = key.replace('/', "%2F");
    loop {
        let received = h
            .sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(1)
            .wait_time_seconds(1)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await?;
        for message in received.messages.unwrap_or_default() {
            let body = message.body().unwrap_or_default();
            if body.contains(key) || body.contains(&encoded) {
                return Ok(message);
            }
            h.sqs
                .delete_message()
                .queue_url(queue_url)
                .receipt_handle(message.receipt_handle().unwrap_or_default())
                .send()
                .await?;
        }
        if Instant::now() > deadline {
            bail!("no upload message for {key} within 60 s");
        }
    }
}

/// Every hostile package's peak RSS into `report`.
pub async fn measure(root: &Path, profile: &str, report: &mut Report) -> Result<()> {
    let crate::ingest::IngestRig {
        h,
        source,
        queue_url,
        env,
        program,
    } = crate::ingest::rig(root, profile).await?;
    let cases = [
        ("zip bomb (64 MiB from 64 KiB)", packages::zip_bomb()),
        ("nested zip bomb (240 MiB inside)", packages::nested_zip_bomb()),
        ("zip declaring a million entries", packages::million_entry_zip()),
        ("YAML alias bomb", packages::yaml_alias_bomb()),
        ("YAML tag", packages::yaml_tag()),
        ("manifest over 1 MiB", packages::huge_manifest()),
    ];
    report.section(format!(
        "Ingest: peak RSS (VmHWM) of the real binary per hostile package, a fresh process each, one message per invocation (batch size {})",
        source.batch_size
    ));
    for (name, package) in cases {
        h.upload(package.key, package.body, &[("commit", "bench01")]).await?;
        let message = message_for(&h, &queue_url, package.key).await?;
        let api = RuntimeApi::start().await?;
        let child = process::lambda_command(&program, &[], &api.address(), &env)
            .spawn()
            .with_context(|| format!("starting {}", program.display()))?;
        let pid = child.id().context("no pid")?;
        api.polled(1).await?;
        let event = baton_e2e::baton_local::poller::sqs_event(
            std::slice::from_ref(&message),
            &source.queue_arn,
            &h.stack.region,
        );
        let answer = api.invoke(event).await?;
        if let Some(failed) = answer["batchItemFailures"].as_array().filter(|f| !f.is_empty()) {
            bail!(
                "ingest failed {} message(s), that of {}: {answer}",
                failed.len(),
                package.key
            );
        }
        // Idle again, asking for the next event: the package is done with.
        api.polled(2).await?;
        let peak = process::peak_rss_mb(pid).context("no VmHWM in /proc")?;
        drop(child);
        h.sqs
            .delete_message()
            .queue_url(&queue_url)
            .receipt_handle(message.receipt_handle().unwrap_or_default())
            .send()
            .await?;
        let refused = h.rejections().await?;
        ensure!(
            refused.iter().any(|r| baton_e2e::text(r, "object_key") == package.key),
            "{}: not refused",
            package.key
        );
        report.value(
            format!("ingest: peak RSS, {name}"),
            "MB",
            peak,
            Target::Below(PEAK_RSS_MB),
        );
    }
    h.stack.stop().await;
    Ok(())
}
