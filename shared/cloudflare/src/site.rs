//! The files of a site to deploy, and how they split into assets and special files (reference §3.1).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Cursor, Read};
use std::sync::Arc;

use crate::content_type::content_type;
use crate::error::PagesError;
use crate::hash::asset_hash;

/// The largest file Pages accepts (25 MiB). Larger files fail before anything is uploaded.
pub const MAX_ASSET_BYTES: u64 = 25 * 1024 * 1024;

/// Root-level names that are never uploaded as assets: `_headers` and `_redirects` travel as form fields,
/// the others belong to Pages Functions / wrangler.
const ROOT_EXCLUDED: [&str; 6] = [
    "_worker.js",
    "_redirects",
    "_headers",
    "_routes.json",
    "functions",
    ".wrangler",
];
/// Names excluded at any depth (wrangler's `**/.DS_Store`, `**/node_modules`, `**/.git`).
const EXCLUDED_ANYWHERE: [&str; 3] = [".DS_Store", "node_modules", ".git"];

/// One file of a site: its path relative to the site root (with `/` separators) and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteFile {
    /// The path relative to the site root, e.g. `assets/app.js`.
    pub path: String,
    /// The content.
    pub content: Vec<u8>,
}

/// All files of a site, held in memory. Paths are normalised (no leading `/` or `./`, `/` separators)
/// and checked: no `..`, no absolute paths, no duplicates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SiteFiles {
    files: Vec<SiteFile>,
}

impl SiteFiles {
    /// Takes files as (path relative to the site root, bytes).
    pub fn from_files(files: Vec<(String, Vec<u8>)>) -> Result<Self, PagesError> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::with_capacity(files.len());
        for (path, content) in files {
            let path = normalise_path(&path)?;
            if !seen.insert(path.clone()) {
                return Err(PagesError::InvalidSite(format!("the path '{path}' appears twice")));
            }
            out.push(SiteFile { path, content });
        }
        Ok(SiteFiles { files: out })
    }

    /// Reads a zip of the site (its root is the site root) into memory. Directory entries are skipped;
    /// symbolic links, unsafe paths and files over 25 MiB are refused.
    pub fn from_zip(bytes: &[u8]) -> Result<Self, PagesError> {
        let invalid = |what: String| PagesError::InvalidSite(what);
        let mut archive =
            zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| invalid(format!("not a readable zip: {e}")))?;
        let mut files = Vec::with_capacity(archive.len());
        for index in 0..archive.len() {
            let mut entry = archive
                .by_index(index)
                .map_err(|e| invalid(format!("zip entry {index} cannot be read: {e}")))?;
            let name = entry
                .name()
                .map_err(|e| invalid(format!("zip entry {index} has an unreadable name: {e}")))?
                .to_string();
            if entry.is_dir() {
                continue;
            }
            if entry.is_symlink() {
                return Err(invalid(format!("zip entry '{name}' is a symbolic link")));
            }
            // Read one byte past the limit: the header's size may lie.
            let mut content = Vec::new();
            (&mut entry)
                .take(MAX_ASSET_BYTES + 1)
                .read_to_end(&mut content)
                .map_err(|e| invalid(format!("zip entry '{name}' is corrupt: {e}")))?;
            if content.len() as u64 > MAX_ASSET_BYTES {
                return Err(too_large(&name));
            }
            files.push((name, content));
        }
        Self::from_files(files)
    }

    /// The files.
    pub fn files(&self) -> &[SiteFile] {
        &self.files
    }

    /// How many files there are (including `_headers`, `_redirects` and excluded files).
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether there are no files.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The total size of all files.
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.content.len() as u64).sum()
    }

    /// Splits the files as wrangler does: assets (hashed, with content types), `_headers` and `_redirects`
    /// (sent as form fields when non-empty), and the rest dropped. Fails on a file over 25 MiB.
    pub(crate) fn prepare(self) -> Result<PreparedSite, PagesError> {
        let mut site = PreparedSite::default();
        for SiteFile { path, content } in self.files {
            match path.as_str() {
                "_headers" => site.headers = (!content.is_empty()).then_some(content),
                "_redirects" => site.redirects = (!content.is_empty()).then_some(content),
                _ if is_excluded(&path) => {
                    if path == "_worker.js" || path.starts_with("_worker.js/") || path.starts_with("functions/") {
                        site.ignored_functions = true;
                    }
                }
                _ => {
                    if content.len() as u64 > MAX_ASSET_BYTES {
                        return Err(too_large(&path));
                    }
                    let key = asset_hash(&path, &content);
                    site.manifest.insert(format!("/{path}"), key.clone());
                    if site.keys.insert(key.clone()) {
                        site.assets.push(Arc::new(Asset {
                            key,
                            content_type: content_type(&path),
                            content,
                        }));
                    }
                }
            }
        }
        if site.ignored_functions {
            tracing::warn!("the site has _worker.js or functions/; Pages Functions are not deployed by this client");
        }
        Ok(site)
    }
}

/// An asset to upload: one per distinct key (files with the same content and extension share one).
#[derive(Debug)]
pub(crate) struct Asset {
    pub key: String,
    pub content_type: &'static str,
    pub content: Vec<u8>,
}

/// A site split into what the deploy sends.
#[derive(Debug, Default)]
pub(crate) struct PreparedSite {
    /// `"/<path>"` → key, for every asset file.
    pub manifest: BTreeMap<String, String>,
    /// The distinct assets.
    pub assets: Vec<Arc<Asset>>,
    keys: BTreeSet<String>,
    pub headers: Option<Vec<u8>>,
    pub redirects: Option<Vec<u8>>,
    pub ignored_functions: bool,
}

fn too_large(path: &str) -> PagesError {
    PagesError::InvalidSite(format!(
        "'{path}' is larger than {} MiB, the most Cloudflare Pages accepts per file",
        MAX_ASSET_BYTES / (1024 * 1024)
    ))
}

fn is_excluded(path: &str) -> bool {
    let first = path.split('/').next().unwrap_or("");
    ROOT_EXCLUDED.contains(&first) || path.split('/').any(|segment| EXCLUDED_ANYWHERE.contains(&segment))
}

/// `./a\\b.txt` → `a/b.txt`; refuses empty, absolute, `..` and NUL paths.
fn normalise_path(raw: &str) -> Result<String, PagesError> {
    let invalid = |why: &str| PagesError::InvalidSite(format!("the path {raw:?} {why}"));
    let unified = raw.replace('\\', "/");
    if unified.starts_with('/') || unified.as_bytes().get(1) == Some(&b':') {
        return Err(invalid("is absolute; paths must be relative to the site root"));
    }
    if unified.contains('\0') {
        return Err(invalid("contains a NUL byte"));
    }
    let mut segments = Vec::new();
    for segment in unified.split('/') {
        match segment {
            "" | "." => {}
            ".." => return Err(invalid("contains '..'; paths must stay inside the site root")),
            other => segments.push(other),
        }
    }
    if segments.is_empty() {
        return Err(invalid("names no file"));
    }
    Ok(segments.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(files: &[(&str, &str)]) -> SiteFiles {
        let files = files
            .iter()
            .map(|(p, c)| (p.to_string(), c.as_bytes().to_vec()))
            .collect();
        SiteFiles::from_files(files).unwrap()
    }

    #[test]
    fn splits_assets_from_special_and_excluded_files() {
        let prepared = site(&[
            ("index.html", "<h1>hello</h1>"),
            ("./assets/app.js", "console.log(1)"),
            ("copy/app.js", "console.log(1)"),
            ("_headers", "/*\n  X-Test: 1\n"),
            ("_redirects", ""),
            ("_routes.json", "{}"),
            ("functions/api.js", "x"),
            ("sub/.DS_Store", "x"),
            ("node_modules/x/index.js", "x"),
            ("sub/_headers", "not special below the root"),
        ])
        .prepare()
        .unwrap();
        let paths: Vec<&str> = prepared.manifest.keys().map(String::as_str).collect();
        assert_eq!(
            paths,
            ["/assets/app.js", "/copy/app.js", "/index.html", "/sub/_headers"]
        );
        assert_eq!(prepared.manifest["/index.html"], "6c67b21e4df57e1aa96d4e44b47ebc74");
        assert_eq!(prepared.assets.len(), 3, "identical files share one asset");
        assert!(prepared.headers.is_some());
        assert!(prepared.redirects.is_none(), "an empty _redirects is not sent");
        assert!(prepared.ignored_functions);
    }

    #[test]
    fn refuses_unsafe_or_duplicate_paths() {
        for bad in ["../x", "/etc/passwd", "C:/x", "a/../../b", "", "./"] {
            assert!(SiteFiles::from_files(vec![(bad.to_string(), vec![])]).is_err(), "{bad}");
        }
        let dup = vec![("a.txt".to_string(), vec![]), ("./a.txt".to_string(), vec![])];
        assert!(SiteFiles::from_files(dup).is_err());
    }

    #[test]
    fn refuses_files_over_25_mib() {
        let big = vec![0u8; (MAX_ASSET_BYTES + 1) as usize];
        let error = SiteFiles::from_files(vec![("big.bin".into(), big)])
            .unwrap()
            .prepare()
            .unwrap_err();
        assert!(error.to_string().contains("25 MiB"), "{error}");
    }
}
