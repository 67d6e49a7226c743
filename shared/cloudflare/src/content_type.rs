//! The `contentType` wrangler sends with each asset: `mime` v3 `getType(name)`, else `application/octet-stream`.
//!
//! This is the subset of the mime database that static sites use; anything else falls back to
//! `application/octet-stream`, as wrangler does for types `mime` does not know.

/// What wrangler sends for a type it does not know.
pub const FALLBACK_CONTENT_TYPE: &str = "application/octet-stream";

/// The content type wrangler would send for a file (case-insensitive), following `mime` v3 `getType`:
/// the text after the last dot of the last path component; a name without a dot is looked up whole only
/// when it has no directory part (`getType("html")` is `text/html`, `getType("a/html")` is unknown).
pub fn content_type(path: &str) -> &'static str {
    let last = path.rsplit(['/', '\\']).next().unwrap_or("").to_ascii_lowercase();
    let ext = last.rsplit('.').next().unwrap_or("");
    let has_path = last.len() < path.len();
    let has_dot = ext.len() + 1 < last.len();
    if !has_dot && has_path {
        return FALLBACK_CONTENT_TYPE;
    }
    by_extension(ext).unwrap_or(FALLBACK_CONTENT_TYPE)
}

fn by_extension(ext: &str) -> Option<&'static str> {
    Some(match ext {
        "html" | "htm" | "shtml" => "text/html",
        "css" => "text/css",
        "js" | "mjs" | "cjs" => "application/javascript",
        "json" | "map" => "application/json",
        "jsonld" => "application/ld+json",
        "webmanifest" => "application/manifest+json",
        "xml" | "xsl" | "xsd" | "rng" => "application/xml",
        "rss" => "application/rss+xml",
        "atom" => "application/atom+xml",
        "txt" | "text" | "conf" | "def" | "list" | "log" | "in" | "ini" => "text/plain",
        "md" | "markdown" => "text/markdown",
        "csv" => "text/csv",
        "ics" | "ifb" => "text/calendar",
        "yaml" | "yml" => "text/yaml",
        "toml" => "application/toml",
        "vtt" => "text/vtt",
        "png" => "image/png",
        "jpg" | "jpeg" | "jpe" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "svg" | "svgz" => "image/svg+xml",
        "ico" => "image/vnd.microsoft.icon",
        "bmp" => "image/bmp",
        "tif" | "tiff" => "image/tiff",
        "apng" => "image/apng",
        "heic" => "image/heic",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "eot" => "application/vnd.ms-fontobject",
        "wasm" => "application/wasm",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        "tar" => "application/x-tar",
        "mp4" | "mp4v" | "mpg4" => "video/mp4",
        "webm" => "video/webm",
        "ogv" => "video/ogg",
        "mov" | "qt" => "video/quicktime",
        "ts" => "video/mp2t",
        "mp3" | "mpga" => "audio/mpeg",
        "wav" => "audio/wav",
        "ogg" | "oga" | "spx" | "opus" => "audio/ogg",
        "m4a" => "audio/mp4",
        "aac" => "audio/aac",
        "flac" => "audio/flac",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_types_in_wranglers_tests() {
        assert_eq!(content_type("logo.png"), "image/png");
        assert_eq!(content_type("a.txt"), "text/plain");
        assert_eq!(content_type("README.md"), "text/markdown");
        assert_eq!(content_type("assets/app.js"), "application/javascript");
        assert_eq!(content_type("index.html"), "text/html");
        assert_eq!(content_type("INDEX.HTML"), "text/html");
        assert_eq!(content_type(".well-known/foobar"), FALLBACK_CONTENT_TYPE);
        assert_eq!(content_type("data.unknownext"), FALLBACK_CONTENT_TYPE);
    }
}
