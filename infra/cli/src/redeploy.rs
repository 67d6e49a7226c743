//! `baton redeploy`: asks Baton to deploy a release to an environment again, as the form on the
//! release's page does (`POST {api_url}/redeploys`). Baton mails a confirmation link to the
//! address if it is an approver of the environment; nothing changes until it is confirmed.

use baton_domain::redeploy::reason_problem;
use serde_json::Value;

use crate::cli::RedeployArgs;
use crate::error::CliError;
use crate::read::release_id;
use crate::target::Api;

/// The longest message of Baton's printed, in characters.
const MESSAGE_MAX_CHARS: usize = 600;

/// A checked request: the form's fields.
#[derive(Debug, PartialEq, Eq)]
pub struct Request {
    /// `rel-N`.
    pub release: String,
    /// The environment.
    pub environment: String,
    /// Who asks (the confirmation link goes there).
    pub email: String,
    /// Why.
    pub reason: String,
}

impl Request {
    /// The request the command line makes, or what is wrong with it (exit 2).
    pub fn of(args: &RedeployArgs) -> Result<Request, CliError> {
        let release = release_id(args.release.trim())?;
        let environment = args.environment.trim();
        if environment.is_empty() {
            return Err(CliError::Usage("--env must name an environment, e.g. PROD".into()));
        }
        let email = args.email.as_deref().map(str::trim).unwrap_or_default();
        if email.is_empty() {
            return Err(CliError::Usage(format!(
                "give your address with --email or set BATON_EMAIL: Baton mails the confirmation link there (it must be an approver of {environment})"
            )));
        }
        if !email.contains('@') || email.chars().any(char::is_whitespace) {
            return Err(CliError::Usage(format!("'{email}' is not an email address")));
        }
        if let Some(problem) = reason_problem(&args.reason) {
            return Err(CliError::Usage(format!("--reason: {problem}")));
        }
        Ok(Request {
            release,
            environment: environment.to_string(),
            email: email.to_string(),
            reason: args.reason.trim().to_string(),
        })
    }

    /// The form's fields, as the release page posts them.
    pub fn fields(&self) -> [(&'static str, &str); 4] {
        [
            ("release", &self.release),
            ("environment", &self.environment),
            ("email", &self.email),
            ("reason", &self.reason),
        ]
    }

    /// What `baton` says once Baton took the request.
    pub fn asked(&self) -> String {
        format!(
            "If {} is an approver of {}, a confirmation link is on its way; nothing changes until it is confirmed.",
            self.email, self.environment
        )
    }
}

/// `baton redeploy`.
pub async fn redeploy(api: &Api, args: &RedeployArgs) -> Result<(), CliError> {
    let request = Request::of(args)?;
    let (status, body) = api.post_form("/redeploys", &request.fields()).await?;
    if (200..300).contains(&status) {
        println!("{}", request.asked());
        Ok(())
    } else {
        Err(CliError::Refused(message(status, &body)))
    }
}

/// Baton's message in an answer: a JSON `message`, or the text of an HTML page's `<main>`.
fn message(status: u16, body: &str) -> String {
    let text = match serde_json::from_str::<Value>(body) {
        Ok(json) => json["message"].as_str().unwrap_or_default().to_string(),
        Err(_) => page_text(body),
    };
    let text: String = text.chars().take(MESSAGE_MAX_CHARS).collect();
    if text.trim().is_empty() {
        format!("Baton answered HTTP {status}")
    } else {
        text
    }
}

/// Elements whose content is not the message: styles, scripts, navigation, forms.
const SKIPPED: [&str; 5] = ["style", "script", "nav", "form", "head"];

/// Elements that end a sentence or a line of the message.
const BLOCKS: [&str; 17] = [
    "p", "div", "h1", "h2", "h3", "h4", "li", "br", "tr", "td", "section", "header", "footer", "main", "dt", "dd",
    "label",
];

/// The text of an HTML page's `<main>` (or the whole page) as one line: tags dropped, entities
/// decoded, blocks joined as sentences.
fn page_text(html: &str) -> String {
    let html = match html.find("<main") {
        Some(start) => {
            let end = html[start..].find("</main>").map_or(html.len(), |e| start + e);
            &html[start..end]
        }
        None => html,
    };
    let mut blocks = Vec::new();
    let mut current = String::new();
    let mut skipping: Option<String> = None;
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        if skipping.is_none() {
            current.push_str(&rest[..open]);
        }
        let Some(close) = rest[open..].find('>') else {
            rest = "";
            break;
        };
        let tag = &rest[open + 1..open + close];
        rest = &rest[open + close + 1..];
        let (closing, name) = match tag.strip_prefix('/') {
            Some(name) => (true, name),
            None => (false, tag),
        };
        let name: String = name
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        match &skipping {
            Some(skipped) if closing && *skipped == name => skipping = None,
            Some(_) => {}
            None if !closing && SKIPPED.contains(&name.as_str()) => skipping = Some(name),
            None if BLOCKS.contains(&name.as_str()) => blocks.push(std::mem::take(&mut current)),
            None => {}
        }
    }
    if skipping.is_none() {
        current.push_str(rest);
    }
    blocks.push(current);
    let mut out = String::new();
    for block in blocks {
        let block = decode(&block).split_whitespace().collect::<Vec<_>>().join(" ");
        if block.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push_str(if out.ends_with(['.', '!', '?', ':', ';']) {
                " "
            } else {
                ". "
            });
        }
        out.push_str(&block);
    }
    out
}

/// `&amp;`, `&lt;`, `&#39;`, `&#x27;` and their kind as the characters they stand for.
fn decode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let entity = rest.find(';').filter(|end| *end <= 10).map(|end| (&rest[1..end], end));
        let decoded = entity.and_then(|(name, end)| {
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some(' '),
                _ => match name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok().and_then(char::from_u32),
                    None => name
                        .strip_prefix('#')
                        .and_then(|d| d.parse().ok())
                        .and_then(char::from_u32),
                },
            };
            c.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests;
