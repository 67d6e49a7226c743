//! `display_name`: what people read for a component or an environment ("Patient Portal",
//! "Patient & Admissions APIs") on the status pages, the feed and mails, where the configured
//! name is an id (`web`, `state`). JSON keeps the ids and adds the display name beside them.

use super::{BatonConfig, FieldError};

/// The longest display name: it heads a card and a table row on a phone.
pub const DISPLAY_NAME_MAX_CHARS: usize = 60;

/// What is wrong with `name` as a display name, if anything.
fn problem(name: &str) -> Option<String> {
    if name.trim().is_empty() {
        Some("must not be empty (leave display_name out to show the name itself)".into())
    } else if name.chars().count() > DISPLAY_NAME_MAX_CHARS {
        Some(format!(
            "must be at most {DISPLAY_NAME_MAX_CHARS} characters, like \"Patient Portal\""
        ))
    } else if name.chars().any(char::is_control) {
        Some("must be one line of text without control characters (tabs, line breaks)".into())
    } else {
        None
    }
}

impl BatonConfig {
    /// Problems with the display names, each with its field path.
    pub(super) fn display_name_problems(&self) -> Vec<FieldError> {
        let components = self
            .components
            .iter()
            .enumerate()
            .filter_map(|(i, c)| Some((format!("components[{i}].display_name"), c.display_name.as_deref()?)));
        let environments = self
            .environments
            .iter()
            .enumerate()
            .filter_map(|(i, e)| Some((format!("environments[{i}].display_name"), e.display_name.as_deref()?)));
        components
            .chain(environments)
            .filter_map(|(path, name)| problem(name).map(|message| FieldError { path, message }))
            .collect()
    }

    /// What people read for component `name`: its display name, or the name itself.
    pub fn component_label<'a>(&'a self, name: &'a str) -> &'a str {
        self.component(name)
            .and_then(|c| c.display_name.as_deref())
            .unwrap_or(name)
    }

    /// What people read for environment `name`: its display name, or the name itself.
    pub fn environment_label<'a>(&'a self, name: &'a str) -> &'a str {
        self.environment(name)
            .and_then(|e| e.display_name.as_deref())
            .unwrap_or(name)
    }
}
