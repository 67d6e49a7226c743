//! `notifications` in `baton.yaml`: who else is told what happens to releases. Webhooks: a URL,
//! the events wanted, a signing secret (in Secrets Manager) and a body format.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::{FieldError, is_component_name};
use crate::webhook::EVENTS;

/// Where webhook signing secrets must live: the announce function may read only these.
pub const WEBHOOK_SECRET_PREFIX: &str = "baton/webhooks/";

/// The `notifications` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationsConfig {
    /// Signed HTTP callbacks.
    #[serde(default)]
    pub webhooks: Vec<WebhookConfig>,
}

/// One webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Its name: lowercase letters, digits and `-` (it names the hook on the admin page and in
    /// delivery records).
    pub name: String,
    /// Where deliveries are POSTed: `https://`, or `http://` to this machine only (local stack).
    pub url: String,
    /// The events wanted, e.g. `release.created`, `deployment.failed`.
    pub events: Vec<String>,
    /// The Secrets Manager secret (under `baton/webhooks/`) whose value signs each delivery.
    pub secret: String,
    /// The body: Baton's JSON (default), a Slack or a Microsoft Teams incoming-webhook message.
    #[serde(default)]
    pub format: WebhookFormat,
}

/// The shape of a webhook's body.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookFormat {
    /// `{id, event, occurred_at, release, environment, actor, summary}`.
    #[default]
    Baton,
    /// A Slack incoming webhook: `{"text": ...}`.
    Slack,
    /// A Microsoft Teams incoming webhook: an Adaptive Card message.
    Teams,
}

impl WebhookFormat {
    /// Its name in `baton.yaml`.
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookFormat::Baton => "baton",
            WebhookFormat::Slack => "slack",
            WebhookFormat::Teams => "teams",
        }
    }
}

impl NotificationsConfig {
    /// Whether nothing is configured (the section is then left out when written).
    pub fn is_empty(&self) -> bool {
        self.webhooks.is_empty()
    }

    /// The webhook called `name`, if configured.
    pub fn webhook(&self, name: &str) -> Option<&WebhookConfig> {
        self.webhooks.iter().find(|w| w.name == name)
    }

    /// What is wrong with the section, each problem with its field path.
    pub fn problems(&self) -> Vec<FieldError> {
        let mut problems = Vec::new();
        let mut problem = |path: String, message: String| problems.push(FieldError { path, message });
        let mut names = BTreeSet::new();
        for (i, hook) in self.webhooks.iter().enumerate() {
            let at = format!("notifications.webhooks[{i}]");
            if !is_component_name(&hook.name) {
                problem(
                    format!("{at}.name"),
                    "must start with a lowercase letter and use only lowercase letters, digits and '-' (at most 32)"
                        .into(),
                );
            }
            if !names.insert(hook.name.as_str()) {
                problem(
                    format!("{at}.name"),
                    "is used by another webhook; names must be unique".into(),
                );
            }
            if let Some(why) = url_problem(&hook.url) {
                problem(format!("{at}.url"), why.into());
            }
            if hook.events.is_empty() {
                problem(
                    format!("{at}.events"),
                    format!("name at least one event: {}", EVENTS.join(", ")),
                );
            }
            for (j, event) in hook.events.iter().enumerate() {
                if !EVENTS.contains(&event.as_str()) {
                    problem(
                        format!("{at}.events[{j}]"),
                        format!(
                            "{event:?} is not an event Baton sends; use one of {}",
                            EVENTS.join(", ")
                        ),
                    );
                }
            }
            if let Some(why) = secret_problem(&hook.secret) {
                problem(format!("{at}.secret"), why);
            }
        }
        problems
    }
}

/// Why `url` cannot receive webhooks, or `None`.
fn url_problem(url: &str) -> Option<&'static str> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Some("must be an https:// URL, such as https://hooks.example.com/baton");
    };
    let rest_ok = !rest.is_empty() && !rest.contains(char::is_whitespace);
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let hostname = if let Some(v6) = host.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        host.split(':').next().unwrap_or_default()
    };
    match scheme {
        "https" if rest_ok && !hostname.is_empty() => None,
        "http" if rest_ok && matches!(hostname, "127.0.0.1" | "localhost" | "::1") => None,
        "http" => Some(
            "must be an https:// URL (deliveries carry release details); plain http:// is allowed only to 127.0.0.1 or localhost, for the local stack",
        ),
        _ => Some("must be an https:// URL, such as https://hooks.example.com/baton"),
    }
}

/// Why `secret` cannot sign webhooks, or `None`.
fn secret_problem(secret: &str) -> Option<String> {
    let rest = secret.strip_prefix(WEBHOOK_SECRET_PREFIX);
    let valid_name = rest.is_some_and(|r| {
        !r.is_empty()
            && r.chars().all(|c| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c))
            && !r.split('/').any(|s| s.is_empty() || s == "." || s == "..")
    });
    (!valid_name).then(|| {
        format!(
            "must name a Secrets Manager secret under {WEBHOOK_SECRET_PREFIX} (such as {WEBHOOK_SECRET_PREFIX}my-hook), the only secrets Baton's announce function may read; {secret:?} is outside it"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(url: &str, events: &[&str], secret: &str) -> NotificationsConfig {
        NotificationsConfig {
            webhooks: vec![WebhookConfig {
                name: "chat".into(),
                url: url.into(),
                events: events.iter().map(|e| e.to_string()).collect(),
                secret: secret.into(),
                format: WebhookFormat::Slack,
            }],
        }
    }

    fn paths(c: &NotificationsConfig) -> Vec<String> {
        c.problems().into_iter().map(|p| p.path).collect()
    }

    #[test]
    fn a_well_formed_hook_has_no_problems() {
        let c = hook(
            "https://hooks.example.com/x",
            &["release.created"],
            "baton/webhooks/chat",
        );
        assert_eq!(c.problems(), vec![]);
        let local = hook(
            "http://127.0.0.1:3000/_local/webhooks/chat",
            &["deployment.failed"],
            "baton/webhooks/chat",
        );
        assert_eq!(local.problems(), vec![]);
    }

    #[test]
    fn a_secret_outside_the_webhook_namespace_is_refused_naming_the_field() {
        for secret in [
            "baton/cloudflare-api-token",
            "baton/anypoint-connected-app",
            "baton/webhooks/",
            "baton/webhooks/../cloudflare-api-token",
            "arn:aws:secretsmanager:eu-west-1:1:secret:baton/webhooks/x",
            "baton/webhooks/*",
        ] {
            let c = hook("https://h.example.com", &["release.created"], secret);
            let problems = c.problems();
            assert_eq!(paths(&c), vec!["notifications.webhooks[0].secret"], "{secret}");
            assert!(
                problems[0].message.contains("under baton/webhooks/"),
                "{}",
                problems[0].message
            );
        }
    }

    #[test]
    fn plain_http_is_refused_except_to_this_machine() {
        for url in [
            "http://hooks.example.com/x",
            "http://127.0.0.1.evil.example/x",
            "http://localhost@evil.example/x",
            "ftp://x",
            "hooks.example.com",
            "https://",
        ] {
            let c = hook(url, &["release.created"], "baton/webhooks/chat");
            assert_eq!(paths(&c), vec!["notifications.webhooks[0].url"], "{url}");
        }
        let c = hook("http://localhost:8080/x", &["release.created"], "baton/webhooks/chat");
        assert_eq!(c.problems(), vec![]);
    }

    #[test]
    fn unknown_events_and_duplicate_names_are_refused() {
        let mut c = hook(
            "https://h.example.com",
            &["release.created", "release.exploded"],
            "baton/webhooks/a",
        );
        c.webhooks.push(c.webhooks[0].clone());
        c.webhooks[1].events = vec![];
        let problems = c.problems();
        assert_eq!(
            paths(&c),
            vec![
                "notifications.webhooks[0].events[1]",
                "notifications.webhooks[1].name",
                "notifications.webhooks[1].events",
            ]
        );
        assert!(problems[0].message.contains("approval.requested"));
    }
}
