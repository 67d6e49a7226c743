//! Unit tests of request.rs: what each request asks IAM for.
use super::*;

const SCOPE: Scope = Scope {
    region: "eu-west-1",
    account: "123456789012",
    state_machines: &[],
};

fn req<'a>(method: &'a str, path: &'a str, query: &'a str, target: Option<&'a str>, body: &'a [u8]) -> Request<'a> {
    Request {
        method,
        path,
        query,
        target,
        authorization: None,
        copy_source: None,
        body,
    }
}

#[test]
fn the_signing_key_and_service_come_from_the_credential_scope() {
    let auth = "AWS4-HMAC-SHA256 Credential=FUNCTION-baton-ingest/20261130/eu-west-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0";
    assert_eq!(
        credential(Some(auth), ""),
        Some(("FUNCTION-baton-ingest".into(), "dynamodb".into()))
    );
    assert_eq!(
        credential(
            None,
            "X-Amz-Credential=K%2F20261130%2Feu-west-1%2Fs3%2Faws4_request&x=1"
        ),
        Some(("K".into(), "s3".into()))
    );
    assert_eq!(credential(None, ""), None);
}

#[test]
fn dynamodb_targets_become_actions_on_tables_and_indexes() {
    let body = br#"{"TableName":"t","IndexName":"gsi1"}"#;
    let n = needs(
        "dynamodb",
        &req("POST", "/", "", Some("DynamoDB_20120810.Query"), body),
        &SCOPE,
    )
    .unwrap();
    assert_eq!(n[0].action, "dynamodb:Query");
    assert_eq!(
        n[0].resource,
        "arn:aws:dynamodb:eu-west-1:123456789012:table/t/index/gsi1"
    );
    let tx = br#"{"TransactItems":[{"Put":{"TableName":"t"}},{"Update":{"TableName":"t"}},{"ConditionCheck":{"TableName":"t"}}]}"#;
    let n = needs(
        "dynamodb",
        &req("POST", "/", "", Some("DynamoDB_20120810.TransactWriteItems"), tx),
        &SCOPE,
    )
    .unwrap();
    let actions: Vec<_> = n.iter().map(|n| n.action.as_str()).collect();
    assert_eq!(
        actions,
        ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"]
    );
}

#[test]
fn s3_reads_by_version_and_lists_carry_their_prefix() {
    let n = needs(
        "s3",
        &req(
            "GET",
            "/b/packages/web/1.0.0/site.zip",
            "versionId=abc&x-id=GetObject",
            None,
            b"",
        ),
        &SCOPE,
    )
    .unwrap();
    assert_eq!(n[0].action, "s3:GetObjectVersion");
    assert_eq!(n[0].resource, "arn:aws:s3:::b/packages/web/1.0.0/site.zip");
    let n = needs(
        "s3",
        &req("GET", "/b/config/baton.yaml", "x-id=GetObject", None, b""),
        &SCOPE,
    )
    .unwrap();
    assert_eq!(n[0].action, "s3:GetObject");
    let n = needs(
        "s3",
        &req("GET", "/b", "list-type=2&prefix=packages%2Fweb%2F", None, b""),
        &SCOPE,
    )
    .unwrap();
    assert_eq!(
        (n[0].action.as_str(), n[0].resource.as_str()),
        ("s3:ListBucket", "arn:aws:s3:::b")
    );
    assert_eq!(n[0].context.s3_prefix.as_deref(), Some("packages/web/"));
    assert!(needs("s3", &req("POST", "/b/k", "restore", None, b""), &SCOPE).is_err());
}

#[test]
fn sqs_ses_secrets_and_states_name_their_resources() {
    let body = br#"{"QueueUrl":"http://127.0.0.1:1/123456789012/q"}"#;
    let n = needs(
        "sqs",
        &req("POST", "/", "", Some("AmazonSQS.DeleteMessageBatch"), body),
        &SCOPE,
    )
    .unwrap();
    assert_eq!(
        (n[0].action.as_str(), n[0].resource.as_str()),
        ("sqs:DeleteMessage", "arn:aws:sqs:eu-west-1:123456789012:q")
    );
    let form = b"Action=SendMessage&QueueUrl=http%3A%2F%2Fh%2F123456789012%2Fq2&MessageBody=x";
    let n = needs("sqs", &req("POST", "/", "", None, form), &SCOPE).unwrap();
    assert_eq!(n[0].resource, "arn:aws:sqs:eu-west-1:123456789012:q2");
    let mail = br#"{"FromEmailAddress":"Baton <baton@example.com>"}"#;
    let n = needs("ses", &req("POST", "/v2/email/outbound-emails", "", None, mail), &SCOPE).unwrap();
    assert_eq!(
        n[0].resource,
        "arn:aws:ses:eu-west-1:123456789012:identity/baton@example.com"
    );
    let n = needs(
        "secretsmanager",
        &req(
            "POST",
            "/",
            "",
            Some("secretsmanager.GetSecretValue"),
            br#"{"SecretId":"baton/x"}"#,
        ),
        &SCOPE,
    )
    .unwrap();
    assert_eq!(
        n[0].resource,
        format!("arn:aws:secretsmanager:eu-west-1:123456789012:secret:baton/x-{SECRET_SUFFIX}")
    );
    let n = needs(
        "secretsmanager",
        &req("POST", "/", "", Some("secretsmanager.ListSecrets"), b"{}"),
        &SCOPE,
    )
    .unwrap();
    assert_eq!(n[0].resource, "*");
    // A task token names no machine: with several in the stack the runner cannot judge it.
    assert!(
        needs(
            "states",
            &req("POST", "/", "", Some("AWSStepFunctions.SendTaskSuccess"), b"{}"),
            &SCOPE
        )
        .is_err()
    );
}

#[test]
fn requests_of_unknown_shape_are_not_let_through() {
    assert!(
        needs(
            "kinesis",
            &req("POST", "/", "", Some("Kinesis_20131202.PutRecord"), b"{}"),
            &SCOPE
        )
        .is_err()
    );
    assert!(
        needs(
            "dynamodb",
            &req("POST", "/", "", Some("DynamoDB_20120810.CreateTable"), b"{}"),
            &SCOPE
        )
        .is_err()
    );
}
