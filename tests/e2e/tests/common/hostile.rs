//! Hostile packages (issue 14, item 6), shared by the ingest tests and the fault battery: each
//! with the key it is uploaded to and the words its rejection must hold.

// Each test binary that includes this file uses some of the packages, not all.
#![allow(dead_code)]

use std::io::{Cursor, Write};

use zip::write::SimpleFileOptions;

/// One hostile upload: where it goes, its bytes, and what the recorded reason must say.
pub struct Hostile {
    /// The object key.
    pub key: &'static str,
    /// The bytes.
    pub body: Vec<u8>,
    /// Phrases the rejection's reason must hold: what was wrong, and what to do.
    pub reason: &'static [&'static str],
}

const MIB: usize = 1024 * 1024;

/// A zip of `copies` entries, each `mib` MiB of zeros, compressed once and copied raw: a
/// bomb's ratio (about 1000:1) without compressing gigabytes in a test.
fn zeros_zip(prefix: &str, copies: usize, mib: usize) -> Vec<u8> {
    let mut one = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let _ = one.start_file("zeros", SimpleFileOptions::default());
    let _ = one.write_all(&vec![0u8; mib * MIB]);
    let one = one.finish().map(|c| c.into_inner()).unwrap_or_default();
    let mut source = zip::ZipArchive::new(Cursor::new(one)).expect("the zip just written");
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..copies {
        let entry = source.by_index_raw(0).expect("its only entry");
        let _ = out.raw_copy_file_rename(entry, format!("{prefix}{i}.bin"));
    }
    out.finish().map(|c| c.into_inner()).unwrap_or_default()
}

/// A site whose one extra file inflates 64 MiB of zeros from about 64 KiB.
pub fn zip_bomb() -> Hostile {
    let mut site = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let _ = site.start_file("index.html", SimpleFileOptions::default());
    let _ = site.write_all(b"<h1>hi</h1>");
    let bomb = zeros_zip("bomb", 1, 64);
    let mut source = zip::ZipArchive::new(Cursor::new(bomb)).expect("the zip just written");
    let _ = site.raw_copy_file_rename(source.by_index_raw(0).expect("its entry"), "assets/bomb.bin");
    Hostile {
        key: "packages/web/6.6.1/site.zip",
        body: site.finish().map(|c| c.into_inner()).unwrap_or_default(),
        reason: &[
            "file 'assets/bomb.bin' is larger than 25 MiB",
            "a zip bomb's",
            "remove it from the site",
        ],
    }
}

/// A site holding a zip whose ten entries inflate to 240 MiB, over the site's 200 MiB.
pub fn nested_zip_bomb() -> Hostile {
    let inner = zeros_zip("layer", 10, 24);
    Hostile {
        key: "packages/web/6.6.2/site.zip",
        body: baton_e2e::zip_of(&[("index.html", b"<h1>hi</h1>"), ("downloads/archive.zip", &inner)]),
        reason: &[
            "zip entry 'downloads/archive.zip' is a zip that expands to more than 200 MiB",
            "nested zip bomb",
            "remove it from the site",
        ],
    }
}

/// Not an archive at all: only a zip64 end of central directory record declaring a million
/// entries (with its locator and the classic record pointing at it).
pub fn million_entry_zip() -> Hostile {
    let entries: u64 = 1_000_000;
    let mut b = Vec::new();
    b.extend_from_slice(&0x0606_4b50u32.to_le_bytes());
    b.extend_from_slice(&44u64.to_le_bytes());
    b.extend_from_slice(&[45, 0, 45, 0]);
    b.extend_from_slice(&[0; 8]);
    b.extend_from_slice(&entries.to_le_bytes());
    b.extend_from_slice(&entries.to_le_bytes());
    b.extend_from_slice(&(entries * 46).to_le_bytes());
    b.extend_from_slice(&0u64.to_le_bytes());
    b.extend_from_slice(&0x0706_4b50u32.to_le_bytes());
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(&0u64.to_le_bytes());
    b.extend_from_slice(&1u32.to_le_bytes());
    b.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    b.extend_from_slice(&[0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
    b.extend_from_slice(&[0xff; 8]);
    b.extend_from_slice(&[0, 0]);
    Hostile {
        key: "packages/web/6.6.3/site.zip",
        body: b,
        reason: &["declares 1000000 entries", "at most 20000 files are allowed"],
    }
}

/// "Billion laughs": nine levels of nine aliases, about 1 KB that would expand to 9^9 strings.
pub fn yaml_alias_bomb() -> Hostile {
    let mut text = String::from("schemaVersion: 1\nl0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for level in 1..9 {
        let aliases = vec![format!("*l{}", level - 1); 9].join(", ");
        text.push_str(&format!("l{level}: &l{level} [{aliases}]\n"));
    }
    text.push_str("applications: *l8\n");
    Hostile {
        key: "packages/state/6.6.4/manifest.yaml",
        body: text.into_bytes(),
        reason: &[
            "uses an anchor (&name) at line 2",
            "may not use YAML anchors, aliases or tags",
            "write every value out in full",
        ],
    }
}

/// The sample manifest with a YAML tag on a value.
pub fn yaml_tag() -> Hostile {
    let text = String::from_utf8(baton_e2e::sample_manifest("1.4.2")).unwrap_or_default();
    Hostile {
        key: "packages/state/6.6.5/manifest.yaml",
        body: text
            .replacen("runtimeVersion: ", "runtimeVersion: !!str ", 1)
            .into_bytes(),
        reason: &["uses a tag (!name)", "write every value out in full"],
    }
}

/// The sample manifest padded with a comment past 1 MiB.
pub fn huge_manifest() -> Hostile {
    let mut body = baton_e2e::sample_manifest("1.4.2");
    body.extend_from_slice(format!("# {}\n", "x".repeat(MIB)).as_bytes());
    Hostile {
        key: "packages/state/6.6.6/manifest.yaml",
        body,
        reason: &["a state package may be at most 1048576 bytes", "see docs/manifest.md"],
    }
}
