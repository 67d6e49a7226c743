//! IAM policy statements as the template declares them, and how IAM matches them: action and
//! resource patterns with `*` and `?`, `Allow`/`Deny`, and the one condition key evaluated
//! locally (`s3:prefix`). SAM policy templates a function lists under `Policies` are expanded
//! per their definitions (aws-sam-translator's `policy_templates.json`).

use anyhow::{Result, anyhow, bail};
use serde_json::{Value, json};

/// The longest resource ARN evaluated: IAM's ARNs stay well below it, anything longer is forged.
pub const MAX_ARN_LEN: usize = 2048;

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Grants.
    Allow,
    /// Refuses, whatever else grants.
    Deny,
}

/// A condition the runner evaluates, or one it assumes (documented in docs/iam.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// `StringLike`/`StringEquals` on `s3:prefix`: the request's `prefix` must match one value.
    S3Prefix {
        /// Value patterns (`*`, `?` for `StringLike`; literal for `StringEquals`).
        values: Vec<String>,
        /// Whether the values are patterns.
        like: bool,
    },
    /// Any other condition: an `Allow` assumes it holds, a `Deny` assumes it does not.
    NotEvaluated(String),
}

/// One statement of a role's policy.
#[derive(Debug, Clone)]
pub struct Statement {
    /// `Sid`, or `#<n>` when it has none.
    pub sid: String,
    /// Effect.
    pub effect: Effect,
    /// Action patterns, as written (`dynamodb:Get*`).
    pub actions: Vec<String>,
    /// Resource patterns, resolved to the local stack's names.
    pub resources: Vec<String>,
    /// Conditions.
    pub conditions: Vec<Condition>,
}

/// What a request carries that conditions read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    /// `s3:prefix` (ListBucket's `prefix` query parameter), when given.
    pub s3_prefix: Option<String>,
}

impl Statement {
    /// The index of the action pattern matching `action`, if any (case-insensitive, as IAM).
    pub fn action_match(&self, action: &str) -> Option<usize> {
        let action = action.to_ascii_lowercase();
        self.actions
            .iter()
            .position(|a| glob(a.to_ascii_lowercase().as_bytes(), action.as_bytes()))
    }

    /// The index of the resource pattern matching `resource`, if any. `*` as the resource
    /// stands for an action authorized without one: only a `*` pattern grants it.
    pub fn resource_match(&self, resource: &str) -> Option<usize> {
        if resource.len() > MAX_ARN_LEN {
            return None;
        }
        if resource == "*" {
            return self.resources.iter().position(|r| r == "*");
        }
        self.resources
            .iter()
            .position(|r| glob(r.as_bytes(), resource.as_bytes()))
    }

    /// Whether the conditions hold for `context`, as far as the runner evaluates them.
    pub fn conditions_hold(&self, context: &Context) -> bool {
        self.conditions.iter().all(|c| match c {
            Condition::S3Prefix { values, like } => context.s3_prefix.as_deref().is_some_and(|p| {
                values.iter().any(|v| {
                    if *like {
                        glob(v.as_bytes(), p.as_bytes())
                    } else {
                        v == p
                    }
                })
            }),
            Condition::NotEvaluated(_) => self.effect == Effect::Allow,
        })
    }
}

/// IAM's wildcard match: `*` any run of characters (none included), `?` exactly one. Linear
/// backtracking on the last `*` only, so a long forged string costs O(pattern × text) at worst.
pub fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == b'*')
}

fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        _ => Vec::new(),
    }
}

/// The statements of a resolved policy document. `NotAction`/`NotResource` are refused: the
/// runner would otherwise judge them wrongly.
pub fn statements(document: &Value, origin: &str) -> Result<Vec<Statement>> {
    let list = match document.get("Statement") {
        Some(Value::Array(items)) => items.clone(),
        Some(one @ Value::Object(_)) => vec![one.clone()],
        _ => bail!("{origin}: policy document has no Statement"),
    };
    let mut out = Vec::new();
    for (n, s) in list.iter().enumerate() {
        let sid = s
            .get("Sid")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| format!("#{n}"));
        for unsupported in ["NotAction", "NotResource", "NotPrincipal"] {
            if s.get(unsupported).is_some() {
                bail!("{origin}/{sid}: {unsupported} is not evaluated by the local stack's IAM check");
            }
        }
        let effect = match s.get("Effect").and_then(Value::as_str) {
            Some("Allow") => Effect::Allow,
            Some("Deny") => Effect::Deny,
            other => bail!("{origin}/{sid}: Effect {other:?} is neither Allow nor Deny"),
        };
        let mut conditions = Vec::new();
        for (operator, keys) in s.get("Condition").and_then(Value::as_object).into_iter().flatten() {
            for (key, values) in keys.as_object().into_iter().flatten() {
                let like = operator == "StringLike";
                if key == "s3:prefix" && (like || operator == "StringEquals") {
                    conditions.push(Condition::S3Prefix {
                        values: strings(Some(values)),
                        like,
                    });
                } else {
                    conditions.push(Condition::NotEvaluated(format!("{operator} {key}")));
                }
            }
        }
        out.push(Statement {
            sid,
            effect,
            actions: strings(s.get("Action")),
            resources: strings(s.get("Resource")),
            conditions,
        });
    }
    Ok(out)
}

/// A SAM policy template (`{DynamoDBCrudPolicy: {TableName: t}}`) as its policy document, for
/// the templates Baton may use. Unknown templates are an error naming this file.
pub fn sam_template(name: &str, params: &Value, region: &str, account: &str) -> Result<Value> {
    let p = |key: &str| {
        params
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| anyhow!("SAM policy template {name} needs {key}"))
    };
    let table = |t: &str| format!("arn:aws:dynamodb:{region}:{account}:table/{t}");
    let statement = |actions: &[&str], resources: Vec<String>| json!({ "Statement": [{ "Effect": "Allow", "Action": actions, "Resource": resources }] });
    Ok(match name {
        "DynamoDBCrudPolicy" => {
            let t = p("TableName")?;
            statement(
                &[
                    "dynamodb:GetItem",
                    "dynamodb:DeleteItem",
                    "dynamodb:PutItem",
                    "dynamodb:Scan",
                    "dynamodb:Query",
                    "dynamodb:UpdateItem",
                    "dynamodb:BatchWriteItem",
                    "dynamodb:BatchGetItem",
                    "dynamodb:DescribeTable",
                    "dynamodb:ConditionCheckItem",
                ],
                vec![table(&t), format!("{}/index/*", table(&t))],
            )
        }
        "DynamoDBReadPolicy" => {
            let t = p("TableName")?;
            statement(
                &[
                    "dynamodb:GetItem",
                    "dynamodb:Scan",
                    "dynamodb:Query",
                    "dynamodb:BatchGetItem",
                    "dynamodb:DescribeTable",
                ],
                vec![table(&t), format!("{}/index/*", table(&t))],
            )
        }
        "DynamoDBWritePolicy" => {
            let t = p("TableName")?;
            statement(
                &["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem"],
                vec![table(&t), format!("{}/index/*", table(&t))],
            )
        }
        "DynamoDBStreamReadPolicy" => {
            let (t, s) = (p("TableName")?, p("StreamName")?);
            json!({ "Statement": [
                { "Effect": "Allow", "Action": ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
                  "Resource": format!("{}/stream/{s}", table(&t)) },
                { "Effect": "Allow", "Action": ["dynamodb:ListStreams"], "Resource": format!("{}/stream/*", table(&t)) },
            ]})
        }
        "SQSSendMessagePolicy" => statement(
            &["sqs:SendMessage*"],
            vec![format!("arn:aws:sqs:{region}:{account}:{}", p("QueueName")?)],
        ),
        "SQSPollerPolicy" => statement(
            &[
                "sqs:ChangeMessageVisibility",
                "sqs:ChangeMessageVisibilityBatch",
                "sqs:DeleteMessage",
                "sqs:DeleteMessageBatch",
                "sqs:GetQueueAttributes",
                "sqs:ReceiveMessage",
            ],
            vec![format!("arn:aws:sqs:{region}:{account}:{}", p("QueueName")?)],
        ),
        "S3ReadPolicy" => {
            let b = p("BucketName")?;
            statement(
                &[
                    "s3:GetObject",
                    "s3:ListBucket",
                    "s3:GetBucketLocation",
                    "s3:GetObjectVersion",
                    "s3:GetLifecycleConfiguration",
                ],
                vec![format!("arn:aws:s3:::{b}"), format!("arn:aws:s3:::{b}/*")],
            )
        }
        "S3CrudPolicy" => {
            let b = p("BucketName")?;
            statement(
                &[
                    "s3:GetObject",
                    "s3:ListBucket",
                    "s3:GetBucketLocation",
                    "s3:GetObjectVersion",
                    "s3:PutObject",
                    "s3:PutObjectAcl",
                    "s3:GetLifecycleConfiguration",
                    "s3:PutLifecycleConfiguration",
                    "s3:DeleteObject",
                ],
                vec![format!("arn:aws:s3:::{b}"), format!("arn:aws:s3:::{b}/*")],
            )
        }
        "SESCrudPolicy" => statement(
            &[
                "ses:GetIdentityVerificationAttributes",
                "ses:SendEmail",
                "ses:SendRawEmail",
                "ses:VerifyEmailIdentity",
            ],
            vec![format!(
                "arn:aws:ses:{region}:{account}:identity/{}",
                p("IdentityName")?
            )],
        ),
        "StepFunctionsExecutionPolicy" => statement(
            &["states:StartExecution"],
            vec![format!(
                "arn:aws:states:{region}:{account}:stateMachine:{}",
                p("StateMachineName")?
            )],
        ),
        "AWSSecretsManagerGetSecretValuePolicy" => statement(&["secretsmanager:GetSecretValue"], vec![p("SecretArn")?]),
        "LambdaInvokePolicy" => statement(
            &["lambda:InvokeFunction"],
            vec![format!(
                "arn:aws:lambda:{region}:{account}:function:{}*",
                p("FunctionName")?
            )],
        ),
        other => bail!(
            "SAM policy template {other} is not expanded by the local stack; add its definition to infra/local/src/iam/policy.rs"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allow(actions: &[&str], resources: &[&str]) -> Statement {
        Statement {
            sid: "t".into(),
            effect: Effect::Allow,
            actions: actions.iter().map(|s| s.to_string()).collect(),
            resources: resources.iter().map(|s| s.to_string()).collect(),
            conditions: Vec::new(),
        }
    }

    #[test]
    fn action_wildcards_match_case_insensitively_within_the_service() {
        let s = allow(&["dynamodb:Get*"], &["*"]);
        assert!(s.action_match("dynamodb:GetItem").is_some());
        assert!(s.action_match("DynamoDB:getitem").is_some());
        assert!(s.action_match("dynamodb:PutItem").is_none());
        // Another service's action of the same name is not granted.
        assert!(s.action_match("dynamodbx:GetItem").is_none());
        assert!(allow(&["s3:*"], &["*"]).action_match("sqs:SendMessage").is_none());
    }

    #[test]
    fn resource_patterns_match_star_and_question_mark() {
        let s = allow(
            &["secretsmanager:GetSecretValue"],
            &["arn:aws:secretsmanager:eu-west-1:1:secret:baton/token-??????"],
        );
        assert!(
            s.resource_match("arn:aws:secretsmanager:eu-west-1:1:secret:baton/token-AbC123")
                .is_some()
        );
        assert!(
            s.resource_match("arn:aws:secretsmanager:eu-west-1:1:secret:baton/token-AbC12")
                .is_none()
        );
        assert!(
            s.resource_match("arn:aws:secretsmanager:eu-west-1:1:secret:baton/token-other-AbC123")
                .is_none()
        );
        let p = allow(&["s3:GetObject"], &["arn:aws:s3:::b/packages/*"]);
        assert!(p.resource_match("arn:aws:s3:::b/packages/web/1.0.0/site.zip").is_some());
        assert!(p.resource_match("arn:aws:s3:::b/config/baton.yaml").is_none());
        // Case-sensitive, as IAM resources are.
        assert!(p.resource_match("arn:aws:s3:::b/PACKAGES/x").is_none());
    }

    #[test]
    fn resource_less_actions_need_a_star_resource() {
        let scoped = allow(&["secretsmanager:ListSecrets"], &["arn:aws:secretsmanager:*"]);
        assert!(scoped.resource_match("*").is_none());
        assert!(
            allow(&["secretsmanager:ListSecrets"], &["*"])
                .resource_match("*")
                .is_some()
        );
    }

    #[test]
    fn a_forged_oversized_arn_is_refused_quickly() {
        let s = allow(&["s3:GetObject"], &["arn:aws:s3:::b/*a*a*a*a*a*a*a*b"]);
        let forged = format!("arn:aws:s3:::b/{}", "a".repeat(MAX_ARN_LEN + 10));
        let started = std::time::Instant::now();
        assert!(s.resource_match(&forged).is_none());
        let long_but_valid = format!("arn:aws:s3:::b/{}", "a".repeat(MAX_ARN_LEN - 100));
        assert!(s.resource_match(&long_but_valid).is_none());
        assert!(started.elapsed() < std::time::Duration::from_millis(200));
    }

    #[test]
    fn s3_prefix_conditions_read_the_request_prefix() {
        let doc = json!({ "Statement": [{ "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::b",
            "Condition": { "StringLike": { "s3:prefix": ["packages/*", "config/baton.yaml"] } } }] });
        let s = &statements(&doc, "t").unwrap()[0];
        let ctx = |p: Option<&str>| Context {
            s3_prefix: p.map(str::to_string),
        };
        assert!(s.conditions_hold(&ctx(Some("packages/web/1.0.0/"))));
        assert!(s.conditions_hold(&ctx(Some("config/baton.yaml"))));
        assert!(!s.conditions_hold(&ctx(Some("secrets/"))));
        assert!(!s.conditions_hold(&ctx(None)));
    }

    #[test]
    fn unevaluated_conditions_are_assumed_to_hold_for_allow_only() {
        let doc = json!({ "Statement": [
            { "Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*",
              "Condition": { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["A#*"] } } },
            { "Effect": "Deny", "Action": "dynamodb:GetItem", "Resource": "*",
              "Condition": { "ForAnyValue:StringLike": { "dynamodb:LeadingKeys": ["B#*"] } } },
        ]});
        let s = statements(&doc, "t").unwrap();
        assert!(s[0].conditions_hold(&Context::default()));
        assert!(!s[1].conditions_hold(&Context::default()));
    }

    #[test]
    fn not_action_and_unknown_sam_templates_are_refused_by_name() {
        let doc = json!({ "Statement": [{ "Effect": "Allow", "NotAction": "s3:*", "Resource": "*" }] });
        assert!(statements(&doc, "R").unwrap_err().to_string().contains("NotAction"));
        let e = sam_template("KinesisCrudPolicy", &json!({}), "r", "1").unwrap_err();
        assert!(e.to_string().contains("KinesisCrudPolicy"));
    }
}
