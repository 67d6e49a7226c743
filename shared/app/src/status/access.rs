//! Who reads the status pages (DESIGN §3.7): the sign-in, sign-out and account routes, and the
//! check every other route goes through first.
//!
//! | route | answer |
//! |---|---|
//! | `GET /sign-in` | the sign-in form |
//! | `POST /sign-in` | mails a sign-in link if the address may read; the same page either way |
//! | `GET /sign-in/confirm?token=` | a button (a GET never signs in: mail scanners open links) |
//! | `POST /sign-in/confirm` | uses the link once, sets the session cookie, back to `/` |
//! | `POST /sign-out` | clears the cookie |
//! | `GET /account` | the viewer's tokens and a form for a new one |
//! | `POST /account/tokens` | makes a token, shown once |
//! | `POST /account/tokens/{id}/revoke` | revokes one of the viewer's tokens |
//!
//! Every POST of a signed-in page carries the session's form guard.

use std::time::Duration;

use async_trait::async_trait;
use baton_domain::access::tokens::{self, ApiToken, MAX_TOKENS_PER_VIEWER, SignInLink};
use baton_domain::access::{self, Audience, Refusal, session};
use baton_domain::approval::token_hash;
use baton_domain::config::looks_like_email;
use baton_domain::mail_quota::full_counter_for_mail_to;
use baton_domain::ports::{AccessStore, MailQuotaStore, Mailer, Secrets};
use baton_domain::{BatonConfig, BatonError};
use baton_html::access as pages;
use chrono::Utc;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::http::{HttpRequest, html_response};
use crate::links::random_bytes;

/// How long a signing key read from Secrets Manager is trusted before it is read again: a
/// rotation signs everyone out within this time.
pub const KEY_MAX_AGE: Duration = Duration::from_secs(60);

/// What the status handler asks of sign-in.
#[async_trait]
pub trait Gate: Send + Sync {
    /// Who `request` reads as, or why it may not read.
    async fn audience(
        &self,
        config: &BatonConfig,
        request: &HttpRequest,
    ) -> Result<Result<Audience, Refusal>, BatonError>;
    /// The answer to `request` if it is a sign-in or account route.
    async fn answer(&self, config: &BatonConfig, request: &HttpRequest) -> Option<Value>;
    /// `page` as `viewer` sees it (with the bar naming them and a sign-out button).
    async fn frame(&self, config: &BatonConfig, request: &HttpRequest, viewer: &str, page: String) -> String;
}

/// Sign-in over its ports: links and tokens in `store`, mails through `mailer`, the signing
/// key in `secrets`.
pub struct SignIn<A, M, K> {
    store: A,
    mailer: M,
    secrets: K,
    key: Mutex<Option<(String, Vec<u8>, std::time::Instant)>>,
}

impl<A, M, K> SignIn<A, M, K>
where
    A: AccessStore + MailQuotaStore,
    M: Mailer,
    K: Secrets,
{
    /// Sign-in over these adapters.
    pub fn new(store: A, mailer: M, secrets: K) -> Self {
        SignIn {
            store,
            mailer,
            secrets,
            key: Mutex::new(None),
        }
    }

    /// The session signing key, read at most once per [`KEY_MAX_AGE`].
    async fn key(&self, config: &BatonConfig) -> Result<Vec<u8>, BatonError> {
        let name = &config.access.session_secret;
        let mut held = self.key.lock().await;
        if let Some((held_name, key, read_at)) = held.as_ref()
            && held_name == name
            && read_at.elapsed() < KEY_MAX_AGE
        {
            return Ok(key.clone());
        }
        let key = self.secrets.secret_now(name).await?.into_bytes();
        if key.len() < session::MIN_KEY_LEN {
            return Err(BatonError::invalid(format!(
                "the session key in secret {name} is shorter than {} characters; store a long random value",
                session::MIN_KEY_LEN
            )));
        }
        *held = Some((name.clone(), key.clone(), std::time::Instant::now()));
        Ok(key)
    }

    /// The viewer the request's bearer token proves, if it carries one of ours.
    async fn bearer_viewer(&self, request: &HttpRequest) -> Result<Option<Option<String>>, BatonError> {
        let Some(header) = request.headers.get("authorization") else {
            return Ok(None);
        };
        let Some(secret) = tokens::bearer(header) else {
            return Ok(Some(None));
        };
        let Some(token) = self.store.token(&token_hash(secret)).await? else {
            return Ok(Some(None));
        };
        if token.revoked_at.is_some() {
            return Ok(Some(None));
        }
        let now = Utc::now();
        if token.needs_touch(now) {
            // A failed touch costs only the last-used time; the request goes on.
            if let Err(e) = self.store.touch_token(&token, now).await {
                tracing::warn!(error = %e, "could not record a token's use");
            }
        }
        Ok(Some(Some(token.viewer)))
    }

    /// The viewer the request's session cookie proves, with the cookie's value.
    async fn session(
        &self,
        config: &BatonConfig,
        request: &HttpRequest,
    ) -> Result<Option<(String, String)>, BatonError> {
        let Some(value) = session::cookie_value(request.cookies.iter().map(String::as_str)) else {
            return Ok(None);
        };
        let key = self.key(config).await?;
        Ok(session::open(&key, value, Utc::now()).map(|s| (s.viewer, value.to_string())))
    }

    /// The signed-in viewer and their form guard, if the request's session is good and its
    /// viewer still allowed.
    async fn signed_in(
        &self,
        config: &BatonConfig,
        request: &HttpRequest,
    ) -> Result<Option<(String, String)>, BatonError> {
        let Some((viewer, cookie)) = self.session(config, request).await? else {
            return Ok(None);
        };
        if !access::may_sign_in(config, &viewer) {
            return Ok(None);
        }
        let guard = session::form_guard(&self.key(config).await?, &cookie);
        Ok(Some((viewer, guard)))
    }

    async fn route(&self, config: &BatonConfig, request: &HttpRequest) -> Result<Option<Value>, BatonError> {
        let path = request.path.trim_end_matches('/');
        let post = match request.method.as_str() {
            "POST" => Some(true),
            "GET" | "HEAD" => Some(false),
            _ => None,
        };
        Ok(Some(match (path, post) {
            ("/sign-in", Some(false)) => html_response(200, pages::sign_in_page(None)),
            ("/sign-in", Some(true)) => self.ask_sign_in(config, request).await?,
            ("/sign-in/confirm", Some(false)) => match request.query.get("token") {
                Some(token) if tokens::is_link_token(token) => html_response(200, pages::sign_in_confirm_page(token)),
                _ => link_gone(),
            },
            ("/sign-in/confirm", Some(true)) => self.use_sign_in(config, request).await?,
            ("/sign-out", Some(true)) => self.sign_out(config, request).await?,
            ("/account", Some(false)) => match self.signed_in(config, request).await? {
                Some((viewer, guard)) => self.account(config, &viewer, &guard, None).await?,
                None => see_other("/sign-in"),
            },
            ("/account/tokens", Some(true)) => self.make_token(config, request).await?,
            (p, Some(true)) if p.starts_with("/account/tokens/") && p.ends_with("/revoke") => {
                let id = &p["/account/tokens/".len()..p.len() - "/revoke".len()];
                self.revoke(config, request, id).await?
            }
            ("/sign-in" | "/sign-in/confirm" | "/sign-out" | "/account" | "/account/tokens", _) => html_response(
                405,
                baton_html::status::error_page("Not allowed", "This page does not answer that method."),
            ),
            _ => return Ok(None),
        }))
    }

    /// Mails a link to an address that may read; the same answer for one that may not, and no
    /// mail: the page must not tell anyone who has access.
    async fn ask_sign_in(&self, config: &BatonConfig, request: &HttpRequest) -> Result<Value, BatonError> {
        let form = request.form();
        let address = form.get("email").map(|a| a.trim()).unwrap_or_default();
        if !looks_like_email(address) || address.len() > 254 {
            return Ok(html_response(
                400,
                baton_html::status::error_page(
                    "Not an email address",
                    "Write your work email address, like ann@example.org, and ask again.",
                ),
            ));
        }
        let now = Utc::now();
        if !access::may_sign_in(config, address) {
            tracing::info!("sign-in asked for an address that may not read; no mail sent");
        } else if let Some(full) = full_counter_for_mail_to(&self.store, address, now).await? {
            tracing::warn!(counter = %full.counter, limit = full.limit, "sign-in asked past this hour's mail quota; no mail sent");
        } else {
            let (token, link) = SignInLink::new(&random_bytes()?, address, now);
            self.store.save_sign_in(&link).await?;
            let url = format!(
                "{}/sign-in/confirm?token={token}",
                config.public_url.trim_end_matches('/')
            );
            let mail = pages::sign_in_mail(address, &url, config.zone(), link.expires_at);
            self.mailer.send(&config.mail.sender, &mail).await?;
        }
        Ok(html_response(200, pages::sign_in_sent_page(address)))
    }

    async fn use_sign_in(&self, config: &BatonConfig, request: &HttpRequest) -> Result<Value, BatonError> {
        let form = request.form();
        let Some(token) = form.get("token").filter(|t| tokens::is_link_token(t)) else {
            return Ok(link_gone());
        };
        let now = Utc::now();
        let Some(link) = self.store.use_sign_in(&token_hash(token), now).await? else {
            return Ok(link_gone());
        };
        // Removed from the list since the link was mailed: no session.
        if !access::may_sign_in(config, &link.viewer) {
            return Ok(link_gone());
        }
        let cookie = session::seal(&self.key(config).await?, &link.viewer, now);
        let mut answer = see_other("/");
        answer["cookies"] = json!([session::set_cookie(&cookie, secure(config))]);
        Ok(answer)
    }

    async fn sign_out(&self, config: &BatonConfig, request: &HttpRequest) -> Result<Value, BatonError> {
        if self.guarded(config, request).await?.is_none() {
            return Ok(forged());
        }
        let mut answer = see_other("/");
        answer["cookies"] = json!([session::clear_cookie(secure(config))]);
        Ok(answer)
    }

    /// The viewer and guard of a signed-in POST whose form guard is right.
    async fn guarded(
        &self,
        config: &BatonConfig,
        request: &HttpRequest,
    ) -> Result<Option<(String, String)>, BatonError> {
        let Some((viewer, cookie)) = self.session(config, request).await? else {
            return Ok(None);
        };
        if !access::may_sign_in(config, &viewer) {
            return Ok(None);
        }
        let key = self.key(config).await?;
        let form = request.form();
        let given = form.get("guard").map(String::as_str).unwrap_or_default();
        Ok(session::form_guard_ok(&key, &cookie, given).then(|| (viewer, session::form_guard(&key, &cookie))))
    }

    async fn account(
        &self,
        config: &BatonConfig,
        viewer: &str,
        guard: &str,
        new: Option<&str>,
    ) -> Result<Value, BatonError> {
        let tokens = self.store.tokens_of(viewer, MAX_TOKENS_PER_VIEWER * 3).await?;
        Ok(html_response(
            200,
            pages::account_page(viewer, &tokens, guard, new, config.zone()),
        ))
    }

    async fn make_token(&self, config: &BatonConfig, request: &HttpRequest) -> Result<Value, BatonError> {
        let Some((viewer, guard)) = self.guarded(config, request).await? else {
            return Ok(forged());
        };
        let form = request.form();
        let name = form.get("name").map(String::as_str).unwrap_or_default();
        if let Some(problem) = tokens::name_problem(name) {
            return Ok(html_response(
                400,
                baton_html::status::error_page("Token not made", &problem),
            ));
        }
        let held = self.store.tokens_of(&viewer, MAX_TOKENS_PER_VIEWER * 3).await?;
        if held.iter().filter(|t| t.revoked_at.is_none()).count() >= MAX_TOKENS_PER_VIEWER {
            return Ok(html_response(
                409,
                baton_html::status::error_page(
                    "Token not made",
                    &format!("You hold {MAX_TOKENS_PER_VIEWER} tokens, the most Baton keeps: revoke one first."),
                ),
            ));
        }
        let (secret, token) = ApiToken::new(&random_bytes()?, &viewer, name, Utc::now());
        self.store.save_token(&token).await?;
        self.account(config, &viewer, &guard, Some(&secret)).await
    }

    async fn revoke(&self, config: &BatonConfig, request: &HttpRequest, id: &str) -> Result<Value, BatonError> {
        let Some((viewer, _)) = self.guarded(config, request).await? else {
            return Ok(forged());
        };
        let held = self.store.tokens_of(&viewer, MAX_TOKENS_PER_VIEWER * 3).await?;
        // Only the viewer's own tokens are found: an id of someone else's revokes nothing.
        let Some(token) = held.iter().find(|t| t.id == id) else {
            return Ok(html_response(
                404,
                baton_html::status::error_page("No such token", "You have no token with that id."),
            ));
        };
        self.store.revoke_token(&viewer, &token.hash, Utc::now()).await?;
        Ok(see_other("/account"))
    }
}

#[async_trait]
impl<A, M, K> Gate for SignIn<A, M, K>
where
    A: AccessStore + MailQuotaStore,
    M: Mailer,
    K: Secrets,
{
    async fn audience(
        &self,
        config: &BatonConfig,
        request: &HttpRequest,
    ) -> Result<Result<Audience, Refusal>, BatonError> {
        let proven = match self.bearer_viewer(request).await? {
            // A bearer header decides alone: a bad token is refused, not read as the public,
            // so a script learns its token stopped working.
            Some(None) => return Ok(Err(Refusal::NoLongerAllowed)),
            Some(Some(viewer)) => Some(viewer),
            None => self.session(config, request).await?.map(|(viewer, _)| viewer),
        };
        Ok(access::audience(config, proven.as_deref()))
    }

    async fn answer(&self, config: &BatonConfig, request: &HttpRequest) -> Option<Value> {
        match self.route(config, request).await {
            Ok(answer) => answer,
            Err(e) => {
                tracing::error!(error = %e, path = %request.path, "sign-in failed");
                Some(html_response(
                    503,
                    baton_html::status::error_page(
                        "Try again in a moment",
                        "Baton could not complete that just now. Nothing was changed.",
                    ),
                ))
            }
        }
    }

    async fn frame(&self, config: &BatonConfig, request: &HttpRequest, viewer: &str, page: String) -> String {
        match self.signed_in(config, request).await {
            Ok(Some((_, guard))) => pages::with_viewer_bar(&page, viewer, &guard),
            _ => page,
        }
    }
}

/// Whether cookies must be `Secure`: everywhere but a plain-http local stack.
fn secure(config: &BatonConfig) -> bool {
    !config.public_url.starts_with("http://")
}

fn see_other(location: &str) -> Value {
    let mut answer = html_response(303, String::new());
    answer["headers"]["location"] = json!(location);
    answer
}

fn link_gone() -> Value {
    html_response(
        410,
        baton_html::status::error_page(
            "This sign-in link no longer works",
            "Sign-in links work once, for 15 minutes. Ask for a new one on the sign-in page.",
        ),
    )
}

fn forged() -> Value {
    html_response(
        403,
        baton_html::status::error_page(
            "Not allowed",
            "That form came without your session or from another page. Open your account page and try again.",
        ),
    )
}

#[cfg(test)]
pub(super) mod fixed {
    //! A gate that reads every request as one signed-in viewer, for the handler's unit tests.
    use super::*;

    /// Reads every request as `0`.
    pub struct AsViewer(pub &'static str);

    #[async_trait]
    impl Gate for AsViewer {
        async fn audience(&self, _: &BatonConfig, _: &HttpRequest) -> Result<Result<Audience, Refusal>, BatonError> {
            Ok(Ok(Audience::Viewer(self.0.to_string())))
        }
        async fn answer(&self, _: &BatonConfig, _: &HttpRequest) -> Option<Value> {
            None
        }
        async fn frame(&self, _: &BatonConfig, _: &HttpRequest, _: &str, page: String) -> String {
            page
        }
    }
}
