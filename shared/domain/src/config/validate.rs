//! Validation of `baton.yaml` beyond what serde checks: names, references between sections,
//! kind-specific fields. Every problem is collected, each with its field path.

use std::collections::BTreeSet;
use std::time::Duration;

use super::*;

impl BatonConfig {
    /// Checks everything serde cannot: names, references between sections, kind-specific fields.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        let mut problem = |path: String, message: &str| {
            problems.push(FieldError {
                path,
                message: message.to_string(),
            })
        };

        if !(self.public_url.starts_with("http://") || self.public_url.starts_with("https://")) {
            problem(
                "public_url".into(),
                "must be an http:// or https:// URL (the base of approval links)",
            );
        }
        if !looks_like_email(&self.mail.sender) {
            problem("mail.sender".into(), "must be an email address verified in SES");
        }

        for (field, message) in self.access.problems() {
            problem(format!("access.{field}"), &message);
        }
        for (field, message) in self.release.problems() {
            problem(format!("release.{field}"), &message);
        }
        for (field, message) in self.stack.problems() {
            problem(format!("stack.{field}"), &message);
        }
        if self.timezone.parse::<chrono_tz::Tz>().is_err() {
            problem(
                "timezone".into(),
                "must be an IANA time zone name, like Europe/London, America/New_York or UTC",
            );
        }
        if !(1..=3_600).contains(&self.workflow.poll_seconds) {
            problem("workflow.poll_seconds".into(), "must be between 1 and 3600");
        }
        if !(1..=3_600).contains(&self.workflow.lease_wait_seconds) {
            problem("workflow.lease_wait_seconds".into(), "must be between 1 and 3600");
        }
        if parse_duration(&self.workflow.rollout_deadline).is_none_or(|d| d < Duration::from_secs(10)) {
            problem(
                "workflow.rollout_deadline".into(),
                "must be a duration of at least 10s, like 30m",
            );
        }
        if parse_duration(&self.workflow.lease_wait_timeout).is_none_or(|d| d < Duration::from_secs(1)) {
            problem(
                "workflow.lease_wait_timeout".into(),
                "must be a duration of at least 1s, like 2h",
            );
        }
        if self.environments.is_empty() {
            problem(
                "environments".into(),
                "at least one environment is needed (e.g. TEST, then PROD)",
            );
        }
        let mut env_names = BTreeSet::new();
        for (i, env) in self.environments.iter().enumerate() {
            let at = format!("environments[{i}]");
            if !is_environment_name(&env.name) {
                problem(
                    format!("{at}.name"),
                    "must start with a letter and use only letters, digits, '-' and '_' (at most 32)",
                );
            }
            if !env_names.insert(env.name.as_str()) {
                problem(
                    format!("{at}.name"),
                    "is used by another environment; names must be unique",
                );
            }
            if env.approvers.is_empty() {
                problem(format!("{at}.approvers"), "at least one approver email is needed");
            }
            for (j, who) in env.approvers.iter().enumerate() {
                if !looks_like_email(who) {
                    problem(format!("{at}.approvers[{j}]"), "must be an email address");
                }
            }
            let distinct: BTreeSet<String> = env.approvers.iter().map(|a| a.to_ascii_lowercase()).collect();
            if env.required_approvals == 0 || env.required_approvals > distinct.len().max(1) {
                problem(
                    format!("{at}.required_approvals"),
                    &format!(
                        "must be from 1 to the number of distinct approvers ({}); a release could never be approved otherwise",
                        distinct.len()
                    ),
                );
            }
            for (path, message) in crate::freeze::problems(&env.freezes, self.zone()) {
                problem(format!("{at}.freezes{path}"), &message);
            }
            match parse_duration(&env.approval_ttl) {
                Some(ttl) if ttl >= Duration::from_secs(1) && ttl <= Duration::from_secs(365 * 86_400) => {}
                _ => problem(
                    format!("{at}.approval_ttl"),
                    "must be a duration between 1s and 365d, written like 90s, 30m, 24h or 7d",
                ),
            }
        }

        if self.components.is_empty() {
            problem("components".into(), "at least one component is needed");
        }
        let mut component_names = BTreeSet::new();
        for (i, c) in self.components.iter().enumerate() {
            let at = format!("components[{i}]");
            if !is_component_name(&c.name) {
                problem(
                    format!("{at}.name"),
                    "must start with a lowercase letter and use only a-z, 0-9 and '-' (at most 32); it is the folder name under packages/",
                );
            }
            if !component_names.insert(c.name.as_str()) {
                problem(
                    format!("{at}.name"),
                    "is used by another component; names must be unique",
                );
            }
            match c.kind {
                ComponentKind::Web => {
                    match &c.cloudflare {
                        None => problem(
                            format!("{at}.cloudflare"),
                            "a web component needs its Cloudflare Pages project (account_id, project, api_token_secret)",
                        ),
                        Some(cf) => {
                            for (field, value) in [
                                ("account_id", &cf.account_id),
                                ("project", &cf.project),
                                ("api_token_secret", &cf.api_token_secret),
                            ] {
                                if value.trim().is_empty() {
                                    problem(format!("{at}.cloudflare.{field}"), "must not be empty");
                                }
                            }
                        }
                    }
                    if c.anypoint.is_some() {
                        problem(
                            format!("{at}.anypoint"),
                            "only state components deploy to Anypoint; remove it or change kind to state",
                        );
                    }
                    match c.max_total_mib {
                        Some(0) => problem(format!("{at}.max_total_mib"), "must be at least 1"),
                        Some(mib) if mib > WEB_MAX_TOTAL_MIB_CAP => problem(
                            format!("{at}.max_total_mib"),
                            &format!(
                                "is {mib}; at most {WEB_MAX_TOTAL_MIB_CAP} (MiB), what the ingest and deploy-pages functions can hold: make the site smaller or lower the value"
                            ),
                        ),
                        _ => {}
                    }
                }
                ComponentKind::State => {
                    match &c.anypoint {
                        None => problem(
                            format!("{at}.anypoint"),
                            "a state component needs its Anypoint settings (credentials_secret)",
                        ),
                        Some(a) => {
                            if a.credentials_secret.trim().is_empty() {
                                problem(format!("{at}.anypoint.credentials_secret"), "must not be empty");
                            }
                            if let Some(why) = secure_properties_prefix_problem(&a.secure_properties_prefix) {
                                problem(format!("{at}.anypoint.secure_properties_prefix"), why);
                            }
                        }
                    }
                    if c.cloudflare.is_some() {
                        problem(
                            format!("{at}.cloudflare"),
                            "only web components deploy to Cloudflare; remove it or change kind to web",
                        );
                    }
                    if c.max_total_mib.is_some() {
                        problem(format!("{at}.max_total_mib"), "applies to web components only");
                    }
                }
            }
            for env in &self.environments {
                if !c.environments.contains_key(&env.name) {
                    problem(
                        format!("{at}.environments.{}", env.name),
                        "missing: every component needs settings for every environment",
                    );
                }
            }
            for (env_name, settings) in &c.environments {
                let env_at = format!("{at}.environments.{env_name}");
                if !env_names.contains(env_name.as_str()) {
                    problem(
                        env_at.clone(),
                        "is not a configured environment (see environments[].name)",
                    );
                    continue;
                }
                let required: &[(&str, &Option<String>)] = match c.kind {
                    ComponentKind::Web => &[("branch", &settings.branch)],
                    ComponentKind::State => &[("environment", &settings.environment), ("target", &settings.target)],
                };
                for (field, value) in required {
                    if value.as_deref().is_none_or(|v| v.trim().is_empty()) {
                        problem(
                            format!("{env_at}.{field}"),
                            &format!("required for a {} component", c.kind),
                        );
                    }
                }
                let forbidden: &[(&str, &Option<String>)] = match c.kind {
                    ComponentKind::Web => &[("environment", &settings.environment), ("target", &settings.target)],
                    ComponentKind::State => &[("branch", &settings.branch)],
                };
                for (field, value) in forbidden {
                    if value.is_some() {
                        problem(
                            format!("{env_at}.{field}"),
                            &format!("does not apply to a {} component", c.kind),
                        );
                    }
                }
            }
        }

        problems.extend(self.notifications.problems());
        problems.extend(self.display_name_problems());
        // Only a configuration whose fields are each valid has a worst case worth computing.
        if problems.is_empty() {
            problems.extend(
                self.limit_problems()
                    .into_iter()
                    .map(|(path, message)| FieldError { path, message }),
            );
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError { problems })
        }
    }
}
