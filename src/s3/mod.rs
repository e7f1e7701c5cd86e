//! The S3 side of a deletion: the calls ([`store`]), an item's ids as its object records
//! them ([`resolve`]), and, once the media is gone, exactly its object ([`removal`]).

pub mod removal;
pub mod resolve;
pub mod store;

pub use store::{ObjectStore, S3Store};
