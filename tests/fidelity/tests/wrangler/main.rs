//! wrangler 4.86.0, Cloudflare's own CLI, judges the Pages simulator: each command is run as a
//! user would, and its outcome is checked in what wrangler prints AND in the simulator (its state,
//! its API or the deployed site it serves).
//!
//! One module per area; the helpers below are shared by them.

mod deploy;
mod projects;
mod secrets;

use anyhow::{Context, Result, ensure};
use baton_fidelity::Ran;
use baton_fidelity::pages::PagesBench;
use serde_json::Value;

/// The command succeeded, or an error with everything it printed.
pub(crate) fn ok(ran: Ran, what: &str) -> Result<Ran> {
    ensure!(ran.success, "{what} failed:\n{}", ran.all());
    Ok(ran)
}

/// The command printed `text` (on stdout or stderr).
pub(crate) fn says(ran: &Ran, text: &str, what: &str) -> Result<()> {
    ensure!(ran.all().contains(text), "{what}: expected {text:?} in:\n{}", ran.all());
    Ok(())
}

/// The simulator's view of one project (from `/__admin/state`).
pub(crate) fn sim_project(bench: &PagesBench, name: &str) -> Option<Value> {
    let state = bench.sim.state().snapshot();
    state["projects"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == name)
        .cloned()
}

/// How many asset upload requests the simulator has answered.
pub(crate) fn uploads(bench: &PagesBench) -> u64 {
    bench.sim.state().snapshot()["requests_by_endpoint"]["upload"]
        .as_u64()
        .unwrap_or(0)
}

/// `wrangler pages deployment list --json`: the rows wrangler shows.
pub(crate) async fn deployment_rows(bench: &PagesBench, project: &str) -> Result<Vec<Value>> {
    let ran = ok(
        bench
            .wrangler(&["pages", "deployment", "list", "--project-name", project, "--json"])
            .await?,
        "pages deployment list --json",
    )?;
    let start = ran
        .stdout
        .find('[')
        .context("no JSON array in deployment list output")?;
    let rows: Vec<Value> = serde_json::from_str(&ran.stdout[start..])
        .with_context(|| format!("deployment list --json output:\n{}", ran.stdout))?;
    Ok(rows)
}
