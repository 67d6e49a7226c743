//! IAM for the local stack (docs/iam.md). moto enforces no IAM, so the runner does: each
//! function signs its AWS requests with an access key naming it (`FUNCTION-<name>`), the AWS
//! endpoint derives each request's (action, resource) and judges it against the function's role
//! in `template.yaml`, as IAM would (explicit deny, then allow, else implicit deny). A refused
//! call is answered as AWS answers it (`AccessDenied`), naming function, action and resource;
//! every call is recorded, so a test can list the permissions no call used.

pub mod policy;
pub mod request;
mod requests;
mod roles;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use aws_config::SdkConfig;

use crate::template::{ACCOUNT_ID, Template};
use policy::{Effect, Statement};
use request::{Need, Scope};
pub use requests::RequestCount;

/// The access key of the stack's own clients (provisioning, tests): not a function, not judged.
pub const STACK_ACCESS_KEY: &str = "test";

/// The access key moto's Step Functions interpreter signs its Lambda invocations with: judged
/// by the role of the stack's state machine (there is one; with several, it cannot be told).
pub const MOTO_STATES_ACCESS_KEY: &str = "ak";

/// Prefix of the access key a function signs with; the function's name follows.
pub const FUNCTION_ACCESS_KEY_PREFIX: &str = "FUNCTION-";

/// The access key `function` signs its requests with.
pub fn access_key(function: &str) -> String {
    format!("{FUNCTION_ACCESS_KEY_PREFIX}{function}")
}

/// `sdk` with credentials naming `function`, so the endpoint judges its requests by its role.
pub fn function_sdk(sdk: &SdkConfig, function: &str) -> SdkConfig {
    let credentials =
        aws_sdk_s3::config::Credentials::new(access_key(function), "local", None, None, "baton-local-function");
    sdk.to_builder()
        .credentials_provider(aws_sdk_s3::config::SharedCredentialsProvider::new(credentials))
        .build()
}

/// A function's role: its statements, from the role it names or the SAM `Policies` it lists.
#[derive(Debug, Clone)]
pub struct Role {
    /// The role's logical id (or `<Function>Role` for SAM's generated one).
    pub name: String,
    /// Its statements.
    pub statements: Vec<Statement>,
}

/// Every function's role, read once per stack start.
#[derive(Debug, Default)]
pub struct PolicyIndex {
    /// By function name: its role, or why the runner could not read one (every call of that
    /// function is then refused with the reason).
    roles: BTreeMap<String, Result<Role, String>>,
    region: String,
    state_machines: Vec<String>,
    /// The principal moto's interpreter stands for: the stack's one state machine.
    machine: Option<String>,
}

/// The outcome of judging one need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Allowed by this statement's action and resource patterns (indexes).
    Allowed {
        /// Statement index in the role.
        statement: usize,
        /// Action pattern index.
        action: usize,
        /// Resource pattern index.
        resource: usize,
    },
    /// Refused: AWS's message.
    Denied(String),
}

impl PolicyIndex {
    /// Reads every function's role from `template`.
    pub fn build(template: &Template, region: &str) -> PolicyIndex {
        let mut roles = BTreeMap::new();
        for f in template.of_kind(&["AWS::Serverless::Function", "AWS::Lambda::Function"]) {
            roles.insert(f.name.clone(), roles::role_of(template, f, region));
        }
        let machines: Vec<_> = template
            .of_kind(&["AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine"])
            .collect();
        for m in &machines {
            roles.insert(m.name.clone(), roles::role_of(template, m, region));
        }
        let machine = match machines.as_slice() {
            [one] => Some(one.name.clone()),
            _ => None,
        };
        PolicyIndex {
            roles,
            region: region.to_string(),
            state_machines: machines
                .iter()
                .map(|r| format!("arn:aws:states:{region}:{ACCOUNT_ID}:stateMachine:{}", r.name))
                .collect(),
            machine,
        }
    }

    /// Where resource ARNs of requests are built.
    pub fn scope(&self) -> Scope<'_> {
        Scope {
            region: &self.region,
            account: ACCOUNT_ID,
            state_machines: &self.state_machines,
        }
    }

    /// The role of `function`, if the runner could read one.
    pub fn role(&self, function: &str) -> Option<&Role> {
        self.roles.get(function).and_then(|r| r.as_ref().ok())
    }

    /// Judges `need` for `function` as IAM does: an explicit deny wins, then any allow.
    pub fn judge(&self, function: &str, need: &Need) -> Verdict {
        let role = match self.roles.get(function) {
            Some(Ok(role)) => role,
            Some(Err(why)) => {
                return Verdict::Denied(format!(
                    "function {function} is not authorized to perform: {} on resource: {}: the runner could not read its role: {why}",
                    need.action, need.resource
                ));
            }
            None => {
                return Verdict::Denied(format!(
                    "{function} is not a function of template.yaml: no role authorizes {} on resource: {}",
                    need.action, need.resource
                ));
            }
        };
        let who = format!("arn:aws:sts::{ACCOUNT_ID}:assumed-role/{}/{function}", role.name);
        let mut allowed = None;
        for (i, s) in role.statements.iter().enumerate() {
            let (Some(a), Some(r)) = (s.action_match(&need.action), s.resource_match(&need.resource)) else {
                continue;
            };
            if !s.conditions_hold(&need.context) {
                continue;
            }
            match s.effect {
                Effect::Deny => {
                    return Verdict::Denied(format!(
                        "User: {who} is not authorized to perform: {} on resource: {} with an explicit deny in an identity-based policy ({}/{})",
                        need.action, need.resource, role.name, s.sid
                    ));
                }
                Effect::Allow => {
                    allowed.get_or_insert(Verdict::Allowed {
                        statement: i,
                        action: a,
                        resource: r,
                    });
                }
            }
        }
        allowed.unwrap_or_else(|| {
            Verdict::Denied(format!(
                "User: {who} is not authorized to perform: {} on resource: {} because no identity-based policy allows the {} action (function {function}, role {})",
                need.action, need.resource, need.action, role.name
            ))
        })
    }
}

/// One recorded call: who asked what of which resource, how often, and whether it was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// Function name.
    pub function: String,
    /// IAM action.
    pub action: String,
    /// Resource ARN (`*` for an action authorized without one).
    pub resource: String,
    /// How many times.
    pub count: u64,
    /// Why it was refused, if it was.
    pub denied: Option<String>,
}

#[derive(Debug, Default)]
struct Log {
    calls: BTreeMap<(String, String, String), (u64, Option<String>)>,
    /// Requests by (function, operation): see `requests.rs`.
    requests: BTreeMap<(String, String), u64>,
    used: BTreeSet<(String, usize, usize, usize)>,
}

/// The IAM check of a running stack: the index (built once per stack start) and every call
/// judged so far.
#[derive(Debug, Clone, Default)]
pub struct Iam {
    index: Arc<PolicyIndex>,
    log: Arc<Mutex<Log>>,
}

/// A refused request: AWS's message for it.
#[derive(Debug, Clone)]
pub struct Denial(pub String);

impl Iam {
    /// The check for `template`'s functions.
    pub fn new(template: &Template, region: &str) -> Iam {
        Iam {
            index: Arc::new(PolicyIndex::build(template, region)),
            log: Arc::default(),
        }
    }

    /// The policy index.
    pub fn index(&self) -> &PolicyIndex {
        &self.index
    }

    /// Judges a request the endpoint received, records it, and tells whether it may go on.
    /// Requests of the stack's own clients pass unjudged; a key that is neither theirs nor a
    /// function's is refused (the runner cannot tell its role).
    pub fn check(&self, r: &request::Request) -> Result<(), Denial> {
        let Some((key, service)) = request::credential(r.authorization, r.query) else {
            return Ok(());
        };
        if key == STACK_ACCESS_KEY {
            return Ok(());
        }
        let machine = self.index.machine.as_deref().filter(|_| key == MOTO_STATES_ACCESS_KEY);
        let Some(function) = key.strip_prefix(FUNCTION_ACCESS_KEY_PREFIX).or(machine) else {
            return Err(Denial(format!(
                "The security token included in the request is invalid: access key {key} is neither the local stack's ({STACK_ACCESS_KEY}) nor a function's ({FUNCTION_ACCESS_KEY_PREFIX}<name>)"
            )));
        };
        let needs = match request::needs(&service, r, &self.index.scope()) {
            Ok(needs) => needs,
            Err(why) => {
                tracing::error!(function, "IAM: {why}");
                self.record(function, &format!("{service}:?"), r.path, None, Some(why.clone()));
                return Err(Denial(format!("function {function}: {why}")));
            }
        };
        self.count_request(function, requests::operation(&service, r, &needs));
        let mut refused = None;
        for need in &needs {
            match self.index.judge(function, need) {
                Verdict::Allowed {
                    statement,
                    action,
                    resource,
                } => self.record(
                    function,
                    &need.action,
                    &need.resource,
                    Some((statement, action, resource)),
                    None,
                ),
                Verdict::Denied(message) => {
                    tracing::error!(function, action = %need.action, resource = %need.resource, "IAM: {message}");
                    self.record(function, &need.action, &need.resource, None, Some(message.clone()));
                    refused.get_or_insert(Denial(message));
                }
            }
        }
        // `BATON_IAM=record` lists every missing permission of a run at once instead of
        // stopping at the first (the refusals are still recorded and logged).
        if std::env::var("BATON_IAM").is_ok_and(|v| v == "record") {
            return Ok(());
        }
        refused.map_or(Ok(()), Err)
    }

    /// S3 answers a read of a missing key with 404 only to a principal that may list the key
    /// (`s3:ListBucket` on the bucket, `s3:prefix` the key); to others it answers 403, as for a
    /// key they may not read. The refusal to give when moto found no key, if any.
    pub fn hides_missing_key(&self, r: &request::Request) -> Option<Denial> {
        let (key, service) = request::credential(r.authorization, r.query)?;
        let function = key.strip_prefix(FUNCTION_ACCESS_KEY_PREFIX)?;
        if service != "s3" || !matches!(r.method, "GET" | "HEAD") {
            return None;
        }
        let (bucket, object) = r.path.trim_start_matches('/').split_once('/')?;
        if object.is_empty() {
            return None;
        }
        let object = percent_encoding::percent_decode_str(object)
            .decode_utf8_lossy()
            .into_owned();
        let need = Need {
            action: "s3:ListBucket".into(),
            resource: format!("arn:aws:s3:::{bucket}"),
            context: policy::Context {
                s3_prefix: Some(object.clone()),
            },
        };
        match self.index.judge(function, &need) {
            Verdict::Allowed {
                statement,
                action,
                resource,
            } => {
                self.record(
                    function,
                    &need.action,
                    &need.resource,
                    Some((statement, action, resource)),
                    None,
                );
                None
            }
            Verdict::Denied(message) => Some(Denial(format!(
                "Access Denied: {object} does not exist, and S3 says so only to a role allowed s3:ListBucket on its prefix. {message}"
            ))),
        }
    }

    /// Records a call the runner makes on a function's behalf outside the endpoint (an event
    /// source mapping reading a stream), judged as the others.
    pub fn note(&self, function: &str, need: &Need) -> Result<(), Denial> {
        match self.index.judge(function, need) {
            Verdict::Allowed {
                statement,
                action,
                resource,
            } => {
                self.record(
                    function,
                    &need.action,
                    &need.resource,
                    Some((statement, action, resource)),
                    None,
                );
                Ok(())
            }
            Verdict::Denied(message) => {
                self.record(function, &need.action, &need.resource, None, Some(message.clone()));
                Err(Denial(message))
            }
        }
    }

    fn record(
        &self,
        function: &str,
        action: &str,
        resource: &str,
        used: Option<(usize, usize, usize)>,
        denied: Option<String>,
    ) {
        if let Ok(mut log) = self.log.lock() {
            let entry = log
                .calls
                .entry((function.to_string(), action.to_string(), resource.to_string()))
                .or_default();
            entry.0 += 1;
            if denied.is_some() {
                entry.1 = denied;
            }
            if let (Some((s, a, r)), Some(role)) = (used, self.index.role(function)) {
                log.used.insert((role.name.clone(), s, a, r));
            }
        }
    }

    /// Every call recorded so far.
    pub fn calls(&self) -> Vec<Call> {
        let Ok(log) = self.log.lock() else {
            return Vec::new();
        };
        log.calls
            .iter()
            .map(|((function, action, resource), (count, denied))| Call {
                function: function.clone(),
                action: action.clone(),
                resource: resource.clone(),
                count: *count,
                denied: denied.clone(),
            })
            .collect()
    }

    /// The refused calls so far.
    pub fn denials(&self) -> Vec<Call> {
        self.calls().into_iter().filter(|c| c.denied.is_some()).collect()
    }

    /// The permissions (role/statement: action on resource) of the functions' roles that no
    /// recorded call used: candidates to remove. `logs:` actions are left out (the Lambda
    /// runtime writes logs; nothing local does).
    pub fn unused(&self) -> Vec<String> {
        let used = self.log.lock().map(|l| l.used.clone()).unwrap_or_default();
        let mut roles: BTreeMap<&str, &Role> = BTreeMap::new();
        for role in self.index.roles.values().flatten() {
            roles.insert(&role.name, role);
        }
        let mut out = Vec::new();
        for role in roles.values() {
            for (s, st) in role.statements.iter().enumerate() {
                if st.effect != Effect::Allow {
                    continue;
                }
                for (a, action) in st.actions.iter().enumerate() {
                    if action.starts_with("logs:") {
                        continue;
                    }
                    for (r, resource) in st.resources.iter().enumerate() {
                        if !used.contains(&(role.name.clone(), s, a, r)) {
                            out.push(format!("{}/{}: {action} on {resource}", role.name, st.sid));
                        }
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests;
