//! The suite's tools are installed at the pinned versions: a test that the rest can rely on.

use anyhow::{Result, ensure};
use baton_fidelity::run;

#[tokio::test]
async fn the_pinned_tools_report_their_versions() -> Result<()> {
    let dir = tempdir()?;
    for (tool, version) in [
        ("wrangler", "4.86.0"),
        ("anypoint-cli-v4", "1.6.12"),
        ("asl-validator", "4.0.0"),
    ] {
        let ran = run(tool, &["--version"], &[], &dir).await?;
        ensure!(ran.success && ran.all().contains(version), "{tool} --version: {ran:?}");
    }
    Ok(())
}

fn tempdir() -> Result<std::path::PathBuf> {
    let dir = baton_fidelity::fidelity_dir()
        .join(".work")
        .join(format!("smoke-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
