//! A delivery's body in each format a hook may ask for.

use serde::Serialize;
use serde_json::{Value, json};

use crate::config::notifications::WebhookFormat;

/// What a delivery says, whatever its format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Announcement {
    /// The delivery id (stable across tries).
    pub id: String,
    /// The webhook event, e.g. `deployment.succeeded`.
    pub event: String,
    /// When it happened (RFC 3339, UTC).
    pub occurred_at: String,
    /// The release's id, e.g. `rel-12`.
    pub release_id: String,
    /// Its number, e.g. 12.
    pub release_number: Option<u64>,
    /// Its page on the status site.
    pub release_url: String,
    /// The environment, where one applies.
    pub environment: Option<String>,
    /// Who: an approver's address, or `baton`.
    pub actor: String,
    /// In words, as the status page says it.
    pub summary: String,
}

/// The body of `announcement` for a hook of `format`.
pub fn body(format: WebhookFormat, a: &Announcement) -> String {
    let title = format!(
        "Release {}: {}",
        a.release_number.map_or_else(|| a.release_id.clone(), |n| n.to_string()),
        a.event
    );
    let value = match format {
        WebhookFormat::Baton => json!({
            "id": a.id,
            "event": a.event,
            "occurred_at": a.occurred_at,
            "release": { "id": a.release_id, "number": a.release_number, "url": a.release_url },
            "environment": a.environment,
            "actor": a.actor,
            "summary": a.summary,
        }),
        // Slack's mrkdwn: `<url|text>` is a link; `&`, `<` and `>` must be escaped in the text.
        WebhookFormat::Slack => json!({
            "text": format!("<{}|{}>: {}", a.release_url, slack_escape(&title), slack_escape(&a.summary)),
        }),
        WebhookFormat::Teams => json!({
            "type": "message",
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": Value::Null,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": [
                        { "type": "TextBlock", "text": title, "weight": "Bolder", "size": "Medium", "wrap": true },
                        { "type": "TextBlock", "text": a.summary, "wrap": true },
                        { "type": "FactSet", "facts": [
                            { "title": "Environment", "value": a.environment.as_deref().unwrap_or("-") },
                            { "title": "By", "value": a.actor },
                            { "title": "At", "value": a.occurred_at },
                        ]},
                    ],
                    "actions": [{ "type": "Action.OpenUrl", "title": "Open the release", "url": a.release_url }],
                },
            }],
        }),
    };
    value.to_string()
}

fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}
