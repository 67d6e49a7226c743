//! `GET /api/search?q=` and `GET /search?q=` (issue 16, item 7): where a change is now.
//!
//! Reads, whatever the history holds: one Query for the most specific term (two for hex made
//! only of letters: a commit prefix or a word), its newest 20 entries being the candidates;
//! with more terms (at most three, ANDed), one BatchGetItem checking the others for those
//! candidates by key; and, when something matched, one Query per environment (its open
//! sign-offs), one BatchGetItem of the environments' states and leases, and one BatchGetItem
//! of the matched packages (the first release holding each). Never a Scan.

use baton_domain::ports::ConfigSource;
use baton_domain::ports::search::SearchReads;
use baton_domain::ports::status::{Lookup, PENDING_PER_ENVIRONMENT, StatusReads};
use baton_domain::search::answer::{Found, SearchAnswer, Surroundings};
use baton_domain::search::{HITS_PER_TERM, IndexEntry, SearchQuery, matches, probes};
use baton_domain::{BatonConfig, BatonError};
use baton_html::status as pages;
use chrono::Utc;
use serde_json::Value;

use super::route::BadRequest;
use super::{Status, json_answer, to_json};
use crate::http::{HttpRequest, html_response};

impl<C, S, G> Status<C, S, G>
where
    C: ConfigSource,
    S: StatusReads + SearchReads,
    G: super::access::Gate,
{
    /// Answers a search, as JSON or as the answer page.
    pub(super) async fn search(
        &self,
        config: &BatonConfig,
        request: &HttpRequest,
        json: bool,
    ) -> Result<Result<Value, BadRequest>, BatonError> {
        let components: Vec<&str> = config.components.iter().map(|c| c.name.as_str()).collect();
        let q = request.query.get("q").map(String::as_str).unwrap_or_default();
        let query = match SearchQuery::parse(q, &components) {
            Ok(query) => query,
            Err(problem) => return Ok(Err(BadRequest::invalid(problem.0))),
        };
        let answer = self.search_answer(config, &query).await?;
        Ok(Ok(if json {
            json_answer(200, &to_json(&answer)?)
        } else {
            html_response(200, pages::search_page(&answer, Utc::now(), config.zone()))
        }))
    }

    async fn search_answer(&self, config: &BatonConfig, query: &SearchQuery) -> Result<SearchAnswer, BatonError> {
        let mut lead_hits: Vec<IndexEntry> = Vec::new();
        for key in query.lead().map(|t| t.keys.as_slice()).unwrap_or_default() {
            lead_hits.extend(self.store.entries(key, HITS_PER_TERM).await?);
        }
        let wanted = probes(query, &lead_hits);
        let present = if wanted.is_empty() {
            Vec::new()
        } else {
            self.store.present(&wanted).await?
        };
        let matched = matches(query, &lead_hits, &present);
        let now = Utc::now();
        if matched.is_empty() {
            let around = Surroundings {
                config,
                environments: &[],
                pending: &[],
                now,
            };
            return Ok(SearchAnswer::build(query, &[], &around));
        }
        let environments: Vec<String> = config.environment_names().into_iter().map(str::to_string).collect();
        let pending = async {
            let mut all = Vec::new();
            for env in &environments {
                all.extend(self.store.pending_sign_offs(env, PENDING_PER_ENVIRONMENT).await?);
            }
            Ok::<_, BatonError>(all)
        };
        let lookup = Lookup {
            environments: environments.clone(),
            ..Default::default()
        };
        let packages: Vec<_> = matched
            .iter()
            .map(|e| (e.component.clone(), e.version.clone()))
            .collect();
        let (pending, looked, firsts) = tokio::try_join!(
            pending,
            self.store.look_up(&lookup),
            self.store.first_releases(&packages),
        )?;
        let found: Vec<Found> = matched
            .into_iter()
            .map(|entry| {
                let release = firsts
                    .iter()
                    .find(|((c, v), _)| *c == entry.component && *v == entry.version)
                    .and_then(|(_, r)| r.clone());
                Found { entry, release }
            })
            .collect();
        let around = Surroundings {
            config,
            environments: &looked.environments,
            pending: &pending,
            now,
        };
        Ok(SearchAnswer::build(query, &found, &around))
    }
}
