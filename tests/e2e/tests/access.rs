//! Who can see (issue 16, items 1 to 3) against the local stack: sign-in by emailed link for a
//! listed domain, the same answer and no mail for an outsider, single-use links, the session
//! cookie and sign-out, API tokens and their revocation, forged forms and cookies, and public
//! mode with no address, build URL, object key or preview URL on any page or JSON answer.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use baton_e2e::access::{client, hidden};
use baton_e2e::{Harness, config_with};
use reqwest::header::{AUTHORIZATION, COOKIE, SET_COOKIE};

fn addresses(body: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (at, _) in body.match_indices('@') {
        let local: String = body[..at]
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric() || "._%+-".contains(*c))
            .collect();
        let domain: String = body[at + 1..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || ".-".contains(*c))
            .collect();
        if !local.is_empty() && domain.trim_end_matches('.').contains('.') {
            found.push(format!("{}@{domain}", local.chars().rev().collect::<String>()));
        }
    }
    found
}

async fn get(h: &Harness, path: &str, cookie: Option<&str>, bearer: Option<&str>) -> Result<(u16, String)> {
    let mut request = client().get(format!("{}{path}", h.stack.http_url));
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    if let Some(token) = bearer {
        request = request.header(AUTHORIZATION, format!("Bearer {token}"));
    }
    let answer = request.send().await?;
    Ok((answer.status().as_u16(), answer.text().await?))
}

async fn post(h: &Harness, path: &str, cookie: &str, form: &[(&str, &str)]) -> Result<(u16, String)> {
    let answer = client()
        .post(format!("{}{path}", h.stack.http_url))
        .header(COOKIE, cookie)
        .form(form)
        .send()
        .await?;
    Ok((answer.status().as_u16(), answer.text().await?))
}

fn listed_stack() -> baton_local::StackOptions {
    config_with(|text| {
        text.replace(
            "  viewers: public ",
            "  viewers: [\"@example-health.org\", ann@partner.example] ",
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listed_viewer_signs_in_and_an_outsider_sees_nothing() -> Result<()> {
    let h = Harness::start_with(listed_stack()).await?;
    h.release_samples("1.0.0", 1).await?;

    // Not signed in: nothing of Baton's state, on any route.
    for path in ["/", "/releases/rel-1", "/feed.xml"] {
        let (status, body) = get(&h, path, None, None).await?;
        assert_eq!(status, 401, "{path}");
        assert!(
            body.contains("Sign in") && !body.contains("rel-1") && !body.contains("1.0.0"),
            "{path}: {body}"
        );
    }
    for path in [
        "/api/status",
        "/api/releases",
        "/api/releases/rel-1",
        "/api/packages/web/1.0.0",
    ] {
        let (status, body) = get(&h, path, None, None).await?;
        assert_eq!(status, 401, "{path}");
        assert!(
            body.contains("\"unauthorized\"") && !body.contains("1.0.0"),
            "{path}: {body}"
        );
    }

    // An outsider asking for a link gets the same page as a listed viewer, and no mail.
    let http = client();
    let ask = |email: &'static str| {
        let http = http.clone();
        let url = format!("{}/sign-in", h.stack.http_url);
        async move {
            let answer = http.post(url).form(&[("email", email)]).send().await?;
            Ok::<_, anyhow::Error>((answer.status().as_u16(), answer.text().await?.replace(email, "ADDRESS")))
        }
    };
    let mails_before = h.mails().len();
    let outsider = ask("eve@outsider.example").await?;
    let insider = ask("nurse@example-health.org").await?;
    assert_eq!(outsider, insider, "no account probing");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let new: Vec<Vec<String>> = h.mails().into_iter().skip(mails_before).map(|m| m.to).collect();
    assert!(!new.iter().flatten().any(|to| to.contains("outsider")), "{new:?}");
    assert!(
        new.iter().flatten().any(|to| to == "nurse@example-health.org"),
        "{new:?}"
    );
    // Bad input: a clear 400, nothing sent.
    let (status, body) = {
        let answer = http
            .post(format!("{}/sign-in", h.stack.http_url))
            .form(&[("email", "not-an-address")])
            .send()
            .await?;
        (answer.status().as_u16(), answer.text().await?)
    };
    assert_eq!(status, 400);
    assert!(body.contains("work email address"), "{body}");

    // Signed in: the pages, with names.
    h.approval_links(1, "TEST").await?;
    let nurse = h.sign_in("nurse@example-health.org").await?;
    let (status, page) = get(&h, "/", Some(&nurse), None).await?;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("Signed in as") && page.contains("nurse@example-health.org"),
        "{page}"
    );
    let (status, json) = get(&h, "/api/status", Some(&nurse), None).await?;
    assert_eq!(status, 200);
    assert!(
        json.contains("release-manager@example.com"),
        "signed-in viewers see names: {json}"
    );

    // A tampered cookie proves nothing.
    let forged = nurse.replace("v1.", "v1.A");
    assert_eq!(get(&h, "/", Some(&forged), None).await?.0, 401);

    // A token for scripts: made on the account page, shown once, works as a bearer.
    let (status, account) = get(&h, "/account", Some(&nurse), None).await?;
    assert_eq!(status, 200);
    let guard = hidden(&account, "guard").context("the account page's guard")?;
    // Without the guard (another site's form), nothing is made.
    let (status, _) = post(&h, "/account/tokens", &nurse, &[("name", "CI")]).await?;
    assert_eq!(status, 403);
    let (status, made) = post(&h, "/account/tokens", &nurse, &[("name", "CI"), ("guard", &guard)]).await?;
    assert_eq!(status, 200, "{made}");
    let start = made.find("baton_").context("the new token on the page")?;
    let token = made[start..start + 49].to_string();
    let (status, json) = get(&h, "/api/releases/rel-1", None, Some(&token)).await?;
    assert_eq!(status, 200, "{json}");
    assert!(json.contains("\"rel-1\""));
    // The account page lists it with its last use, never the token again.
    let (_, account) = get(&h, "/account", Some(&nurse), None).await?;
    assert!(account.contains("CI") && !account.contains(&token), "{account}");
    // A made-up token of the right shape is refused.
    let made_up = format!("baton_{}", "A".repeat(43));
    assert_eq!(get(&h, "/api/status", None, Some(&made_up)).await?.0, 401);

    // Revoked: refused at once.
    let id_at = account.find("/account/tokens/").context("a revoke form")?;
    let id = &account[id_at + 16..id_at + 32];
    let (status, _) = post(
        &h,
        &format!("/account/tokens/{id}/revoke"),
        &nurse,
        &[("guard", &guard)],
    )
    .await?;
    assert_eq!(status, 303);
    assert_eq!(get(&h, "/api/status", None, Some(&token)).await?.0, 401);

    // Another viewer cannot revoke nurse's tokens.
    let ann = h.sign_in("ann@partner.example").await?;
    let (_, ann_account) = get(&h, "/account", Some(&ann), None).await?;
    let ann_guard = hidden(&ann_account, "guard").context("ann's guard")?;
    let (status, _) = post(&h, "/account/tokens", &nurse, &[("name", "second"), ("guard", &guard)]).await?;
    assert_eq!(status, 200);
    let (_, account) = get(&h, "/account", Some(&nurse), None).await?;
    let second_at = account.find("/account/tokens/").context("second token")?;
    let second = &account[second_at + 16..second_at + 32];
    let (status, _) = post(
        &h,
        &format!("/account/tokens/{second}/revoke"),
        &ann,
        &[("guard", &ann_guard)],
    )
    .await?;
    assert_eq!(status, 404, "ann has no such token");

    // Sign-out clears the cookie.
    let out = client()
        .post(format!("{}/sign-out", h.stack.http_url))
        .header(COOKIE, &nurse)
        .form(&[("guard", guard.as_str())])
        .send()
        .await?;
    assert_eq!(out.status(), 303);
    assert!(out.headers()[SET_COOKIE].to_str()?.contains("Max-Age=0"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_public_mode_no_address_link_or_key_appears_anywhere() -> Result<()> {
    let h = Harness::start().await?;
    h.release_samples("1.0.0", 1).await?;
    h.approve_from_mail(
        1,
        "TEST",
        "checked by release-manager@example.com and qa.lead@example.com",
    )
    .await?;
    h.wait_live("TEST", 1).await?;
    h.approval_links(1, "PROD").await?;
    h.upload(
        "packages/web/v1.1/site.zip",
        baton_e2e::sample_site("bad"),
        &[("author", "dev@example.com")],
    )
    .await?;
    h.wait_for_rejections(1).await?;

    let paths = [
        "/",
        "/releases/rel-1",
        "/feed.xml",
        "/api/status",
        "/api/releases",
        "/api/releases/rel-1",
        "/api/packages/web/1.0.0",
        "/api/packages/state/1.0.0",
    ];
    for path in paths {
        let (status, body) = get(&h, path, None, None).await?;
        if status != 200 {
            bail!("{path}: {status} {body}");
        }
        assert_eq!(addresses(&body), Vec::<String>::new(), "{path}");
        for secret in [
            "ci.example.com",
            "packages/web/",
            "packages/state/",
            "pages.dev",
            "test.baton-demo",
        ] {
            assert!(!body.contains(secret), "{path} shows {secret}: {body}");
        }
    }
    // People appear as their roles.
    let (_, json) = get(&h, "/api/status", None, None).await?;
    assert!(json.contains("the release manager"), "{json}");
    let (_, page) = get(&h, "/releases/rel-1", None, None).await?;
    assert!(page.contains("Signed off for TEST by the release manager"), "{page}");
    // An approver may sign in, and then sees names and links.
    let rm = h.sign_in("release-manager@example.com").await?;
    let (_, json) = get(&h, "/api/releases/rel-1", Some(&rm), None).await?;
    assert!(
        json.contains("release-manager@example.com") && json.contains("ci.example.com"),
        "{json}"
    );
    // Anyone else asking gets the same page and no mail.
    let before = h.mails().len();
    let answer = client()
        .post(format!("{}/sign-in", h.stack.http_url))
        .form(&[("email", "someone@example-health.org")])
        .send()
        .await?;
    assert_eq!(answer.status(), 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(h.mails().len(), before);
    Ok(())
}

/// The mail to `to` whose subject contains `subject`, waited for.
async fn mail_to(h: &Harness, to: &str, subject: &str) -> Result<baton_local::outbox::SentMail> {
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(mail) = h
            .mails()
            .into_iter()
            .find(|m| m.to.iter().any(|t| t == to) && m.subject.contains(subject))
        {
            return Ok(mail);
        }
        if std::time::Instant::now() > deadline {
            let sent: Vec<(Vec<String>, String)> = h.mails().into_iter().map(|m| (m.to, m.subject)).collect();
            bail!("no mail to {to} about '{subject}'; sent: {sent:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The "done when": a business user at @example-health.org signs in, finds ADM-142,
/// subscribes, and gets a mail when it is live in PROD; an outsider sees nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_business_user_signs_in_finds_adm_142_subscribes_and_hears_it_is_live_in_prod() -> Result<()> {
    let h = Harness::start_with(listed_stack()).await?;
    h.release_samples("1.0.0", 1).await?;
    h.approve_from_mail(1, "TEST", "").await?;
    h.approve_from_mail(1, "PROD", "").await?;
    h.wait_for_status(1, "released", Duration::from_secs(120)).await?;
    let notes = [
        ("commit", "c0ffee1d2e"),
        ("notes", "Admissions form: clearer errors (ADM-142)"),
    ];
    h.upload("packages/web/1.1.0/site.zip", baton_e2e::sample_site("1.1.0"), &notes)
        .await?;
    baton_local::demo::wait_for_release(&h.stack, 2, Duration::from_secs(90)).await?;

    // The outsider: nothing, not even whether ADM-142 exists.
    for path in ["/search?q=ADM-142", "/api/search?q=ADM-142"] {
        let (status, body) = get(&h, path, None, None).await?;
        assert_eq!(status, 401, "{path}");
        assert!(!body.contains("1.1.0") && !body.contains("ADM-142"), "{path}: {body}");
    }

    // The business user signs in and finds it.
    let nurse = h.sign_in("nurse@example-health.org").await?;
    let (status, answer) = get(&h, "/api/search?q=ADM-142", Some(&nurse), None).await?;
    assert_eq!(status, 200, "{answer}");
    let answer: serde_json::Value = serde_json::from_str(&answer)?;
    assert_eq!(answer["results"][0]["component"], "web", "{answer}");
    assert_eq!(answer["results"][0]["version"], "1.1.0", "{answer}");
    let (_, page) = get(&h, "/search?q=ADM-142", Some(&nurse), None).await?;
    assert!(page.contains("ADM-142") && page.contains("Signed in as"), "{page}");

    // Subscribes to PROD (double opt-in); an outsider asking the same gets the same page, no mail.
    let subscribe = |email: &'static str| {
        let url = format!("{}/subscriptions", h.stack.http_url);
        async move {
            let answer = client()
                .post(url)
                .form(&[("email", email), ("environment", "PROD")])
                .send()
                .await?;
            Ok::<_, anyhow::Error>((answer.status().as_u16(), answer.text().await?))
        }
    };
    let before = h.mails().len();
    let insider = subscribe("nurse@example-health.org").await?;
    let outsider = subscribe("eve@outsider.example").await?;
    assert_eq!(insider, outsider, "the same page for everyone");
    let confirm = mail_to(&h, "nurse@example-health.org", "Confirm your Baton subscription").await?;
    let link = confirm
        .links
        .iter()
        .find(|l| l.contains("/subscriptions/confirm?"))
        .context("a confirmation link")?;
    let url = reqwest::Url::parse(link)?;
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let (id, token) = (param("id"), param("token"));
    let confirmed = client()
        .post(format!("{}/subscriptions/confirm", h.stack.http_url))
        .form(&[("id", id.as_str()), ("token", token.as_str())])
        .send()
        .await?;
    assert_eq!(confirmed.status(), 200);

    // Release 2 goes to TEST and PROD; the subscriber hears once it is live in PROD.
    h.approve_from_mail(2, "TEST", "").await?;
    h.approve_from_mail(2, "PROD", "").await?;
    let live = mail_to(&h, "nurse@example-health.org", "Release 2 is live in PROD").await?;
    assert!(
        live.headers.iter().any(|(n, _)| n == "List-Unsubscribe"),
        "{:?}",
        live.headers
    );
    let to_outsider: Vec<String> = h
        .mails()
        .into_iter()
        .skip(before)
        .flat_map(|m| m.to)
        .filter(|to| to.contains("outsider"))
        .collect();
    assert!(to_outsider.is_empty(), "{to_outsider:?}");
    Ok(())
}
