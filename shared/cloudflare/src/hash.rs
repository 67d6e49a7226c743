//! The asset key wrangler computes for every file (reference §3.2).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// The asset key of a file: the first 32 lowercase hex characters of
/// `BLAKE3(base64_standard_padded(content) + extension)`, where `extension` is Node's `path.extname`
/// without the leading dot. It hashes the base64 *text*, not the raw bytes, exactly as wrangler does.
pub fn asset_hash(path: &str, content: &[u8]) -> String {
    let mut input = STANDARD.encode(content);
    input.push_str(extension(path));
    let digest = blake3::hash(input.as_bytes());
    let mut key = digest.to_hex().to_string();
    key.truncate(32);
    key
}

/// Node's `path.extname(path)` without the leading dot, case preserved: `a.tar.gz` → `gz`,
/// `.gitignore` → `""`, `.env.local` → `local`, `name.` → `""`, `dir.v2/file` → `""`.
///
/// A port of Node's posix `extname` loop, so the corner cases (leading dots, `..`) agree byte for byte.
pub fn extension(path: &str) -> &str {
    let bytes = path.as_bytes();
    let mut start_dot: Option<usize> = None;
    let mut start_part = 0usize;
    let mut end: Option<usize> = None;
    let mut matched_slash = true;
    // 0: nothing seen before the last dot; 1: only dots seen; -1: a non-dot character seen.
    let mut pre_dot_state = 0i8;
    for i in (0..bytes.len()).rev() {
        let byte = bytes[i];
        if byte == b'/' {
            if !matched_slash {
                start_part = i + 1;
                break;
            }
            continue;
        }
        if end.is_none() {
            matched_slash = false;
            end = Some(i + 1);
        }
        if byte == b'.' {
            if start_dot.is_none() {
                start_dot = Some(i);
            } else if pre_dot_state != 1 {
                pre_dot_state = 1;
            }
        } else if start_dot.is_some() {
            pre_dot_state = -1;
        }
    }
    let (Some(dot), Some(end)) = (start_dot, end) else {
        return "";
    };
    if pre_dot_state == 0 || (pre_dot_state == 1 && dot + 1 == end && dot == start_part + 1) {
        return "";
    }
    // `dot` and `end` sit on ASCII bytes ('.' and the byte after the last non-slash), so slicing is safe.
    path.get(dot + 1..end).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference's verified vectors (the first six match wrangler's deploy.test.ts).
    #[test]
    fn matches_the_reference_vectors() {
        let vectors: [(&str, &[u8], &str); 9] = [
            ("logo.png", b"foobar", "2082190357cfd3617ccfe04f340c6247"),
            ("notes.txt", b"foobar", "1a98fb08af91aca4a7df1764a2c4ddb0"),
            ("page.html", b"foobar", "d96fef225537c9f5e44a3cb27fd0b492"),
            ("app.js", b"foobar", "6be321bef99e758250dac034474ddbb8"),
            (".well-known/foobar", b"foobar", "7b764dacfd211bebd8077828a7ddefd7"),
            ("README.md", b"This is a readme", "13a03eaf24ae98378acd36ea00f77f2f"),
            ("index.html", b"<h1>hello</h1>", "6c67b21e4df57e1aa96d4e44b47ebc74"),
            ("assets/app.js", b"console.log(1)", "57368e4cf530bde37181ac2df88342ba"),
            ("empty", b"", "af1349b9f5f9a1a6a0404dea36dcc949"),
        ];
        for (path, content, key) in vectors {
            assert_eq!(asset_hash(path, content), key, "{path}");
        }
    }

    #[test]
    fn same_content_different_extension_differs() {
        assert_ne!(asset_hash("a.txt", b"x"), asset_hash("a.md", b"x"));
        assert_eq!(asset_hash("a/x.txt", b"x"), asset_hash("b/y.txt", b"x"));
    }

    #[test]
    fn extension_follows_node_extname() {
        let cases = [
            ("a.tar.gz", "gz"),
            ("file", ""),
            (".gitignore", ""),
            (".env.local", "local"),
            ("name.", ""),
            ("dir.v2/file", ""),
            ("dir/INDEX.HTML", "HTML"),
            ("..", ""),
            ("...", ""),
            ("..a", "a"),
            ("a/b.c/", "c"),
            ("", ""),
        ];
        for (path, ext) in cases {
            assert_eq!(extension(path), ext, "{path:?}");
        }
    }
}
