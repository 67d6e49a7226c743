//! Item shapes and keys.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use baton_domain::ports::PackageOutcome;
use baton_domain::release::{PackageRef, ReleaseCursor};
use baton_domain::{BatonError, Package, RejectedPackage, Release, ReleaseId};
use serde::{Deserialize, Serialize};

/// Partition key attribute.
pub const PK: &str = "pk";
/// Sort key attribute.
pub const SK: &str = "sk";

/// A DynamoDB item.
pub type Item = HashMap<String, AttributeValue>;

/// The key of an item.
pub fn key(pk: impl Into<String>, sk: impl Into<String>) -> Item {
    HashMap::from([
        (PK.to_string(), AttributeValue::S(pk.into())),
        (SK.to_string(), AttributeValue::S(sk.into())),
    ])
}

/// The key of a package.
pub fn package_key(component: &str, version: &impl std::fmt::Display) -> Item {
    key(format!("PACKAGE#{component}"), format!("VERSION#{version}"))
}

/// The key of a release.
pub fn release_key(id: &ReleaseId) -> Item {
    key(format!("RELEASE#{id}"), "RELEASE")
}

/// The partition of the component heads, which also holds the release cursor, so that one
/// Query reads everything a release is planned from.
pub const HEADS_PK: &str = "HEAD";
/// The cursor's sort key in [`HEADS_PK`]: `#` sorts before any component name (lowercase
/// letters, digits and `-`), so it can never be one.
pub const CURSOR_SK: &str = "#RELEASE";

/// The key of a component's head.
pub fn head_key(component: &str) -> Item {
    key(HEADS_PK, component)
}

/// Where the release cursor was kept before it moved beside the heads: read when the heads'
/// partition has no cursor yet (a table written by an earlier Baton), never written.
pub fn legacy_cursor_key() -> Item {
    key("COUNTER", "RELEASE")
}

#[derive(Serialize, Deserialize)]
pub(crate) struct PackageItem {
    pub pk: String,
    pub sk: String,
    pub gsi1pk: String,
    pub gsi1sk: String,
    pub entity: String,
    #[serde(flatten)]
    pub package: Package,
    /// The first release that holds this package.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_id: Option<ReleaseId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<PackageOutcome>,
}

impl PackageItem {
    pub fn new(package: &Package) -> Self {
        PackageItem {
            pk: format!("PACKAGE#{}", package.component),
            sk: format!("VERSION#{}", package.version),
            gsi1pk: "PACKAGES".into(),
            gsi1sk: format!(
                "{}#{}#{}",
                package.registered_at.to_rfc3339(),
                package.component,
                package.version
            ),
            entity: "package".into(),
            package: package.clone(),
            release_id: None,
            outcome: None,
        }
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct HeadItem {
    pub pk: String,
    pub sk: String,
    pub entity: String,
    #[serde(flatten)]
    pub head: PackageRef,
}

impl HeadItem {
    /// `package` as its component's head.
    pub fn new(package: &PackageRef) -> Self {
        HeadItem {
            pk: HEADS_PK.into(),
            sk: package.component.clone(),
            entity: "component-head".into(),
            head: package.clone(),
        }
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct CursorItem {
    pub pk: String,
    pub sk: String,
    pub entity: String,
    #[serde(flatten)]
    pub cursor: ReleaseCursor,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct ReleaseItem {
    pub pk: String,
    pub sk: String,
    pub gsi1pk: String,
    pub gsi1sk: String,
    pub entity: String,
    #[serde(flatten)]
    pub release: Release,
}

impl ReleaseItem {
    pub fn new(release: &Release) -> Self {
        ReleaseItem {
            pk: format!("RELEASE#{}", release.id),
            sk: "RELEASE".into(),
            gsi1pk: "RELEASES".into(),
            gsi1sk: format!("{:012}", release.number),
            entity: "release".into(),
            release: release.clone(),
        }
    }
}

/// One line of a release's append-only timeline.
#[derive(Serialize, Deserialize)]
pub(crate) struct EventItem {
    pub pk: String,
    pub sk: String,
    pub entity: String,
    pub release_id: ReleaseId,
    pub kind: String,
    pub actor: String,
    pub at: String,
    pub detail: String,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct RejectedItem {
    pub pk: String,
    pub sk: String,
    pub gsi1pk: String,
    pub gsi1sk: String,
    pub entity: String,
    #[serde(flatten)]
    pub rejected: RejectedPackage,
}

/// Longest component and version text kept beside its packages: DynamoDB sort keys hold at
/// most 1,024 bytes, and a refused key may carry any text.
const REFUSED_NAME_MAX: usize = 256;

/// The sort-key range of one version of a component: its package (`VERSION#<v>`) and its refused
/// uploads (`VERSION#<v>#REFUSED#...`), and nothing of another version (`#` sorts before every
/// character a version or its separator can hold, and `$` right after it).
pub(crate) fn version_range(version: &str) -> (String, String) {
    (format!("VERSION#{version}"), format!("VERSION#{version}$"))
}

impl RejectedItem {
    /// A refused upload naming a component and version is kept beside that version's package,
    /// so one Query answers "what became of version V" (`GET /api/packages/{c}/{v}`); one whose
    /// key named neither is kept under its key. Either way one item per uploaded object.
    pub fn new(rejected: &RejectedPackage) -> Self {
        let object = &baton_domain::sha256_hex(rejected.object_key.as_bytes())[..16];
        let (pk, sk) = match (&rejected.component, &rejected.version) {
            (Some(component), Some(version)) if component.len() + version.len() <= REFUSED_NAME_MAX => (
                format!("PACKAGE#{component}"),
                format!("VERSION#{version}#REFUSED#{}#{object}", rejected.object_tag),
            ),
            _ => (format!("REJECTED#{}", rejected.object_key), rejected.object_tag.clone()),
        };
        RejectedItem {
            pk,
            sk,
            gsi1pk: "REJECTED".into(),
            gsi1sk: format!("{}#{}", rejected.rejected_at.to_rfc3339(), rejected.object_key),
            entity: "rejected-package".into(),
            rejected: rejected.clone(),
        }
    }
}

/// Serialises an entity to an item.
pub(crate) fn to_item<T: Serialize>(value: &T) -> Result<Item, BatonError> {
    serde_dynamo::to_item(value).map_err(|e| BatonError::internal(format!("cannot store item: {e}")))
}

/// Reads an entity from an item.
pub(crate) fn from_item<T: for<'de> Deserialize<'de>>(item: Item) -> Result<T, BatonError> {
    serde_dynamo::from_item(item).map_err(|e| BatonError::internal(format!("stored item has an unexpected shape: {e}")))
}

/// A string attribute value.
/// Any serialisable value as an attribute, for expression values.
pub(crate) fn value(v: impl Serialize) -> Result<AttributeValue, BatonError> {
    serde_dynamo::to_attribute_value(v).map_err(|e| BatonError::internal(e.to_string()))
}

pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}
