//! A site zip read from any seekable source (ingest's spooled file, deploy's bytes), bounded
//! before it is parsed: the end-of-central-directory record's declared entry count and
//! directory size are checked first, then every entry's declared size, and only then is
//! anything decompressed, each entry within what the limits still allow. An entry that is itself
//! a zip is opened and bounded the same way, so a nested zip bomb is refused too.

use std::io::{Cursor, Read, Seek, SeekFrom};

use super::{WebLimits, check_entry_path, invalid};
use crate::package::{PackageContents, RejectCode, Rejection};

/// Central directory bytes allowed per permitted file: a record is 46 bytes plus the name and
/// extra fields, so 1 KiB per file leaves room for long paths.
const DIRECTORY_BYTES_PER_FILE: u64 = 1024;
/// How deep zips may nest inside the site's zip (a zip in a zip in the site is 2).
const MAX_NESTING: usize = 2;
/// How far from the end the end-of-central-directory record may start: its 22 bytes, a comment
/// of up to 64 KiB, and the 20-byte zip64 locator before it.
const TAIL_BYTES: u64 = 22 + 0xFFFF + 20;
/// A declared compression ratio above this is named in the refusal: a zip bomb's mark.
const BOMB_RATIO: u64 = 100;

const MIB: u64 = 1024 * 1024;

fn too_large(reason: String) -> Rejection {
    Rejection::new(RejectCode::TooLarge, reason)
}

/// What the end-of-central-directory record (or its zip64 form) declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Declared {
    entries: u64,
    directory_bytes: u64,
}

fn u16_at(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 2)
        .map_or(0, |s| u64::from(u16::from_le_bytes([s[0], s[1]])))
}
fn u32_at(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 4)
        .map_or(0, |s| u64::from(u32::from_le_bytes([s[0], s[1], s[2], s[3]])))
}
fn u64_at(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8).map_or(0, |s| {
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        u64::from_le_bytes(a)
    })
}

/// Every end-of-central-directory record in the archive's tail, as declared. The zip reader
/// falls back to earlier records when a later one does not parse, so each is checked.
fn declared_directories<R: Read + Seek>(reader: &mut R, len: u64) -> std::io::Result<Vec<Declared>> {
    let start = len.saturating_sub(TAIL_BYTES);
    reader.seek(SeekFrom::Start(start))?;
    let mut tail = Vec::new();
    reader.by_ref().take(TAIL_BYTES).read_to_end(&mut tail)?;
    let mut found = Vec::new();
    for at in (0..tail.len().saturating_sub(21)).rev() {
        if tail[at..at + 4] != [0x50, 0x4b, 0x05, 0x06] {
            continue;
        }
        let mut declared = Declared {
            entries: u16_at(&tail, at + 10),
            directory_bytes: u32_at(&tail, at + 12),
        };
        let zip64 = declared.entries == 0xFFFF
            || declared.directory_bytes == 0xFFFF_FFFF
            || u32_at(&tail, at + 16) == 0xFFFF_FFFF;
        if zip64 && at >= 20 && tail[at - 20..at - 16] == [0x50, 0x4b, 0x06, 0x07] {
            let record_at = u64_at(&tail, at - 20 + 8);
            if record_at.saturating_add(56) <= len {
                reader.seek(SeekFrom::Start(record_at))?;
                let mut record = [0u8; 56];
                reader.read_exact(&mut record)?;
                if record[..4] == [0x50, 0x4b, 0x06, 0x06] {
                    declared = Declared {
                        entries: u64_at(&record, 32),
                        directory_bytes: u64_at(&record, 40),
                    };
                }
            }
        }
        found.push(declared);
    }
    Ok(found)
}

/// Refuses an archive whose end-of-central-directory record declares more entries, or a larger
/// central directory, than the limits allow: read from the last bytes only, before the zip
/// reader parses (and allocates for) the directory. `what` names the archive in the reason.
fn check_declared<R: Read + Seek>(reader: &mut R, len: u64, limits: &WebLimits, what: &str) -> Result<(), Rejection> {
    let declared = declared_directories(reader, len)
        .map_err(|e| invalid(format!("{what} cannot be read ({e}); upload it again")))?;
    if declared.is_empty() {
        return Err(invalid(format!(
            "{what} is not a readable zip (it has no end of central directory record); upload a zip of the site build, e.g. `cd dist && zip -r ../site.zip .`"
        )));
    }
    let max_directory = limits.max_files as u64 * DIRECTORY_BYTES_PER_FILE;
    for d in declared {
        if d.entries > limits.max_files as u64 {
            return Err(too_large(format!(
                "{what} declares {} entries in its end of central directory record; at most {} files are allowed: zip only the site build, or split the site",
                d.entries, limits.max_files
            )));
        }
        if d.directory_bytes > max_directory {
            return Err(too_large(format!(
                "{what} declares a central directory of {} bytes; at most {max_directory} bytes ({} files with ordinary names) are allowed: rebuild the zip with the site's files only",
                d.directory_bytes, limits.max_files
            )));
        }
    }
    Ok(())
}

/// What the site's files expand to so far, and what nested zips expand to.
#[derive(Default)]
struct Tally {
    files: usize,
    total: u64,
    nested: u64,
    has_index: bool,
}

/// Checks a site zip read from `reader`: see [`super::validate_site_zip`] for the rules.
pub fn validate_site_archive<R: Read + Seek>(mut reader: R, limits: &WebLimits) -> Result<PackageContents, Rejection> {
    let len = reader
        .seek(SeekFrom::End(0))
        .map_err(|e| invalid(format!("the package cannot be read ({e}); upload it again")))?;
    if len == 0 {
        return Err(Rejection::new(
            RejectCode::Empty,
            "the package is empty (0 bytes); upload the zip of the site build",
        ));
    }
    let mut tally = Tally::default();
    walk(reader, len, limits, 0, "the package", &mut tally)?;
    if !tally.has_index {
        return Err(invalid(
            "the zip has no index.html at its root; zip the contents of the build folder, not the folder itself"
                .to_string(),
        ));
    }
    Ok(PackageContents::Web {
        files: tally.files,
        bytes: tally.total,
    })
}

/// One archive, the site's (`depth` 0) or one inside it: declared bounds, then every entry's
/// name and declared size, then the bytes. Nested archives' expansion is tallied apart and
/// bounded by the site's own total.
fn walk<R: Read + Seek>(
    mut reader: R,
    len: u64,
    limits: &WebLimits,
    depth: usize,
    what: &str,
    tally: &mut Tally,
) -> Result<(), Rejection> {
    check_declared(&mut reader, len, limits, what)?;
    let mut archive = zip::ZipArchive::new(reader).map_err(|e| {
        invalid(format!(
            "{what} is not a readable zip ({e}); upload a zip of the site build, e.g. `cd dist && zip -r ../site.zip .`"
        ))
    })?;
    let entries = archive.len();
    if entries > limits.max_files {
        return Err(too_large(format!(
            "the site has {entries} entries; at most {} files are allowed",
            limits.max_files
        )));
    }
    // First pass, headers only: paths, links and declared sizes, before any decompression.
    let mut declared_total: u64 = 0;
    let mut names = Vec::with_capacity(entries);
    for i in 0..entries {
        let entry = archive
            .by_index_raw(i)
            .map_err(|e| invalid(format!("zip entry {i} cannot be read ({e}); rebuild the zip")))?;
        let name = entry
            .name()
            .map_err(|e| invalid(format!("zip entry {i} has an unreadable name ({e}); rebuild the zip")))?
            .to_string();
        if depth == 0 {
            check_entry_path(&name)?;
            if entry.unix_mode().is_some_and(|mode| mode & 0o170000 == 0o120000) {
                return Err(invalid(format!(
                    "zip entry '{name}' is a symbolic link; zip the files themselves (zip without -y)"
                )));
            }
        }
        if !entry.is_dir() && entry.size() > limits.max_file_bytes {
            let ratio = entry.size() / entry.compressed_size().max(1);
            let bomb = if ratio > BOMB_RATIO {
                format!(
                    " from {} (a compression ratio of {ratio}:1, a zip bomb's)",
                    size_text(entry.compressed_size())
                )
            } else {
                String::new()
            };
            return Err(too_large(format!(
                "file '{name}' is larger than {}, the most Cloudflare Pages serves per file: it expands to {}{bomb}; remove it from the site",
                size_text(limits.max_file_bytes),
                size_text(entry.size()),
            )));
        }
        declared_total = declared_total.saturating_add(entry.size());
        names.push((name, entry.is_dir()));
    }
    let allowed = if depth == 0 {
        limits.max_total_bytes
    } else {
        limits.max_total_bytes.saturating_sub(tally.nested)
    };
    if declared_total > allowed {
        return Err(too_large(format!(
            "the site is larger than {} uncompressed, this component's max_total_mib: it expands to {}; make the site smaller or raise max_total_mib in baton.yaml",
            size_text(allowed),
            size_text(declared_total)
        )));
    }
    // Second pass: every byte, so a corrupt entry (bad CRC) or a size the header understates is
    // caught; each read stops one byte past what the limits still allow.
    for (i, (name, is_dir)) in names.into_iter().enumerate() {
        if is_dir {
            continue;
        }
        let mut entry = archive
            .by_index(i)
            .map_err(|e| invalid(format!("zip entry '{name}' cannot be read ({e}); rebuild the zip")))?;
        let corrupt = |e: std::io::Error| invalid(format!("zip entry '{name}' is corrupt ({e}); rebuild the zip"));
        let budget = if depth == 0 {
            limits
                .max_file_bytes
                .min(limits.max_total_bytes.saturating_sub(tally.total))
        } else {
            limits
                .max_file_bytes
                .min(limits.max_total_bytes.saturating_sub(tally.nested))
        };
        let mut head = Vec::with_capacity(4);
        (&mut entry)
            .take(4.min(budget + 1))
            .read_to_end(&mut head)
            .map_err(corrupt)?;
        let is_zip = head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06");
        let (read, nested) = if is_zip {
            // Zips inside the site are opened (in memory, within the per-file limit) and their
            // own expansion bounded: Baton serves them, and someone will unpack them.
            let mut bytes = head;
            (&mut entry)
                .take((budget + 1).saturating_sub(4))
                .read_to_end(&mut bytes)
                .map_err(corrupt)?;
            (bytes.len() as u64, Some(bytes))
        } else {
            let rest = std::io::copy(
                &mut (&mut entry).take((budget + 1).saturating_sub(4)),
                &mut std::io::sink(),
            )
            .map_err(corrupt)?;
            (head.len() as u64 + rest, None)
        };
        if read > limits.max_file_bytes {
            return Err(too_large(format!(
                "file '{name}' is larger than {} MiB, the most Cloudflare Pages serves per file",
                limits.max_file_bytes / MIB
            )));
        }
        if depth == 0 {
            tally.files += 1;
            tally.has_index |= name == "index.html";
            tally.total += read;
            if tally.total > limits.max_total_bytes {
                return Err(too_large(format!(
                    "the site is larger than {} MiB uncompressed, this component's max_total_mib",
                    limits.max_total_bytes / MIB
                )));
            }
        } else {
            tally.nested += read;
            if tally.nested > limits.max_total_bytes {
                return Err(nested_bomb(what, limits));
            }
        }
        if let Some(bytes) = nested {
            let level = depth + 1;
            if level > MAX_NESTING {
                return Err(invalid(format!(
                    "{what} holds a zip ('{name}') nested {level} deep in the package; zips inside a site may nest at most {MAX_NESTING} deep: remove the nested archives"
                )));
            }
            let inner = if depth == 0 {
                format!("zip entry '{name}'")
            } else {
                format!("{what} (entry '{name}')")
            };
            let len = bytes.len() as u64;
            walk(Cursor::new(bytes), len, limits, level, &inner, tally).map_err(|r| {
                if r.code == RejectCode::TooLarge && !r.reason.starts_with(&inner) {
                    nested_bomb(&inner, limits)
                } else {
                    r
                }
            })?;
        }
    }
    Ok(())
}

/// `25 MiB`, or `1234 bytes` below a MiB.
fn size_text(bytes: u64) -> String {
    if bytes >= MIB {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

fn nested_bomb(what: &str, limits: &WebLimits) -> Rejection {
    too_large(format!(
        "{what} is a zip that expands to more than {} (this component's max_total_mib), a nested zip bomb: remove it from the site",
        size_text(limits.max_total_bytes)
    ))
}

#[cfg(test)]
mod tests;
