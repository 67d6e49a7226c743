//! The Anypoint Graph API (`POST /graph/api/v2/graphql`), only as far as `exchange asset list`
//! uses it: the `assets(limit, offset, searchTerm, organizationIds)` query.
//!
//! There is no GraphQL engine here: the query text is recognised by its root field and every item
//! carries all the fields that query selects (a GraphQL server returns only the selected ones; a
//! client ignores nothing it asked for, so answering the superset is safe for that query). Any
//! other query gets a GraphQL error saying it is not simulated.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use serde_json::{Value, json};

use crate::exchange::{iso_time, latest_assets};
use crate::http::{ApiError, json_object};
use crate::state::SimState;

/// A GraphQL error answer: 200 with `errors[]` and no data, as GraphQL servers answer a query
/// they cannot run (the platform's exact status for a bad token is not in the reference; the
/// GraphQL convention is the tolerant reading).
fn graphql_error(message: impl Into<String>) -> Json<Value> {
    Json(json!({ "data": null, "errors": [ { "message": message.into() } ] }))
}

/// The bearer token from the `Authorization` header, or the `accessToken` variable anypoint-cli
/// puts in the variables instead (`anypoint-cli-command/lib/gql-client.js`).
fn token<'a>(headers: &'a HeaderMap, variables: &'a Value) -> Option<&'a str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .or_else(|| variables.get("accessToken").and_then(Value::as_str))
}

/// `POST /graph/api/v2/graphql`.
pub(crate) async fn graphql(
    State(state): State<SimState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let body = json_object(&body)?;
    let query = body.get("query").and_then(Value::as_str).unwrap_or_default();
    if query.trim().is_empty() {
        return Err(ApiError::bad_request("A GraphQL request needs a query"));
    }
    let variables = body.get("variables").cloned().unwrap_or_else(|| json!({}));
    let world = state.world();
    match token(&headers, &variables) {
        Some(token) if world.token_is_valid(token) => {}
        _ => {
            return Err(ApiError {
                status: StatusCode::UNAUTHORIZED,
                body: json!({ "errors": [ { "message": "Unauthorized: a valid access token is required" } ] }),
                retry_after: None,
            });
        }
    }
    if !query.contains("assets") {
        return Ok(graphql_error(
            "Not simulated: the local Anypoint simulator answers only the Exchange `assets` query",
        ));
    }
    let number = |key: &str, default: usize| {
        variables
            .get(key)
            .and_then(Value::as_u64)
            .map_or(default, |n| n as usize)
    };
    let (limit, offset) = (number("limit", 10), number("offset", 0));
    let search = variables
        .get("searchText")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_lowercase();
    let organizations: Option<Vec<&str>> = variables
        .get("organizationIds")
        .and_then(Value::as_array)
        .map(|ids| ids.iter().filter_map(Value::as_str).collect());
    if organizations
        .as_ref()
        .is_some_and(|ids| !ids.is_empty() && !ids.contains(&world.config.org_id.as_str()))
    {
        return Ok(Json(json!({ "data": { "assets": [] } })));
    }
    let assets: Vec<Value> = latest_assets(&world)
        .into_iter()
        .filter(|((_, asset_id, _), _)| search.is_empty() || asset_id.to_lowercase().contains(&search))
        .skip(offset)
        .take(limit)
        .map(|((group_id, asset_id, version), created_ms)| {
            json!({
                "__typename": "Asset",
                "groupId": group_id,
                "assetId": asset_id,
                "version": version,
                "name": asset_id,
                "type": "app",
                "createdDate": iso_time(created_ms),
                "updatedDate": iso_time(created_ms),
                "organizationId": world.config.org_id,
            })
        })
        .collect();
    Ok(Json(json!({ "data": { "assets": assets } })))
}
