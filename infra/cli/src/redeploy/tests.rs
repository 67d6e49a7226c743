use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;

use super::*;
use crate::cli::EndpointArgs;
use crate::target::Target;

fn args(release: &str, env: &str, reason: &str, email: Option<&str>) -> RedeployArgs {
    RedeployArgs {
        release: release.into(),
        environment: env.into(),
        reason: reason.into(),
        email: email.map(str::to_string),
    }
}

#[test]
fn a_request_is_the_release_pages_form() {
    let request = Request::of(&args("5", " PROD ", " login broken ", Some(" rm@example.com "))).unwrap();
    assert_eq!(
        request.fields(),
        [
            ("release", "rel-5"),
            ("environment", "PROD"),
            ("email", "rm@example.com"),
            ("reason", "login broken"),
        ]
    );
    assert_eq!(
        Request::of(&args("rel-12", "TEST", "r", Some("a@b"))).unwrap().release,
        "rel-12"
    );
    assert_eq!(
        request.asked(),
        "If rm@example.com is an approver of PROD, a confirmation link is on its way; nothing changes until it is confirmed."
    );
}

#[test]
fn a_request_without_an_address_is_a_usage_error() {
    for email in [None, Some(""), Some("   ")] {
        let error = Request::of(&args("5", "PROD", "r", email)).unwrap_err();
        assert_eq!(error.exit_code(), 2, "{email:?}");
        let said = error.to_string();
        assert!(said.contains("--email") && said.contains("BATON_EMAIL"), "{said}");
        assert!(said.contains("approver of PROD"), "{said}");
    }
}

#[test]
fn a_wrong_request_is_a_usage_error_before_anything_is_sent() {
    let long = "x".repeat(baton_domain::redeploy::MAX_REASON_CHARS + 1);
    for (release, env, reason, email, says) in [
        ("five", "PROD", "r", "a@b", "is not a release"),
        ("rel-0", "PROD", "r", "a@b", "is not a release"),
        ("5", " ", "r", "a@b", "--env"),
        ("5", "PROD", "  ", "a@b", "say why"),
        ("5", "PROD", long.as_str(), "a@b", "longer than 500"),
        ("5", "PROD", "r", "rm", "not an email address"),
        ("5", "PROD", "r", "r m@example.com", "not an email address"),
    ] {
        let error = Request::of(&args(release, env, reason, Some(email))).unwrap_err();
        assert_eq!(error.exit_code(), 2, "{release} {env} {email}");
        assert!(error.to_string().contains(says), "{says}: {error}");
    }
}

#[test]
fn the_message_of_an_answer_is_its_json_message_or_its_pages_text() {
    assert_eq!(
        message(
            400,
            r#"{"status":400,"error":"bad-request","message":"PROD is not an environment"}"#
        ),
        "PROD is not an environment"
    );
    let page = "<!DOCTYPE html><html lang=\"en\"><head><title>No · Baton</title><style>body{color:red}</style></head>\
        <body><main><div class=\"status\"><nav aria-label=\"Breadcrumb\"><p><a href=\"/\">← Baton release status</a></p></nav>\
        <div class=\"banner bad\"><h1>Release 5 was never in PROD</h1><p>Only an environment it was deployed to &amp; \
        approved for can have it <strong>again</strong>: see &quot;rel-5&quot; &#x2014; or &#39;TEST&#39;.</p></div>\
        <form method=\"post\"><button>Try again</button></form></div></main></body></html>";
    assert_eq!(
        message(409, page),
        "Release 5 was never in PROD. Only an environment it was deployed to & approved for can have it again: see \"rel-5\" — or 'TEST'."
    );
    assert_eq!(message(502, ""), "Baton answered HTTP 502");
    assert_eq!(message(500, "{}"), "Baton answered HTTP 500");
    assert_eq!(message(500, "plain &bogus; words & more"), "plain &bogus; words & more");
    assert_eq!(message(500, &"y".repeat(2000)).len(), MESSAGE_MAX_CHARS);
}

/// A server that answers one request with `status` and `body`, and hands the request over.
fn server(status: u16, content_type: &'static str, body: &'static str) -> (String, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream);
        let mut head = String::new();
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = value.trim().parse().unwrap();
            }
            head.push_str(&line);
            if line == "\r\n" {
                break;
            }
        }
        let mut form = vec![0; length];
        reader.read_exact(&mut form).unwrap();
        let answer = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        reader.get_mut().write_all(answer.as_bytes()).unwrap();
        tx.send(head + &String::from_utf8(form).unwrap()).unwrap();
    });
    (url, rx)
}

fn api(url: &str) -> Api {
    Api::of(&Target::resolve(&EndpointArgs {
        api_url: Some(url.into()),
        ..Default::default()
    }))
    .unwrap()
}

#[tokio::test]
async fn a_request_is_posted_as_a_form_to_redeploys() {
    let (url, request) = server(200, "text/html", "<main><h1>Check your mail</h1></main>");
    let asked = args("rel-5", "PROD", "login broken & slow", Some("rm@example.com"));
    redeploy(&api(&url), &asked).await.unwrap();
    let request = request.recv().unwrap();
    assert!(request.starts_with("POST /redeploys HTTP/1.1\r\n"), "{request}");
    assert!(
        request
            .to_ascii_lowercase()
            .contains("content-type: application/x-www-form-urlencoded"),
        "{request}"
    );
    assert!(
        request.ends_with("\r\n\r\nrelease=rel-5&environment=PROD&email=rm%40example.com&reason=login+broken+%26+slow"),
        "{request}"
    );
}

#[tokio::test]
async fn a_refusal_exits_1_with_batons_message() {
    let (url, _request) = server(
        403,
        "text/html",
        "<html><body><main><div class=\"banner bad\"><h1>Not allowed</h1><p>Ask an approver of PROD.</p></div></main></body></html>",
    );
    let error = redeploy(&api(&url), &args("5", "PROD", "r", Some("x@example.com")))
        .await
        .unwrap_err();
    assert_eq!(error.exit_code(), 1);
    assert_eq!(error.to_string(), "Not allowed. Ask an approver of PROD.");
    let (url, _request) = server(503, "application/json", r#"{"message":"Try again in a moment."}"#);
    let error = redeploy(&api(&url), &args("5", "PROD", "r", Some("x@example.com")))
        .await
        .unwrap_err();
    assert_eq!(
        (error.exit_code(), error.to_string().as_str()),
        (1, "Try again in a moment.")
    );
}

#[tokio::test]
async fn an_unreachable_baton_exits_4() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let error = redeploy(
        &api(&format!("http://127.0.0.1:{port}")),
        &args("5", "PROD", "r", Some("x@example.com")),
    )
    .await
    .unwrap_err();
    assert_eq!(error.exit_code(), 4, "{error}");
}
