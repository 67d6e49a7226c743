use std::io::Write;

use zip::CompressionMethod;
use zip::write::SimpleFileOptions;

use super::*;
use crate::web::tests::{zip_of, zip_with};

fn limits() -> WebLimits {
    WebLimits::with_total(200 * MIB)
}

fn refusal(bytes: Vec<u8>) -> Rejection {
    validate_site_archive(Cursor::new(bytes), &limits()).unwrap_err()
}

fn check(bytes: &[u8], limits: &WebLimits) -> Result<PackageContents, Rejection> {
    validate_site_archive(Cursor::new(bytes), limits)
}

/// Limits of `bytes` per file and in total, and at most 10 files.
fn bytes_limits(bytes: u64) -> WebLimits {
    WebLimits {
        max_file_bytes: bytes,
        max_files: 10,
        max_total_bytes: bytes,
    }
}

/// A zip of `files` stored as they are (no compression), so their bytes appear in the zip.
fn stored_zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    zip_with(
        files,
        SimpleFileOptions::default().compression_method(CompressionMethod::Stored),
    )
}

/// End of central directory records and nothing else: `pad` bytes, a zip64 end of central
/// directory record declaring `entries` entries, its locator (pointing at it), then the classic
/// record declaring `classic` (entries, directory size, directory offset). Not an archive at
/// all, which is the point: the declared counts must be checked before anything parses a
/// directory.
fn records(pad: usize, entries: u64, classic: (u16, u32, u32)) -> Vec<u8> {
    let mut b = vec![0u8; pad];
    // zip64 end of central directory record, at offset `pad`.
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
    b.extend_from_slice(&(pad as u64).to_le_bytes());
    b.extend_from_slice(&1u32.to_le_bytes());
    // The classic record.
    let (classic_entries, directory_bytes, directory_at) = classic;
    b.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    b.extend_from_slice(&[0, 0, 0, 0]);
    b.extend_from_slice(&classic_entries.to_le_bytes());
    b.extend_from_slice(&classic_entries.to_le_bytes());
    b.extend_from_slice(&directory_bytes.to_le_bytes());
    b.extend_from_slice(&directory_at.to_le_bytes());
    b.extend_from_slice(&0u16.to_le_bytes());
    b
}

/// Only an end of central directory record (zip64 form) that declares `entries` entries, the
/// classic record saying "see zip64" in every field.
pub(crate) fn declaring_entries(entries: u64) -> Vec<u8> {
    records(0, entries, (0xFFFF, 0xFFFF_FFFF, 0xFFFF_FFFF))
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

#[test]
fn a_site_exactly_at_each_limit_is_accepted_and_a_byte_over_is_refused() {
    let tight = WebLimits {
        max_file_bytes: 4096,
        max_files: 2,
        max_total_bytes: 6000,
    };
    let site = |index: usize, other: usize| {
        stored_zip_of(&[("index.html", &vec![b'x'; index]), ("other.txt", &vec![b'y'; other])])
    };
    assert_eq!(
        check(&site(4096, 1904), &tight).unwrap(),
        PackageContents::Web { files: 2, bytes: 6000 }
    );

    let r = check(&site(4097, 1903), &tight).unwrap_err();
    assert_eq!(r.code, RejectCode::TooLarge);
    assert_eq!(
        r.reason,
        "file 'index.html' is larger than 4096 bytes, the most Cloudflare Pages serves per file: it expands to 4097 bytes; remove it from the site"
    );

    let r = check(&site(4096, 1905), &tight).unwrap_err();
    assert_eq!(r.code, RejectCode::TooLarge);
    assert_eq!(
        r.reason,
        "the site is larger than 6000 bytes uncompressed, this component's max_total_mib: it expands to 6001 bytes; make the site smaller or raise max_total_mib in baton.yaml"
    );
}

#[test]
fn a_central_directory_of_exactly_the_allowed_size_is_accepted_and_a_byte_more_is_refused() {
    // Two files allow 2 KiB of central directory; a long name fills it to the byte.
    let tight = WebLimits {
        max_file_bytes: 1000,
        max_files: 2,
        max_total_bytes: 1000,
    };
    let site = |name_len: usize| zip_of(&[("index.html", b"x"), (&"a".repeat(name_len), b"y")]);
    let directory = |zip: &[u8]| u32_at(zip, zip.len() - 22 + 12) as usize;
    let name_len = 100 + 2048 - directory(&site(100));
    let at_limit = site(name_len);
    assert_eq!(directory(&at_limit), 2048);
    assert_eq!(
        check(&at_limit, &tight).unwrap(),
        PackageContents::Web { files: 2, bytes: 2 }
    );

    let r = check(&site(name_len + 1), &tight).unwrap_err();
    assert_eq!(r.code, RejectCode::TooLarge);
    assert_eq!(
        r.reason,
        "the package declares a central directory of 2049 bytes; at most 2048 bytes (2 files with ordinary names) are allowed: rebuild the zip with the site's files only"
    );
}

/// `zip` with its first entry's declared uncompressed size set to `size` in both its local
/// and its central header: a zip whose headers lie about what the entry expands to.
fn declaring_first_size(mut zip: Vec<u8>, size: u32) -> Vec<u8> {
    zip[22..26].copy_from_slice(&size.to_le_bytes());
    let central = zip.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
    zip[central + 24..central + 28].copy_from_slice(&size.to_le_bytes());
    zip
}

#[test]
fn an_oversized_file_is_called_a_zip_bomb_only_above_a_ratio_of_100() {
    let tight = WebLimits {
        max_file_bytes: 3000,
        ..bytes_limits(1 << 20)
    };
    let zip = stored_zip_of(&[("big.bin", &[b'x'; 40]), ("index.html", b"x")]);

    let r = check(&declaring_first_size(zip.clone(), 4000), &tight).unwrap_err();
    assert_eq!(r.code, RejectCode::TooLarge);
    assert_eq!(
        r.reason,
        "file 'big.bin' is larger than 3000 bytes, the most Cloudflare Pages serves per file: it expands to 4000 bytes; remove it from the site"
    );

    let r = check(&declaring_first_size(zip, 4040), &tight).unwrap_err();
    assert_eq!(r.code, RejectCode::TooLarge);
    assert_eq!(
        r.reason,
        "file 'big.bin' is larger than 3000 bytes, the most Cloudflare Pages serves per file: it expands to 4040 bytes from 40 bytes (a compression ratio of 101:1, a zip bomb's); remove it from the site"
    );
}

#[test]
fn each_zip64_marker_in_the_classic_record_sends_the_check_to_the_zip64_record() {
    // The zip reader reads the zip64 record when any one of these fields is at its maximum;
    // the record sits after some bytes, so its offset comes from the locator.
    for classic in [(0xFFFF, 0, 0), (0, 0xFFFF_FFFF, 0), (0, 0, 0xFFFF_FFFF)] {
        let r = refusal(records(7, 1_000_000, classic));
        assert_eq!(r.code, RejectCode::TooLarge, "{classic:x?}: {}", r.reason);
        assert!(
            r.reason.starts_with(
                "the package declares 1000000 entries in its end of central directory record; at most 20000 files"
            ),
            "{classic:x?}: {}",
            r.reason
        );
    }
}

#[test]
fn a_classic_record_without_zip64_markers_is_taken_at_its_word() {
    // An empty archive whose record follows a zip64 locator: the zip reader ignores the
    // locator, so the check does too, and the empty site is refused for what it lacks.
    let r = refusal(records(7, 1_000_000, (0, 0, 0)));
    assert_eq!(r.code, RejectCode::InvalidContent, "{}", r.reason);
    assert!(
        r.reason.starts_with("the zip has no index.html at its root"),
        "{}",
        r.reason
    );
}

#[test]
fn a_zip_with_the_longest_comment_is_read_by_its_own_record_not_a_stray_one_further_back() {
    // A file holding bytes that look like a record (declaring 65534 entries), followed by
    // the central directory, the real record and a 64 KiB comment.
    let mut stray = b"x".to_vec();
    stray.extend_from_slice(b"PK\x05\x06\0\0\0\0\xfe\xff\xfe\xff\0\0\0\0\0\0\0\0\0\0");
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    for (name, body) in [("index.html", &b"x"[..]), ("stray.bin", &stray)] {
        out.start_file(name, stored).unwrap();
        out.write_all(body).unwrap();
    }
    out.set_raw_comment(vec![b'c'; 0xFFFF].into()).unwrap();
    let zip = out.finish().unwrap().into_inner();
    let stray_at = zip.windows(4).position(|w| w == b"PK\x05\x06").unwrap();
    assert!((zip.len() - stray_at) as u64 > TAIL_BYTES);

    assert_eq!(
        check(&zip, &limits()).unwrap(),
        PackageContents::Web { files: 2, bytes: 24 }
    );
}

#[test]
fn nested_zips_may_expand_to_exactly_max_total_and_not_a_byte_more() {
    // A zip in a zip in the site, then one more file in the outer zip that brings what the
    // nested zips expand to exactly to the limit: 1 byte, 10 bytes, or an empty zip.
    let e = vec![0u8; 1000];
    let b = zip_of(&[("e", &e)]);
    for last in [&b"1"[..], b"0123456789", &zip_of(&[])] {
        let a = zip_of(&[("b.zip", &b), ("last", last)]);
        let site = zip_of(&[("index.html", b"x"), ("a.zip", &a)]);
        let exact = (b.len() + e.len() + last.len()) as u64;
        assert_eq!(
            check(&site, &bytes_limits(exact)).unwrap(),
            PackageContents::Web {
                files: 2,
                bytes: 1 + a.len() as u64
            },
            "{last:?}"
        );

        let r = check(&site, &bytes_limits(exact - 1)).unwrap_err();
        assert_eq!(r.code, RejectCode::TooLarge, "{last:?}: {}", r.reason);
        assert_eq!(
            r.reason,
            format!(
                "zip entry 'a.zip' is a zip that expands to more than {} bytes (this component's max_total_mib), a nested zip bomb: remove it from the site",
                exact - 1
            ),
            "{last:?}"
        );
    }
}

/// A stored zip whose first entry, `bad`, fails its CRC, and whose second, `big`, holds
/// `big` bytes.
fn with_a_corrupt_entry(big: usize) -> Vec<u8> {
    let mut zip = stored_zip_of(&[("bad", b"corrupt me, please"), ("big", &vec![b'y'; big])]);
    let at = zip.windows(7).position(|w| w == b"corrupt").unwrap();
    zip[at] ^= 0xff;
    zip
}

#[test]
fn a_corrupt_entry_in_a_nested_zip_is_reported_as_corrupt_not_as_a_bomb() {
    let site = zip_of(&[("index.html", b"x"), ("a.zip", &with_a_corrupt_entry(10))]);
    let r = check(&site, &limits()).unwrap_err();
    assert_eq!(r.code, RejectCode::InvalidContent, "{}", r.reason);
    assert!(r.reason.starts_with("zip entry 'bad' is corrupt"), "{}", r.reason);
}

#[test]
fn a_nested_zip_that_would_take_the_nested_total_past_the_limit_is_refused_before_it_is_read() {
    // p.zip expands to 600 bytes; a.zip declares 518 more, within 1000 on its own but not
    // with p.zip's: it is refused from its declared sizes, before its corrupt entry is read.
    let p = zip_of(&[("p", &[0u8; 600])]);
    let site = zip_of(&[
        ("index.html", b"x"),
        ("p.zip", &p),
        ("a.zip", &with_a_corrupt_entry(500)),
    ]);
    let r = check(&site, &bytes_limits(1000)).unwrap_err();
    assert_eq!(r.code, RejectCode::TooLarge, "{}", r.reason);
    assert!(
        r.reason.starts_with(
            "zip entry 'a.zip' is a zip that expands to more than 1000 bytes (this component's max_total_mib), a nested zip bomb"
        ),
        "{}",
        r.reason
    );
}

#[test]
fn a_zip_in_a_zip_is_read_in_full_when_the_site_is_a_few_bytes_under_its_total() {
    // What nested zips expand to is tallied apart from the site's own total: the site's 10
    // bytes to spare do not bound how much of b.zip is read.
    let b = zip_of(&[("e", b"hello")]);
    let a = zip_of(&[("b.zip", &b)]);
    let index = vec![b'x'; 100];
    let site = zip_of(&[("index.html", &index), ("a.zip", &a)]);
    let own = (index.len() + a.len()) as u64;
    assert_eq!(
        check(&site, &bytes_limits(own + 10)).unwrap(),
        PackageContents::Web { files: 2, bytes: own }
    );
}
