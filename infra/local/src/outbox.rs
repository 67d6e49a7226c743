//! The local outbox: every mail the functions send through SES, captured as the runner
//! forwards it to moto, shown at `/_local/outbox` (HTML, links clickable) and
//! `/_local/outbox.json` (recipient, subject, text, links).

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
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
    /// When the runner saw it (RFC 3339).
    pub sent_at: String,
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
    let text = text_of("/Content/Simple/Body/Text/Data");
    let mail = SentMail {
        from: text_of("/FromEmailAddress"),
        to: request
            .pointer("/Destination/ToAddresses")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
            .unwrap_or_default(),
        subject: text_of("/Content/Simple/Subject/Data"),
        links: links(&text),
        text,
        sent_at: chrono::Utc::now().to_rfc3339(),
    };
    if let Ok(mut mails) = outbox.lock() {
        mails.push(mail);
    }
}

/// Every http(s) URL in `text`.
pub fn links(text: &str) -> Vec<String> {
    text.split_whitespace()
        .filter(|w| w.starts_with("http://") || w.starts_with("https://"))
        .map(|w| w.trim_end_matches(['.', ',', ')', ';']).to_string())
        .collect()
}

fn escape(text: &str) -> String {
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
        html.push_str(&format!(
            "<article><h2>{}</h2><p>To {} · from {} · {}</p><pre>{}</pre></article>",
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
    }
}
