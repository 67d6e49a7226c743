//! The status routes, parsed and checked before any read, and the 4xx answers to bad ones.

use baton_domain::ReleaseId;
use baton_domain::ports::status::MAX_PAGE_SIZE;

use super::DEFAULT_PAGE_SIZE;
use crate::http::HttpRequest;

/// A request the handler answers with a 4xx: status, short code and what to do.
#[derive(Debug)]
pub(super) struct BadRequest {
    /// The HTTP status.
    pub(super) status: u16,
    /// The short code JSON answers carry.
    pub(super) code: &'static str,
    /// What was wrong, for the reader.
    pub(super) message: String,
}

impl BadRequest {
    pub(super) fn not_found(message: impl Into<String>) -> Self {
        BadRequest {
            status: 404,
            code: "not-found",
            message: message.into(),
        }
    }
    pub(super) fn invalid(message: impl Into<String>) -> Self {
        BadRequest {
            status: 400,
            code: "bad-request",
            message: message.into(),
        }
    }
}

/// The routes, parsed.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Route {
    Overview {
        json: bool,
    },
    Release {
        id: ReleaseId,
        json: bool,
    },
    Releases,
    Feed,
    /// `/feed/{env}.xml`: the releases' progress in one environment (checked against the
    /// configuration by the handler).
    EnvironmentFeed {
        environment: String,
    },
    Package {
        component: String,
        version: String,
    },
    /// `/admin/webhooks` (HTML) and `/api/webhooks` (JSON): each hook and its last tries.
    Webhooks {
        json: bool,
    },
    /// `/search` (HTML) and `/api/search` (JSON): where a change is now.
    Search {
        json: bool,
    },
}

/// The number in `rel-12` (or just `12`): canonical digits only, at most 12 of them.
fn release_number(text: &str) -> Option<u64> {
    let digits = text.strip_prefix("rel-").unwrap_or(text);
    let canonical = !digits.is_empty()
        && digits.len() <= 12
        && !digits.starts_with('0')
        && digits.bytes().all(|b| b.is_ascii_digit());
    canonical.then(|| digits.parse::<u64>().ok()).flatten()
}

/// Reads `rel-12` (or just `12`) as a release id.
fn parse_release_id(text: &str) -> Result<ReleaseId, BadRequest> {
    release_number(text).map(ReleaseId::from_number).ok_or_else(|| {
        BadRequest::not_found(format!(
            "'{}' is not a release id; release ids look like rel-12",
            text.chars().take(40).collect::<String>()
        ))
    })
}

pub(super) fn route(path: &str) -> Result<Route, BadRequest> {
    let path = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    };
    match path {
        "/" | "" => return Ok(Route::Overview { json: false }),
        "/api/status" => return Ok(Route::Overview { json: true }),
        "/api/releases" => return Ok(Route::Releases),
        "/feed.xml" => return Ok(Route::Feed),
        "/admin/webhooks" => return Ok(Route::Webhooks { json: false }),
        "/api/webhooks" => return Ok(Route::Webhooks { json: true }),
        "/api/search" => return Ok(Route::Search { json: true }),
        "/search" => return Ok(Route::Search { json: false }),
        _ => {}
    }
    if let Some(env) = path.strip_prefix("/feed/").and_then(|rest| rest.strip_suffix(".xml")) {
        if env.is_empty() || env.len() > 64 || env.contains('/') {
            return Err(BadRequest::not_found(
                "Environment feeds are at /feed/{environment}.xml, e.g. /feed/PROD.xml.",
            ));
        }
        return Ok(Route::EnvironmentFeed {
            environment: env.to_string(),
        });
    }
    if let Some(rest) = path.strip_prefix("/api/packages/") {
        return package_route(rest);
    }
    let (json, id) = match (path.strip_prefix("/api/releases/"), path.strip_prefix("/releases/")) {
        (Some(id), _) => (true, id),
        (_, Some(id)) => (false, id),
        _ => return Err(BadRequest::not_found("There is no page here.")),
    };
    if id.contains('/') {
        return Err(BadRequest::not_found("There is no page here."));
    }
    Ok(Route::Release {
        id: parse_release_id(id)?,
        json,
    })
}

/// Longest version text looked up: real ones are far shorter, and DynamoDB refuses long keys.
const VERSION_TEXT_MAX: usize = 128;

/// `{component}/{version}` of `/api/packages/...`, checked before any read.
fn package_route(rest: &str) -> Result<Route, BadRequest> {
    let Some((component, version)) = rest.split_once('/').filter(|(_, v)| !v.contains('/')) else {
        return Err(BadRequest::not_found(
            "Package verdicts are at /api/packages/{component}/{version}, e.g. /api/packages/web/1.4.0.",
        ));
    };
    let version = percent_encoding::percent_decode_str(version).decode_utf8_lossy();
    if !baton_domain::config::is_component_name(component) {
        return Err(BadRequest::invalid(
            "the component must start with a lowercase letter and use only a-z, 0-9 and '-' (at most 32)",
        ));
    }
    if version.len() > VERSION_TEXT_MAX || baton_domain::Version::parse(&version).is_err() {
        return Err(BadRequest::invalid(format!(
            "'{}' is not a SemVer 2.0 version such as 1.4.0 or 1.4.0-rc.1",
            version.chars().take(40).collect::<String>()
        )));
    }
    Ok(Route::Package {
        component: component.to_string(),
        version: version.into_owned(),
    })
}

/// `limit` and `before` of `/api/releases`.
pub(super) fn page_query(request: &HttpRequest) -> Result<(usize, Option<u64>), BadRequest> {
    let limit = match request.query.get("limit").map(|v| v.trim()) {
        None | Some("") => DEFAULT_PAGE_SIZE,
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => n,
            _ => {
                return Err(BadRequest::invalid(format!(
                    "limit must be a whole number from 1 to {MAX_PAGE_SIZE}"
                )));
            }
        },
    };
    let before = match request.query.get("before").map(|v| v.trim()) {
        None | Some("") => None,
        Some(text) => Some(release_number(text).ok_or_else(|| {
            BadRequest::invalid("before must be a release number or id, such as 40 or rel-40 (use next_before)")
        })?),
    };
    Ok((limit, before))
}
