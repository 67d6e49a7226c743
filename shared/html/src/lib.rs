//! Baton's HTML: pages and mails. Templates are maud macros, checked at compile time, and
//! every value interpolated into them is HTML-escaped, so notes and commit messages from
//! packages are inert.

pub mod access;
pub mod approval;
pub mod failure_page;
pub mod ics;
pub mod layout;
pub mod mail;
pub mod status;
pub mod time;
pub mod webhooks;

pub use layout::{SECURITY_HEADERS, content_security_policy, page, refreshing_page};
pub use time::human_time;
