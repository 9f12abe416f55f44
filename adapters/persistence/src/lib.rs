#![doc = include_str!("../README.md")]

mod database;
mod error;
mod lock;
mod memory;
mod rows;
mod schema;
mod store;
mod writer;

pub use database::{Backend, DatabaseConfig, SqliteSynchronous};
pub use error::DatabaseError;
pub use memory::InMemoryReplayGuard;
#[cfg(any(test, feature = "test-support"))]
pub use store::IssuedCounts;
pub use store::{Database, DieselProjectDirectory, DieselReplayGuard, FixtureProfile};
pub use writer::WalStatus;
