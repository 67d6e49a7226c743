//! The local outbox: every mail the functions send through SES, captured as the runner
//! forwards it to moto, shown at `/_local/outbox` (HTML, links clickable) and
//! `/_local/outbox.json` (recipient, subject, text, links, attachments, a raw message's headers).
//!
//! SES v2 takes a mail as `Simple` content (subject and bodies as JSON) or as `Raw` content (a
//! whole MIME message, base64 in the JSON; what Baton sends when a mail has attachments). moto
//! keeps either, but the outbox reads the request itself, so it parses a raw message too.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use base64::Engine;
use mail_parser::{MessageParser, MimeHeaders};
use serde::Serialize;
use serde_json::Value;

/// One sent mail.
#[derive(Debug, Clone, Serialize)]
pub struct SentMail {
    /// Sender.
    pub from: String,
    /// Recipients.
    pub to: Vec<String>,
    /// Subject.
    pub subject: String,
    /// Plain text body.
    pub text: String,
    /// Links found in the text body.
    pub links: Vec<String>,
    /// Files attached (only a raw message has any).
    pub attachments: Vec<SentAttachment>,
    /// The message's own header fields, as sent (only a raw message has them), e.g.
    /// `List-Unsubscribe`. Values are unfolded and trimmed.
    pub headers: Vec<(String, String)>,
    /// When the runner saw it (RFC 3339).
    pub sent_at: String,
}

/// One file attached to a sent mail.
#[derive(Debug, Clone, Serialize)]
pub struct SentAttachment {
    /// Its file name.
    pub filename: String,
    /// Its media type with its parameters but the name, e.g. `text/calendar; charset=UTF-8;
    /// method=PUBLISH`.
    pub content_type: String,
    /// Its content, decoded: the text when it is UTF-8, else base64.
    pub content: String,
}

/// The mails sent so far, oldest first.
pub type Outbox = Arc<Mutex<Vec<SentMail>>>;

/// Records an SES v2 `SendEmail` request body (`POST /v2/email/outbound-emails`).
pub fn capture(outbox: &Outbox, body: &[u8]) {
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    let text_of = |pointer: &str| {
        request
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let mut mail = SentMail {
        from: text_of("/FromEmailAddress"),
        to: request
            .pointer("/Destination/ToAddresses")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
            .unwrap_or_default(),
        subject: text_of("/Content/Simple/Subject/Data"),
        text: text_of("/Content/Simple/Body/Text/Data"),
        links: Vec::new(),
        attachments: Vec::new(),
        headers: Vec::new(),
        sent_at: chrono::Utc::now().to_rfc3339(),
    };
    if let Some(raw) = request.pointer("/Content/Raw/Data").and_then(Value::as_str) {
        read_raw(&mut mail, raw);
    }
    mail.links = links(&mail.text);
    if let Ok(mut mails) = outbox.lock() {
        mails.push(mail);
    }
}

/// Fills `mail` from a raw message (base64 of MIME): the subject decoded, the text body, the
/// attachments; sender and recipients from its headers when the request named none.
fn read_raw(mail: &mut SentMail, raw: &str) {
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(raw.trim()) else {
        return;
    };
    let Some(message) = MessageParser::default().parse(&bytes) else {
        return;
    };
    let address = |a: Option<&mail_parser::Address>| -> Vec<String> {
        a.map(|a| a.iter().filter_map(|a| a.address().map(str::to_string)).collect())
            .unwrap_or_default()
    };
    if mail.from.is_empty() {
        mail.from = address(message.from()).join(", ");
    }
    if mail.to.is_empty() {
        mail.to = address(message.to());
    }
    mail.headers = message
        .headers_raw()
        .map(|(name, value)| (name.to_string(), value.replace(['\r', '\n'], "").trim().to_string()))
        .collect();
    mail.subject = message.subject().unwrap_or_default().to_string();
    mail.text = message.body_text(0).unwrap_or_default().into_owned();
    for part in message.attachments() {
        let content_type = part.content_type().map(media_type).unwrap_or_default();
        let content = match std::str::from_utf8(part.contents()) {
            Ok(text) => text.to_string(),
            Err(_) => base64::engine::general_purpose::STANDARD.encode(part.contents()),
        };
        mail.attachments.push(SentAttachment {
            filename: part.attachment_name().unwrap_or_default().to_string(),
            content_type,
            content,
        });
    }
}

/// `type/subtype; key=value...`, without the `name` parameter (the file name is shown apart).
fn media_type(content_type: &mail_parser::ContentType) -> String {
    let mut out = content_type.ctype().to_string();
    if let Some(subtype) = content_type.subtype() {
        out.push('/');
        out.push_str(subtype);
    }
    for attribute in content_type.attributes().unwrap_or_default() {
        if !attribute.name.eq_ignore_ascii_case("name") {
            out.push_str(&format!("; {}={}", attribute.name, attribute.value));
        }
    }
    out
}

/// Every http(s) URL in `text`.
pub fn links(text: &str) -> Vec<String> {
    text.split_whitespace()
        .filter(|w| w.starts_with("http://") || w.starts_with("https://"))
        .map(|w| w.trim_end_matches(['.', ',', ')', ';']).to_string())
        .collect()
}

pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `/_local/outbox.json`.
pub async fn json(State(outbox): State<Outbox>) -> Response {
    let mails = outbox.lock().map(|m| m.clone()).unwrap_or_default();
    axum::Json(mails).into_response()
}

/// `/_local/outbox`: newest first, each link clickable.
pub async fn page(State(outbox): State<Outbox>) -> Html<String> {
    let mails = outbox.lock().map(|m| m.clone()).unwrap_or_default();
    let mut html = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"5\"><title>Local outbox · Baton</title>\
         <style>body{font-family:system-ui,sans-serif;max-width:50rem;margin:1rem auto;padding:0 1rem}article{border:1px solid #ccd;border-radius:8px;padding:.6rem 1rem;margin:1rem 0}pre{white-space:pre-wrap}</style></head><body>\
         <h1>Local outbox</h1><p>Every mail Baton sent through SES on this local stack, newest first. This page refreshes every 5 seconds.</p>",
    );
    if mails.is_empty() {
        html.push_str("<p><em>No mail yet.</em></p>");
    }
    for mail in mails.iter().rev() {
        let mut body = escape(&mail.text);
        for link in &mail.links {
            let shown = escape(link);
            body = body.replace(&shown, &format!("<a href=\"{shown}\">{shown}</a>"));
        }
        let attached: Vec<String> = mail
            .attachments
            .iter()
            .map(|a| format!("{} ({})", escape(&a.filename), escape(&a.content_type)))
            .collect();
        let attached = if attached.is_empty() {
            String::new()
        } else {
            format!("<p>Attached: {}</p>", attached.join(", "))
        };
        html.push_str(&format!(
            "<article><h2>{}</h2><p>To {} · from {} · {}</p><pre>{}</pre>{attached}</article>",
            escape(&mail.subject),
            escape(&mail.to.join(", ")),
            escape(&mail.from),
            escape(&mail.sent_at),
            body
        ));
    }
    html.push_str("</body></html>");
    Html(html)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_an_ses_v2_request_with_its_links() {
        let outbox = Outbox::default();
        let body = serde_json::json!({
            "FromEmailAddress": "baton@example.com",
            "Destination": {"ToAddresses": ["rm@example.com"]},
            "Content": {"Simple": {"Subject": {"Data": "Approve release 1 for TEST?"},
                "Body": {"Text": {"Data": "Review: http://127.0.0.1:3000/approvals/a?token=t.\nThanks"}, "Html": {"Data": "<p>x</p>"}}}}
        });
        capture(&outbox, body.to_string().as_bytes());
        let mails = outbox.lock().unwrap();
        assert_eq!(mails[0].to, vec!["rm@example.com"]);
        assert_eq!(mails[0].subject, "Approve release 1 for TEST?");
        assert_eq!(mails[0].links, vec!["http://127.0.0.1:3000/approvals/a?token=t"]);
        assert!(mails[0].attachments.is_empty());
    }

    #[test]
    fn captures_a_raw_message_with_its_attachment() {
        use baton_domain::ports::{Attachment, Mail};
        let mail = Mail {
            to: "rm@example.com".into(),
            subject: "Déploiement de la version 12 en PROD — planifié".into(),
            text: "Planned: http://127.0.0.1:3000/releases/rel-12.\nThanks".into(),
            html: "<p>Planned</p>".into(),
            attachments: vec![Attachment {
                filename: "release-12.ics".into(),
                content_type: "text/calendar; charset=UTF-8".into(),
                content: b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n".to_vec(),
            }],
            headers: Vec::new(),
        };
        let raw = baton_aws::mime::message("baton@example.com", &mail, chrono::Utc::now(), "t0");
        let body = serde_json::json!({
            "Destination": {"ToAddresses": ["rm@example.com"]},
            "Content": {"Raw": {"Data": base64::engine::general_purpose::STANDARD.encode(raw)}}
        });
        let outbox = Outbox::default();
        capture(&outbox, body.to_string().as_bytes());
        let mails = outbox.lock().unwrap();
        assert_eq!(mails[0].from, "baton@example.com", "from the From header");
        assert_eq!(mails[0].to, vec!["rm@example.com"]);
        assert_eq!(mails[0].subject, mail.subject);
        assert_eq!(mails[0].text, mail.text);
        assert_eq!(mails[0].links, vec!["http://127.0.0.1:3000/releases/rel-12"]);
        let attached = &mails[0].attachments;
        assert_eq!(attached.len(), 1, "{attached:?}");
        assert_eq!(attached[0].filename, "release-12.ics");
        assert_eq!(
            attached[0].content_type.to_ascii_lowercase(),
            "text/calendar; charset=utf-8; method=publish"
        );
        assert_eq!(attached[0].content, "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n");
    }

    #[test]
    fn a_raw_message_shows_its_headers() {
        use baton_domain::ports::Mail;
        let mut mail = Mail::new("ann@example.com", "Live".into(), "t".into(), "<p>t</p>".into());
        mail.headers = vec![
            (
                "List-Unsubscribe".into(),
                "<http://127.0.0.1:3000/subscriptions/unsubscribe?id=a&token=b>".into(),
            ),
            ("List-Unsubscribe-Post".into(), "List-Unsubscribe=One-Click".into()),
        ];
        let raw = baton_aws::mime::message("baton@example.com", &mail, chrono::Utc::now(), "t0");
        let body = serde_json::json!({
            "Content": {"Raw": {"Data": base64::engine::general_purpose::STANDARD.encode(raw)}}
        });
        let outbox = Outbox::default();
        capture(&outbox, body.to_string().as_bytes());
        let mails = outbox.lock().unwrap();
        let header = |name: &str| mails[0].headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
        assert_eq!(
            header("List-Unsubscribe").as_deref(),
            Some("<http://127.0.0.1:3000/subscriptions/unsubscribe?id=a&token=b>")
        );
        assert_eq!(
            header("List-Unsubscribe-Post").as_deref(),
            Some("List-Unsubscribe=One-Click")
        );
    }

    #[test]
    fn a_raw_message_that_does_not_parse_is_still_recorded() {
        let outbox = Outbox::default();
        let body = serde_json::json!({
            "FromEmailAddress": "baton@example.com",
            "Content": {"Raw": {"Data": "not base64!"}}
        });
        capture(&outbox, body.to_string().as_bytes());
        let mails = outbox.lock().unwrap();
        assert_eq!(mails[0].from, "baton@example.com");
        assert!(mails[0].subject.is_empty() && mails[0].attachments.is_empty());
    }
}
