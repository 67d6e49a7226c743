//! Static checks of `template.yaml` (no local stack): least-privilege IAM, and what every function
//! needs to be built and deployed. `make check-template` runs cfn-lint on the same file.
//!
//! The template is read as YAML; CloudFormation's short tags (`!Ref`, `!Sub`, `!GetAtt`, ...) are
//! tagged values, and the long forms (`Fn::Sub`, ...) are understood too. A resource is compared in
//! the form it is written in (a `!Sub` by its template string), so an allow-list entry names
//! exactly what the template says.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_yaml::{Mapping, Value};

/// A wildcard that AWS demands, for these actions only, with the reason.
struct Allowed {
    /// The resource as written; `<Function>` stands for one `${...}` reference (a logical id).
    resource: &'static str,
    /// Every action of a statement using this resource must be one of these.
    actions: &'static [&'static str],
    reason: &'static str,
}

/// The only wildcards allowed in an `Allow` statement. Each one must still be used: a stale entry
/// fails the test too.
const ALLOWED: &[Allowed] = &[
    Allowed {
        resource: "arn:${AWS::Partition}:s3:::${ArtefactBucketName}/packages/*",
        actions: &["s3:GetObject"],
        reason: "package keys (packages/<component>/<version>/<file>) are chosen by CI at upload time; \
                 the packages/ prefix is the narrowest scope that names them",
    },
    Allowed {
        resource: "arn:${AWS::Partition}:s3:::${ArtefactBucketName}/packages/*",
        actions: &["s3:GetObjectVersion"],
        reason: "registered packages are pinned to their S3 version; reading a version by id is \
                 GetObjectVersion, on the same CI-chosen keys as GetObject",
    },
    Allowed {
        resource: "arn:${AWS::Partition}:s3:::${ArtefactBucketName}/packages/*",
        actions: &["s3:PutObject"],
        reason: "CI's upload policy: CI creates new keys under packages/ and nowhere else",
    },
    Allowed {
        resource: "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${CloudflareApiTokenSecretName}-??????",
        actions: &["secretsmanager:GetSecretValue"],
        reason: "Secrets Manager appends six random characters to every secret's ARN; `-??????` matches \
                 exactly those, so only the named secret",
    },
    Allowed {
        resource: "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${AnypointCredentialsSecretName}-??????",
        actions: &["secretsmanager:GetSecretValue"],
        reason: "Secrets Manager appends six random characters to every secret's ARN; `-??????` matches \
                 exactly those, so only the named secret",
    },
    Allowed {
        resource: "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${SecurePropertiesSecretPrefix}*",
        actions: &["secretsmanager:GetSecretValue"],
        reason: "state manifests name the secrets behind secureProperties; they are data, unknown when the \
                 stack is deployed, so deploy-cloudhub reads them under one operator-chosen prefix",
    },
    Allowed {
        resource: "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:baton/webhooks/*",
        actions: &["secretsmanager:GetSecretValue"],
        reason: "webhook signing secrets are named in baton.yaml, unknown when the stack is deployed; Baton \
                 refuses any hook whose secret lies outside baton/webhooks/, so announce reads only there",
    },
    Allowed {
        resource: "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${<Function>}:*",
        actions: &["logs:CreateLogStream", "logs:PutLogEvents"],
        reason: "Lambda names a function's log streams at run time; `:*` covers the streams of that one \
                 log group (the function's own, checked below) and CloudWatch Logs authorises \
                 CreateLogStream on `log-group:<name>:*`",
    },
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn template() -> Value {
    let path = root().join("template.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

fn resources(t: &Value) -> Vec<(String, &Value)> {
    t.get("Resources")
        .and_then(Value::as_mapping)
        .expect("template.yaml has Resources")
        .iter()
        .map(|(k, v)| (k.as_str().unwrap_or_default().to_string(), v))
        .collect()
}

fn kind(resource: &Value) -> &str {
    resource.get("Type").and_then(Value::as_str).unwrap_or_default()
}

/// An intrinsic function, short or long form: (`Ref` | `Sub` | `GetAtt` | ..., argument).
fn intrinsic(v: &Value) -> Option<(String, &Value)> {
    match v {
        Value::Tagged(t) => Some((t.tag.to_string().trim_start_matches('!').to_string(), &t.value)),
        Value::Mapping(m) if m.len() == 1 => {
            let (k, arg) = m.iter().next()?;
            let k = k.as_str()?;
            if k == "Ref" {
                Some(("Ref".into(), arg))
            } else {
                k.strip_prefix("Fn::").map(|name| (name.to_string(), arg))
            }
        }
        _ => None,
    }
}

/// A value as written: a string, a `!Sub` template, `${Name}` for `!Ref Name`, `${Id.Attr}` for
/// `!GetAtt Id.Attr`, `!Join`s joined.
fn written(v: &Value) -> String {
    if let Some((name, arg)) = intrinsic(v) {
        return match name.as_str() {
            "Ref" => format!("${{{}}}", arg.as_str().unwrap_or_default()),
            "Sub" => match arg {
                Value::Sequence(parts) => parts.first().map(written).unwrap_or_default(),
                other => other.as_str().unwrap_or_default().to_string(),
            },
            "GetAtt" => match arg {
                Value::Sequence(parts) => format!("${{{}}}", parts.iter().map(written).collect::<Vec<_>>().join(".")),
                other => format!("${{{}}}", other.as_str().unwrap_or_default()),
            },
            "Join" => {
                let parts = arg.as_sequence().cloned().unwrap_or_default();
                let sep = parts.first().and_then(Value::as_str).unwrap_or_default().to_string();
                let items = parts.get(1).and_then(Value::as_sequence).cloned().unwrap_or_default();
                items.iter().map(written).collect::<Vec<_>>().join(&sep)
            }
            other => format!("!{other} {}", serde_yaml::to_string(arg).unwrap_or_default().trim()),
        };
    }
    match v {
        Value::String(s) => s.clone(),
        other => serde_yaml::to_string(other).unwrap_or_default().trim().to_string(),
    }
}

/// A string or a list of them.
fn list(v: Option<&Value>) -> Vec<String> {
    match v {
        None => Vec::new(),
        Some(Value::Sequence(items)) => items.iter().map(written).collect(),
        Some(other) => vec![written(other)],
    }
}

fn has_wildcard(s: &str) -> bool {
    s.contains('*') || s.contains('?')
}

/// Whether `actual` is the allow-list pattern `pattern` (`<Function>` = one `${LogicalId}`).
fn matches(pattern: &str, actual: &str) -> bool {
    match pattern.split_once("<Function>") {
        None => pattern == actual,
        Some((before, after)) => {
            actual.len() > before.len() + after.len()
                && actual.starts_with(before)
                && actual.ends_with(after)
                && actual[before.len()..actual.len() - after.len()]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric())
        }
    }
}

/// One policy document, found in the template.
struct Document<'a> {
    /// Where: `Resource.Property...`.
    at: String,
    doc: &'a Value,
}

/// Every policy document in every resource (identity, resource and trust policies).
fn documents(t: &Value) -> Vec<Document<'_>> {
    fn walk<'a>(at: String, v: &'a Value, out: &mut Vec<Document<'a>>) {
        match v {
            Value::Mapping(m) => {
                for (k, child) in m {
                    let key = k.as_str().unwrap_or_default();
                    let here = format!("{at}.{key}");
                    if key == "PolicyDocument" || key == "AssumeRolePolicyDocument" {
                        out.push(Document { at: here, doc: child });
                    } else {
                        walk(here, child, out);
                    }
                }
            }
            Value::Sequence(items) => {
                for (i, child) in items.iter().enumerate() {
                    walk(format!("{at}[{i}]"), child, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (id, r) in resources(t) {
        if let Some(p) = r.get("Properties") {
            walk(id.clone(), p, &mut out);
        }
    }
    out
}

fn statements(doc: &Value) -> Vec<&Value> {
    match doc.get("Statement") {
        Some(Value::Sequence(items)) => items.iter().collect(),
        Some(one) => vec![one],
        None => Vec::new(),
    }
}

/// The SAM-only ways of granting permissions: `Policies` on a serverless resource (managed policy
/// names, SAM policy templates, inline statements) and a missing `Role` (SAM then generates one
/// with the AWSLambdaBasicExecutionRole managed policy: logs on `*`).
fn sam_findings(t: &Value, findings: &mut Vec<String>) {
    let globals = t.get("Globals").and_then(|g| g.get("Function"));
    if let Some(p) = globals.and_then(|g| g.get("Policies")) {
        findings.push(format!(
            "Globals.Function.Policies ({}): give each function an explicit Role instead",
            written(p)
        ));
    }
    for (id, r) in resources(t) {
        let k = kind(r);
        if k != "AWS::Serverless::Function" && k != "AWS::Serverless::StateMachine" {
            continue;
        }
        let props = r.get("Properties");
        let role = props.and_then(|p| p.get("Role")).or_else(|| {
            (k == "AWS::Serverless::Function")
                .then(|| globals.and_then(|g| g.get("Role")))
                .flatten()
        });
        if role.is_none() {
            findings.push(format!(
                "{id}: no Role, so SAM generates one (for a function with the AWSLambdaBasicExecutionRole \
                 managed policy: logs on \"*\"); give it an explicit AWS::IAM::Role"
            ));
        }
        for (i, p) in props
            .and_then(|p| p.get("Policies"))
            .map(|p| match p {
                Value::Sequence(items) => items.iter().collect::<Vec<_>>(),
                one => vec![one],
            })
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            let what = match p {
                Value::String(name) => format!("managed policy {name}"),
                Value::Mapping(m) if m.contains_key("Statement") => "inline SAM statements".to_string(),
                Value::Mapping(m) => format!(
                    "SAM policy template {}",
                    m.keys().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")
                ),
                other => written(other),
            };
            findings.push(format!(
                "{id}.Policies[{i}]: {what}; SAM expands it into statements this test cannot see (most \
                 policy templates use wildcards): write explicit statements in the resource's Role"
            ));
        }
    }
    for (id, r) in resources(t) {
        if kind(r) == "AWS::IAM::Role"
            && let Some(arns) = r.get("Properties").and_then(|p| p.get("ManagedPolicyArns"))
        {
            findings.push(format!(
                "{id}.ManagedPolicyArns ({}): managed policies are not least privilege; write the statements",
                list(Some(arns)).join(", ")
            ));
        }
    }
}

/// Every least-privilege problem in `t`, and which allow-list entries were used.
fn iam_findings(t: &Value) -> (Vec<String>, Vec<bool>) {
    let mut findings = Vec::new();
    let mut used = vec![false; ALLOWED.len()];
    sam_findings(t, &mut findings);
    for Document { at, doc } in documents(t) {
        for (i, st) in statements(doc).into_iter().enumerate() {
            let here = format!(
                "{at}.Statement[{i}]{}",
                st.get("Sid")
                    .and_then(Value::as_str)
                    .map(|s| format!(" ({s})"))
                    .unwrap_or_default()
            );
            // A wildcard in a Deny narrows access (the bucket's TLS-only policy); only Allow grants.
            if st.get("Effect").and_then(Value::as_str) != Some("Allow") {
                continue;
            }
            for key in ["NotAction", "NotResource", "NotPrincipal"] {
                if st.get(key).is_some() {
                    findings.push(format!("{here}: {key} in an Allow grants everything else"));
                }
            }
            if let Some(p) = st.get("Principal") {
                let principals: Vec<String> = match p {
                    Value::Mapping(m) => m.values().flat_map(|v| list(Some(v))).collect(),
                    other => list(Some(other)),
                };
                if principals.iter().any(|p| has_wildcard(p)) {
                    findings.push(format!("{here}: Allow with a wildcard principal ({})", written(p)));
                }
            }
            let actions = list(st.get("Action"));
            if actions.is_empty() && st.get("NotAction").is_none() {
                findings.push(format!("{here}: no Action"));
            }
            for a in actions.iter().filter(|a| has_wildcard(a)) {
                findings.push(format!("{here}: wildcard action {a}"));
            }
            for r in list(st.get("Resource")) {
                if !has_wildcard(&r) {
                    continue;
                }
                let entry = ALLOWED
                    .iter()
                    .enumerate()
                    .find(|(_, e)| matches(e.resource, &r) && actions.iter().all(|a| e.actions.contains(&a.as_str())));
                match entry {
                    Some((n, _)) => used[n] = true,
                    None => findings.push(format!(
                        "{here}: wildcard resource {r} for [{}] is not on the allow-list",
                        actions.join(", ")
                    )),
                }
            }
        }
    }
    (findings, used)
}

#[test]
fn iam_allows_no_wildcards_outside_the_allow_list() {
    let t = template();
    assert!(
        !documents(&t).is_empty(),
        "no policy documents found: has the template lost its roles?"
    );
    let (mut findings, used) = iam_findings(&t);
    for (e, used) in ALLOWED.iter().zip(&used) {
        if !used {
            findings.push(format!(
                "allow-list entry {} for [{}] is no longer used; remove it ({})",
                e.resource,
                e.actions.join(", "),
                e.reason
            ));
        }
    }
    assert!(
        findings.is_empty(),
        "least-privilege IAM problems in template.yaml:\n  {}",
        findings.join("\n  ")
    );
}

/// The checker itself: each kind of over-broad grant is caught, and what is allowed passes.
#[test]
fn the_iam_check_catches_each_kind_of_wildcard() {
    let t: Value = serde_yaml::from_str(
        r#"
Resources:
  SamTemplated:
    Type: AWS::Serverless::Function
    Properties:
      Policies:
        - DynamoDBCrudPolicy: { TableName: !Ref Table }
        - AmazonS3ReadOnlyAccess
  Role:
    Type: AWS::IAM::Role
    Properties:
      ManagedPolicyArns: [arn:aws:iam::aws:policy/AdministratorAccess]
      Policies:
        - PolicyName: p
          PolicyDocument:
            Statement:
              - Sid: Star
                Effect: Allow
                Action: s3:*
                Resource: "*"
              - Sid: IndexStar
                Effect: Allow
                Action: dynamodb:Query
                Resource: !Sub "${Table.Arn}/index/*"
              - Sid: LongForm
                Effect: Allow
                Action: [sqs:ReceiveMessage]
                Resource: { "Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:*" }
              - Sid: WiderThanAllowed
                Effect: Allow
                Action: [s3:GetObject, s3:DeleteObject]
                Resource: !Sub "arn:${AWS::Partition}:s3:::${ArtefactBucketName}/packages/*"
              - Sid: Allowed
                Effect: Allow
                Action: s3:GetObject
                Resource: !Sub "arn:${AWS::Partition}:s3:::${ArtefactBucketName}/packages/*"
              - Sid: Exact
                Effect: Allow
                Action: dynamodb:GetItem
                Resource: !GetAtt Table.Arn
              - Sid: Everything else
                Effect: Allow
                NotAction: iam:PassRole
                Resource: !GetAtt Table.Arn
  Policy:
    Type: AWS::S3::BucketPolicy
    Properties:
      PolicyDocument:
        Statement:
          - Sid: DenyIsFine
            Effect: Deny
            Principal: "*"
            Action: s3:*
            Resource: "*"
          - Sid: Public
            Effect: Allow
            Principal: { AWS: "*" }
            Action: s3:GetObject
            Resource: !GetAtt Table.Arn
"#,
    )
    .expect("test YAML");
    let (findings, used) = iam_findings(&t);
    let expect = [
        "SamTemplated: no Role",
        "SamTemplated.Policies[0]: SAM policy template DynamoDBCrudPolicy",
        "SamTemplated.Policies[1]: managed policy AmazonS3ReadOnlyAccess",
        "Role.ManagedPolicyArns",
        "(Star): wildcard action s3:*",
        "(Star): wildcard resource * for [s3:*]",
        "(IndexStar): wildcard resource ${Table.Arn}/index/*",
        "(LongForm): wildcard resource arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:*",
        "(WiderThanAllowed): wildcard resource arn:${AWS::Partition}:s3:::${ArtefactBucketName}/packages/*",
        "(Everything else): NotAction in an Allow",
        "(Public): Allow with a wildcard principal",
    ];
    for e in expect {
        assert!(
            findings.iter().any(|f| f.contains(e)),
            "expected a finding containing {e:?}; got:\n  {}",
            findings.join("\n  ")
        );
    }
    assert_eq!(
        findings.len(),
        expect.len(),
        "no other findings:\n  {}",
        findings.join("\n  ")
    );
    assert!(used[0], "the allowed packages/* read is recognised");
    assert!(
        !findings
            .iter()
            .any(|f| f.contains("DenyIsFine") || f.contains("(Allowed)") || f.contains("(Exact)"))
    );
}

/// `!Sub "...:role/${LogicalId}"` or `!GetAtt LogicalId.Arn` -> `LogicalId`.
fn role_id(role: &Value) -> Option<String> {
    let w = written(role);
    if let Some(rest) = w.split_once(":role/${").map(|(_, r)| r) {
        return rest.strip_suffix('}').map(str::to_string);
    }
    w.strip_prefix("${")
        .and_then(|r| r.strip_suffix(".Arn}"))
        .map(str::to_string)
}

fn resource<'a>(t: &'a Value, id: &str) -> &'a Value {
    t.get("Resources")
        .and_then(|r| r.get(id))
        .unwrap_or_else(|| panic!("template.yaml references {id}, which is not a resource"))
}

/// The Allow statements of an `AWS::IAM::Role`'s inline policies.
/// Every statement of a role's inline policies, Allow and Deny.
fn all_role_statements<'a>(t: &'a Value, role: &str) -> Vec<&'a Value> {
    let r = resource(t, role);
    assert_eq!(kind(r), "AWS::IAM::Role", "{role} must be an AWS::IAM::Role");
    r.get("Properties")
        .and_then(|p| p.get("Policies"))
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("PolicyDocument"))
        .flat_map(statements)
        .collect()
}

/// The Allow statements of a role's inline policies.
fn role_statements<'a>(t: &'a Value, role: &str) -> Vec<&'a Value> {
    all_role_statements(t, role)
        .into_iter()
        .filter(|s| s.get("Effect").and_then(Value::as_str) == Some("Allow"))
        .collect()
}

fn function_setting<'a>(t: &'a Value, function: &'a Value, key: &str) -> Option<&'a Value> {
    function.get("Properties").and_then(|p| p.get(key)).or_else(|| {
        t.get("Globals")
            .and_then(|g| g.get("Function"))
            .and_then(|g| g.get(key))
    })
}

#[test]
fn every_function_is_an_arm64_cargo_lambda_build_with_its_own_role_and_logs() {
    let t = template();
    let mut problems = Vec::new();
    let mut binaries = BTreeSet::new();
    for (id, f) in resources(&t)
        .into_iter()
        .filter(|(_, r)| kind(r) == "AWS::Serverless::Function")
    {
        let meta = f.get("Metadata");
        if meta.and_then(|m| m.get("BuildMethod")).and_then(Value::as_str) != Some("rust-cargolambda") {
            problems.push(format!("{id}: Metadata.BuildMethod must be rust-cargolambda"));
        }
        match meta
            .and_then(|m| m.get("BuildProperties"))
            .and_then(|b| b.get("Binary"))
            .and_then(Value::as_str)
        {
            None => problems.push(format!("{id}: Metadata.BuildProperties.Binary is missing")),
            Some(bin) => {
                let manifest = root().join("functions").join(bin).join("Cargo.toml");
                let text = std::fs::read_to_string(&manifest).unwrap_or_default();
                if !text.contains(&format!("name = \"{bin}\"")) {
                    problems.push(format!("{id}: Binary {bin} is not a crate at functions/{bin}"));
                }
                binaries.insert(bin.to_string());
            }
        }
        let expect = [
            ("Runtime", "provided.al2023"),
            ("Handler", "bootstrap"),
            ("CodeUri", "."),
        ];
        for (key, want) in expect {
            let got = function_setting(&t, f, key).map(written);
            if got.as_deref() != Some(want) {
                problems.push(format!("{id}: {key} must be {want} (own or Globals), is {got:?}"));
            }
        }
        let arch = list(function_setting(&t, f, "Architectures"));
        if arch != ["arm64"] {
            problems.push(format!("{id}: Architectures must be [arm64], is {arch:?}"));
        }
        // Its own role, writing to its own log group only.
        let role = function_setting(&t, f, "Role").and_then(role_id);
        let group = f
            .get("Properties")
            .and_then(|p| p.get("LoggingConfig"))
            .and_then(|l| l.get("LogGroup"))
            .map(written);
        match (role, group) {
            (Some(role), Some(group)) => {
                let own =
                    format!("arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:{group}:*");
                let logs: Vec<String> = role_statements(&t, &role)
                    .into_iter()
                    .filter(|s| list(s.get("Action")).iter().any(|a| a.starts_with("logs:")))
                    .flat_map(|s| list(s.get("Resource")))
                    .collect();
                if logs != [own.clone()] {
                    problems.push(format!(
                        "{id}: {role} must write logs to {own} only, writes to {logs:?}"
                    ));
                }
            }
            (role, group) => problems.push(format!(
                "{id}: needs an explicit Role ({role:?}) and LoggingConfig.LogGroup ({group:?})"
            )),
        }
    }
    // A function crate with no template resource is never deployed.
    let crates: BTreeSet<String> = std::fs::read_dir(root().join("functions"))
        .expect("functions/")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("Cargo.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    for missing in crates.difference(&binaries) {
        problems.push(format!(
            "functions/{missing} has no AWS::Serverless::Function in template.yaml"
        ));
    }
    assert!(
        problems.is_empty(),
        "template.yaml functions:\n  {}",
        problems.join("\n  ")
    );
}

#[test]
fn the_state_machine_may_invoke_exactly_its_own_functions() {
    let t = template();
    let machines: Vec<_> = resources(&t)
        .into_iter()
        .filter(|(_, r)| kind(r) == "AWS::Serverless::StateMachine")
        .collect();
    assert_eq!(machines.len(), 1, "one release state machine");
    let (id, m) = &machines[0];
    let props = m.get("Properties").expect("state machine properties");
    let substitutions: BTreeMap<String, String> = props
        .get("DefinitionSubstitutions")
        .and_then(Value::as_mapping)
        .map(Mapping::iter)
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.as_str().unwrap_or_default().to_string(), written(v)))
        .collect();
    // Every ${Name} the ASL uses is substituted.
    let uri = props
        .get("DefinitionUri")
        .and_then(Value::as_str)
        .expect("DefinitionUri");
    let asl = std::fs::read_to_string(root().join(uri)).expect("the ASL file");
    let mut rest = asl.as_str();
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let end = after.find('}').expect("closed ${");
        assert!(
            substitutions.contains_key(&after[..end]),
            "{uri} uses ${{{}}}, which {id} does not substitute",
            &after[..end]
        );
        rest = &after[end..];
    }
    let functions: BTreeSet<String> = substitutions
        .values()
        .filter(|v| v.ends_with(".Arn}"))
        .cloned()
        .collect();
    assert_eq!(functions.len(), 4, "the four release functions: {functions:?}");
    let role = props
        .get("Role")
        .and_then(role_id)
        .expect("the state machine has an explicit Role");
    let mut invoked = BTreeSet::new();
    for s in role_statements(&t, &role) {
        assert_eq!(
            list(s.get("Action")),
            ["lambda:InvokeFunction"],
            "{role} may only invoke functions"
        );
        invoked.extend(list(s.get("Resource")));
    }
    assert_eq!(invoked, functions, "{role} invokes exactly the functions {id} calls");
}

#[test]
fn every_function_dead_letter_queue_and_the_workflow_have_alarms() {
    let t = template();
    let alarms: Vec<&Value> = resources(&t)
        .into_iter()
        .filter(|(_, r)| kind(r) == "AWS::CloudWatch::Alarm")
        .filter_map(|(_, r)| r.get("Properties"))
        .collect();
    let alarmed = |namespace: &str, metric: &str, dimension: &str, value: &str| {
        alarms.iter().any(|a| {
            a.get("Namespace").and_then(Value::as_str) == Some(namespace)
                && a.get("MetricName").and_then(Value::as_str) == Some(metric)
                && !list(a.get("AlarmActions")).is_empty()
                && a.get("Dimensions").and_then(Value::as_sequence).is_some_and(|d| {
                    d.iter().any(|d| {
                        d.get("Name").and_then(Value::as_str) == Some(dimension)
                            && d.get("Value").map(written).as_deref() == Some(value)
                    })
                })
        })
    };
    let mut missing = Vec::new();
    for (id, r) in resources(&t) {
        let own = format!("${{{id}}}");
        let (namespace, metric, dimension, value, what) = match kind(r) {
            "AWS::Serverless::Function" => (
                "AWS/Lambda",
                "Errors",
                "FunctionName",
                own,
                format!("{id}: no Errors alarm"),
            ),
            "AWS::Serverless::StateMachine" => (
                "AWS/States",
                "ExecutionsFailed",
                "StateMachineArn",
                own,
                format!("{id}: no ExecutionsFailed alarm"),
            ),
            "AWS::SQS::Queue" => {
                let Some(dlq) = r
                    .get("Properties")
                    .and_then(|p| p.get("RedrivePolicy"))
                    .and_then(|p| p.get("deadLetterTargetArn"))
                else {
                    continue;
                };
                let dlq = written(dlq);
                let dlq = dlq.trim_start_matches("${").trim_end_matches(".Arn}").to_string();
                (
                    "AWS/SQS",
                    "ApproximateNumberOfMessagesVisible",
                    "QueueName",
                    format!("${{{dlq}.QueueName}}"),
                    format!("{dlq} (dead-letter queue of {id}): no depth alarm"),
                )
            }
            _ => continue,
        };
        if !alarmed(namespace, metric, dimension, &value) {
            missing.push(what);
        }
    }
    assert!(missing.is_empty(), "template.yaml alarms:\n  {}", missing.join("\n  "));
}

#[test]
fn the_status_role_can_never_read_task_tokens_or_token_hashes() {
    let t = template();
    let statements = all_role_statements(&t, "StatusRole");
    let denies: Vec<&Value> = statements
        .iter()
        .copied()
        .filter(|st| st.get("Effect").and_then(Value::as_str) == Some("Deny"))
        .collect();
    let text = |v: &Value| serde_yaml::to_string(v).unwrap_or_default();
    // Approval partitions, on the table and every index, for every read.
    let partitions = denies
        .iter()
        .find(|st| text(st).contains("APPROVAL#*"))
        .expect("a Deny on APPROVAL# partitions");
    let actions = list(partitions.get("Action"));
    for action in [
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:Query",
        "dynamodb:Scan",
    ] {
        assert!(actions.contains(&action.to_string()), "{action} in {actions:?}");
    }
    assert!(text(partitions).contains("dynamodb:LeadingKeys"));
    assert!(text(partitions).contains("/index/*"), "{}", text(partitions));
    // The two attributes, whatever the key.
    let attributes = denies
        .iter()
        .find(|st| text(st).contains("dynamodb:Attributes"))
        .expect("a Deny on the token attributes");
    assert!(text(attributes).contains("task_token") && text(attributes).contains("token_hashes"));
    // Pending sign-offs only through a projection.
    let pending = denies
        .iter()
        .find(|st| text(st).contains("PENDING#*"))
        .expect("a Deny on unprojected pending sign-offs");
    assert!(text(pending).contains("SPECIFIC_ATTRIBUTES"), "{}", text(pending));
    // And the status role writes nothing but sign-in links, API tokens, subscriptions and their
    // notice marks: every DynamoDB write is held to those partitions, for every key it touches.
    for st in statements
        .iter()
        .filter(|st| st.get("Effect").and_then(Value::as_str) == Some("Allow"))
    {
        for action in list(st.get("Action")) {
            let verb = action.split(':').nth(1).unwrap_or_default();
            if ["Get", "Query", "BatchGet", "CreateLogStream", "PutLogEvents"]
                .iter()
                .any(|ok| verb.starts_with(ok))
                && !(action == "dynamodb:GetItem" && st.get("Condition").is_some())
            {
                continue;
            }
            if action == "secretsmanager:GetSecretValue" {
                assert!(
                    text(st).contains("SessionKey"),
                    "status reads only the session key: {}",
                    text(st)
                );
                continue;
            }
            if action == "s3:ListBucket" {
                assert!(
                    text(st).contains("s3:prefix")
                        && text(st).contains("config/baton.yaml")
                        && !text(st).contains("packages"),
                    "status lists only the configuration's key (NoSuchKey, not AccessDenied): {}",
                    text(st)
                );
                continue;
            }
            if action == "ses:SendEmail" {
                assert!(
                    text(st).contains("identity/${SenderEmail}"),
                    "status mails only as Baton: {}",
                    text(st)
                );
                continue;
            }
            let condition = st
                .get("Condition")
                .and_then(|c| c.get("ForAllValues:StringLike"))
                .and_then(|c| c.get("dynamodb:LeadingKeys"));
            let partitions = list(condition);
            assert!(
                !partitions.is_empty()
                    && partitions
                        .iter()
                        .all(|p| ["SUBSCRIPTION#*", "NOTICE#*", "SIGNIN#*", "TOKEN#*", "QUOTA#*"].contains(&p.as_str())),
                "status may {action} outside the subscription partitions: {}",
                text(st)
            );
        }
    }
}
