//! A [`Mail`] with attachments or extra headers as a MIME message (RFC 2045–2049), for SES's raw content.
//!
//! ```text
//! multipart/mixed
//! ├── multipart/alternative
//! │   ├── text/plain; charset=UTF-8   (base64)
//! │   └── text/html; charset=UTF-8    (base64)
//! └── one part per attachment         (base64, Content-Disposition: attachment)
//! ```
//!
//! Every part is base64 in lines of 76 characters, so the message is 7-bit ASCII whatever the
//! bodies hold, and the boundaries (which contain `=_`) can occur in no encoded body.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use baton_domain::encoded_words;
use baton_domain::ports::{Attachment, Mail};
use chrono::{DateTime, Utc};

/// Longest base64 line (RFC 2045 §6.8).
const BASE64_LINE: usize = 76;

/// `mail` from `from` as a complete MIME message with CRLF line ends. `date` is its `Date`
/// header; `token` makes its boundaries unique (a random hex string in production).
pub fn message(from: &str, mail: &Mail, date: DateTime<Utc>, token: &str) -> String {
    let mixed = format!("=_baton_{token}_mixed");
    let alternative = format!("=_baton_{token}_alt");
    let mut out = String::new();
    header(&mut out, "From", &single_line(from));
    header(&mut out, "To", &single_line(&mail.to));
    header(&mut out, "Subject", &subject(&mail.subject));
    header(&mut out, "Date", &date.to_rfc2822());
    for (name, value) in &mail.headers {
        // The mailer refuses bad ones first ([`header_problem`]); dropping control characters
        // here as well keeps any caller from starting a header of its own.
        header(&mut out, &single_line(name), &single_line(value));
    }
    header(&mut out, "MIME-Version", "1.0");
    header(
        &mut out,
        "Content-Type",
        &format!("multipart/mixed; boundary=\"{mixed}\""),
    );
    out.push_str("\r\nThis is a multi-part message in MIME format.\r\n");

    out.push_str(&format!("\r\n--{mixed}\r\n"));
    header(
        &mut out,
        "Content-Type",
        &format!("multipart/alternative; boundary=\"{alternative}\""),
    );
    for (content_type, body) in [("text/plain", &mail.text), ("text/html", &mail.html)] {
        out.push_str(&format!("\r\n--{alternative}\r\n"));
        header(&mut out, "Content-Type", &format!("{content_type}; charset=UTF-8"));
        header(&mut out, "Content-Transfer-Encoding", "base64");
        out.push_str("\r\n");
        out.push_str(&base64_lines(body.as_bytes()));
    }
    out.push_str(&format!("\r\n--{alternative}--\r\n"));

    for attachment in &mail.attachments {
        out.push_str(&format!("\r\n--{mixed}\r\n"));
        attachment_headers(&mut out, attachment);
        out.push_str("\r\n");
        out.push_str(&base64_lines(&attachment.content));
    }
    out.push_str(&format!("\r\n--{mixed}--\r\n"));
    out
}

/// Header fields a mail's extra headers may not set: the ones [`message`] writes itself, and
/// recipients, which must all go through the SES destination.
const RESERVED_HEADERS: [&str; 8] = ["from", "to", "cc", "bcc", "subject", "date", "mime-version", "sender"];

/// What is wrong with a mail's extra headers, if anything: a name that is not a plain field
/// name, one Baton writes itself (or `Content-*`), or a value with CR, LF or other control
/// characters or non-ASCII text (which could start a header of its own, or need encoding).
pub fn header_problem(headers: &[(String, String)]) -> Option<String> {
    for (name, value) in headers {
        let lower = name.to_ascii_lowercase();
        if name.is_empty() || !name.bytes().all(|b| (33..=126).contains(&b) && b != b':') {
            return Some(format!("'{}' is not a mail header name", single_line(name)));
        }
        if RESERVED_HEADERS.contains(&lower.as_str()) || lower.starts_with("content-") {
            return Some(format!("the {name} header is Baton's own and cannot be set"));
        }
        if !value.bytes().all(|b| (32..=126).contains(&b) || b == b'\t') {
            return Some(format!(
                "the {name} header's value holds CR, LF, another control character or non-ASCII text"
            ));
        }
    }
    None
}

fn header(out: &mut String, name: &str, value: &str) {
    out.push_str(name);
    out.push_str(": ");
    out.push_str(value);
    out.push_str("\r\n");
}

/// A header value that cannot start another header: control characters dropped.
fn single_line(value: &str) -> String {
    value.chars().filter(|c| !c.is_control()).collect()
}

/// The subject as it may travel in a header: plain ASCII as is, anything else as UTF-8
/// encoded-words, one per folded line.
fn subject(value: &str) -> String {
    let encoded = encoded_words::encode(value);
    if encoded == value {
        encoded
    } else {
        // Encoded-words hold no spaces, so each space separates two words: fold there.
        encoded.replace(' ', "\r\n ")
    }
}

fn attachment_headers(out: &mut String, attachment: &Attachment) {
    let mut content_type = single_line(&attachment.content_type);
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if essence == "text/calendar" && !content_type.to_ascii_lowercase().contains("method=") {
        content_type.push_str("; method=PUBLISH");
    }
    let name = filename_parameter(&attachment.filename);
    header(
        out,
        "Content-Type",
        &format!("{content_type}; {}", name.replacen("filename", "name", 1)),
    );
    header(out, "Content-Disposition", &format!("attachment; {name}"));
    header(out, "Content-Transfer-Encoding", "base64");
}

/// `filename="..."` for a printable ASCII name, else RFC 2231's `filename*=UTF-8''...`.
fn filename_parameter(filename: &str) -> String {
    let filename = single_line(filename);
    if filename.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        let quoted = filename.replace('\\', "\\\\").replace('"', "\\\"");
        return format!("filename=\"{quoted}\"");
    }
    let mut encoded = String::new();
    for b in filename.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("filename*=UTF-8''{encoded}")
}

/// `bytes` in base64, lines of 76 characters, each ending in CRLF.
fn base64_lines(bytes: &[u8]) -> String {
    let encoded = STANDARD.encode(bytes);
    let mut out = String::with_capacity(encoded.len() + encoded.len() / BASE64_LINE * 2 + 2);
    for chunk in encoded.as_bytes().chunks(BASE64_LINE) {
        // Base64 is ASCII, so every chunk is a whole string.
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push_str("\r\n");
    }
    out
}

/// A random token for [`message`]'s boundaries: 32 hex digits.
pub fn boundary_token() -> String {
    let mut bytes = [0u8; 16];
    let _ = getrandom::fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn mail() -> Mail {
        Mail {
            to: "rm@example.com".into(),
            subject: "Deploy release 12 to PROD at 18:00".into(),
            text: "See https://baton.example.com/releases/rel-12\n".into(),
            html: "<p>See <a href=\"https://baton.example.com/releases/rel-12\">it</a></p>".into(),
            attachments: vec![Attachment {
                filename: "release-12.ics".into(),
                content_type: "text/calendar; charset=UTF-8".into(),
                content: b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n".to_vec(),
            }],
            headers: Vec::new(),
        }
    }

    fn date() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 20, 9, 30, 0).unwrap()
    }

    #[test]
    fn lays_out_mixed_with_alternative_bodies_and_the_attachment() {
        let text = message("baton@example.com", &mail(), date(), "abc");
        let expected_head = "From: baton@example.com\r\n\
            To: rm@example.com\r\n\
            Subject: Deploy release 12 to PROD at 18:00\r\n\
            Date: Fri, 20 Nov 2026 09:30:00 +0000\r\n\
            MIME-Version: 1.0\r\n\
            Content-Type: multipart/mixed; boundary=\"=_baton_abc_mixed\"\r\n\r\n";
        assert!(text.starts_with(expected_head), "{text}");
        let order = [
            "--=_baton_abc_mixed\r\nContent-Type: multipart/alternative; boundary=\"=_baton_abc_alt\"\r\n",
            "--=_baton_abc_alt\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n",
            "--=_baton_abc_alt\r\nContent-Type: text/html; charset=UTF-8\r\n",
            "--=_baton_abc_alt--\r\n",
            "--=_baton_abc_mixed\r\nContent-Type: text/calendar; charset=UTF-8; method=PUBLISH; name=\"release-12.ics\"\r\n\
             Content-Disposition: attachment; filename=\"release-12.ics\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n\
             QkVHSU46VkNBTEVOREFSDQpFTkQ6VkNBTEVOREFSDQo=\r\n",
            "--=_baton_abc_mixed--\r\n",
        ];
        let mut from = 0;
        for part in order {
            let at = text[from..].find(part).map(|i| i + from);
            assert!(at.is_some(), "{part:?} after byte {from} in\n{text}");
            from = at.unwrap_or_default() + part.len();
        }
        assert_eq!(from, text.len(), "nothing after the closing boundary");
        assert!(text.is_ascii());
        assert!(!text.replace("\r\n", "").contains(['\r', '\n']), "CRLF only");
    }

    #[test]
    fn base64_lines_are_76_characters() {
        let body = "Déploiement ✓ ".repeat(100);
        let long = Mail {
            text: body.clone(),
            ..mail()
        };
        let text = message("baton@example.com", &long, date(), "abc");
        let start = text.find("base64\r\n\r\n").map(|i| i + 10).unwrap_or_default();
        let end = start + text[start..].find("\r\n\r\n--").unwrap_or_default();
        let lines: Vec<&str> = text[start..end].split("\r\n").collect();
        assert!(lines.len() > 10, "{text}");
        let (last, full) = lines.split_last().unwrap();
        assert!(full.iter().all(|l| l.len() == BASE64_LINE), "{lines:?}");
        assert!(last.len() <= BASE64_LINE);
        assert_eq!(STANDARD.decode(lines.concat()).unwrap(), body.as_bytes());
    }

    #[test]
    fn a_subject_that_is_not_ascii_is_encoded_and_folded() {
        let subject = "Déploiement de la version 12 en PROD à 18 h — planifié par l’équipe";
        let text = message(
            "baton@example.com",
            &Mail {
                subject: subject.into(),
                ..mail()
            },
            date(),
            "abc",
        );
        let line = text.split("\r\nDate:").next().unwrap_or_default();
        let value = line.split_once("Subject: ").map(|(_, v)| v).unwrap_or_default();
        assert!(
            value.starts_with("=?UTF-8?B?") && value.contains("\r\n =?UTF-8?B?"),
            "{value}"
        );
        // Each word fits RFC 2047's 75 characters, each line its header's too.
        assert!(value.split("\r\n").all(|l| l.trim_start().len() <= 75), "{value}");
        assert_eq!(encoded_words::decode(&value.replace("\r\n", "")), subject);
    }

    #[test]
    fn header_values_cannot_add_headers() {
        let sneaky = Mail {
            to: "rm@example.com\r\nBcc: x@example.com".into(),
            subject: "Hi\r\nBcc: y@example.com".into(),
            attachments: vec![Attachment {
                filename: "a\".ics\r\nX-Evil: 1".into(),
                content_type: "text/calendar\r\nX-Evil: 2".into(),
                content: Vec::new(),
            }],
            ..mail()
        };
        let text = message("baton@example.com", &sneaky, date(), "abc");
        assert!(!text.contains("\r\nBcc:") && !text.contains("\r\nX-Evil"), "{text}");
        assert!(text.contains("filename=\"a\\\".icsX-Evil: 1\""), "{text}");
    }

    #[test]
    fn a_filename_that_is_not_ascii_uses_rfc_2231() {
        assert_eq!(
            filename_parameter("déploiement 12.ics"),
            "filename*=UTF-8''d%C3%A9ploiement%2012.ics"
        );
        let calendar = Attachment {
            filename: "x.ics".into(),
            content_type: "text/calendar; method=REQUEST".into(),
            content: Vec::new(),
        };
        let mut out = String::new();
        attachment_headers(&mut out, &calendar);
        assert!(
            out.starts_with("Content-Type: text/calendar; method=REQUEST; name=\"x.ics\"\r\n"),
            "{out}"
        );
    }

    #[test]
    fn extra_headers_go_in_the_head() {
        let link = "<https://baton.example.com/subscriptions/unsubscribe?id=a&token=b>";
        let with = Mail {
            attachments: Vec::new(),
            headers: vec![
                ("List-Unsubscribe".into(), link.into()),
                ("List-Unsubscribe-Post".into(), "List-Unsubscribe=One-Click".into()),
            ],
            ..mail()
        };
        assert_eq!(header_problem(&with.headers), None);
        let text = message("baton@example.com", &with, date(), "abc");
        let head = text.split("\r\n\r\n").next().unwrap_or_default();
        assert!(head.contains(&format!("\r\nList-Unsubscribe: {link}\r\n")), "{head}");
        assert!(
            head.contains("\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"),
            "{head}"
        );
    }

    #[test]
    fn extra_headers_that_could_add_headers_are_refused() {
        let bad = |name: &str, value: &str| header_problem(&[(name.to_string(), value.to_string())]);
        assert!(bad("List-Unsubscribe", "<x>\r\nBcc: x@example.com").is_some_and(|p| p.contains("CR, LF")));
        assert!(bad("List-Unsubscribe", "<x>\nBcc: x@example.com").is_some());
        assert!(bad("X-Evil\r\nBcc", "x").is_some_and(|p| p.contains("not a mail header name")));
        assert!(bad("Bcc", "x@example.com").is_some_and(|p| p.contains("Baton's own")));
        assert!(bad("Content-Type", "text/plain").is_some());
        assert!(bad("X-Note", "déjà").is_some());
        // Even unchecked, the message keeps them on one line.
        let sneaky = Mail {
            headers: vec![("X-Note".into(), "a\r\nBcc: x@example.com".into())],
            ..mail()
        };
        let text = message("baton@example.com", &sneaky, date(), "abc");
        assert!(!text.contains("\r\nBcc:"), "{text}");
    }

    #[test]
    fn boundary_tokens_differ() {
        let a = boundary_token();
        assert_eq!(a.len(), 32);
        assert_ne!(a, boundary_token());
    }
}
