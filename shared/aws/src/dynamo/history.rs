//! [`ChangeHistory`]: the packages between two versions of a component, and the notes a release
//! brings to each environment, kept on the release.
//!
//! | read or write | how |
//! |---|---|
//! | a component's packages between two versions | Query `pk = PACKAGE#<component>`, `sk` from `VERSION#`, packages only; versions compared as SemVer in memory |
//! | a release's notes for an environment | Put `pk = RELEASE#<id>`, `sk = NOTES#<environment>` (read with the release's partition) |

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use baton_domain::ports::ChangeHistory;
use baton_domain::release::ReleaseNote;
use baton_domain::{BatonError, Package, ReleaseId, Version};
use serde::{Deserialize, Serialize};

use super::items::{PackageItem, from_item, s, to_item};
use super::store::DynamoStore;
use crate::errors::sdk_error;

/// The notes a release brings to one environment, on the release's partition.
#[derive(Serialize, Deserialize)]
pub(crate) struct EnvironmentNotesItem {
    pub pk: String,
    pub sk: String,
    pub entity: String,
    pub environment: String,
    pub notes: Vec<ReleaseNote>,
}

/// The sort-key prefix of a release's environment notes.
pub(crate) const NOTES_PREFIX: &str = "NOTES#";

#[async_trait]
impl ChangeHistory for DynamoStore {
    async fn packages_between(
        &self,
        component: &str,
        after: Option<&Version>,
        upto: &Version,
        limit: usize,
    ) -> Result<Vec<Package>, BatonError> {
        // SemVer order is not text order (1.10.0 < 1.9.0 as text), so the component's versions
        // are read and compared here: one page per 1 MB of packages.
        let mut found = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .db()
                .query()
                .table_name(self.table())
                .key_condition_expression("pk = :pk AND begins_with(sk, :v)")
                .filter_expression("entity = :package")
                .expression_attribute_values(":pk", s(format!("PACKAGE#{component}")))
                .expression_attribute_values(":v", s("VERSION#"))
                .expression_attribute_values(":package", AttributeValue::S("package".into()))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| sdk_error(&format!("reading the packages of {component}"), e))?;
            for item in out.items.unwrap_or_default() {
                let package = from_item::<PackageItem>(item)?.package;
                if after.is_none_or(|a| package.version > *a) && package.version <= *upto {
                    found.push(package);
                }
            }
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        found.sort_by(|a, b| a.version.cmp(&b.version));
        let skip = found.len().saturating_sub(limit);
        Ok(found.split_off(skip))
    }

    async fn save_environment_notes(
        &self,
        release: &ReleaseId,
        environment: &str,
        notes: &[ReleaseNote],
    ) -> Result<(), BatonError> {
        let item = EnvironmentNotesItem {
            pk: format!("RELEASE#{release}"),
            sk: format!("{NOTES_PREFIX}{environment}"),
            entity: "environment-notes".into(),
            environment: environment.to_string(),
            notes: notes.to_vec(),
        };
        self.db()
            .put_item()
            .table_name(self.table())
            .set_item(Some(to_item(&item)?))
            .send()
            .await
            .map_err(|e| sdk_error("keeping a release's notes", e))?;
        Ok(())
    }
}
