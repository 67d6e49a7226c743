//! The page frame, its stylesheet and the security headers every page is sent with.

use base64::Engine;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use sha2::Digest;

/// The only stylesheet, inline; the CSP allows exactly this text by its hash.
pub const CSS: &str = "body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:0;color:#1a1a1a;background:#f6f7f9;line-height:1.5}\
main{max-width:46rem;margin:0 auto;padding:1.5rem}\
h1{font-size:1.5rem;margin:.2rem 0 1rem}h2{font-size:1.1rem;margin-top:1.6rem}\
.card{background:#fff;border:1px solid #d8dce3;border-radius:8px;padding:1rem 1.2rem;margin:1rem 0}\
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid #e4e7ec;vertical-align:top}\
.muted{color:#4a5160}.ok{color:#0b6b2e}.bad{color:#a4131c}.warn{color:#8a5a00}\
.banner{border-left:4px solid #0b4f6c;padding:.6rem .9rem;background:#eef5f9}\
.banner.bad{border-color:#a4131c;background:#fbeeee}.banner.ok{border-color:#0b6b2e;background:#edf7f0}\
button{font:inherit;padding:.55rem 1.1rem;border-radius:6px;border:1px solid #1a1a1a;cursor:pointer;margin-right:.6rem}\
button.approve{background:#0b6b2e;color:#fff;border-color:#0b6b2e}button.reject{background:#fff;color:#a4131c;border-color:#a4131c}\
textarea{width:100%;font:inherit;min-height:4rem;box-sizing:border-box}label{display:block;margin:.6rem 0}\
code{font-size:.9em;word-break:break-all}pre{white-space:pre-wrap;margin:0}";

/// Headers every Baton page carries: no caching, no referrer (links hold tokens), no framing.
pub const SECURITY_HEADERS: [(&str, &str); 4] = [
    ("Cache-Control", "no-store"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
];

/// A strict policy: nothing loads, no script runs, only the inline stylesheet above applies,
/// and forms post only back to Baton.
pub fn content_security_policy() -> String {
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(CSS.as_bytes()));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
}

/// A whole page around `body`.
pub fn page(title: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) " · Baton" }
                style { (PreEscaped(CSS)) }
            }
            body { main { (body) } }
        }
    }
    .into_string()
}
