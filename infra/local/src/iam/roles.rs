//! A function's (or state machine's) role as the template declares it.

use serde_json::Value;

use super::{Role, policy};
use crate::template::{ACCOUNT_ID, Template};

/// The role `function` (or a state machine) runs with: the `AWS::IAM::Role` its `Role` names,
/// or SAM's role made of its `Policies` (inline statements and the SAM policy templates expanded).
pub(super) fn role_of(template: &Template, function: &crate::template::Resource, region: &str) -> Result<Role, String> {
    let p = &function.properties;
    if let Some(role_arn) = p.get("Role").and_then(Value::as_str) {
        let role_name = role_arn.rsplit_once(":role/").map(|(_, n)| n).unwrap_or(role_arn);
        let role = template
            .of_kind(&["AWS::IAM::Role"])
            .find(|r| r.name == role_name || r.logical_id == role_name)
            .ok_or_else(|| format!("its Role {role_arn} is not an AWS::IAM::Role of template.yaml"))?;
        let mut statements = Vec::new();
        for policy in role
            .properties
            .get("Policies")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = policy.get("PolicyName").and_then(Value::as_str).unwrap_or("?");
            let doc = policy.get("PolicyDocument").unwrap_or(&Value::Null);
            statements
                .extend(policy::statements(doc, &format!("{}/{name}", role.logical_id)).map_err(|e| e.to_string())?);
        }
        if role
            .properties
            .get("ManagedPolicyArns")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
        {
            return Err(format!(
                "{}: ManagedPolicyArns are not read by the local stack's IAM check",
                role.logical_id
            ));
        }
        return Ok(Role {
            name: role.logical_id.clone(),
            statements,
        });
    }
    let mut statements = Vec::new();
    let origin = format!("{}Role", function.logical_id);
    let policies = match p.get("Policies") {
        Some(Value::Array(items)) => items.clone(),
        Some(one) => vec![one.clone()],
        None => Vec::new(),
    };
    for item in policies {
        let doc = match &item {
            Value::Object(m) if m.contains_key("Statement") => item.clone(),
            Value::Object(m) if m.len() == 1 => {
                let (name, params) = m.iter().next().map(|(k, v)| (k.clone(), v.clone())).unwrap_or_default();
                policy::sam_template(&name, &params, region, ACCOUNT_ID).map_err(|e| e.to_string())?
            }
            Value::String(managed) => {
                return Err(format!(
                    "managed policy {managed} is not read by the local stack's IAM check"
                ));
            }
            other => return Err(format!("Policies entry {other} is not understood")),
        };
        statements.extend(policy::statements(&doc, &origin).map_err(|e| e.to_string())?);
    }
    Ok(Role {
        name: origin,
        statements,
    })
}
