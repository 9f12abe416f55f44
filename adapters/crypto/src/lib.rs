#![doc = include_str!("../README.md")]

mod cvc;
mod keys;
mod secrets;
mod system;

pub use cvc::DesCardVerification;
pub use keys::{CardVerificationKey, DataKey, IndexKey, KeyError, random_hex};
pub use secrets::AesGcmCardSecrets;
pub use system::{OsRandom, SystemClock};
