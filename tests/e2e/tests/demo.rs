//! The demo's steps, as `make demo` runs them.

use std::time::Duration;

use anyhow::Result;
use baton_e2e::Harness;
use baton_local::demo;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_pushes_the_samples_and_makes_release_one() -> Result<()> {
    let h = Harness::start().await?;
    let root = baton_local::repository_root();
    demo::push_samples(&h.stack, &root, "1.0.0").await?;
    let release = demo::wait_for_release(&h.stack, 1, Duration::from_secs(90)).await?;
    assert_eq!(release.number, 1);
    let described = demo::describe(&release);
    assert!(described.contains("state: nothing -> 1.0.0"), "{described}");
    assert!(described.contains("web: nothing -> 1.0.0"), "{described}");
    assert!(described.contains("Patient Portal home page"), "{described}");
    // The zipped sample site passed the web validation: index.html at the root, assets kept.
    let site = demo::zip_folder(&root.join("samples/web/site"))?;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(site))?;
    assert!(archive.by_name("index.html").is_ok());
    assert!(archive.by_name("assets/app.js").is_ok());
    Ok(())
}
