//! What a card holds. The balance ledger is not kept yet: until it is, the one implementation
//! answers that every card holds nothing, and the refusals that depend on a balance (a discard,
//! `001_052`) are decided through this port already.

use async_trait::async_trait;
use prepaid_domain::{AspId, CardId};

use super::PortError;

/// The balance of each card.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait Balances: Send + Sync {
    /// What card `card` of project `asp_id` holds, in the smallest unit of its currency.
    async fn balance(&self, asp_id: &AspId, card: &CardId) -> Result<u64, PortError>;
}
