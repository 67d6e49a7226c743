//! Subscriptions on the status function (DESIGN §3.7), no account needed:
//!
//! | route | answer |
//! |---|---|
//! | `POST /subscriptions` | form `email`, `scope` (environment, release, component, digest) and its fields: the same "check your mail" page whatever the address; a confirmation link is mailed |
//! | `GET /subscriptions/confirm?id=&token=` | a page with a Confirm button (a GET never changes anything: mail scanners open links) |
//! | `POST /subscriptions/confirm` | `id`, `token` (query or form): confirms, once |
//! | `GET /subscriptions/unsubscribe?id=&token=[&notice=]` | a page with an Unsubscribe button |
//! | `POST /subscriptions/unsubscribe` | RFC 8058 one-click (`List-Unsubscribe=One-Click`, the link's query) or the page's form: ends it |
//!
//! None of these needs a session. CSRF: a forged cross-site POST can at most ask for a
//! subscription of some address, and double opt-in makes that harmless (the address gets one
//! confirmation request and nothing more unless its owner confirms); confirming and
//! unsubscribing need the token mailed to the address. Wrong or unknown links are a 403 that
//! says nothing about whether the subscription exists. Bad input is a 400 that says what was
//! wrong, and changes nothing.

use async_trait::async_trait;
use baton_domain::BatonError;
use baton_domain::mail_quota::full_counter_for_mail_to;
use baton_domain::ports::status::StatusReads;
use baton_domain::ports::{ConfigSource, MailQuotaStore, Mailer, SubscriptionStore};
use baton_domain::subscription::{
    self, PATH, Scope, Subscription, SubscriptionLinkProblem, is_notice_key, is_subscription_id, normalise_address,
};
use baton_html::mail::subscription as mails;
use baton_html::status::subscribe as pages;
use chrono::Utc;
use serde_json::Value;

use crate::Function;
use crate::http::{HttpRequest, html_response};
use crate::links::new_token;
use crate::subscribers::digest::WeeklyDigest;

/// Longest token text looked at: real ones are 43 characters.
const TOKEN_TEXT_MAX: usize = 64;

/// The subscription routes over their ports.
pub struct Subscriptions<C, S, M> {
    config: C,
    store: S,
    mailer: M,
}

/// The link a request carries: from the query (the mailed link, a one-click POST) or the form
/// (the page's button).
struct LinkParams {
    id: String,
    token: String,
    notice: Option<String>,
}

impl LinkParams {
    /// The parameters, if they have the right form; anything else is treated as a wrong link.
    fn of(request: &HttpRequest) -> Option<LinkParams> {
        let form = if request.method == "POST" {
            request.form()
        } else {
            Default::default()
        };
        let field = |name: &str| {
            request
                .query
                .get(name)
                .or_else(|| form.get(name))
                .map(|v| v.trim().to_string())
        };
        let id = field("id").filter(|id| is_subscription_id(id))?;
        let token = field("token").filter(|t| !t.is_empty() && t.len() <= TOKEN_TEXT_MAX)?;
        let notice = match field("notice").filter(|n| !n.is_empty()) {
            Some(n) if is_notice_key(&n) => Some(n),
            Some(_) => return None,
            None => None,
        };
        Some(LinkParams { id, token, notice })
    }
}

fn problem_page(problem: &SubscriptionLinkProblem) -> Value {
    html_response(
        problem.status(),
        pages::done_page("This link cannot be used", problem.message(), false),
    )
}

fn bad_request(text: &str) -> Value {
    html_response(
        400,
        pages::done_page("Nothing was subscribed", &format!("{text} Nothing was changed."), false),
    )
}

impl<C, S, M> Subscriptions<C, S, M>
where
    C: ConfigSource,
    S: SubscriptionStore + StatusReads + MailQuotaStore,
    M: Mailer,
{
    /// The handler over these adapters.
    pub fn new(config: C, store: S, mailer: M) -> Self {
        Subscriptions { config, store, mailer }
    }

    /// Whether a request is for these routes.
    pub fn serves(path: &str) -> bool {
        path == PATH || path.strip_prefix(PATH).is_some_and(|rest| rest.starts_with('/'))
    }

    async fn handle(&self, request: HttpRequest) -> Result<Value, BatonError> {
        let sub_path = request
            .path
            .trim_end_matches('/')
            .strip_prefix(PATH)
            .unwrap_or_default();
        match (request.method.as_str(), sub_path) {
            ("POST", "") => self.subscribe(&request).await,
            ("GET" | "HEAD", "/confirm") => self.show(&request, false).await,
            ("POST", "/confirm") => self.confirm(&request).await,
            ("GET" | "HEAD", "/unsubscribe") => self.show(&request, true).await,
            ("POST", "/unsubscribe") => self.unsubscribe(&request).await,
            (_, "" | "/confirm" | "/unsubscribe") => Ok(html_response(
                405,
                pages::done_page(
                    "Method not allowed",
                    "Subscribe with the form on the status page; confirm and unsubscribe with the button on the mailed link's page.",
                    false,
                ),
            )),
            _ => Ok(html_response(
                404,
                pages::done_page("Not found", "There is no page here.", false),
            )),
        }
    }

    async fn subscribe(&self, request: &HttpRequest) -> Result<Value, BatonError> {
        let config = self.config.config().await?;
        let form = request.form();
        let address = match normalise_address(form.get("email").map(String::as_str).unwrap_or_default()) {
            Ok(address) => address,
            Err(text) => return Ok(bad_request(&text)),
        };
        let scope = match Scope::from_form(&form, &config) {
            Ok(scope) => scope,
            Err(text) => return Ok(bad_request(&text)),
        };
        if let Scope::Release { release, .. } = &scope
            && self.store.release_record(release).await?.is_none()
        {
            return Ok(bad_request(&format!(
                "There is no release {release}; subscribe from the page of a release that exists."
            )));
        }
        // A page for signed-in viewers only tells nothing by mail to anyone else: the same
        // answer, and no mail, as sign-in gives an outsider.
        if !config.access.is_public() && !baton_domain::access::may_sign_in(&config, &address) {
            tracing::info!("subscription asked by an address that may not read; nothing sent");
            return Ok(html_response(200, pages::check_mail_page(&scope.describe())));
        }
        // Past this hour's quota for the address (or Baton's), the same answer and no mail: the
        // form must not become a way to flood an inbox (see mail_quota).
        if let Some(full) = full_counter_for_mail_to(&self.store, &address, Utc::now()).await? {
            tracing::warn!(counter = %full.counter, limit = full.limit, "subscription asked past this hour's mail quota; nothing sent");
            return Ok(html_response(200, pages::check_mail_page(&scope.describe())));
        }
        let (confirm_token, unsubscribe_token) = (new_token()?, new_token()?);
        let pending = Subscription::pending(&address, scope, Utc::now(), &confirm_token, &unsubscribe_token);
        if self.store.put_pending(&pending).await? {
            let mail = mails::confirm_request(
                &address,
                &pending.scope.describe(),
                &subscription::confirm_link(&config.public_url, &pending.id, &confirm_token),
                &subscription::unsubscribe_link(&config.public_url, &pending.id, None, &unsubscribe_token),
            );
            // The answer is the same whether or not the mail went: the page must not tell
            // which addresses are subscribed. The log says it.
            if let Err(e) = self.mailer.send(&config.mail.sender, &mail).await {
                tracing::error!(subscription = %pending.id, error = %e, "confirmation mail not sent");
            }
        } else {
            tracing::info!(subscription = %pending.id, "subscribed already; nothing changed, nothing sent");
        }
        Ok(html_response(200, pages::check_mail_page(&pending.scope.describe())))
    }

    /// The subscription a link names, checked: the problem page if it is wrong.
    async fn linked(
        &self,
        link: Option<LinkParams>,
        unsubscribing: bool,
    ) -> Result<Result<(Subscription, LinkParams), SubscriptionLinkProblem>, BatonError> {
        let Some(link) = link else {
            return Ok(Err(SubscriptionLinkProblem::Forbidden));
        };
        let Some(subscription) = self.store.subscription(&link.id).await? else {
            return Ok(Err(SubscriptionLinkProblem::Forbidden));
        };
        if unsubscribing && let Some(notice) = &link.notice {
            let mark = self.store.notice_mark(notice, &subscription.address).await?;
            if !mark.is_some_and(|m| m.unsubscribes(&subscription.id, &link.token)) {
                return Ok(Err(SubscriptionLinkProblem::Forbidden));
            }
        } else if unsubscribing {
            if let Err(problem) = subscription.check_unsubscribe(&link.token) {
                return Ok(Err(problem));
            }
        } else if let Err(problem) = subscription.check_confirm(&link.token, Utc::now()) {
            return Ok(Err(problem));
        }
        Ok(Ok((subscription, link)))
    }

    async fn show(&self, request: &HttpRequest, unsubscribing: bool) -> Result<Value, BatonError> {
        let (subscription, link) = match self.linked(LinkParams::of(request), unsubscribing).await? {
            Ok(found) => found,
            Err(problem) => return Ok(problem_page(&problem)),
        };
        let what = subscription.scope.describe();
        let page = if unsubscribing {
            if subscription.state == subscription::SubscriptionState::Unsubscribed {
                return Ok(html_response(200, unsubscribed_page(&subscription)));
            }
            pages::unsubscribe_page(&link.id, &link.token, &subscription.address, &what)
        } else {
            pages::confirm_page(&link.id, &link.token, &subscription.address, &what)
        };
        Ok(html_response(200, page))
    }

    async fn confirm(&self, request: &HttpRequest) -> Result<Value, BatonError> {
        let (subscription, _) = match self.linked(LinkParams::of(request), false).await? {
            Ok(found) => found,
            Err(problem) => return Ok(problem_page(&problem)),
        };
        if subscription.state == subscription::SubscriptionState::Pending
            && !self.store.confirm(&subscription, Utc::now()).await?
        {
            // Replaced by a newer request (its own link) or ended between the read and the write.
            tracing::info!(subscription = %subscription.id, "confirmation raced a change; nothing confirmed");
            return Ok(problem_page(&SubscriptionLinkProblem::Forbidden));
        }
        tracing::info!(subscription = %subscription.id, "subscription confirmed");
        Ok(html_response(
            200,
            pages::done_page(
                "Subscribed",
                &format!(
                    "Baton will mail {} about {}. Every mail has a link to stop them.",
                    subscription.address,
                    subscription.scope.describe()
                ),
                true,
            ),
        ))
    }

    async fn unsubscribe(&self, request: &HttpRequest) -> Result<Value, BatonError> {
        let (subscription, _) = match self.linked(LinkParams::of(request), true).await? {
            Ok(found) => found,
            Err(problem) => return Ok(problem_page(&problem)),
        };
        if subscription.state != subscription::SubscriptionState::Unsubscribed {
            self.store.unsubscribe(&subscription.id, Utc::now()).await?;
            tracing::info!(subscription = %subscription.id, "unsubscribed");
        }
        Ok(html_response(200, unsubscribed_page(&subscription)))
    }
}

fn unsubscribed_page(subscription: &Subscription) -> String {
    pages::done_page(
        "Unsubscribed",
        &format!(
            "Baton will not mail {} about {} any more. Subscribe again from the status page whenever you like.",
            subscription.address,
            subscription.scope.describe()
        ),
        true,
    )
}

#[async_trait]
impl<C, S, M> Function for Subscriptions<C, S, M>
where
    C: ConfigSource,
    S: SubscriptionStore + StatusReads + MailQuotaStore,
    M: Mailer,
{
    async fn invoke(&self, payload: Value) -> Result<Value, BatonError> {
        let request = HttpRequest::from_event(payload);
        let path = request.path.clone();
        match self.handle(request).await {
            Ok(answer) => Ok(answer),
            Err(e) => {
                tracing::error!(error = %e, path = %path, "subscription request failed");
                Ok(html_response(
                    503,
                    pages::done_page(
                        "Try again in a moment",
                        "Baton could not handle this just now; nothing was changed.",
                        false,
                    ),
                ))
            }
        }
    }
}

/// The status function: the status pages, with the subscription routes beside them and the
/// weekly digest on its schedule. A request for [`PATH`] (or below) goes to `subscriptions`, an
/// EventBridge `Scheduled Event` to `digest`, anything else to `status`.
pub struct WithSubscriptions<C, S, M, G> {
    status: super::Status<C, S, G>,
    subscriptions: Subscriptions<C, S, M>,
    digest: WeeklyDigest<S, M>,
}

impl<C, S, M, G> WithSubscriptions<C, S, M, G> {
    /// `status` with `subscriptions` and `digest` beside it.
    pub fn new(
        status: super::Status<C, S, G>,
        subscriptions: Subscriptions<C, S, M>,
        digest: WeeklyDigest<S, M>,
    ) -> Self {
        WithSubscriptions {
            status,
            subscriptions,
            digest,
        }
    }
}

/// Whether `payload` is EventBridge's scheduled event.
fn is_scheduled(payload: &Value) -> bool {
    payload.get("source").and_then(Value::as_str) == Some("aws.events")
        && payload.get("detail-type").and_then(Value::as_str) == Some("Scheduled Event")
}

#[async_trait]
impl<C, S, M, G> Function for WithSubscriptions<C, S, M, G>
where
    C: ConfigSource,
    S: SubscriptionStore + StatusReads + MailQuotaStore + baton_domain::ports::search::SearchReads,
    M: Mailer,
    G: super::access::Gate,
{
    async fn invoke(&self, payload: Value) -> Result<Value, BatonError> {
        if is_scheduled(&payload) {
            let config = self.status.config.config().await?;
            let mut view = self.status.overview(&config).await?;
            // Subscribers need no account: the digest tells them what the public page does.
            baton_domain::access::public::Redactor::new(&config).status(&mut view);
            let sent = self.digest.send(&config, &view, Utc::now()).await?;
            return Ok(serde_json::json!({ "digests": sent }));
        }
        let path = payload.get("rawPath").and_then(Value::as_str).unwrap_or_default();
        if Subscriptions::<C, S, M>::serves(path) {
            self.subscriptions.invoke(payload).await
        } else {
            self.status.invoke(payload).await
        }
    }
}
