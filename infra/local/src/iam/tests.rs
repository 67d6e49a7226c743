//! Unit tests of the index and the call log: verdicts, refusals, unused permissions.
use super::*;
use policy::Context;

fn index() -> PolicyIndex {
    let doc = serde_json::json!({ "Statement": [
        { "Sid": "Read", "Effect": "Allow", "Action": ["dynamodb:Get*", "dynamodb:Query"], "Resource": "arn:aws:dynamodb:r:1:table/t" },
        { "Sid": "List", "Effect": "Allow", "Action": "secretsmanager:ListSecrets", "Resource": "*" },
        { "Sid": "NoSecrets", "Effect": "Deny", "Action": "dynamodb:*", "Resource": "arn:aws:dynamodb:r:1:table/secret" },
    ]});
    let role = Role {
        name: "R".into(),
        statements: policy::statements(&doc, "R").unwrap(),
    };
    PolicyIndex {
        roles: BTreeMap::from([
            ("f".to_string(), Ok(role)),
            ("broken".to_string(), Err("managed policy X is not read".to_string())),
        ]),
        region: "r".into(),
        state_machines: Vec::new(),
        machine: None,
    }
}

fn need(action: &str, resource: &str) -> Need {
    Need {
        action: action.into(),
        resource: resource.into(),
        context: Context::default(),
    }
}

#[test]
fn allow_deny_and_implicit_deny() {
    let i = index();
    assert!(matches!(
        i.judge("f", &need("dynamodb:GetItem", "arn:aws:dynamodb:r:1:table/t")),
        Verdict::Allowed {
            statement: 0,
            action: 0,
            ..
        }
    ));
    assert!(matches!(
        i.judge("f", &need("secretsmanager:ListSecrets", "*")),
        Verdict::Allowed { statement: 1, .. }
    ));
    let Verdict::Denied(m) = i.judge("f", &need("dynamodb:PutItem", "arn:aws:dynamodb:r:1:table/t")) else {
        panic!()
    };
    assert!(
        m.contains("dynamodb:PutItem") && m.contains("table/t") && m.contains("function f"),
        "{m}"
    );
    let Verdict::Denied(m) = i.judge("f", &need("sqs:GetItem", "arn:aws:dynamodb:r:1:table/t")) else {
        panic!()
    };
    assert!(m.contains("sqs:GetItem"), "{m}");
}

#[test]
fn an_explicit_deny_names_its_statement() {
    let mut i = index();
    if let Some(Ok(role)) = i.roles.get_mut("f") {
        role.statements[0].resources.push("arn:aws:dynamodb:r:1:table/*".into());
    }
    let Verdict::Denied(m) = i.judge("f", &need("dynamodb:GetItem", "arn:aws:dynamodb:r:1:table/secret")) else {
        panic!()
    };
    assert!(m.contains("explicit deny") && m.contains("R/NoSecrets"), "{m}");
}

#[test]
fn a_function_without_a_readable_role_or_unknown_is_refused_with_the_reason() {
    let i = index();
    let Verdict::Denied(m) = i.judge("broken", &need("dynamodb:GetItem", "arn:aws:dynamodb:r:1:table/t")) else {
        panic!()
    };
    assert!(
        m.contains("could not read its role") && m.contains("managed policy X"),
        "{m}"
    );
    let Verdict::Denied(m) = i.judge("drift", &need("dynamodb:GetItem", "*")) else {
        panic!()
    };
    assert!(m.contains("drift is not a function of template.yaml"), "{m}");
}

#[test]
fn unused_permissions_are_those_no_call_matched() {
    let iam = Iam {
        index: Arc::new(index()),
        log: Arc::default(),
    };
    iam.note("f", &need("dynamodb:GetItem", "arn:aws:dynamodb:r:1:table/t"))
        .unwrap();
    assert!(
        iam.note("f", &need("dynamodb:DeleteItem", "arn:aws:dynamodb:r:1:table/t"))
            .is_err()
    );
    let unused = iam.unused();
    assert_eq!(
        unused,
        [
            "R/Read: dynamodb:Query on arn:aws:dynamodb:r:1:table/t",
            "R/List: secretsmanager:ListSecrets on *"
        ]
    );
    assert_eq!(iam.denials().len(), 1);
}
