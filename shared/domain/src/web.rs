//! Validation of a web package: a zip of a static site, as Cloudflare Pages will serve it.

mod archive;

use std::io::Cursor;

pub use archive::validate_site_archive;

use crate::config::{WEB_MAX_FILE_BYTES, WEB_MAX_FILES};
use crate::package::{PackageContents, RejectCode, Rejection};

/// The limits a web package is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebLimits {
    /// Largest single file, uncompressed.
    pub max_file_bytes: u64,
    /// Most files.
    pub max_files: usize,
    /// Largest total, uncompressed.
    pub max_total_bytes: u64,
}

impl WebLimits {
    /// Cloudflare's per-file and file-count limits with the given total.
    pub fn with_total(max_total_bytes: u64) -> Self {
        WebLimits {
            max_file_bytes: WEB_MAX_FILE_BYTES,
            max_files: WEB_MAX_FILES,
            max_total_bytes,
        }
    }
}

fn invalid(reason: String) -> Rejection {
    Rejection::new(RejectCode::InvalidContent, reason)
}

/// Checks a site zip: readable, `index.html` at the root, no entry that could escape the
/// site folder (`..`, absolute paths, symlinks), and within the limits. The end of central
/// directory record is checked (declared entries, directory size) before the directory is
/// parsed, every entry's declared size before anything is decompressed, and then every entry
/// is decompressed, so a corrupt entry (bad CRC) or a size that lies in the header is caught.
/// Zips inside the site are opened and bounded the same way (a nested zip bomb is refused).
pub fn validate_site_zip(bytes: &[u8], limits: &WebLimits) -> Result<PackageContents, Rejection> {
    validate_site_archive(Cursor::new(bytes), limits)
}

/// The files of a site zip by path, each with its CRC-32 and size, read from the central
/// directory (the zip was validated, CRCs included, when it was registered).
pub fn site_files(bytes: &[u8]) -> Result<std::collections::BTreeMap<String, (u32, u64)>, Rejection> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| invalid(format!("the package is not a readable zip ({e})")))?;
    let mut files = std::collections::BTreeMap::new();
    for i in 0..archive.len() {
        let entry = archive
            .by_index_raw(i)
            .map_err(|e| invalid(format!("zip entry {i} cannot be read ({e})")))?;
        if entry.is_dir() {
            continue;
        }
        let name = entry
            .name()
            .map_err(|e| invalid(format!("zip entry {i} has an unreadable name ({e})")))?
            .to_string();
        files.insert(name, (entry.crc32(), entry.size()));
    }
    Ok(files)
}

/// How many names a plan line lists before "and N more".
const NAMES_SHOWN: usize = 5;

/// What deploying `next` over `live` changes, file by file, in plan lines: `3 files added
/// (a.js, b.css, c.png)`, `1 file changed (index.html)`, `2 files removed (...)`.
pub fn site_changes(
    live: &std::collections::BTreeMap<String, (u32, u64)>,
    next: &std::collections::BTreeMap<String, (u32, u64)>,
) -> Vec<String> {
    let added: Vec<&String> = next.keys().filter(|k| !live.contains_key(*k)).collect();
    let changed: Vec<&String> = next
        .iter()
        .filter(|(k, v)| live.get(*k).is_some_and(|old| old != *v))
        .map(|(k, _)| k)
        .collect();
    let removed: Vec<&String> = live.keys().filter(|k| !next.contains_key(*k)).collect();
    let line = |what: &str, names: &[&String]| {
        let shown: Vec<&str> = names.iter().take(NAMES_SHOWN).map(|s| s.as_str()).collect();
        let more = names.len().saturating_sub(NAMES_SHOWN);
        let noun = if names.len() == 1 { "file" } else { "files" };
        let tail = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        format!("{} {noun} {what} ({}{tail})", names.len(), shown.join(", "))
    };
    let mut out = Vec::new();
    if !added.is_empty() {
        out.push(line("added", &added));
    }
    if !changed.is_empty() {
        out.push(line("changed", &changed));
    }
    if !removed.is_empty() {
        out.push(line("removed", &removed));
    }
    if out.is_empty() {
        out.push("no file changes".to_string());
    }
    out
}

fn check_entry_path(name: &str) -> Result<(), Rejection> {
    let normalised = name.replace('\\', "/");
    let is_absolute = normalised.starts_with('/') || normalised.as_bytes().get(1) == Some(&b':');
    if is_absolute {
        return Err(invalid(format!(
            "zip entry '{name}' has an absolute path; entries must be relative to the site root"
        )));
    }
    if normalised.split('/').any(|segment| segment == "..") {
        return Err(invalid(format!(
            "zip entry '{name}' contains '..' (path traversal); entries must stay inside the site root"
        )));
    }
    if name.contains('\0') {
        return Err(invalid(format!("zip entry {name:?} contains a NUL byte")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use zip::write::SimpleFileOptions;

    use super::*;

    /// A zip of `files` (name, body), in order, each written with `options`. Shared with
    /// `archive`'s tests.
    pub(super) fn zip_with(files: &[(&str, &[u8])], options: SimpleFileOptions) -> Vec<u8> {
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, body) in files {
            out.start_file(*name, options).unwrap();
            out.write_all(body).unwrap();
        }
        out.finish().unwrap().into_inner()
    }

    /// A zip of `files` (name, body), deflated, as `zip -r` makes it.
    pub(super) fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        zip_with(files, SimpleFileOptions::default())
    }

    fn limits() -> WebLimits {
        WebLimits::with_total(10 * 1024 * 1024)
    }

    #[test]
    fn a_site_with_index_html_is_accepted_and_counted() {
        let zip = zip_of(&[
            ("index.html", b"<h1>hi</h1>"),
            ("assets/app.js", b"console.log(1)"),
            ("_headers", b"/*\n  X: y"),
        ]);
        assert_eq!(
            validate_site_zip(&zip, &limits()).unwrap(),
            PackageContents::Web {
                files: 3,
                bytes: 11 + 14 + 9
            }
        );
    }

    #[test]
    fn each_bad_site_is_refused_with_its_reason() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (Vec::new(), "empty"),
            (b"PK\x03\x04 not really a zip".to_vec(), "not a readable zip"),
            (zip_of(&[("dist/index.html", b"x")]), "no index.html at its root"),
            (zip_of(&[("index.html", b"x"), ("../evil.sh", b"x")]), "path traversal"),
            (
                zip_of(&[("index.html", b"x"), ("a/../../evil", b"x")]),
                "path traversal",
            ),
            (zip_of(&[("index.html", b"x"), ("/etc/passwd", b"x")]), "absolute path"),
            (zip_of(&[("index.html", b"x"), ("C:/x", b"x")]), "absolute path"),
        ];
        for (zip, expected) in cases {
            let err = validate_site_zip(&zip, &limits()).unwrap_err();
            assert!(
                err.reason.contains(expected),
                "expected '{expected}', got '{}'",
                err.reason
            );
        }
    }

    #[test]
    fn symlinks_are_refused() {
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        out.start_file("index.html", SimpleFileOptions::default()).unwrap();
        out.write_all(b"x").unwrap();
        out.add_symlink("link", "/etc/passwd", SimpleFileOptions::default())
            .unwrap();
        let zip = out.finish().unwrap().into_inner();
        let err = validate_site_zip(&zip, &limits()).unwrap_err();
        assert!(err.reason.contains("symbolic link"), "{}", err.reason);
    }

    #[test]
    fn limits_on_files_and_sizes_hold() {
        let tight = WebLimits {
            max_file_bytes: 10,
            max_files: 2,
            max_total_bytes: 15,
        };
        let err = validate_site_zip(&zip_of(&[("index.html", b"x"), ("a", b"x"), ("b", b"x")]), &tight).unwrap_err();
        assert_eq!(err.code, RejectCode::TooLarge);
        assert!(err.reason.contains("at most 2 files"), "{}", err.reason);
        let err = validate_site_zip(&zip_of(&[("index.html", &[b'x'; 11])]), &tight).unwrap_err();
        assert!(err.reason.contains("larger than"), "{}", err.reason);
        let err = validate_site_zip(&zip_of(&[("index.html", &[b'x'; 9]), ("b", &[b'x'; 9])]), &tight).unwrap_err();
        assert!(err.reason.contains("max_total_mib"), "{}", err.reason);
    }

    #[test]
    fn a_corrupted_entry_is_caught() {
        let mut zip = zip_of(&[("index.html", b"hello world, hello world")]);
        // Flip a byte of the stored data (after the 30-byte local header and the name).
        let at = 30 + "index.html".len() + 2;
        zip[at] ^= 0xff;
        let err = validate_site_zip(&zip, &limits()).unwrap_err();
        assert_eq!(err.code, RejectCode::InvalidContent, "{}", err.reason);
    }

    #[test]
    fn file_changes_are_counted_and_named() {
        let live = site_files(&zip_of(&[("index.html", b"v1"), ("old.js", b"x"), ("same.css", b"c")])).unwrap();
        let next = site_files(&zip_of(&[("index.html", b"v2"), ("same.css", b"c"), ("new.js", b"y")])).unwrap();
        assert_eq!(
            site_changes(&live, &next),
            vec![
                "1 file added (new.js)".to_string(),
                "1 file changed (index.html)".to_string(),
                "1 file removed (old.js)".to_string()
            ]
        );
        assert_eq!(site_changes(&next, &next), vec!["no file changes".to_string()]);
        let many: Vec<(String, Vec<u8>)> = (0..8).map(|i| (format!("f{i}.js"), vec![i])).collect();
        let refs: Vec<(&str, &[u8])> = many.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
        let lots = site_files(&zip_of(&refs)).unwrap();
        let empty = std::collections::BTreeMap::new();
        assert_eq!(
            site_changes(&empty, &lots),
            vec!["8 files added (f0.js, f1.js, f2.js, f3.js, f4.js and 3 more)".to_string()]
        );
    }
}
