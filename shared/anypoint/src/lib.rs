//! Anypoint Platform client: connected-app auth, Exchange check, CloudHub 2.0 Application Manager deployments.
