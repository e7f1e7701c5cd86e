//! whatsapp-media-cleanup: deletes WhatsApp media uploaded through AWS End User Messaging
//! Social, and the S3 object it came from.
//!
//! The data flows one way (ARCHITECTURE.md): `event` reads the invocation's work items;
//! `pipeline` runs each through `s3::resolve` (its validated ids), `whatsapp` (the signed
//! DELETE) and `s3::removal` (exactly the media's S3 object); `answer` answers in the
//! source's protocol, and `telemetry` logs and counts. [`handle`] does those steps for
//! one invocation.

mod answer;
pub mod config;
mod deadline;
pub mod event;
#[cfg(test)]
mod fakes;
mod handler;
pub mod ids;
pub mod model;
mod pipeline;
mod s3;
mod telemetry;
mod whatsapp;

pub use answer::{Answer, FunctionError};
pub use handler::handle;
pub use pipeline::App;
pub use s3::S3Store;
pub use telemetry::metrics;
pub use whatsapp::{signing, WhatsAppClient};
