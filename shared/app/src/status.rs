//! `status` (HTTP): the pane of glass for business users (DESIGN §3.4).
//!
//! | route | answer |
//! |---|---|
//! | `GET /` | the overview page |
//! | `GET /releases/{id}` | a release's page: where it stands, contents, notes, deployments, a form to deploy it again where it was deployed (posting to `{public_url}/redeploys`), timeline |
//! | `GET /api/status` | the overview as JSON ([`StatusView`]) |
//! | `GET /api/releases?limit=&before=` | a page of releases, newest first ([`ReleaseListView`]) |
//! | `GET /api/releases/{id}` | one release as JSON ([`ReleaseDetail`]) |
//! | `GET /api/packages/{component}/{version}` | Baton's verdict on that version's uploads ([`PackageVerdictView`]) |
//! | `GET /api/search?q=`, `GET /search?q=` | where a change (version, commit, ticket id, word) is now, in every environment (`status/search.rs`) |
//! | `GET /feed.xml` | an Atom feed of recent releases, with each one's notes since what was live per environment; an entry says where its release is live now and is updated when the release last changed |
//! | `GET /feed/{env}.xml` | the same for one environment: the releases that got there, where each stands there, updated when it last changed there (404 naming the feeds for an unknown environment) |
//!
//! Who may read is `access.viewers` ([`access`]): in `public` mode anyone reads, with people's
//! addresses, build URLs, object keys and preview URLs taken out (people appear as their role);
//! otherwise only signed-in viewers (session cookie, or `Authorization: Bearer <token>`) read
//! anything, and everyone else gets a 401 with the sign-in form.
//!
//! Each answer costs a fixed number of reads through [`StatusReads`], whatever the history
//! holds. Bad input (an unknown release, a malformed `limit` or `before`) gets a 4xx page or
//! JSON error that says what was wrong; a failing read gets a 503 without internals.
//!
//! The JSON shapes are the views in `baton_domain::ports::status` (every field documented
//! there); fields are only ever added. Times are ISO 8601 UTC, durations whole seconds, enums
//! kebab-case. In short:
//!
//! ```text
//! /api/status        {generated_at, environments: [{name, live: {release, number, since,
//!                     approved_by, components: [{component, version, pages_url,
//!                     cloudhub_applications: [{name, change}]}]} | null, previous: {release,
//!                     number, since} | null, deploying: release id | null, pending:
//!                     [{kind: redeploy|decision, release, number, asked_of, since,
//!                     expires_at, reason, summary}]}],
//!                     in_flight: [{release, number, status, summary, waiting_on: {kind:
//!                     sign-off|deploying|environment-busy|scheduled|freeze|decision|
//!                     starting|next-step, ...}}],
//!                     recent_releases: [release summary], rejected_packages: [{object_key,
//!                     component, version, code, reason, rejected_at, commit}],
//!                     delivery: {window_days, since, releases, production,
//!                     deployments_to_production, per_week, lead_time: {median_seconds,
//!                     samples} | null, deployed_releases, failed_releases,
//!                     change_failure_rate | null, approval_wait: {..} | null},
//!                     trends: {production, weeks_known, weeks: [{starts, known,
//!                     deployments, lead_time: {..} | null, approval_wait: {..} | null}]},
//!                     depends_on: {name: [names it calls]}}
//! /api/releases      {releases: [release summary], next_before: number | null}
//!   release summary  {id, number, status, outcome, created_at, versions: {component: version},
//!                     changes: [{component, from | null, to}], url}
//! /api/releases/{id} release summary + {headline, waiting_on | null, content_hash, previous,
//!                     triggered_by, packages: [{component, version, sha256, object_key}],
//!                     notes: [{component, version, notes, commit, branch, build_url}],
//!                     environment_notes: [{environment, notes: [note]}],
//!                     environments: [{environment, progress, since, summary}],
//!                     deployments: [{environment, component, kind, version, status, started_at,
//!                     updated_at, error, pages_url, cloudhub_applications}],
//!                     events: [{at, kind, actor, environment, summary, comment}]}
//! /api/packages/{c}/{v}
//!                    {component, version, verdict: registered|refused, registered: {sha256, size,
//!                     object_key, registered_at, metadata, state: released|waiting|superseded|
//!                     processing, release | null, release_url | null, summary} | null,
//!                     refused: [{object_key, etag, code, reason, rejected_at, metadata}]}
//! errors             {status, error: not-found|bad-request|method-not-allowed|unavailable,
//!                     message}
//! ```
//!
//! `next_before` is what to pass as `before` for the next, older page; DynamoDB may hand one
//! out when the last page was exactly full, in which case that next page is empty.

use async_trait::async_trait;
use baton_domain::access::Audience;
use baton_domain::access::public::Redactor;
use baton_domain::ports::ConfigSource;
use baton_domain::ports::status::{
    LookedUp, Lookup, OVERVIEW_REJECTIONS, OVERVIEW_RELEASES, PENDING_PER_ENVIRONMENT, PackageVerdictView,
    ReleaseDetail, ReleaseListView, ReleaseRecord, ReleaseSummary, StatusReads, StatusView, environment_words,
    overview_lookup,
};
use baton_domain::redeploy;
use baton_domain::{BatonConfig, BatonError, ReleaseId};
use baton_html::status as pages;
use chrono::Utc;
use serde_json::{Value, json};

use crate::Function;
use crate::http::{HttpRequest, html_response, json_response};

pub mod access;
mod route;
mod search;
pub mod subscriptions;

use access::Gate;
use route::{BadRequest, Route, page_query, route};

/// Releases per page of `/api/releases` unless `limit` says otherwise.
pub const DEFAULT_PAGE_SIZE: usize = 20;
/// Releases in the Atom feed.
pub const FEED_RELEASES: usize = 20;

/// A JSON answer with `nosniff`, and `<`, `>`, `&` written as `\u003c`-style escapes: the
/// same data to any JSON reader, but never markup, even to a client that sniffs.
fn json_answer(status: u16, body: &Value) -> Value {
    let mut answer = json_response(status, &Value::Null);
    answer["headers"]["x-content-type-options"] = json!("nosniff");
    let text = body
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    answer["body"] = Value::String(text);
    answer
}

fn feed_answer(body: String) -> Value {
    json!({
        "statusCode": 200,
        "headers": {
            "content-type": "application/atom+xml; charset=utf-8",
            "cache-control": "no-store",
            "x-content-type-options": "nosniff",
        },
        "body": body,
        "isBase64Encoded": false,
    })
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<Value, BatonError> {
    serde_json::to_value(value).map_err(|e| BatonError::internal(format!("status view not serialisable: {e}")))
}

/// The status handler over its ports, behind `gate` (sign-in).
pub struct Status<C, S, G> {
    config: C,
    store: S,
    gate: G,
}

impl<C, S, G> Status<C, S, G>
where
    C: ConfigSource,
    S: StatusReads + baton_domain::ports::search::SearchReads,
    G: Gate,
{
    /// The handler over these adapters.
    pub fn new(config: C, store: S, gate: G) -> Self {
        Status { config, store, gate }
    }

    /// The overview: three reads at once (recent releases, pending sign-offs per environment,
    /// refused uploads), then one batched lookup of what those releases need.
    pub(crate) async fn overview(&self, config: &BatonConfig) -> Result<StatusView, BatonError> {
        let pending = async {
            let mut all = Vec::new();
            for env in config.environment_names() {
                all.extend(self.store.pending_sign_offs(env, PENDING_PER_ENVIRONMENT).await?);
            }
            Ok::<_, BatonError>(all)
        };
        let (page, pending, rejected) = tokio::try_join!(
            self.store.releases(OVERVIEW_RELEASES, None),
            pending,
            self.store.rejected_packages(OVERVIEW_REJECTIONS),
        )?;
        let looked = self.store.look_up(&overview_lookup(config, &page.releases)).await?;
        let mut view = StatusView::build(config, &page, &pending, &rejected, &looked, Utc::now());
        // What was changed outside Baton: one Query for every environment.
        let drift = self.store.open_drift_everywhere().await?;
        for env in &mut view.environments {
            env.drift = drift
                .iter()
                .filter(|d| d.environment == env.name)
                .map(|d| baton_domain::ports::status::DriftView {
                    words: d.words.clone(),
                    since: d.since,
                })
                .collect();
        }
        Ok(view)
    }

    /// What a release's page offers to deploy again: each environment, in lifecycle order,
    /// the release was deployed to before, with the release live there now (from `looked`,
    /// the environments as the page read them).
    fn deploy_again(config: &BatonConfig, record: &ReleaseRecord, looked: &LookedUp) -> pages::DeployAgain {
        let eligible: Vec<String> = config
            .environment_names()
            .into_iter()
            .filter(|env| redeploy::eligible(&record.events, env))
            .map(str::to_string)
            .collect();
        let live = |env: &str| {
            looked
                .environments
                .iter()
                .find(|e| e.state.environment == env)
                .and_then(|e| e.state.current.as_ref())
                .map(|c| c.number)
        };
        pages::DeployAgain {
            public_url: config.public_url.clone(),
            targets: eligible
                .iter()
                .map(|env| pages::RedeployTarget {
                    environment: env.clone(),
                    live: live(env),
                })
                .collect(),
        }
    }

    /// The Atom feed of recent releases, or of their progress in `environment`: each entry
    /// says where its release stands now (from the environments' states, read in one batch
    /// with the releases' deployments) and is updated when the release last changed (there).
    async fn feed(
        &self,
        config: &BatonConfig,
        environment: Option<&str>,
        public: Option<&Redactor>,
    ) -> Result<String, BatonError> {
        let mut page = self.store.releases(FEED_RELEASES, None).await?;
        let ids: Vec<ReleaseId> = page.releases.iter().map(|r| r.id.clone()).collect();
        let all: Vec<String> = config.environment_names().iter().map(|e| e.to_string()).collect();
        let environments: Vec<String> = match environment {
            Some(env) => vec![env.to_string()],
            None => all.clone(),
        };
        let mut notes = self.store.environment_notes(&ids, &environments).await?;
        if let Some(redactor) = public {
            for release in &mut page.releases {
                redactor.notes(&mut release.notes);
            }
            for (_, _, env_notes) in &mut notes {
                redactor.notes(env_notes);
            }
        }
        let lookup = Lookup {
            packages: Vec::new(),
            ..overview_lookup(config, &page.releases)
        };
        let looked = self.store.look_up(&lookup).await?;
        let now = (looked.environments.as_slice(), looked.deployments.as_slice());
        let base = config.public_url.trim_end_matches('/');
        // A sign-off whose mails could not be sent is told to subscribers too.
        let mut warnings = Vec::new();
        for env in &environments {
            for pending in self.store.pending_sign_offs(env, PENDING_PER_ENVIRONMENT).await? {
                if let Some(reason) = pending.mail_failure {
                    warnings.push((
                        pending.release_id,
                        format!(
                            "Baton {} for {env}: {}",
                            baton_domain::approval::delivery::UNREACHABLE_WORDS,
                            baton_domain::redact::internals(&reason)
                        ),
                    ));
                }
            }
        }
        // A change made outside Baton is told beside the release live there, and updates its
        // entry, so a feed reader sees it.
        let mut drift_since = Vec::new();
        for d in self.store.open_drift_everywhere().await? {
            if environments.contains(&d.environment) {
                drift_since.push((d.release_id.clone(), d.since));
                warnings.push((d.release_id, d.words));
            }
        }
        let noticed = |release: &ReleaseId, updated: chrono::DateTime<Utc>| {
            drift_since
                .iter()
                .filter(|(r, _)| r == release)
                .map(|(_, at)| *at)
                .fold(updated, std::cmp::max)
        };
        let entries = page
            .releases
            .iter()
            .filter_map(|release| {
                let mut summary = ReleaseSummary::of_in(release, &page, Some(now));
                let Some(env) = environment else {
                    return Some(pages::FeedEntry {
                        release,
                        updated: noticed(&release.id, summary.changed_at),
                        summary,
                    });
                };
                // An environment's feed holds the releases that got there: asked, signed off,
                // deployed or refused there.
                let last = page.changes.get(&release.id)?.environments.get(env)?;
                summary.outcome = environment_words(&release.id, env, Some(last), &looked.environments);
                Some(pages::FeedEntry {
                    release,
                    updated: noticed(&release.id, last.at),
                    summary,
                })
            })
            .collect();
        Ok(pages::feed_of(&pages::Feed {
            entries,
            environment_notes: &notes,
            environments: &environments,
            environment,
            base_url: base,
            now: Utc::now(),
            warnings: &warnings,
        }))
    }

    async fn answer(
        &self,
        config: &BatonConfig,
        request: &HttpRequest,
        route: Route,
        public: Option<&Redactor>,
    ) -> Result<Result<Value, BadRequest>, BatonError> {
        let overview = || async {
            let mut view = self.overview(config).await?;
            if let Some(redactor) = public {
                redactor.status(&mut view);
            }
            Ok::<_, BatonError>(view)
        };
        Ok(Ok(match route {
            Route::Overview { json: false } => {
                html_response(200, pages::overview_page(&overview().await?, config.zone()))
            }
            Route::Overview { json: true } => json_answer(200, &to_json(&overview().await?)?),
            Route::Releases => {
                let (limit, before) = match page_query(request) {
                    Ok(q) => q,
                    Err(bad) => return Ok(Err(bad)),
                };
                let page = self.store.releases(limit, before).await?;
                json_answer(200, &to_json(&ReleaseListView::of(&page))?)
            }
            Route::Release { id, json } => {
                let Some(record) = self.store.release_record(&id).await? else {
                    return Ok(Err(BadRequest::not_found(format!(
                        "There is no release {id}. See the list of releases for the ones that exist."
                    ))));
                };
                let now = Utc::now();
                // Every environment as it is now, in one batch read: where the release is live,
                // and what its page offers to deploy again.
                let lookup = Lookup {
                    environments: config.environment_names().into_iter().map(str::to_string).collect(),
                    ..Default::default()
                };
                let looked = self.store.look_up(&lookup).await?;
                let mut detail = ReleaseDetail::build(config, &record, now).live_now(&record, &looked.environments);
                if let Some(redactor) = public {
                    redactor.release(&mut detail);
                }
                if json {
                    json_answer(200, &to_json(&detail)?)
                } else {
                    let again = Self::deploy_again(config, &record, &looked);
                    html_response(200, pages::release_page_with(&detail, &again, now, config.zone()))
                }
            }
            Route::Package { component, version } => {
                let record = self.store.package_record(&component, &version).await?;
                match PackageVerdictView::of(&component, &version, &record) {
                    Some(mut verdict) => {
                        if let Some(redactor) = public {
                            redactor.verdict(&mut verdict);
                        }
                        json_answer(200, &to_json(&verdict)?)
                    }
                    None => {
                        return Ok(Err(BadRequest::not_found(format!(
                            "Baton has no upload of {component} {version} on record (yet): an upload takes a few seconds to be checked."
                        ))));
                    }
                }
            }
            Route::Webhooks { json } => {
                let view = webhooks::view(config, &self.store).await?;
                if json {
                    json_answer(200, &to_json(&view)?)
                } else {
                    html_response(200, webhooks::page(&view))
                }
            }
            Route::Search { json } => return self.search(config, request, json).await,
            Route::Feed => feed_answer(self.feed(config, None, public).await?),
            Route::EnvironmentFeed { environment } => {
                if config.environment(&environment).is_none() {
                    let known: Vec<String> = config
                        .environment_names()
                        .iter()
                        .map(|e| format!("/feed/{e}.xml"))
                        .collect();
                    return Ok(Err(BadRequest::not_found(format!(
                        "There is no environment '{}'. The environments' feeds are {}.",
                        environment.chars().take(40).collect::<String>(),
                        known.join(", ")
                    ))));
                }
                feed_answer(self.feed(config, Some(&environment), public).await?)
            }
        }))
    }

    async fn handle(&self, request: HttpRequest) -> Value {
        let config = match self.config.config().await {
            Ok(config) => config,
            Err(e) => return self.unavailable(&request, &e),
        };
        if let Some(answer) = self.gate.answer(&config, &request).await {
            return answer;
        }
        let wants_json = request.path.starts_with("/api/");
        let problem = |bad: BadRequest| {
            if wants_json {
                json_answer(
                    bad.status,
                    &json!({ "status": bad.status, "error": bad.code, "message": bad.message }),
                )
            } else {
                let title = if bad.status == 404 { "Not found" } else { "Bad request" };
                html_response(bad.status, pages::error_page(title, &bad.message))
            }
        };
        if request.method != "GET" && request.method != "HEAD" {
            return problem(BadRequest {
                status: 405,
                code: "method-not-allowed",
                message: "The status pages only answer GET.".into(),
            });
        }
        let audience = match self.gate.audience(&config, &request).await {
            Ok(Ok(audience)) => audience,
            Ok(Err(_)) => return sign_in_first(wants_json),
            Err(e) => return self.unavailable(&request, &e),
        };
        let route = match route(&request.path) {
            Ok(route) => route,
            Err(bad) => return problem(bad),
        };
        // Admin pages (webhook deliveries name the hooks' hosts) are for signed-in viewers
        // only, also when the rest is public.
        if matches!(route, Route::Webhooks { .. }) && audience == Audience::Public {
            return sign_in_first(wants_json);
        }
        let redactor = (audience == Audience::Public).then(|| Redactor::new(&config));
        let answer = match self.answer(&config, &request, route, redactor.as_ref()).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(bad)) => problem(bad),
            Err(e) => return self.unavailable(&request, &e),
        };
        match (&audience, redactor) {
            // The second layer: whatever text the answer carries, no address survives.
            (_, Some(redactor)) => scrubbed(answer, &redactor),
            (Audience::Viewer(viewer), None) if !wants_json && request.path != "/feed.xml" => {
                self.framed(&config, &request, viewer, answer).await
            }
            _ => answer,
        }
    }

    /// A 503 without internals; the details (table, AWS error) go to the log.
    fn unavailable(&self, request: &HttpRequest, e: &BatonError) -> Value {
        tracing::error!(error = %e, path = %request.path, "status read failed");
        let message = "The status could not be read just now. Try again in a moment.";
        if request.path.starts_with("/api/") {
            json_answer(
                503,
                &json!({ "status": 503, "error": "unavailable", "message": message }),
            )
        } else {
            html_response(503, pages::error_page("Bad request", message))
        }
    }

    /// An HTML answer with the signed-in viewer's bar.
    async fn framed(&self, config: &BatonConfig, request: &HttpRequest, viewer: &str, mut answer: Value) -> Value {
        if let Some(body) = answer["body"].as_str().map(str::to_string) {
            answer["body"] = Value::String(self.gate.frame(config, request, viewer, body).await);
        }
        answer
    }
}

/// The answer to a reader who must sign in first: nothing of Baton's state.
fn sign_in_first(wants_json: bool) -> Value {
    if wants_json {
        let mut answer = json_answer(
            401,
            &json!({
                "status": 401,
                "error": "unauthorized",
                "message": "Sign in on the status page, or send Authorization: Bearer <token> (make a token on your account page).",
            }),
        );
        answer["headers"]["www-authenticate"] = json!("Bearer realm=\"baton\"");
        answer
    } else {
        html_response(401, baton_html::access::sign_in_required_page())
    }
}

/// `answer` with every address in its body replaced by the person's role.
fn scrubbed(mut answer: Value, redactor: &Redactor) -> Value {
    if let Some(body) = answer["body"].as_str() {
        answer["body"] = Value::String(redactor.text(body));
    }
    answer
}

#[async_trait]
impl<C, S, G> Function for Status<C, S, G>
where
    C: ConfigSource,
    S: StatusReads + baton_domain::ports::search::SearchReads,
    G: Gate,
{
    async fn invoke(&self, payload: Value) -> Result<Value, BatonError> {
        Ok(self.handle(HttpRequest::from_event(payload)).await)
    }
}

mod webhooks;

#[cfg(test)]
mod tests;
