use std::io::Write;

use zip::write::SimpleFileOptions;

use super::*;

fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, body) in files {
        out.start_file(*name, SimpleFileOptions::default()).unwrap();
        out.write_all(body).unwrap();
    }
    out.finish().unwrap().into_inner()
}

fn limits() -> WebLimits {
    WebLimits::with_total(200 * MIB)
}

fn refusal(bytes: Vec<u8>) -> Rejection {
    validate_site_archive(Cursor::new(bytes), &limits()).unwrap_err()
}

/// Only an end of central directory record (zip64 form) that declares `entries` entries: not an
/// archive at all, which is the point: it must be refused before anything parses a directory.
pub(crate) fn declaring_entries(entries: u64) -> Vec<u8> {
    let mut b = Vec::new();
    // zip64 end of central directory record, at offset 0.
    b.extend_from_slice(&0x0606_4b50u32.to_le_bytes());
    b.extend_from_slice(&44u64.to_le_bytes());
    b.extend_from_slice(&45u16.to_le_bytes());
    b.extend_from_slice(&45u16.to_le_bytes());
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(&entries.to_le_bytes());
    b.extend_from_slice(&entries.to_le_bytes());
    b.extend_from_slice(&(entries * 46).to_le_bytes());
    b.extend_from_slice(&0u64.to_le_bytes());
    // zip64 locator, pointing at it.
    b.extend_from_slice(&0x0706_4b50u32.to_le_bytes());
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(&0u64.to_le_bytes());
    b.extend_from_slice(&1u32.to_le_bytes());
    // The classic record, saying "see zip64".
    b.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    b.extend_from_slice(&[0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
    b.extend_from_slice(&[0xff; 8]);
    b.extend_from_slice(&0u16.to_le_bytes());
    b
}

#[test]
fn a_declared_million_entries_is_refused_from_the_last_bytes() {
    let r = refusal(declaring_entries(1_000_000));
    assert_eq!(r.code, RejectCode::TooLarge);
    assert!(
        r.reason.starts_with(
            "the package declares 1000000 entries in its end of central directory record; at most 20000 files"
        ),
        "{}",
        r.reason
    );
}

#[test]
fn a_classic_record_with_too_many_entries_or_too_big_a_directory_is_refused() {
    let mut zip = zip_of(&[("index.html", b"x")]);
    let eocd = zip.len() - 22;
    zip[eocd + 8..eocd + 12].copy_from_slice(&[0xfe, 0xff, 0xfe, 0xff]);
    assert!(
        refusal(zip.clone()).reason.contains("declares 65534 entries"),
        "{}",
        refusal(zip).reason
    );
    let mut zip = zip_of(&[("index.html", b"x")]);
    zip[eocd + 12..eocd + 16].copy_from_slice(&0x7fff_fff0u32.to_le_bytes());
    let r = refusal(zip);
    assert!(
        r.reason.contains("declares a central directory of 2147483632 bytes"),
        "{}",
        r.reason
    );
}

#[test]
fn a_zip_without_a_record_is_not_a_zip() {
    let r = refusal(b"PK\x03\x04 and nothing else".to_vec());
    assert_eq!(r.code, RejectCode::InvalidContent);
    assert!(r.reason.contains("no end of central directory record"), "{}", r.reason);
}

#[test]
fn a_zip_bomb_is_refused_by_its_declared_size_before_it_is_inflated() {
    // Small limits keep the test fast (deflating tens of MiB is slow in a debug build); the
    // checks are the same at any size.
    let small = WebLimits {
        max_file_bytes: MIB,
        ..limits()
    };
    let zeros = vec![0u8; 2 * MIB as usize];
    let r = validate_site_archive(
        Cursor::new(zip_of(&[("index.html", b"x"), ("bomb.bin", &zeros)])),
        &small,
    )
    .unwrap_err();
    assert_eq!(r.code, RejectCode::TooLarge);
    assert!(
        r.reason.starts_with("file 'bomb.bin' is larger than 1 MiB"),
        "{}",
        r.reason
    );
    assert!(r.reason.contains("a zip bomb's"), "{}", r.reason);
}

#[test]
fn a_nested_zip_bomb_is_refused_and_a_small_nested_zip_is_not() {
    let zeros = vec![0u8; 2 * MIB as usize];
    let inner = zip_of(&[("a", &zeros), ("b", &zeros)]);
    let tight = WebLimits {
        max_total_bytes: 3 * MIB,
        ..limits()
    };
    let r = validate_site_archive(
        Cursor::new(zip_of(&[("index.html", b"x"), ("files/x.zip", &inner)])),
        &tight,
    )
    .unwrap_err();
    assert_eq!(r.code, RejectCode::TooLarge);
    assert!(
        r.reason
            .starts_with("zip entry 'files/x.zip' is a zip that expands to more than 3 MiB"),
        "{}",
        r.reason
    );
    assert!(r.reason.contains("nested zip bomb"), "{}", r.reason);

    let docx = zip_of(&[("word/document.xml", b"<w/>")]);
    let site = zip_of(&[("index.html", b"x"), ("brochure.docx", &docx)]);
    assert!(validate_site_archive(Cursor::new(site), &limits()).is_ok());

    let deep = zip_of(&[("c.zip", &zip_of(&[("d.zip", &zip_of(&[("e", b"x")]))]))]);
    let r = refusal(zip_of(&[("index.html", b"x"), ("b.zip", &deep)]));
    assert!(r.reason.contains("nested 3 deep"), "{}", r.reason);
}
