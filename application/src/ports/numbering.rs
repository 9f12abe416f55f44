use std::ops::Range;

use async_trait::async_trait;
use prepaid_domain::Bin;

use super::PortError;

/// The keyed permutation that turns a BIN's n-th serial into its account digits (D7:
/// unique by construction, unpredictable without the key).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait CardNumbering: Send + Sync {
    /// The account number of `serial` under `bin`, in a space of `capacity` numbers: for one
    /// `bin` and `capacity`, a permutation of `0..capacity` that never changes. `None` when
    /// `serial` is outside the space.
    fn account_number(&self, bin: &Bin, capacity: u64, serial: u64) -> Option<u64>;
}

/// The serials of each BIN, handed out in blocks, each serial once across every instance.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait CardNumberSerials: Send + Sync {
    /// Reserves up to `count` serials of `bin` that no one was given before, below `capacity`:
    /// the next ones in order. Empty when every serial below `capacity` is taken. Atomic across
    /// processes sharing the store, and durable before it answers: a serial reserved is never
    /// reserved again, even if it is never used.
    ///
    /// # Errors
    /// [`PortError`] when the store cannot be written.
    async fn reserve(&self, bin: &Bin, count: u64, capacity: u64) -> Result<Range<u64>, PortError>;
}
