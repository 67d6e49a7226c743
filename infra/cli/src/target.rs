//! Where `baton` talks to: the local stack's defaults, or a deployed Baton.

use std::time::Duration;

use aws_config::{BehaviorVersion, Region};
use serde_json::Value;

use crate::cli::EndpointArgs;
use crate::error::CliError;

/// The local stack's HTTP API (`baton-local`'s default).
pub const LOCAL_API_URL: &str = "http://127.0.0.1:3000";
/// The local stack's bucket.
pub const LOCAL_BUCKET: &str = "baton-artefacts";
/// The local stack's AWS endpoint.
pub const LOCAL_AWS_ENDPOINT: &str = "http://127.0.0.1:4566";
/// The local stack's region.
const LOCAL_REGION: &str = "eu-west-1";

/// A resolved target.
#[derive(Debug, Clone)]
pub struct Target {
    /// Baton's API, without a trailing slash.
    pub api_url: Option<String>,
    /// The artefact bucket.
    pub bucket: Option<String>,
    /// A non-default S3 endpoint.
    endpoint_url: Option<String>,
    /// Whether this is the local stack (fixed test credentials and region).
    local: bool,
    /// The API token (`BATON_TOKEN`), if set.
    pub token: Option<String>,
}

impl Target {
    /// The target the flags and environment name; the local stack when they name no API.
    pub fn resolve(args: &EndpointArgs) -> Target {
        let set = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let (api_url, bucket, endpoint_url) = (set(&args.api_url), set(&args.bucket), set(&args.endpoint_url));
        // Without Baton's URL this is the local stack, whose bucket BATON_BUCKET may rename
        // (as it does for `baton-local`).
        if api_url.is_none() {
            return Target {
                api_url: Some(LOCAL_API_URL.into()),
                bucket: Some(bucket.unwrap_or_else(|| LOCAL_BUCKET.into())),
                endpoint_url: Some(endpoint_url.unwrap_or_else(|| LOCAL_AWS_ENDPOINT.into())),
                local: true,
                token: set(&args.token),
            };
        }
        Target {
            api_url: api_url.map(|u| u.trim_end_matches('/').to_string()),
            bucket,
            endpoint_url,
            local: false,
            token: set(&args.token),
        }
    }

    /// Baton's API, or what to set.
    pub fn api(&self) -> Result<&str, CliError> {
        self.api_url
            .as_deref()
            .ok_or_else(|| CliError::Usage("set BATON_API_URL (or --api-url) to Baton's public URL".into()))
    }

    /// The bucket, or what to set.
    pub fn bucket(&self) -> Result<&str, CliError> {
        self.bucket
            .as_deref()
            .ok_or_else(|| CliError::Usage("set BATON_BUCKET (or --bucket) to Baton's artefact bucket".into()))
    }

    /// An S3 client: the local stack's fixed credentials, or the default chain.
    pub async fn s3(&self) -> aws_sdk_s3::Client {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if self.local {
            loader =
                loader
                    .region(Region::new(LOCAL_REGION))
                    .credentials_provider(aws_sdk_s3::config::Credentials::new(
                        "test",
                        "test",
                        None,
                        None,
                        "baton-local",
                    ));
        }
        if let Some(endpoint) = &self.endpoint_url {
            loader = loader.endpoint_url(endpoint);
        }
        let sdk = loader.load().await;
        let config = aws_sdk_s3::config::Builder::from(&sdk).force_path_style(self.endpoint_url.is_some());
        aws_sdk_s3::Client::from_conf(config.build())
    }

    /// Where to look when Baton cannot be reached.
    pub fn hint(&self) -> &'static str {
        if self.local {
            "is the local stack running? Start it with `make up`, or set BATON_API_URL and BATON_BUCKET for a deployed Baton"
        } else {
            "check BATON_API_URL, BATON_BUCKET and the network"
        }
    }
}

/// An error with its causes, `a: b: c`: reqwest's own message alone does not say why.
fn causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Baton's HTTP API.
pub struct Api {
    base: String,
    http: reqwest::Client,
    hint: &'static str,
    /// `BATON_TOKEN`, sent as `Authorization: Bearer` on every request.
    token: Option<String>,
}

/// One answer of the API.
pub enum Answer {
    /// 200 with this JSON.
    Found(Value),
    /// 404 with Baton's message.
    NotFound(String),
}

impl Api {
    /// The API of `target`.
    pub fn of(target: &Target) -> Result<Api, CliError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .user_agent(concat!("baton-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| CliError::Unreachable(format!("cannot set up HTTP: {e}")))?;
        Ok(Api {
            base: target.api()?.to_string(),
            http,
            hint: target.hint(),
            token: target.token.clone(),
        })
    }

    /// The `Authorization` header, when there is a token.
    fn auth(&self) -> reqwest::header::HeaderMap {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(value) = self
            .token
            .as_ref()
            .and_then(|t| reqwest::header::HeaderValue::from_str(&format!("Bearer {}", t.trim())).ok())
        {
            headers.insert(reqwest::header::AUTHORIZATION, value);
        }
        headers
    }

    /// The full URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// POSTs `fields` to `path` as a form (`application/x-www-form-urlencoded`): the answer's
    /// status and body, whatever the status; only a network failure is an error.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Result<(u16, String), CliError> {
        let url = self.url(path);
        let response = self
            .http
            .post(&url)
            .header("accept", "text/html, application/json;q=0.9")
            .headers(self.auth())
            .form(fields)
            .send()
            .await
            .map_err(|e| {
                CliError::Unreachable(format!("cannot reach Baton at {url}: {}; {}", causes(&e), self.hint))
            })?;
        let status = response.status().as_u16();
        let body = response
            .text()
            .await
            .map_err(|e| CliError::Unreachable(format!("Baton's answer from {url} broke off: {e}")))?;
        Ok((status, body))
    }

    /// GETs `path` and reads Baton's JSON answer.
    pub async fn get(&self, path: &str) -> Result<Answer, CliError> {
        let url = self.url(path);
        let response = self
            .http
            .get(&url)
            .header("accept", "application/json")
            .headers(self.auth())
            .send()
            .await
            .map_err(|e| {
                CliError::Unreachable(format!("cannot reach Baton at {url}: {}; {}", causes(&e), self.hint))
            })?;
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|e| CliError::Unreachable(format!("Baton's answer from {url} broke off: {e}")))?;
        let json: Option<Value> = serde_json::from_str(&body).ok();
        let message = || {
            json.as_ref()
                .and_then(|j| j["message"].as_str())
                .map(str::to_string)
                .unwrap_or_else(|| format!("HTTP {status}"))
        };
        match status.as_u16() {
            200 => json.map(Answer::Found).ok_or_else(|| {
                CliError::Unreachable(format!("{url} did not answer JSON; is BATON_API_URL Baton's URL?"))
            }),
            404 => Ok(Answer::NotFound(message())),
            401 | 403 => Err(CliError::Unreachable(format!(
                "Baton refused access ({status}): {}{}",
                message(),
                if self.token.is_some() {
                    " (BATON_TOKEN was sent: it may be revoked, or its owner no longer allowed)"
                } else {
                    " (set BATON_TOKEN to a token from your account page on the status page)"
                }
            ))),
            429 => Err(CliError::Unreachable(format!(
                "Baton is busy ({status}): {}",
                message()
            ))),
            400..=499 => Err(CliError::Usage(message())),
            _ => Err(CliError::Unreachable(format!("Baton answered {status}: {}", message()))),
        }
    }
}
