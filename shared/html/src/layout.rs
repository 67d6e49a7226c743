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
code{font-size:.9em;word-break:break-all}pre{white-space:pre-wrap;margin:0}\
main:has(>.status){max-width:72rem}a{color:#0b4f6c}a:focus-visible{outline:3px solid #0b4f6c;outline-offset:2px}\
.top{display:flex;flex-wrap:wrap;justify-content:space-between;align-items:flex-end;gap:0 1rem}.top h1{margin:0}\
.brand{margin:0;font-weight:600;color:#4a5160}.lead{margin:.3rem 0 0}.updated{margin:0}.small{font-size:.875rem}\
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(20rem,100%),1fr));gap:1rem}.grid>.card{margin:0}\
.env h3,.figure h3,.step h3{margin:0;font-size:.85rem;letter-spacing:.06em;text-transform:uppercase;color:#4a5160}\
.big{font-size:1.3rem;font-weight:650;margin:.2rem 0}.env table{margin-top:.4rem}.compact th,.compact td{padding:.3rem .4rem}\
.badge{display:inline-block;padding:0 .55rem;border-radius:999px;font-size:.85rem;font-weight:600;border:1px solid currentColor;background:#fff;vertical-align:middle}\
.badge.info{color:#0b4f6c}.badge.quiet{color:#4a5160}.badge.ok{background:#edf7f0}.badge.bad{background:#fbeeee}.badge.warn{background:#fdf5e6}\
.banner.info{border-color:#0b4f6c}.status .banner{margin:1rem 0}.banner p{margin:.3rem 0}.bad-text{color:#a4131c}\
ul.flights{list-style:none;padding:0;margin:0}ul.flights li{margin:.6rem 0}ul.flights p{margin:.3rem 0 0}\
.scroll{overflow-x:auto;background:#fff;border:1px solid #d8dce3;border-radius:8px}.scroll table{margin:0}\
.figures{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(14rem,100%),1fr));gap:1rem}.figures .card{margin:0}\
.figure .value{font-size:1.6rem;font-weight:700;margin:.2rem 0}.figure p{margin:.2rem 0}\
ol.steps{display:grid;grid-template-columns:repeat(auto-fit,minmax(14rem,1fr));gap:1rem;list-style:none;padding:0;margin:0}\
.step{margin:0;border-top-width:5px}.step.is-ok{border-top-color:#0b6b2e}.step.is-bad{border-top-color:#a4131c}.step.is-warn{border-top-color:#b07400}.step.is-info{border-top-color:#0b4f6c}\
.step p{margin:.2rem 0}ol.timeline{list-style:none;padding:0;margin:0;border-left:3px solid #d8dce3}\
ol.timeline li{display:grid;grid-template-columns:7.5rem 1fr;gap:.5rem;padding:.25rem 0 .5rem 1rem}.when{font-weight:600}.comment{margin:.1rem 0 0}\
.nowrap{white-space:nowrap}.app{font-family:ui-monospace,monospace;font-size:.9em;white-space:nowrap}.key{font-family:ui-monospace,monospace;font-size:.9em;overflow-wrap:break-word}\
ul.notes{padding-left:1.2rem}ul.notes li{margin:.4rem 0}ul.notes p{margin:.1rem 0}.note{white-space:pre-wrap}\
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem}dl.facts dt{color:#4a5160}dl.facts dd{margin:0}\
footer{margin-top:2rem;border-top:1px solid #d8dce3}\
svg.picture{display:block;width:100%;max-width:26rem;height:auto;margin:.4rem auto}\
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}\
@media (max-width:40rem){main{padding:1rem}ol.timeline li{grid-template-columns:1fr;gap:0}dl.facts{grid-template-columns:1fr}}\
@media (max-width:30rem){table thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}\
table,tbody,tr,th,td{display:block;width:auto}tr{border-bottom:1px solid #d8dce3;padding:.3rem 0}th,td{border:0;padding:.15rem .5rem}\
td[data-label]::before{content:attr(data-label) \": \";font-weight:600;color:#4a5160}.nowrap,.app{white-space:normal}\
a,td,dd,.key{overflow-wrap:anywhere}.scroll{overflow-x:visible}main{padding:.75rem}}";

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
    page_with(title, body, None)
}

/// Seconds between reloads of a page that shows live progress (the status overview and a
/// release's page): a `<meta http-equiv="refresh">`, which needs no script, so the CSP stays
/// as strict. Never on a form or a form's answer: a reload would lose what was typed.
pub const REFRESH_SECONDS: u32 = 30;

/// A page that reloads itself every [`REFRESH_SECONDS`].
pub fn refreshing_page(title: &str, body: Markup) -> String {
    page_with(title, body, Some(REFRESH_SECONDS))
}

fn page_with(title: &str, body: Markup, refresh: Option<u32>) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                @if let Some(seconds) = refresh { meta http-equiv="refresh" content=(seconds); }
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
