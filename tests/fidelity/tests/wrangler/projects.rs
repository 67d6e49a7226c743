//! `wrangler pages project create/list/delete`.

use anyhow::{Context, Result, ensure};
use baton_fidelity::pages::PagesBench;

use crate::{ok, says, sim_project};

#[tokio::test]
async fn project_create_list_and_delete() -> Result<()> {
    let bench = PagesBench::start("wrangler-projects").await?;
    let created = ok(
        bench
            .wrangler(&[
                "pages",
                "project",
                "create",
                "fid-projects",
                "--production-branch",
                "trunk",
            ])
            .await?,
        "pages project create",
    )?;
    says(&created, "Successfully created the 'fid-projects' project", "create")?;
    let project = sim_project(&bench, "fid-projects").context("the simulator has no fid-projects")?;
    ensure!(project["production_branch"] == "trunk", "{project}");

    let again = bench
        .wrangler(&[
            "pages",
            "project",
            "create",
            "fid-projects",
            "--production-branch",
            "trunk",
        ])
        .await?;
    ensure!(
        !again.success,
        "a second create of the same name succeeded:\n{}",
        again.all()
    );
    says(&again, "already exists", "second create")?;

    let listed = ok(
        bench.wrangler(&["pages", "project", "list"]).await?,
        "pages project list",
    )?;
    says(&listed, "fid-projects", "list")?;
    says(&listed, "baton-demo", "list (the seeded project)")?;

    let deleted = ok(
        bench
            .wrangler(&["pages", "project", "delete", "fid-projects", "--yes"])
            .await?,
        "pages project delete",
    )?;
    says(&deleted, "Successfully deleted fid-projects", "delete")?;
    ensure!(
        sim_project(&bench, "fid-projects").is_none(),
        "the project is still in the simulator"
    );
    let listed = ok(
        bench.wrangler(&["pages", "project", "list"]).await?,
        "pages project list",
    )?;
    ensure!(
        !listed.all().contains("fid-projects"),
        "still listed:\n{}",
        listed.all()
    );

    let unknown = bench
        .wrangler(&["pages", "project", "delete", "fid-projects", "--yes"])
        .await?;
    ensure!(
        !unknown.success,
        "deleting a missing project succeeded:\n{}",
        unknown.all()
    );
    says(&unknown, "Project not found", "delete of a missing project")?;
    Ok(())
}
