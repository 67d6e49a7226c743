//! The admin page of webhooks: each hook, its events, its last tries.

use baton_domain::webhook::HookView;
use maud::html;

use crate::page;

/// `GET /admin/webhooks`.
pub fn admin_page(hooks: &[HookView]) -> String {
    page(
        "Webhooks",
        html! {
            h1 { "Webhooks" }
            @if hooks.is_empty() {
                p { "No webhooks are configured. Add them under " code { "notifications.webhooks" } " in baton.yaml." }
            }
            @for hook in hooks {
                section {
                    h2 { (hook.name) }
                    p { "To " (hook.host) " as " (hook.format) " · events: " (hook.events.join(", ")) }
                    @if hook.attempts.is_empty() {
                        p { em { "No deliveries yet." } }
                    } @else {
                        table {
                            thead { tr { th { "When (UTC)" } th { "Event" } th { "Release" } th { "Try" } th { "Result" } } }
                            tbody {
                                @for a in &hook.attempts {
                                    tr {
                                        td { (a.at.format("%Y-%m-%d %H:%M:%S")) }
                                        td { (a.event) }
                                        td { (a.release_id) }
                                        td { (a.attempt) }
                                        td {
                                            @match (a.status, &a.error) {
                                                (Some(s), _) => { "HTTP " (s) }
                                                (None, Some(e)) => { (e) }
                                                (None, None) => { "-" }
                                            }
                                            @if a.delivered { " · delivered" }
                                            @else if a.will_retry { " · will retry" }
                                            @else { " · gave up" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}
