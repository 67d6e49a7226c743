//! `GET /admin/webhooks` and `GET /api/webhooks`: each configured hook, its events and its last
//! tries. One Query per hook. (The page sits under /admin/, which sign-in will gate.)

use baton_domain::ports::status::StatusReads;
use baton_domain::webhook::{HookView, url_host};
use baton_domain::{BatonConfig, BatonError};

/// Tries shown per hook.
pub const ATTEMPTS_SHOWN: usize = 10;

/// The hooks of `config` with their newest tries.
pub(super) async fn view(config: &BatonConfig, store: &impl StatusReads) -> Result<Vec<HookView>, BatonError> {
    let mut hooks = Vec::new();
    for hook in &config.notifications.webhooks {
        hooks.push(HookView {
            name: hook.name.clone(),
            host: url_host(&hook.url),
            format: hook.format.as_str().to_string(),
            events: hook.events.clone(),
            attempts: store.webhook_attempts(&hook.name, ATTEMPTS_SHOWN).await?,
        });
    }
    Ok(hooks)
}

/// The admin page.
pub(super) fn page(hooks: &[HookView]) -> String {
    baton_html::webhooks::admin_page(hooks)
}
