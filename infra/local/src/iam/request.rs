//! What an AWS request asks IAM for: the principal that signed it (the access key of its
//! SigV4 credential) and each (action, resource) it needs, derived from the request as the
//! Service Authorization Reference describes each operation.

use serde_json::Value;

use super::policy::Context;

/// The parts of a request the derivation reads.
pub struct Request<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// Path, percent-encoded as sent.
    pub path: &'a str,
    /// Query string, without `?`.
    pub query: &'a str,
    /// `X-Amz-Target`, for JSON protocols.
    pub target: Option<&'a str>,
    /// `Authorization`.
    pub authorization: Option<&'a str>,
    /// `x-amz-copy-source`, for S3 copies.
    pub copy_source: Option<&'a str>,
    /// Body.
    pub body: &'a [u8],
}

/// One authorization a request needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    /// IAM action, e.g. `dynamodb:Query`.
    pub action: String,
    /// Resource ARN, or `*` for an action authorized without a resource.
    pub resource: String,
    /// Condition context.
    pub context: Context,
}

/// Where resource ARNs are built.
pub struct Scope<'a> {
    /// Region.
    pub region: &'a str,
    /// Account.
    pub account: &'a str,
    /// The state machines of the stack: a task token names none, so a callback is judged
    /// against the stack's state machine when it has exactly one.
    pub state_machines: &'a [String],
}

/// The suffix Secrets Manager appends to a secret's name in its ARN is six random characters;
/// locally every secret named by name is judged as having this one (a policy names it as
/// `-??????` or through `!Ref`, which the template resolves with the same suffix).
pub const SECRET_SUFFIX: &str = "L0CAL6";

/// The access key id and service of a SigV4 `Authorization` header (`Credential=AKID/date/
/// region/service/aws4_request`) or of a presigned URL's `X-Amz-Credential`.
pub fn credential(authorization: Option<&str>, query: &str) -> Option<(String, String)> {
    let scope = match authorization.and_then(|a| a.split("Credential=").nth(1)) {
        Some(s) => s.split([',', ' ']).next().unwrap_or_default().to_string(),
        None => query_param(query, "X-Amz-Credential")?,
    };
    let mut parts = scope.split('/');
    let key = parts.next()?.to_string();
    let service = parts.nth(2)?.to_string();
    Some((key, service))
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (decode(k) == name).then(|| decode(v))
    })
}

fn has_param(query: &str, name: &str) -> bool {
    query
        .split('&')
        .any(|pair| pair.split('=').next().is_some_and(|k| decode(k) == name))
}

fn need(action: impl Into<String>, resource: impl Into<String>) -> Need {
    Need {
        action: action.into(),
        resource: resource.into(),
        context: Context::default(),
    }
}

/// What the request needs, or why the runner cannot tell (then it is refused: a request the
/// check does not understand is never let through unjudged).
pub fn needs(service: &str, r: &Request, scope: &Scope) -> Result<Vec<Need>, String> {
    let json = || serde_json::from_slice::<Value>(r.body).unwrap_or(Value::Null);
    let operation = r.target.and_then(|t| t.rsplit_once('.')).map(|(_, op)| op.to_string());
    match (service, operation) {
        ("dynamodb", Some(op)) => dynamodb(&op, &json(), r.target.unwrap_or_default(), scope),
        ("sqs", Some(op)) => sqs(&op, json().get("QueueUrl").and_then(Value::as_str), scope),
        ("sqs", None) => {
            let form = String::from_utf8_lossy(r.body).into_owned();
            let op = query_param(&form, "Action").or_else(|| query_param(r.query, "Action"));
            let url = query_param(&form, "QueueUrl").unwrap_or_else(|| r.path.to_string());
            sqs(&op.unwrap_or_default(), Some(&url), scope)
        }
        ("states", Some(op)) => states(&op, &json(), scope),
        ("secretsmanager", Some(op)) => secrets(&op, &json(), scope),
        ("s3", _) => s3(r),
        ("ses", _) => ses(r, &json(), scope),
        ("lambda", _) => lambda(r, scope),
        (service, op) => Err(format!(
            "the runner does not know the IAM action of this {service} request ({} {} {op:?}); add it to infra/local/src/iam/request.rs",
            r.method, r.path
        )),
    }
}

fn dynamodb(op: &str, body: &Value, target: &str, scope: &Scope) -> Result<Vec<Need>, String> {
    let table = |name: &str| format!("arn:aws:dynamodb:{}:{}:table/{name}", scope.region, scope.account);
    let named = |body: &Value| -> Result<String, String> {
        let name = body
            .get("TableName")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{target} names no TableName"))?;
        Ok(match body.get("IndexName").and_then(Value::as_str) {
            Some(index) => format!("{}/index/{index}", table(name)),
            None => table(name),
        })
    };
    if target.starts_with("DynamoDBStreams_") {
        let stream = body
            .get("StreamArn")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| format!("{}/stream/*", table("*")));
        return Ok(vec![need(format!("dynamodb:{op}"), stream)]);
    }
    Ok(match op {
        "GetItem"
        | "PutItem"
        | "UpdateItem"
        | "DeleteItem"
        | "Query"
        | "Scan"
        | "DescribeTable"
        | "DescribeTimeToLive"
        | "DescribeContinuousBackups" => vec![need(format!("dynamodb:{op}"), named(body)?)],
        "BatchGetItem" | "BatchWriteItem" => body
            .get("RequestItems")
            .and_then(Value::as_object)
            .ok_or_else(|| format!("{target} has no RequestItems"))?
            .keys()
            .map(|t| need(format!("dynamodb:{op}"), table(t)))
            .collect(),
        // A transaction is authorized item by item, by the action each item is.
        "TransactWriteItems" | "TransactGetItems" => {
            let mut needs = Vec::new();
            for item in body
                .get("TransactItems")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                for (kind, action) in [
                    ("Put", "PutItem"),
                    ("Update", "UpdateItem"),
                    ("Delete", "DeleteItem"),
                    ("ConditionCheck", "ConditionCheckItem"),
                    ("Get", "GetItem"),
                ] {
                    if let Some(inner) = item.get(kind) {
                        needs.push(need(format!("dynamodb:{action}"), named(inner)?));
                    }
                }
            }
            needs
        }
        "ListTables" | "DescribeLimits" | "DescribeEndpoints" => vec![need(format!("dynamodb:{op}"), "*")],
        other => {
            return Err(format!(
                "the runner does not know the IAM resource of dynamodb:{other}; add it to infra/local/src/iam/request.rs"
            ));
        }
    })
}

fn sqs(op: &str, url: Option<&str>, scope: &Scope) -> Result<Vec<Need>, String> {
    if op.is_empty() {
        return Err("an SQS request without an Action".into());
    }
    if op == "ListQueues" {
        return Ok(vec![need("sqs:ListQueues", "*")]);
    }
    let name = url
        .and_then(|u| u.trim_end_matches('/').rsplit('/').next())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| format!("sqs:{op} names no queue"))?;
    // Batch operations are authorized as their single counterparts.
    let action = op.strip_suffix("Batch").unwrap_or(op);
    let action = if op == "GetQueueUrl" { "GetQueueUrl" } else { action };
    Ok(vec![need(
        format!("sqs:{action}"),
        format!("arn:aws:sqs:{}:{}:{name}", scope.region, scope.account),
    )])
}

fn states(op: &str, body: &Value, scope: &Scope) -> Result<Vec<Need>, String> {
    let field = |name: &str| {
        body.get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| format!("states:{op} names no {name}"))
    };
    let resource = match op {
        "StartExecution" | "StartSyncExecution" | "DescribeStateMachine" | "ListExecutions" => {
            field("stateMachineArn")?
        }
        "DescribeExecution" | "StopExecution" | "GetExecutionHistory" | "DescribeStateMachineForExecution" => {
            field("executionArn")?
        }
        "SendTaskSuccess" | "SendTaskFailure" | "SendTaskHeartbeat" => match scope.state_machines {
            [one] => one.clone(),
            _ => {
                return Err(format!(
                    "states:{op}: a task token names no state machine and the stack has several"
                ));
            }
        },
        "ListStateMachines" | "ListActivities" => "*".to_string(),
        other => {
            return Err(format!(
                "the runner does not know the IAM resource of states:{other}; add it to infra/local/src/iam/request.rs"
            ));
        }
    };
    Ok(vec![need(format!("states:{op}"), resource)])
}

/// The ARN of a secret given by name or ARN.
pub fn secret_arn(id: &str, scope: &Scope) -> String {
    if id.starts_with("arn:") {
        id.to_string()
    } else {
        format!(
            "arn:aws:secretsmanager:{}:{}:secret:{id}-{SECRET_SUFFIX}",
            scope.region, scope.account
        )
    }
}

fn secrets(op: &str, body: &Value, scope: &Scope) -> Result<Vec<Need>, String> {
    if matches!(op, "ListSecrets" | "GetRandomPassword" | "BatchGetSecretValue") {
        return Ok(vec![need(format!("secretsmanager:{op}"), "*")]);
    }
    let id = body
        .get("SecretId")
        .or_else(|| body.get("Name"))
        .and_then(Value::as_str)
        .ok_or_else(|| format!("secretsmanager:{op} names no SecretId"))?;
    Ok(vec![need(format!("secretsmanager:{op}"), secret_arn(id, scope))])
}

/// S3 addressed by path (`/bucket/key`), as the functions' clients are configured locally.
fn s3(r: &Request) -> Result<Vec<Need>, String> {
    let path = r.path.trim_start_matches('/');
    let (bucket, key) = match path.split_once('/') {
        Some((b, k)) if !k.is_empty() => (b.to_string(), Some(decode(k))),
        _ => (path.trim_end_matches('/').to_string(), None),
    };
    if bucket.is_empty() {
        return Ok(vec![need("s3:ListAllMyBuckets", "*")]);
    }
    let bucket_arn = format!("arn:aws:s3:::{bucket}");
    let versioned = has_param(r.query, "versionId");
    let m = r.method;
    let Some(key) = key else {
        let action = match m {
            "GET" if has_param(r.query, "versions") => "s3:ListBucketVersions",
            "GET" if has_param(r.query, "location") => "s3:GetBucketLocation",
            "GET" if has_param(r.query, "uploads") => "s3:ListBucketMultipartUploads",
            "GET" | "HEAD"
                if !r.query.contains('=') || has_param(r.query, "list-type") || has_param(r.query, "prefix") =>
            {
                "s3:ListBucket"
            }
            "GET" if r.query.is_empty() => "s3:ListBucket",
            _ => {
                return Err(format!(
                    "the runner does not know the IAM action of S3 {m} /{bucket}?{}; add it to infra/local/src/iam/request.rs",
                    r.query
                ));
            }
        };
        let mut n = need(action, bucket_arn);
        n.context.s3_prefix = query_param(r.query, "prefix");
        return Ok(vec![n]);
    };
    let object = format!("{bucket_arn}/{key}");
    let sub = |name: &str| has_param(r.query, name);
    let action = match m {
        "GET" | "HEAD" if sub("tagging") => {
            if versioned {
                "s3:GetObjectVersionTagging"
            } else {
                "s3:GetObjectTagging"
            }
        }
        "GET" | "HEAD" if sub("acl") => {
            if versioned {
                "s3:GetObjectVersionAcl"
            } else {
                "s3:GetObjectAcl"
            }
        }
        "GET" | "HEAD" if sub("attributes") => {
            if versioned {
                "s3:GetObjectVersionAttributes"
            } else {
                "s3:GetObjectAttributes"
            }
        }
        "GET" | "HEAD" => {
            if versioned {
                "s3:GetObjectVersion"
            } else {
                "s3:GetObject"
            }
        }
        "PUT" if sub("tagging") => "s3:PutObjectTagging",
        "PUT" if sub("acl") => "s3:PutObjectAcl",
        // Multipart parts and completion are authorized as PutObject.
        "PUT" | "POST" if !sub("restore") => "s3:PutObject",
        "DELETE" if sub("uploadId") => "s3:AbortMultipartUpload",
        "DELETE" => {
            if versioned {
                "s3:DeleteObjectVersion"
            } else {
                "s3:DeleteObject"
            }
        }
        _ => {
            return Err(format!(
                "the runner does not know the IAM action of S3 {m} /{bucket}/{key}?{}; add it to infra/local/src/iam/request.rs",
                r.query
            ));
        }
    };
    let mut needs = vec![need(action, object)];
    // A copy reads its source as GetObject (GetObjectVersion when it names a version).
    if let (Some(source), "PUT") = (r.copy_source, m) {
        let source = decode(source);
        let (source, version) = source
            .split_once("?versionId=")
            .map_or((source.as_str(), false), |(s, _)| (s, true));
        needs.push(need(
            if version { "s3:GetObjectVersion" } else { "s3:GetObject" },
            format!("arn:aws:s3:::{}", source.trim_start_matches('/')),
        ));
    }
    Ok(needs)
}

/// SES v2: `SendEmail` is authorized on the identity the mail is sent from.
fn ses(r: &Request, body: &Value, scope: &Scope) -> Result<Vec<Need>, String> {
    if r.method == "POST" && r.path == "/v2/email/outbound-emails" {
        let from = body
            .get("FromEmailAddress")
            .and_then(Value::as_str)
            .ok_or("ses:SendEmail without FromEmailAddress")?;
        let address = from
            .rsplit_once('<')
            .map(|(_, a)| a.trim_end_matches('>'))
            .unwrap_or(from)
            .trim();
        return Ok(vec![need(
            "ses:SendEmail",
            format!("arn:aws:ses:{}:{}:identity/{address}", scope.region, scope.account),
        )]);
    }
    if r.method == "GET" && r.path == "/v2/email/account" {
        return Ok(vec![need("ses:GetAccount", "*")]);
    }
    Err(format!(
        "the runner does not know the IAM action of SES {} {}; add it to infra/local/src/iam/request.rs",
        r.method, r.path
    ))
}

fn lambda(r: &Request, scope: &Scope) -> Result<Vec<Need>, String> {
    let name = r
        .path
        .strip_prefix("/2015-03-31/functions/")
        .and_then(|rest| rest.strip_suffix("/invocations"))
        .filter(|_| r.method == "POST")
        .ok_or_else(|| {
            format!(
                "the runner does not know the IAM action of Lambda {} {}",
                r.method, r.path
            )
        })?;
    let name = decode(name);
    let arn = if name.starts_with("arn:") {
        name
    } else {
        format!("arn:aws:lambda:{}:{}:function:{name}", scope.region, scope.account)
    };
    Ok(vec![need("lambda:InvokeFunction", arn)])
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
