//! What the public sees: the status views with people's addresses, build URLs, object keys and
//! preview URLs (the sites of every environment but production) taken out. People appear as their role (`access.roles`: "the release manager",
//! "CAB"), anyone else as "someone".
//!
//! Two layers, because a leak is worse than a blank: the views' fields that hold links or keys
//! are emptied here ([`Redactor::status`] and friends), and every text a public answer carries is
//! passed through [`Redactor::text`], which replaces anything shaped like an address, wherever it
//! hides (a timeline line, a comment, a release note).

use crate::config::BatonConfig;
use crate::package::PackageMetadata;
use crate::ports::status::{PackageVerdictView, ReleaseDetail, StatusView};
use crate::release::ReleaseNote;

/// What a hidden object key reads as.
pub const HIDDEN: &str = "(hidden)";
/// What a person who is not an approver with a role reads as.
pub const SOMEONE: &str = "someone";
/// What an approver without a configured role reads as.
pub const AN_APPROVER: &str = "an approver";

/// Replaces people by their roles, for one configuration.
#[derive(Debug, Clone)]
pub struct Redactor {
    /// (address in lower case, role).
    roles: Vec<(String, String)>,
    /// The production environment (the last in lifecycle order): its site is the public site
    /// itself, so its link stays; every other environment's site is a preview and is hidden.
    production: Option<String>,
}

impl Redactor {
    /// The roles of `config`: `access.roles`, and [`AN_APPROVER`] for other approvers.
    pub fn new(config: &BatonConfig) -> Redactor {
        let mut roles: Vec<(String, String)> = config
            .access
            .roles
            .iter()
            .map(|(who, role)| (super::normalise_address(who), role.clone()))
            .collect();
        for env in &config.environments {
            for who in &env.approvers {
                let who = super::normalise_address(who);
                if !roles.iter().any(|(a, _)| *a == who) {
                    roles.push((who, AN_APPROVER.to_string()));
                }
            }
        }
        Redactor {
            roles,
            production: config.environments.last().map(|e| e.name.clone()),
        }
    }

    /// How `address` appears to the public.
    pub fn person(&self, address: &str) -> String {
        let address = super::normalise_address(address);
        self.roles
            .iter()
            .find(|(a, _)| *a == address)
            .map_or_else(|| SOMEONE.to_string(), |(_, role)| role.clone())
    }

    /// `text` with every address in it replaced by the person's role, and every object key
    /// (`packages/...`) by [`AN_UPLOAD`].
    pub fn text(&self, text: &str) -> String {
        hide_keys(&self.addresses(text))
    }

    fn addresses(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(at) = rest.find('@') {
            let before = &rest[..at];
            let start = before
                .char_indices()
                .rev()
                .take_while(|(_, c)| is_local_char(*c))
                .last()
                .map_or(at, |(i, _)| i);
            let after = &rest[at + 1..];
            let mut end = after.find(|c: char| !is_domain_char(c)).unwrap_or(after.len());
            // A sentence's full stop is not part of the domain.
            while end > 0 && after[..end].ends_with('.') {
                end -= 1;
            }
            let domain = &after[..end];
            if start < at && domain.contains('.') && !domain.starts_with('.') {
                out.push_str(&rest[..start]);
                out.push_str(&self.person(&rest[start..at + 1 + end]));
                rest = &after[end..];
            } else {
                out.push_str(&rest[..=at]);
                rest = after;
            }
        }
        out.push_str(rest);
        out
    }

    /// The overview as the public sees it.
    pub fn status(&self, view: &mut StatusView) {
        for env in &mut view.environments {
            let preview = !self.is_production(&env.name);
            if let Some(live) = &mut env.live {
                live.approved_by = live.approved_by.as_deref().map(|who| self.person(who));
                for component in live.components.iter_mut().filter(|_| preview) {
                    component.pages_url = None;
                }
            }
            for pending in &mut env.pending {
                pending.asked_of = self.people(&pending.asked_of);
            }
        }
        for rejected in &mut view.rejected_packages {
            rejected.object_key = HIDDEN.to_string();
        }
    }

    /// A release as the public sees it.
    pub fn release(&self, detail: &mut ReleaseDetail) {
        detail.triggered_by = HIDDEN.to_string();
        for package in &mut detail.packages {
            package.object_key = HIDDEN.to_string();
        }
        let notes = detail
            .notes
            .iter_mut()
            .chain(detail.environment_notes.iter_mut().flat_map(|e| e.notes.iter_mut()));
        for note in notes {
            note.build_url = None;
        }
        for deployment in &mut detail.deployments {
            if !self.is_production(&deployment.environment) {
                deployment.pages_url = None;
            }
        }
        for event in &mut detail.events {
            event.actor = if event.actor.contains('@') {
                self.person(&event.actor)
            } else {
                event.actor.clone()
            };
        }
    }

    /// A package verdict as the public sees it.
    pub fn verdict(&self, view: &mut PackageVerdictView) {
        if let Some(registered) = &mut view.registered {
            registered.object_key = HIDDEN.to_string();
            self.metadata(&mut registered.metadata);
        }
        for refused in &mut view.refused {
            refused.object_key = HIDDEN.to_string();
            self.metadata(&mut refused.metadata);
        }
    }

    /// Release notes (the feed's) as the public sees them.
    pub fn notes(&self, notes: &mut [ReleaseNote]) {
        for note in notes {
            self.metadata(&mut note.metadata);
        }
    }

    fn metadata(&self, metadata: &mut PackageMetadata) {
        metadata.build_url = None;
        metadata.author = metadata.author.as_deref().map(|who| self.text(who));
    }

    fn is_production(&self, environment: &str) -> bool {
        self.production.as_deref() == Some(environment)
    }

    fn people(&self, addresses: &[String]) -> Vec<String> {
        let mut roles: Vec<String> = Vec::new();
        for who in addresses {
            let role = self.person(who);
            if !roles.contains(&role) {
                roles.push(role);
            }
        }
        roles
    }
}

/// What an object key in a sentence reads as.
pub const AN_UPLOAD: &str = "an upload";

/// `text` with every `packages/...` key (up to a space, quote or bracket) replaced.
fn hide_keys(text: &str) -> String {
    const PREFIX: &str = "packages/";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(PREFIX) {
        let boundary = rest[..at]
            .chars()
            .last()
            .is_none_or(|c| !c.is_ascii_alphanumeric() && c != '/');
        let after = &rest[at..];
        let end = after
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | ')' | ']' | ',' | ';'))
            .unwrap_or(after.len());
        // A sentence's full stop is not part of the key.
        let end = after[..end].trim_end_matches('.').len();
        out.push_str(&rest[..at]);
        if boundary {
            out.push_str(AN_UPLOAD);
        } else {
            out.push_str(&after[..end]);
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

fn is_local_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-' | '\'')
}

fn is_domain_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-')
}
