use chrono::{Duration, TimeZone, Utc};

use super::public::Redactor;
use super::session::{self, Session};
use super::tokens::{self, ApiToken, SignInLink};
use super::*;

fn config(access: &str) -> BatonConfig {
    let yaml = format!(
        r#"
public_url: https://baton.example-health.org
mail: {{ sender: baton@example-health.org }}
components:
  - name: web
    kind: web
    cloudflare: {{ account_id: a, project: p, api_token_secret: baton/cf }}
    environments: {{ TEST: {{ branch: preview }}, PROD: {{ branch: main }} }}
environments:
  - {{ name: TEST, approvers: [rm@example-health.org], approval_ttl: 24h }}
  - {{ name: PROD, approvers: [rm@example-health.org, cab@example-health.org], approval_ttl: 24h }}
{access}
"#
    );
    BatonConfig::from_yaml(&yaml).unwrap_or_else(|e| panic!("{e}"))
}

fn listed() -> BatonConfig {
    config(
        "access:\n  viewers: ['@example-health.org', ann@partner.com]\n  roles: { rm@example-health.org: the release manager, cab@example-health.org: CAB }",
    )
}

#[test]
fn viewers_default_to_public_and_read_both_forms() {
    assert!(config("").access.is_public());
    assert!(config("access: { viewers: public }").access.is_public());
    assert_eq!(
        listed().access.viewers,
        Viewers::Listed(vec!["@example-health.org".into(), "ann@partner.com".into()])
    );
}

#[test]
fn bad_viewers_and_roles_are_refused_by_field() {
    let err = |access: &str| {
        let yaml = format!(
            "public_url: https://b.example\nmail: {{ sender: b@b.example }}\ncomponents:\n  - {{ name: web, kind: web, cloudflare: {{ account_id: a, project: p, api_token_secret: baton/cf }}, environments: {{ TEST: {{ branch: preview }} }} }}\nenvironments:\n  - {{ name: TEST, approvers: [a@b.example], approval_ttl: 1h }}\n{access}\n"
        );
        BatonConfig::from_yaml(&yaml).expect_err("refused").to_string()
    };
    assert!(err("access: { viewers: everyone }").contains("access.viewers"));
    assert!(err("access: { viewers: [] }").contains("lists nobody"));
    let e = err("access: { viewers: [example.org, '@', 'x@y'] }");
    assert!(
        e.contains("access.viewers[0]") && e.contains("access.viewers[1]") && e.contains("access.viewers[2]"),
        "{e}"
    );
    assert!(err("access: { roles: { a@b.example: x@y.example } }").contains("access.roles.a@b.example"));
    assert!(err("access: { session_secret: '' }").contains("access.session_secret"));
}

#[test]
fn listed_addresses_domains_and_approvers_may_sign_in() {
    let c = listed();
    assert!(may_sign_in(&c, "Nurse@Example-Health.org "));
    assert!(may_sign_in(&c, "ann@partner.com"));
    assert!(!may_sign_in(&c, "bob@partner.com"));
    // A look-alike domain is not the domain.
    assert!(!may_sign_in(&c, "eve@evil-example-health.org"));
    assert!(!may_sign_in(&c, "eve@example-health.org.evil.com"));
    assert!(!may_sign_in(&c, "not an address"));
    // Public mode: only approvers sign in.
    let public = config("");
    assert!(may_sign_in(&public, "cab@example-health.org"));
    assert!(!may_sign_in(&public, "nurse@example-health.org"));
}

#[test]
fn audience_follows_the_configuration_as_it_is_now() {
    let c = listed();
    assert_eq!(audience(&c, None), Err(Refusal::NotSignedIn));
    assert_eq!(
        audience(&c, Some("nurse@example-health.org")),
        Ok(Audience::Viewer("nurse@example-health.org".into()))
    );
    // Removed from the list since the cookie was made: refused at once.
    assert_eq!(audience(&c, Some("bob@partner.com")), Err(Refusal::NoLongerAllowed));
    let public = config("");
    assert_eq!(audience(&public, None), Ok(Audience::Public));
    assert_eq!(audience(&public, Some("bob@partner.com")), Ok(Audience::Public));
    assert_eq!(
        audience(&public, Some("rm@example-health.org")),
        Ok(Audience::Viewer("rm@example-health.org".into()))
    );
}

const KEY: &[u8] = b"0123456789abcdef0123456789abcdef-session";

#[test]
fn a_session_opens_until_it_expires() {
    let now = Utc.with_ymd_and_hms(2026, 11, 30, 10, 0, 0).unwrap();
    let cookie = session::seal(KEY, "nurse@example-health.org", now);
    let opened = session::open(KEY, &cookie, now + Duration::days(6)).expect("open");
    assert_eq!(
        opened,
        Session {
            viewer: "nurse@example-health.org".into(),
            expires_at: now + Duration::days(7)
        }
    );
    assert_eq!(session::open(KEY, &cookie, now + Duration::days(7)), None);
}

#[test]
fn a_tampered_or_foreign_session_opens_nothing() {
    let now = Utc::now();
    let cookie = session::seal(KEY, "nurse@example-health.org", now);
    // Signed under another key (the key was rotated).
    assert_eq!(
        session::open(b"another-key-another-key-another-key!", &cookie, now),
        None
    );
    // Someone else's address with the old signature.
    let (body, sig) = cookie.rsplit_once('.').unwrap();
    let mut parts: Vec<&str> = body.split('.').collect();
    let forged_who = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        "cab@example-health.org",
    );
    parts[1] = &forged_who;
    assert_eq!(session::open(KEY, &format!("{}.{sig}", parts.join(".")), now), None);
    // A later expiry with the old signature.
    let far = format!("v1.{}.{}.{sig}", parts[1], (now + Duration::days(999)).timestamp());
    assert_eq!(session::open(KEY, &far, now), None);
    for junk in ["", ".", "v1..", "v1.a.b.c.d", &"x".repeat(5000)] {
        assert_eq!(session::open(KEY, junk, now), None, "{junk:.20}");
    }
    // A short key signs nothing that opens.
    assert_eq!(
        session::open(b"short", &session::seal(b"short", "a@b.c", now), now),
        None
    );
}

#[test]
fn cookies_are_http_only_lax_and_secure_off_the_local_stack() {
    let set = session::set_cookie("v", true);
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("; Secure"));
    assert!(set.contains("Max-Age=604800"));
    assert!(!session::set_cookie("v", false).contains("Secure"));
    assert!(session::clear_cookie(true).contains("Max-Age=0"));
    assert_eq!(session::cookie_value(["a=1; baton_session=xyz; b=2"]), Some("xyz"));
    assert_eq!(session::cookie_value(["a=1", "baton_session=abc"]), Some("abc"));
    assert_eq!(session::cookie_value(["baton_sessionx=1", "baton_session="]), None);
}

#[test]
fn the_form_guard_is_bound_to_the_session() {
    let guard = session::form_guard(KEY, "cookie-a");
    assert!(session::form_guard_ok(KEY, "cookie-a", &guard));
    assert!(!session::form_guard_ok(KEY, "cookie-b", &guard));
    assert!(!session::form_guard_ok(KEY, "cookie-a", ""));
}

#[test]
fn sign_in_links_and_api_tokens_keep_only_hashes() {
    let now = Utc::now();
    let (token, link) = SignInLink::new(&[7; 32], " Nurse@Example-Health.org", now);
    assert!(tokens::is_link_token(&token));
    assert_ne!(link.hash, token);
    assert_eq!(link.hash, crate::approval::token_hash(&token));
    assert_eq!(link.viewer, "nurse@example-health.org");
    assert_eq!(link.expires_at - link.created_at, Duration::minutes(15));

    let (secret, api) = ApiToken::new(&[9; 32], "ann@partner.com", " CI ", now);
    assert!(tokens::is_api_token(&secret));
    assert_eq!(api.hash, crate::approval::token_hash(&secret));
    assert!(!api.hash.contains(&secret) && api.id.len() == 16 && api.name == "CI");
    assert_eq!(tokens::bearer(&format!("Bearer {secret}")), Some(secret.as_str()));
    assert_eq!(tokens::bearer(&format!("bearer  {secret} ")), Some(secret.as_str()));
    assert_eq!(tokens::bearer(&format!("Basic {secret}")), None);
    assert_eq!(tokens::bearer("Bearer baton_short"), None);
    assert!(api.needs_touch(now));
    let touched = ApiToken {
        last_used_at: Some(now),
        ..api
    };
    assert!(!touched.needs_touch(now + Duration::minutes(4)));
    assert!(touched.needs_touch(now + Duration::minutes(5)));
    assert!(tokens::name_problem("").is_some());
    assert!(tokens::name_problem("a\nb").is_some());
    assert!(tokens::name_problem(&"x".repeat(61)).is_some());
    assert!(tokens::name_problem("release dashboard").is_none());
}

#[test]
fn the_public_sees_roles_not_addresses() {
    let r = Redactor::new(&listed());
    assert_eq!(
        r.text("Signed off for TEST by RM@example-health.org. Asked of cab@example-health.org, rm@example-health.org"),
        "Signed off for TEST by the release manager. Asked of CAB, the release manager"
    );
    assert_eq!(r.text("by dev.one+ci@corp.example.com: fix"), "by someone: fix");
    assert_eq!(r.text("@ not an address, x@y, a@b."), "@ not an address, x@y, a@b.");
    assert_eq!(r.text("<ann@partner.com>"), "<someone>");
    assert_eq!(
        r.text("Release 1 created from packages/state/1.0.0/manifest.yaml. See \"packages/web/1.0.0/site.zip\""),
        "Release 1 created from an upload. See \"an upload\""
    );
    assert_eq!(r.text("/api/packages/web/1.0.0"), "/api/packages/web/1.0.0");
    let unnamed = Redactor::new(&config(""));
    assert_eq!(unnamed.person("cab@example-health.org"), public::AN_APPROVER);
}
