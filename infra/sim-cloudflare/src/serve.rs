//! Serving deployed sites, by Host header (`<short-id|alias>.<project>.<public host>`, `<project>.<public host>`)
//! or by path (`/__sites/<host>/<path>`) for clients that cannot set Host.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use percent_encoding::percent_decode_str;

use crate::rules::{find_redirect, headers_for};
use crate::state::{DeploymentRecord, SimState, World};

/// The site a request is for: a project, and a deployment short id or branch alias (none: production).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SiteTarget {
    pub project: String,
    pub label: Option<String>,
}

/// The headers Pages adds to every asset response.
const DEFAULT_HEADERS: [(&str, &str); 4] = [
    ("access-control-allow-origin", "*"),
    ("cache-control", "public, max-age=0, must-revalidate"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
    ("x-content-type-options", "nosniff"),
];

impl SimState {
    /// The site named by a Host header, if it is a site host (`*.<public host without port>`).
    pub(crate) fn site_from_host(&self, host: &str) -> Option<SiteTarget> {
        let suffix = strip_port(self.public_host()).to_ascii_lowercase();
        let host = strip_port(host).to_ascii_lowercase();
        let labels = host.strip_suffix(&suffix)?.strip_suffix('.')?;
        site_from_labels(labels)
    }

    /// The site named in `/__sites/<host>`: a full site host, or just `<label>.<project>` / `<project>`.
    fn site_from_path_host(&self, host: &str) -> Option<SiteTarget> {
        self.site_from_host(host)
            .or_else(|| site_from_labels(&strip_port(host).to_ascii_lowercase()))
    }
}

fn strip_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

fn site_from_labels(labels: &str) -> Option<SiteTarget> {
    let parts: Vec<&str> = labels.split('.').collect();
    match parts.as_slice() {
        [project] if !project.is_empty() => Some(SiteTarget {
            project: project.to_string(),
            label: None,
        }),
        [label, project] if !label.is_empty() && !project.is_empty() => Some(SiteTarget {
            project: project.to_string(),
            label: Some(label.to_string()),
        }),
        _ => None,
    }
}

/// `GET /__sites/<host>/<path>`: the path-based way in. Redirect targets are kept under the prefix.
pub(crate) async fn path_based(
    State(state): State<SimState>,
    method: Method,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let rest = uri.path().strip_prefix("/__sites/").unwrap_or_default();
    let (raw_host, path) = match rest.split_once('/') {
        Some((host, path)) => (host, format!("/{path}")),
        None => return redirect(StatusCode::PERMANENT_REDIRECT, &format!("/__sites/{rest}/")),
    };
    let host = percent_decode_str(raw_host).decode_utf8_lossy().into_owned();
    let Some(target) = state.site_from_path_host(&host) else {
        return text_page(StatusCode::NOT_FOUND, &format!("'{host}' does not name a site"));
    };
    serve(
        &state,
        &target,
        &method,
        &headers,
        &path,
        &format!("/__sites/{raw_host}"),
    )
}

/// Serves `raw_path` of a site. `prefix` is put before redirect targets that are site paths.
pub(crate) fn serve(
    state: &SimState,
    target: &SiteTarget,
    method: &Method,
    request_headers: &HeaderMap,
    raw_path: &str,
    prefix: &str,
) -> Response {
    if method != Method::GET && method != Method::HEAD {
        let mut response = text_page(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD are served");
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    let world = state.world();
    let now = Utc::now();
    let Some(project) = world.projects.get(&target.project) else {
        return text_page(
            StatusCode::NOT_FOUND,
            &format!("There is no Pages project '{}'", target.project),
        );
    };
    let deployment_id = match &target.label {
        None => project.canonical.clone(),
        Some(label) => project
            .deployments
            .iter()
            .find(|d| d.short_id == *label)
            .map(|d| d.id.clone())
            .or_else(|| project.aliases.get(label).cloned()),
    };
    let Some(deployment) = deployment_id.and_then(|id| project.deployments.iter().find(|d| d.id == id)) else {
        return text_page(StatusCode::NOT_FOUND, "Nothing is deployed here (yet)");
    };
    let view = deployment.stage_view(now);
    if !view.succeeded {
        let stage = &view.stages[view.latest];
        let why = format!("This deployment is not live: stage {} is {}", stage.name, stage.status);
        return text_page(StatusCode::NOT_FOUND, &why);
    }
    let path = percent_decode_str(raw_path).decode_utf8_lossy().into_owned();
    let site = Site {
        world: &world,
        project: &target.project,
        deployment,
    };
    let mut response = site.respond(&path, prefix, request_headers);
    if method == Method::HEAD {
        *response.body_mut() = Body::empty();
    }
    response
}

struct Site<'a> {
    world: &'a World,
    project: &'a str,
    deployment: &'a DeploymentRecord,
}

enum Resolved {
    File(String),
    Redirect(String),
    Missing,
}

impl Site<'_> {
    fn manifest(&self) -> &BTreeMap<String, String> {
        &self.deployment.manifest
    }

    /// Pages routing: `/dir/` → `/dir/index.html`; `/page` → `/page` or `/page.html`; `/dir` → 308 `/dir/`.
    fn resolve(&self, path: &str) -> Resolved {
        let has = |candidate: &str| self.manifest().contains_key(candidate);
        if path.ends_with('/') {
            let index = format!("{path}index.html");
            return if has(&index) {
                Resolved::File(index)
            } else {
                Resolved::Missing
            };
        }
        if has(path) {
            return Resolved::File(path.to_string());
        }
        let html = format!("{path}.html");
        if has(&html) {
            return Resolved::File(html);
        }
        if has(&format!("{path}/index.html")) {
            return Resolved::Redirect(format!("{path}/"));
        }
        Resolved::Missing
    }

    fn respond(&self, path: &str, prefix: &str, request_headers: &HeaderMap) -> Response {
        if let Some((rule, to)) = find_redirect(&self.deployment.redirect_rules, path) {
            let internal = to.starts_with('/');
            match (rule.status, internal) {
                (200 | 404, true) => {
                    let status = StatusCode::from_u16(rule.status).unwrap_or(StatusCode::OK);
                    if let Resolved::File(file) = self.resolve(&to) {
                        return self.file(&file, status, path, request_headers);
                    }
                }
                _ => {
                    let location = if internal { format!("{prefix}{to}") } else { to };
                    let status = StatusCode::from_u16(rule.status).unwrap_or(StatusCode::FOUND);
                    return redirect(status, &location);
                }
            }
        }
        match self.resolve(path) {
            Resolved::File(file) => self.file(&file, StatusCode::OK, path, request_headers),
            Resolved::Redirect(to) => redirect(StatusCode::PERMANENT_REDIRECT, &format!("{prefix}{to}")),
            Resolved::Missing => match self.nearest_404(path) {
                Some(page) => self.file(&page, StatusCode::NOT_FOUND, path, request_headers),
                None => self.with_rule_headers(text_page(StatusCode::NOT_FOUND, "Not found"), path),
            },
        }
    }

    /// The closest `404.html` up the directory tree (as Pages does); none means a plain 404.
    fn nearest_404(&self, path: &str) -> Option<String> {
        let mut dir = path.rsplit_once('/').map_or("", |(dir, _)| dir);
        loop {
            let candidate = format!("{dir}/404.html");
            if self.manifest().contains_key(&candidate) {
                return Some(candidate);
            }
            dir = dir.rsplit_once('/')?.0;
        }
    }

    fn file(&self, file: &str, status: StatusCode, request_path: &str, request_headers: &HeaderMap) -> Response {
        let Some(key) = self.manifest().get(file) else {
            return text_page(StatusCode::NOT_FOUND, "Not found");
        };
        let Some(asset) = self.world.assets.get(self.project).and_then(|assets| assets.get(key)) else {
            return text_page(StatusCode::NOT_FOUND, "The asset of this file is missing");
        };
        let etag = format!("\"{key}\"");
        let not_modified = status == StatusCode::OK
            && request_headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str());
        let mut response = if not_modified {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            let mut response = Response::new(Body::from(asset.content.clone()));
            *response.status_mut() = status;
            response
        };
        let headers = response.headers_mut();
        let content_type =
            HeaderValue::from_str(&asset.content_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
        headers.insert(header::CONTENT_TYPE, content_type);
        if let Ok(etag) = HeaderValue::from_str(&etag) {
            headers.insert(header::ETAG, etag);
        }
        for (name, value) in DEFAULT_HEADERS {
            headers.insert(name, HeaderValue::from_static(value));
        }
        self.with_rule_headers(response, request_path)
    }

    /// Applies `_headers` (sets, then detaches) for the request path.
    fn with_rule_headers(&self, mut response: Response, request_path: &str) -> Response {
        let (set, detach) = headers_for(&self.deployment.header_rules, request_path);
        let headers = response.headers_mut();
        for (name, value) in set {
            if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::from_str(&value)) {
                headers.insert(name, value);
            }
        }
        for name in detach {
            headers.remove(name.as_str());
        }
        response
    }
}

fn redirect(status: StatusCode, location: &str) -> Response {
    let mut response = status.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

fn text_page(status: StatusCode, text: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{text}\n"),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_name_sites() {
        let state = SimState::new(crate::SimConfig::default(), 8788);
        let site = |label: Option<&str>| SiteTarget {
            project: "baton-demo".into(),
            label: label.map(str::to_string),
        };
        assert_eq!(state.site_from_host("baton-demo.localhost:8788"), Some(site(None)));
        assert_eq!(
            state.site_from_host("abcd1234.baton-demo.localhost"),
            Some(site(Some("abcd1234")))
        );
        assert_eq!(state.site_from_host("localhost:8788"), None);
        assert_eq!(state.site_from_host("127.0.0.1:8788"), None);
        assert_eq!(
            state.site_from_path_host("feature-x.baton-demo"),
            Some(site(Some("feature-x")))
        );
    }
}
