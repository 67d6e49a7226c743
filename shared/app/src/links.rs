//! Personal links: one per approver and request, carrying a 256-bit token of which only the
//! hash is kept (DESIGN §3.6). Approval requests, freeze overrides, failure questions and
//! subscriptions all mint them here.

use baton_domain::BatonError;
use baton_domain::approval::{token_from_bytes, token_hash};
use baton_domain::ports::ApprovalStore;

/// A new link token: 256 random bits, base64url. Only its hash is ever stored.
pub fn new_token() -> Result<String, BatonError> {
    Ok(token_from_bytes(&random_bytes()?))
}

/// Mints `approver`'s link to request `id`, keeping the token's hash on the request (a new link
/// replaces the approver's earlier one).
pub async fn personal_link(
    store: &impl ApprovalStore,
    id: &str,
    approver: &str,
    public_url: &str,
) -> Result<String, BatonError> {
    let token = new_token()?;
    store.set_approver_token(id, approver, &token_hash(&token)).await?;
    Ok(format!(
        "{}/approvals/{id}?token={token}",
        public_url.trim_end_matches('/')
    ))
}

/// 32 random bytes from the operating system: the secret of every link and token Baton mints.
pub fn random_bytes() -> Result<[u8; 32], BatonError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| BatonError::internal(format!("no randomness for a token: {e}")))?;
    Ok(bytes)
}
