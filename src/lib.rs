//! whatsapp-media-cleanup: deletes WhatsApp media uploaded through AWS End User Messaging
//! Social, and the S3 object it came from.
//!
//! [`handle`] answers one invocation: it reads the event's work items, runs each through
//! its stages (the ids, the signed DELETE, exactly the media's S3 object), and answers in
//! the protocol of the event's source. ARCHITECTURE.md maps the modules.

mod answer;
mod clock;
pub mod config;
mod deadline;
pub mod event;
#[cfg(test)]
mod fakes;
mod handler;
pub mod ids;
mod ledger;
pub mod model;
mod pipeline;
mod s3;
mod telemetry;
mod whatsapp;

pub use answer::{Answer, FunctionError};
pub use handler::handle;
pub use pipeline::App;
pub use s3::S3Store;
pub use telemetry::{init_logging, metrics};
pub use whatsapp::{signing, WhatsAppClient};
