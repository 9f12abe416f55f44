use std::ops::Range;

use async_trait::async_trait;
use prepaid_domain::Bin;

use super::PortError;

/// The keyed permutation that turns a BIN's n-th serial into its account digits (D7:
/// unique by construction, unpredictable without the key).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait CardNumbering: Send + Sync {
    /// The id of the key a BIN that issues its first card now is numbered with. A BIN keeps the
    /// key it started with for good (another key is another permutation, whose numbers would
    /// meet the ones issued), so the store records it with the BIN's serials.
    fn current_key_id(&self) -> String;

    /// The account number of `serial` under `bin`, in a space of `capacity` numbers, with the
    /// key `key_id`: for one key, `bin` and `capacity`, a permutation of `0..capacity` that
    /// never changes. `None` when `serial` is outside the space or no key has that id.
    fn account_number(&self, key_id: &str, bin: &Bin, capacity: u64, serial: u64) -> Option<u64>;
}

/// Serials reserved for one instance, and the key the BIN is numbered with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SerialBlock {
    /// The serials, each given to no one else.
    pub serials: Range<u64>,
    /// The BIN's numbering key id.
    pub key_id: String,
}

/// The serials of each BIN, handed out in blocks, each serial once across every instance.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait CardNumberSerials: Send + Sync {
    /// Reserves up to `count` serials of `bin` that no one was given before, below `capacity`:
    /// the next ones in order. Empty when every serial below `capacity` is taken. Atomic across
    /// processes sharing the store, and durable before it answers: a serial reserved is never
    /// reserved again, even if it is never used. The block names the BIN's numbering key:
    /// `key_id` for a BIN reserving for the first time, else the one it was first given.
    ///
    /// # Errors
    /// [`PortError`] when the store cannot be written.
    async fn reserve(
        &self,
        bin: &Bin,
        count: u64,
        capacity: u64,
        key_id: &str,
    ) -> Result<SerialBlock, PortError>;
}
