//! Deploys a directory, as `wrangler pages deploy` would:
//! `cargo run -p baton-cloudflare --example deploy -- <dir> <project> [branch]`, with `CLOUDFLARE_API_TOKEN`,
//! `CLOUDFLARE_ACCOUNT_ID` and optionally `CLOUDFLARE_API_BASE_URL` (e.g. a simulator's URL) in the environment.

use std::path::Path;

use baton_cloudflare::{DEFAULT_BASE_URL, DeployOptions, PagesClient, SiteFiles};

fn read_dir(root: &Path, dir: &Path, files: &mut Vec<(String, Vec<u8>)>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            read_dir(root, &path, files)?;
        } else if let Ok(relative) = path.strip_prefix(root) {
            files.push((relative.to_string_lossy().replace('\\', "/"), std::fs::read(&path)?));
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(project)) = (args.next(), args.next()) else {
        return Err("usage: deploy <dir> <project> [branch]".into());
    };
    let mut files = Vec::new();
    read_dir(Path::new(&dir), Path::new(&dir), &mut files)?;
    let base_url = std::env::var("CLOUDFLARE_API_BASE_URL").unwrap_or_else(|_| DEFAULT_BASE_URL.to_string());
    let client = PagesClient::new(
        base_url,
        std::env::var("CLOUDFLARE_API_TOKEN")?,
        std::env::var("CLOUDFLARE_ACCOUNT_ID")?,
    )?;
    let mut options = DeployOptions::new(project);
    options.branch = args.next();
    let result = client.deploy(&options, SiteFiles::from_files(files)?).await?;
    println!("{result:#?}");
    println!("requests made: {}", client.requests_made());
    Ok(())
}
