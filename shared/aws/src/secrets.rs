//! AWS Secrets Manager as the [`Secrets`] port. Values are cached for the life of the process
//! (one cold start): secrets rotate rarely. A rotation is picked up by the next cold start, or at
//! once by [`SecretsManager::read_again`], which a handler calls when a platform refuses the
//! value it holds.

use std::collections::HashMap;

use async_trait::async_trait;
use baton_domain::BatonError;
use baton_domain::ports::Secrets;
use tokio::sync::Mutex;

use crate::errors::sdk_error;

/// Reads secrets by name or ARN.
pub struct SecretsManager {
    client: aws_sdk_secretsmanager::Client,
    /// Name to (value, version id).
    cache: Mutex<HashMap<String, (String, Option<String>)>>,
}

impl SecretsManager {
    /// A reader over `client`.
    pub fn new(client: aws_sdk_secretsmanager::Client) -> Self {
        SecretsManager {
            client,
            cache: Mutex::new(HashMap::new()),
        }
    }
}

impl SecretsManager {
    /// Drops the cached value of `name` and reads it from Secrets Manager again (then caches the
    /// new one): for when a platform refused the value held, which may have been rotated since.
    pub async fn read_again(&self, name: &str) -> Result<String, BatonError> {
        self.cache.lock().await.remove(name);
        Ok(self.read(name).await?.0)
    }

    async fn read(&self, name: &str) -> Result<(String, Option<String>), BatonError> {
        if let Some(entry) = self.cache.lock().await.get(name) {
            return Ok(entry.clone());
        }
        let out = self
            .client
            .get_secret_value()
            .secret_id(name)
            .send()
            .await
            // The message names the secret, never its value.
            .map_err(|e| sdk_error(&format!("reading secret {name}"), e))?;
        let value = out.secret_string().map(str::to_string).ok_or_else(|| {
            BatonError::internal(format!("secret {name} has no string value; store it as text or JSON"))
        })?;
        let entry = (value, out.version_id().map(str::to_string));
        self.cache.lock().await.insert(name.to_string(), entry.clone());
        Ok(entry)
    }
}

#[async_trait]
impl Secrets for SecretsManager {
    async fn secret(&self, name: &str) -> Result<String, BatonError> {
        Ok(self.read(name).await?.0)
    }

    async fn version(&self, name: &str) -> Result<Option<String>, BatonError> {
        Ok(self.read(name).await?.1)
    }

    async fn secret_now(&self, name: &str) -> Result<String, BatonError> {
        self.read_again(name).await
    }
}
