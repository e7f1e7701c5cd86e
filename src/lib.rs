//! whatsapp-media-cleanup: deletes WhatsApp media uploaded through AWS End User Messaging
//! Social, and the S3 object it came from.
//!
//! The data flows one way (ARCHITECTURE.md): [`event`] recognises the invocation and
//! reads its work items; [`pipeline`] runs each item through [`resolve`] (its validated
//! ids), [`whatsapp`] (the signed DELETE) and [`removal`] (exactly the media's S3 object,
//! through [`storage`]); [`payload`] writes the results, [`protocol`] answers in the
//! source's protocol, and [`telemetry`] logs and counts. [`handler`] does those three steps;
//! [`model`] and [`ids`] are the words they share, and [`config`] is every setting.

pub mod config;
pub mod deadline;
pub mod event;
#[cfg(test)]
mod fakes;
pub mod handler;
pub mod ids;
pub mod model;
pub mod payload;
pub mod pipeline;
pub mod protocol;
pub mod removal;
pub mod resolve;
pub mod storage;
pub mod telemetry;
pub mod whatsapp;
