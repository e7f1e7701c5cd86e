//! Credentials from aws-config's default chain, resolved lazily and cached until shortly
//! before they expire, so that no request waits on the provider and start-up does no I/O.

use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use tokio::sync::RwLock;

use super::MediaError;

/// Credentials closer than this to their expiry are refreshed before use.
const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(300);

/// A credentials provider with a cache in front of it.
#[derive(Debug)]
pub(crate) struct CachedCredentials {
    provider: SharedCredentialsProvider,
    cached: RwLock<Option<Credentials>>,
}

impl CachedCredentials {
    pub(crate) fn new(provider: SharedCredentialsProvider) -> Self {
        Self {
            provider,
            cached: RwLock::new(None),
        }
    }

    /// Credentials that are good for at least a few more minutes.
    pub(crate) async fn get(&self) -> Result<Credentials, MediaError> {
        if let Some(credentials) = self.cached.read().await.as_ref().filter(|c| fresh(c)) {
            return Ok(credentials.clone());
        }
        let mut cached = self.cached.write().await;
        // Another task may have refreshed them while this one waited for the lock.
        if let Some(credentials) = cached.as_ref().filter(|c| fresh(c)) {
            return Ok(credentials.clone());
        }
        let credentials = self
            .provider
            .provide_credentials()
            .await
            .map_err(|e| MediaError::Credentials(e.to_string()))?;
        if credentials
            .expiry()
            .is_some_and(|expiry| expiry <= SystemTime::now())
        {
            return Err(MediaError::Credentials(
                "the credentials provider returned credentials that have expired".into(),
            ));
        }
        *cached = Some(credentials.clone());
        Ok(credentials)
    }
}

fn fresh(credentials: &Credentials) -> bool {
    credentials
        .expiry()
        .is_none_or(|expiry| expiry > SystemTime::now() + REFRESH_BEFORE_EXPIRY)
}
