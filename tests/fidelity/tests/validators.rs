//! The pinned validators `make check-template` runs (asl-validator on the state machine,
//! `sam validate --lint` on the template) pass what we ship and refuse what is broken: a judge
//! that passes everything would make the check worthless.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, ensure};
use baton_fidelity::{python_tool, run, run_program, workspace_dir};

fn scratch(name: &str) -> Result<PathBuf> {
    let dir = baton_fidelity::fidelity_dir()
        .join(".work")
        .join(format!("{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn state_machine() -> Result<serde_json::Value> {
    let path = workspace_dir().join("infra/statemachine/release.asl.json");
    let text = std::fs::read_to_string(&path).with_context(|| path.display().to_string())?;
    Ok(serde_json::from_str(&text)?)
}

async fn asl_validator(definition: &serde_json::Value, dir: &Path) -> Result<baton_fidelity::Ran> {
    let path = dir.join("machine.asl.json");
    std::fs::write(&path, serde_json::to_vec_pretty(definition)?)?;
    run("asl-validator", &["--json-path", &path.display().to_string()], &[], dir).await
}

#[tokio::test]
async fn asl_validator_passes_the_state_machine_and_refuses_a_transition_to_a_missing_state() -> Result<()> {
    let dir = scratch("asl")?;
    let machine = state_machine()?;
    let ran = asl_validator(&machine, &dir).await?;
    ensure!(ran.success, "the shipped state machine: {ran:?}");

    // The same machine whose start names a state that does not exist.
    let mut broken = machine.clone();
    broken["StartAt"] = serde_json::json!("NoSuchState");
    let ran = asl_validator(&broken, &dir).await?;
    ensure!(!ran.success, "a start at a missing state must be refused: {ran:?}");

    // A Choice without its Choices.
    let mut broken = machine;
    let states = broken["States"].as_object_mut().context("States")?;
    let choice = states
        .values_mut()
        .find(|state| state["Type"] == "Choice")
        .context("the machine has a Choice state")?;
    choice
        .as_object_mut()
        .context("a state is an object")?
        .remove("Choices");
    let ran = asl_validator(&broken, &dir).await?;
    ensure!(!ran.success, "a Choice without Choices must be refused: {ran:?}");
    Ok(())
}

async fn sam_validate(template: &str, dir: &Path) -> Result<baton_fidelity::Ran> {
    let path = dir.join("template.yaml");
    std::fs::write(&path, template)?;
    // The template reads the state machine by a relative path.
    let machine = dir.join("infra/statemachine");
    std::fs::create_dir_all(&machine)?;
    std::fs::copy(
        workspace_dir().join("infra/statemachine/release.asl.json"),
        machine.join("release.asl.json"),
    )?;
    let sam = python_tool("sam")?;
    let env = [
        ("AWS_DEFAULT_REGION", "us-east-1".to_string()),
        ("SAM_CLI_TELEMETRY", "0".to_string()),
    ];
    run_program(
        &sam,
        &["validate", "--lint", "--template-file", &path.display().to_string()],
        &env,
        dir,
    )
    .await
}

#[tokio::test]
async fn sam_validate_lint_passes_the_template_and_refuses_a_reference_to_a_missing_resource() -> Result<()> {
    let dir = scratch("sam")?;
    let template = std::fs::read_to_string(workspace_dir().join("template.yaml"))?;
    let ran = sam_validate(&template, &dir).await?;
    ensure!(
        ran.success && ran.all().contains("is a valid SAM Template"),
        "the shipped template: {ran:?}"
    );

    // A policy naming an attribute of a resource that does not exist. (A `!Ref` to a missing
    // resource under `Globals` passes both cfn-lint 1.58.0 and sam 1.170.0: tried, so this test
    // breaks a resource's own property instead.)
    let needle = "!GetAtt Table.Arn";
    ensure!(
        template.contains(needle),
        "the template refers to its table as `{needle}`"
    );
    let broken = template.replacen(needle, "!GetAtt NoSuchTable.Arn", 1);
    let ran = sam_validate(&broken, &dir).await?;
    ensure!(
        !ran.success,
        "a reference to a missing resource must be refused: {ran:?}"
    );
    ensure!(
        ran.all().contains("NoSuchTable"),
        "the refusal names what is missing: {ran:?}"
    );
    Ok(())
}
