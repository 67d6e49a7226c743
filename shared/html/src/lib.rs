//! Baton's HTML: pages and mails. Templates are maud macros, checked at compile time, and
//! every value interpolated into them is HTML-escaped, so notes and commit messages from
//! packages are inert.

pub mod approval;
pub mod layout;
pub mod mail;
pub mod status;

pub use layout::{SECURITY_HEADERS, content_security_policy, page};

/// A time as people read it: `Fri 27 Nov 2026, 14:00 UTC`.
pub fn human_time(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%a %-d %b %Y, %H:%M UTC").to_string()
}
