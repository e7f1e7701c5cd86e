//! DeleteWhatsAppMessageMedia: the signed DELETE, its error mapping, and retries within the
//! Lambda deadline.

mod adaptive;
mod client;
mod credentials;
mod error;
mod rate;
mod response;
pub mod signing;

use std::future::Future;
use std::time::{Duration, Instant};

pub use client::WhatsAppClient;
pub use error::MediaError;

use crate::ids::{MediaId, PhoneNumberId};

/// What the API did with a media item that it was asked to delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaGone {
    /// `{"success": true}`: this request deleted it.
    Now,
    /// `ResourceNotFoundException`: it was gone already (WhatsApp keeps media 30 days).
    Already,
}

/// The end of one deletion, after any retries.
#[derive(Debug)]
pub struct DeleteReport {
    /// The outcome, or the last error if every attempt failed.
    pub result: Result<MediaGone, MediaError>,
    /// Requests that went on the wire, counting the first. A try that failed before
    /// sending (no credentials, no signature) is not one.
    pub attempts: u32,
    /// The round trip of each request that went on the wire, in order.
    pub latencies: Vec<Duration>,
    /// How many of those the service throttled.
    pub throttles: u32,
    /// The `x-amzn-RequestId` of the answer that decided the outcome (the last one), when
    /// the service sent one: the evidence the erasure ledger keeps.
    pub request_id: Option<String>,
}

/// The WhatsApp side of a deletion. The real implementation is [`WhatsAppClient`]; unit
/// tests use in-memory fakes.
pub trait MediaApi: Send + Sync {
    /// Deletes one media item, retrying what can be retried, and never working past `deadline`.
    fn delete_media(
        &self,
        media_id: &MediaId,
        phone_number_id: &PhoneNumberId,
        deadline: Instant,
    ) -> impl Future<Output = DeleteReport> + Send;
}
