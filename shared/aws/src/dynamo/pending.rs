//! [`PendingPointers`] on DynamoDB: one item per environment names the request that waits for
//! sign-off there, taken with a conditional write (see `baton_domain::approval::pending`).
//!
//! | entity | pk | sk | attributes |
//! |---|---|---|---|
//! | Pending pointer | `PENDING#<environment>` | `POINTER` | `holder`, `replaced` |

use async_trait::async_trait;
use baton_domain::BatonError;
use baton_domain::approval::pending::{PendingHolder, PendingPointer, PendingPointers};
use serde::{Deserialize, Serialize};

use super::items::{Item, from_item, key, s, to_item};
use super::store::{DynamoStore, is_conditional_failure};
use crate::errors::sdk_error;

fn pointer_key(environment: &str) -> Item {
    key(format!("PENDING#{environment}"), "POINTER")
}

#[derive(Serialize, Deserialize)]
struct PointerItem {
    pk: String,
    sk: String,
    entity: String,
    #[serde(flatten)]
    pointer: PendingPointer,
}

#[async_trait]
impl PendingPointers for DynamoStore {
    async fn pending_pointer(&self, environment: &str) -> Result<Option<PendingPointer>, BatonError> {
        self.get(pointer_key(environment), "an environment's pending pointer")
            .await?
            .map(|item| from_item::<PointerItem>(item).map(|i| i.pointer))
            .transpose()
    }

    async fn take_pending(
        &self,
        environment: &str,
        mine: &PendingHolder,
        expected: Option<&PendingHolder>,
    ) -> Result<bool, BatonError> {
        let item = PointerItem {
            pk: format!("PENDING#{environment}"),
            sk: "POINTER".into(),
            entity: "pending-pointer".into(),
            pointer: PendingPointer {
                holder: mine.clone(),
                replaced: expected.cloned(),
            },
        };
        let put = self
            .db()
            .put_item()
            .table_name(self.table())
            .set_item(Some(to_item(&item)?));
        // Compare and swap on the holder read: a request that raced in between changed it.
        let put = match expected {
            None => put.condition_expression("attribute_not_exists(pk)"),
            Some(expected) => put
                .condition_expression("holder.approval_id = :expected")
                .expression_attribute_values(":expected", s(expected.approval_id.clone())),
        };
        match put.send().await {
            Ok(_) => Ok(true),
            Err(err) if is_conditional_failure(&err) => Ok(false),
            Err(err) => Err(sdk_error("taking an environment's pending pointer", err)),
        }
    }
}
