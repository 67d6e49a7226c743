//! A rotated or revoked API token: refused at once (never retried), reported as `Baton.Invalid`
//! saying "the stored token was refused"; the port adapter takes a new token at once; a storm
//! longer than the retries ends as `Baton.Transient`.

mod common;

use baton_cloudflare::PagesError;
use baton_cloudflare::port::{CloudflarePages, TOKEN_REFUSED, to_baton};
use baton_domain::ErrorKind;
use baton_domain::platforms::{Pages, PagesTarget};
use baton_sim_cloudflare::{FaultSpec, RunningSim};
use common::*;

fn target(sim: &RunningSim, token: &str) -> PagesTarget {
    PagesTarget {
        api_base_url: sim.url(),
        api_token: token.to_string(),
        account_id: sim.state().config().account_id.clone(),
        project: PROJECT.to_string(),
        branch: "main".to_string(),
    }
}

#[tokio::test]
async fn a_rotated_token_is_refused_once_and_reported_as_invalid() {
    for status in [401, 403] {
        let sim = start_sim(|_| {}).await;
        let client = client(&sim);
        sim.state().rotate_token("the-new-token", status).expect("rotation");

        let error = client
            .list_deployments(PROJECT, None, 1, 10)
            .await
            .expect_err("the old token is refused");
        assert_eq!(error.status(), Some(status));
        assert!(error.is_token_refused(), "{error}");
        assert_eq!(client.requests_made(), 1, "a refusal is not retried");
        let baton = to_baton(&error);
        assert_eq!(baton.kind, ErrorKind::Invalid);
        assert!(baton.message.contains(TOKEN_REFUSED), "{}", baton.message);
        assert!(!baton.message.contains("the-new-token"));
    }
}

#[tokio::test]
async fn the_adapter_uses_the_new_token_once_it_is_given() {
    let sim = start_sim(|_| {}).await;
    let pages = CloudflarePages::with_settings(fast_settings());
    let old = sim.state().config().api_token.clone();
    assert!(
        pages
            .find(&target(&sim, &old), "marker")
            .await
            .expect("accepted")
            .is_none()
    );

    sim.state().rotate_token("the-new-token", 401).expect("rotation");
    let refused = pages.find(&target(&sim, &old), "marker").await.expect_err("refused");
    assert!(refused.message.contains(TOKEN_REFUSED), "{}", refused.message);
    assert!(
        pages
            .find(&target(&sim, "the-new-token"), "marker")
            .await
            .expect("accepted")
            .is_none()
    );
}

#[tokio::test]
async fn an_upload_jwt_refusal_is_not_a_refused_token() {
    let sim = start_sim(|_| {}).await;
    let client = client(&sim);
    // Every upload refused for its JWT: the client gives up after a few fresh JWTs.
    sim.state()
        .add_fault(FaultSpec::HttpError {
            status: 401,
            count: 50,
            skip: 0,
            path_contains: Some("/pages/assets/upload".into()),
            method: None,
            retry_after: None,
            code: Some(baton_cloudflare::CODE_UPLOAD_UNAUTHORIZED),
            message: Some("Authorization failed".into()),
        })
        .expect("fault");
    let error = client
        .deploy(&baton_cloudflare::DeployOptions::new(PROJECT), site("v1"))
        .await
        .expect_err("uploads refused");
    assert!(!error.is_token_refused(), "{error}");
    assert!(!to_baton(&error).message.contains(TOKEN_REFUSED));
}

#[tokio::test]
async fn a_storm_longer_than_the_retries_is_transient() {
    for status in [429, 500, 502, 503] {
        let sim = start_sim(|_| {}).await;
        let client = client(&sim);
        sim.state()
            .add_fault(FaultSpec::http_error(status, 100, Some("/deployments")))
            .expect("fault");
        let error: PagesError = client
            .list_deployments(PROJECT, None, 1, 10)
            .await
            .expect_err("the storm outlasts the retries");
        assert_eq!(error.status(), Some(status));
        assert_eq!(client.requests_made(), 5, "{status}: bounded attempts");
        assert_eq!(to_baton(&error).kind, ErrorKind::Transient, "{status}");
    }
}
