//! Reads `template.yaml` (SAM) into what the local stack creates: physical names and ARNs
//! as CloudFormation would give them, intrinsic functions resolved.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Map, Value};

/// The account moto uses.
pub const ACCOUNT_ID: &str = "123456789012";

/// A resource with its physical identity.
#[derive(Debug, Clone)]
pub struct Resource {
    /// Logical id in the template.
    pub logical_id: String,
    /// `Type`.
    pub kind: String,
    /// Properties with intrinsics resolved.
    pub properties: Value,
    /// `Metadata`.
    pub metadata: Value,
    /// Physical name (table, queue, bucket, function or state machine name).
    pub name: String,
}

/// The resolved template.
#[derive(Debug, Clone)]
pub struct Template {
    /// Resources in template order.
    pub resources: Vec<Resource>,
    /// `Globals.Function.Environment.Variables`, resolved.
    pub global_env: BTreeMap<String, String>,
    region: String,
}

impl Template {
    /// Loads `path`, with `parameters` overriding parameter defaults.
    pub fn load(
        path: &Path,
        stack_name: &str,
        region: &str,
        aws_endpoint: &str,
        parameters: &BTreeMap<String, String>,
    ) -> Result<Template> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let yaml: serde_yaml::Value =
            serde_yaml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        let doc = yaml_to_json(yaml)?;
        let mut params = BTreeMap::new();
        if let Some(Value::Object(declared)) = doc.get("Parameters") {
            for (name, decl) in declared {
                let value = parameters
                    .get(name)
                    .cloned()
                    .or_else(|| decl.get("Default").and_then(Value::as_str).map(str::to_string));
                params.insert(
                    name.clone(),
                    value.ok_or_else(|| anyhow!("template parameter {name} has no default and no value was given"))?,
                );
            }
        }
        let Some(Value::Object(raw_resources)) = doc.get("Resources") else {
            bail!("{} has no Resources", path.display())
        };
        // Physical names first: every Ref and GetAtt can then be answered in one pass.
        let mut names = BTreeMap::new();
        for (id, r) in raw_resources {
            let kind = r.get("Type").and_then(Value::as_str).unwrap_or_default().to_string();
            let name_prop = match kind.as_str() {
                "AWS::DynamoDB::Table" => "TableName",
                "AWS::SQS::Queue" => "QueueName",
                "AWS::S3::Bucket" => "BucketName",
                "AWS::Serverless::Function" | "AWS::Lambda::Function" => "FunctionName",
                "AWS::Serverless::StateMachine" | "AWS::StepFunctions::StateMachine" => "Name",
                "AWS::SecretsManager::Secret" => "Name",
                _ => "",
            };
            names.insert(id.clone(), (kind, name_prop.to_string()));
        }
        let mut resolver = Resolver {
            region: region.to_string(),
            stack: stack_name.to_string(),
            endpoint: aws_endpoint.trim_end_matches('/').to_string(),
            params,
            physical: BTreeMap::new(),
        };
        for (id, (kind, name_prop)) in &names {
            let declared = raw_resources[id]
                .get("Properties")
                .and_then(|p| p.get(name_prop.as_str()))
                .cloned();
            let name = match declared {
                Some(v) => resolver
                    .resolve(&v)?
                    .as_str()
                    .map(str::to_string)
                    .ok_or_else(|| anyhow!("{id}.{name_prop} must be a string"))?,
                None => format!("{stack_name}-{id}"),
            };
            resolver.physical.insert(id.clone(), (kind.clone(), name));
        }
        let mut resources = Vec::new();
        for (id, r) in raw_resources {
            let properties = resolver
                .resolve(r.get("Properties").unwrap_or(&Value::Null))
                .with_context(|| format!("resolving {id}"))?;
            let (kind, name) = resolver.physical[id].clone();
            resources.push(Resource {
                logical_id: id.clone(),
                kind,
                properties,
                metadata: r.get("Metadata").cloned().unwrap_or(Value::Null),
                name,
            });
        }
        let globals = doc
            .pointer("/Globals/Function/Environment/Variables")
            .cloned()
            .unwrap_or(Value::Null);
        let global_env = string_map(&resolver.resolve(&globals)?);
        Ok(Template {
            resources,
            global_env,
            region: region.to_string(),
        })
    }

    /// Resources of one type.
    pub fn of_kind<'a>(&'a self, kinds: &'a [&str]) -> impl Iterator<Item = &'a Resource> + 'a {
        self.resources.iter().filter(move |r| kinds.contains(&r.kind.as_str()))
    }

    /// The resource with this logical id.
    pub fn resource(&self, logical_id: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.logical_id == logical_id)
    }

    /// ARN of an SQS queue by name.
    pub fn queue_arn(&self, name: &str) -> String {
        format!("arn:aws:sqs:{}:{ACCOUNT_ID}:{name}", self.region)
    }
}

/// A JSON object of strings as a map (non-strings are rendered as JSON).
pub fn string_map(value: &Value) -> BTreeMap<String, String> {
    value
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

struct Resolver {
    region: String,
    endpoint: String,
    stack: String,
    params: BTreeMap<String, String>,
    physical: BTreeMap<String, (String, String)>,
}

impl Resolver {
    fn arn(&self, id: &str) -> Result<String> {
        let (kind, name) = self.physical.get(id).ok_or_else(|| anyhow!("unknown resource {id}"))?;
        let r = &self.region;
        Ok(match kind.as_str() {
            "AWS::DynamoDB::Table" => format!("arn:aws:dynamodb:{r}:{ACCOUNT_ID}:table/{name}"),
            "AWS::SQS::Queue" => format!("arn:aws:sqs:{r}:{ACCOUNT_ID}:{name}"),
            "AWS::S3::Bucket" => format!("arn:aws:s3:::{name}"),
            "AWS::Serverless::Function" | "AWS::Lambda::Function" => {
                format!("arn:aws:lambda:{r}:{ACCOUNT_ID}:function:{name}")
            }
            "AWS::Serverless::StateMachine" | "AWS::StepFunctions::StateMachine" => {
                format!("arn:aws:states:{r}:{ACCOUNT_ID}:stateMachine:{name}")
            }
            // Secrets Manager appends six random characters; the IAM check judges secrets
            // named by name with the same fixed suffix (crate::iam::request::SECRET_SUFFIX).
            "AWS::SecretsManager::Secret" => format!(
                "arn:aws:secretsmanager:{r}:{ACCOUNT_ID}:secret:{name}-{}",
                crate::iam::request::SECRET_SUFFIX
            ),
            other => bail!("no ARN known for {id} of type {other}"),
        })
    }

    fn reference(&self, name: &str) -> Result<String> {
        match name {
            "AWS::Region" => return Ok(self.region.clone()),
            "AWS::AccountId" => return Ok(ACCOUNT_ID.to_string()),
            "AWS::StackName" => return Ok(self.stack.clone()),
            "AWS::Partition" => return Ok("aws".to_string()),
            "AWS::URLSuffix" => return Ok("amazonaws.com".to_string()),
            _ => {}
        }
        if let Some(v) = self.params.get(name) {
            return Ok(v.clone());
        }
        let (kind, physical) = self
            .physical
            .get(name)
            .ok_or_else(|| anyhow!("!Ref {name}: no such parameter or resource"))?;
        Ok(match kind.as_str() {
            // Ref of a queue is its URL, on the AWS endpoint the local stack serves.
            "AWS::SQS::Queue" => format!("{}/{ACCOUNT_ID}/{physical}", self.endpoint),
            "AWS::Serverless::StateMachine" | "AWS::StepFunctions::StateMachine" | "AWS::SecretsManager::Secret" => {
                self.arn(name)?
            }
            _ => physical.clone(),
        })
    }

    fn get_att(&self, id: &str, attribute: &str) -> Result<String> {
        match attribute {
            "Arn" => self.arn(id),
            // The real label is a timestamp known once the table exists: the stream poller finds
            // the stream by its table's name.
            "StreamArn" => Ok(format!("{}/stream/local", self.arn(id)?)),
            "QueueName" | "Name" => Ok(self
                .physical
                .get(id)
                .ok_or_else(|| anyhow!("unknown resource {id}"))?
                .1
                .clone()),
            other => bail!("!GetAtt {id}.{other} is not supported by the local stack"),
        }
    }

    fn substitute(&self, text: &str, vars: &Map<String, Value>) -> Result<String> {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| anyhow!("unclosed ${{ in !Sub '{text}'"))?;
            let name = &after[..end];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else if let Some(v) = vars.get(name) {
                out.push_str(&self.resolve(v)?.as_str().map(str::to_string).unwrap_or_default());
            } else if let Some((id, attr)) = name.split_once('.') {
                out.push_str(&self.get_att(id, attr)?);
            } else {
                out.push_str(&self.reference(name)?);
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn resolve(&self, value: &Value) -> Result<Value> {
        match value {
            Value::Object(map) if map.len() == 1 => {
                let (k, v) = map
                    .iter()
                    .next()
                    .map(|(k, v)| (k.as_str(), v))
                    .unwrap_or(("", &Value::Null));
                match k {
                    "Ref" => Ok(Value::String(self.reference(v.as_str().unwrap_or_default())?)),
                    "Fn::GetAtt" => {
                        let (id, attr) = match v {
                            Value::String(s) => s.split_once('.').map(|(a, b)| (a.to_string(), b.to_string())),
                            Value::Array(a) if a.len() == 2 => Some((
                                a[0].as_str().unwrap_or_default().to_string(),
                                a[1].as_str().unwrap_or_default().to_string(),
                            )),
                            _ => None,
                        }
                        .ok_or_else(|| anyhow!("malformed !GetAtt {v}"))?;
                        Ok(Value::String(self.get_att(&id, &attr)?))
                    }
                    "Fn::Sub" => match v {
                        Value::String(s) => Ok(Value::String(self.substitute(s, &Map::new())?)),
                        Value::Array(a) if a.len() == 2 => {
                            let vars = a[1].as_object().cloned().unwrap_or_default();
                            Ok(Value::String(
                                self.substitute(a[0].as_str().unwrap_or_default(), &vars)?,
                            ))
                        }
                        _ => bail!("malformed !Sub {v}"),
                    },
                    "Fn::Join" => {
                        let parts = v
                            .as_array()
                            .filter(|a| a.len() == 2)
                            .ok_or_else(|| anyhow!("malformed !Join {v}"))?;
                        let sep = parts[0].as_str().unwrap_or_default();
                        let items = self.resolve(&parts[1])?;
                        let strings: Vec<String> = items
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(|i| i.as_str().unwrap_or_default().to_string())
                            .collect();
                        Ok(Value::String(strings.join(sep)))
                    }
                    other if other.starts_with("Fn::") => bail!("{other} is not supported by the local stack"),
                    _ => Ok(Value::Object(
                        map.iter()
                            .map(|(k, v)| Ok((k.clone(), self.resolve(v)?)))
                            .collect::<Result<_>>()?,
                    )),
                }
            }
            Value::Object(map) => Ok(Value::Object(
                map.iter()
                    .map(|(k, v)| Ok((k.clone(), self.resolve(v)?)))
                    .collect::<Result<_>>()?,
            )),
            Value::Array(items) => Ok(Value::Array(
                items.iter().map(|v| self.resolve(v)).collect::<Result<_>>()?,
            )),
            other => Ok(other.clone()),
        }
    }
}

/// YAML to JSON, turning CloudFormation's short tags (`!Ref X`) into their long form.
fn yaml_to_json(value: serde_yaml::Value) -> Result<Value> {
    use serde_yaml::Value as Y;
    Ok(match value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => serde_json::to_value(&n)?,
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(yaml_to_json).collect::<Result<_>>()?),
        Y::Mapping(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                let key = match k {
                    Y::String(s) => s,
                    other => serde_yaml::to_string(&other)?.trim().to_string(),
                };
                out.insert(key, yaml_to_json(v)?);
            }
            Value::Object(out)
        }
        Y::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!');
            let inner = yaml_to_json(tagged.value)?;
            let long = if name == "Ref" || name == "Condition" {
                name.to_string()
            } else {
                format!("Fn::{name}")
            };
            let inner = match (name, inner) {
                ("GetAtt", Value::String(s)) => Value::String(s),
                (_, v) => v,
            };
            Value::Object(Map::from_iter([(long, inner)]))
        }
    })
}
