//! Which Secrets Manager secrets a manifest's secure properties may name.

/// Why a secure property may not use the secret it names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct SecretRefused {
    /// What is wrong with the name, the allowed prefix, and what to do.
    pub reason: String,
}

/// Checks that a manifest may have Baton read `secret` for an application: a plain Secrets
/// Manager name under `prefix` (the component's `secure_properties_prefix`), not one of the
/// `forbidden` secrets Baton uses itself. Without this, a manifest could name Baton's own
/// connected-app secret and have its value handed to an application its author controls.
///
/// Refused: ARNs (they can name any secret, in any account), wildcards, `.` and `..` segments,
/// characters Secrets Manager names do not use, names outside the prefix, the prefix alone,
/// and the forbidden secrets (compared without case, and by name when configured as an ARN).
pub fn check_secret_name(secret: &str, prefix: &str, forbidden: &[&str]) -> Result<(), SecretRefused> {
    let refuse = |why: String| {
        Err(SecretRefused {
            reason: format!(
                "{why}; store the application's secret under '{prefix}' (e.g. {prefix}<application>/<name>) and name it there"
            ),
        })
    };
    if secret.get(..4).is_some_and(|s| s.eq_ignore_ascii_case("arn:")) {
        return refuse(format!(
            "'{secret}' is an ARN, which can point at any secret in any account"
        ));
    }
    if secret.contains(['*', '?']) {
        return refuse(format!(
            "'{secret}' contains a wildcard ('*' or '?'); a secure property names exactly one secret"
        ));
    }
    if secret.split('/').any(|s| s == "." || s == "..") {
        return refuse(format!("'{secret}' contains a '.' or '..' segment"));
    }
    if secret.is_empty()
        || !secret
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c))
    {
        return refuse(format!(
            "'{secret}' is not a Secrets Manager name (letters, digits and /_+=.@- only)"
        ));
    }
    if forbidden
        .iter()
        .any(|f| secret.eq_ignore_ascii_case(f) || secret.eq_ignore_ascii_case(secret_name_of(f)))
    {
        return refuse(format!(
            "'{secret}' holds Baton's own credentials (baton.yaml names it) and is never given to an application"
        ));
    }
    if !secret.starts_with(prefix) {
        return refuse(format!(
            "'{secret}' is outside this component's secure properties prefix '{prefix}' (baton.yaml: anypoint.secure_properties_prefix)"
        ));
    }
    if secret.len() == prefix.len() {
        return refuse(format!("'{secret}' is the prefix itself, not a secret under it"));
    }
    Ok(())
}

/// The secret name in a Secrets Manager ARN (`arn:...:secret:NAME-AbCdEf`), without the six
/// characters Secrets Manager appends; anything else is returned as it is.
fn secret_name_of(id: &str) -> &str {
    let Some((_, name)) = id.split_once(":secret:").filter(|_| id.starts_with("arn:")) else {
        return id;
    };
    match name.rsplit_once('-') {
        Some((base, suffix)) if suffix.len() == 6 && suffix.chars().all(|c| c.is_ascii_alphanumeric()) => base,
        _ => name,
    }
}

#[cfg(test)]
mod tests {
    use super::secret_name_of;

    #[test]
    fn an_arn_s_name_loses_only_the_six_characters_secrets_manager_appends() {
        let arn = |name: &str| format!("arn:aws:secretsmanager:eu-west-1:123456789012:secret:{name}");
        assert_eq!(secret_name_of(&arn("baton/anypoint-AbC123")), "baton/anypoint");
        // Not six characters, or not letters and digits: part of the name.
        assert_eq!(secret_name_of(&arn("baton/my-db")), "baton/my-db");
        assert_eq!(secret_name_of(&arn("baton/my-db_1-2")), "baton/my-db_1-2");
        assert_eq!(secret_name_of(&arn("baton/token-abc_12")), "baton/token-abc_12");
        assert_eq!(secret_name_of(&arn("baton/plain")), "baton/plain");
        // Not an ARN: as it is.
        assert_eq!(secret_name_of("baton/anypoint-AbC123"), "baton/anypoint-AbC123");
    }
}
