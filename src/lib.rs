//! whatsapp-media-cleanup: deletes WhatsApp media uploaded through AWS End User Messaging
//! Social, and the S3 object it came from.
//!
//! The data flows one way: [`event`] recognises the invocation and produces work items,
//! [`resolve`] turns them into validated ids, [`whatsapp`] sends the signed DELETE,
//! [`removal`] deletes exactly the media's S3 object, and [`report`] builds the payload. [`handler`] wires the stages together.

pub mod config;
pub mod deadline;
pub mod event;
pub mod handler;
pub mod ids;
pub mod item_log;
pub mod metrics;
pub mod model;
pub mod protocol;
pub mod removal;
pub mod report;
pub mod resolve;
pub mod storage;
pub mod whatsapp;
