//! The operators of the fulfilment partner and their bearer tokens (D18).

use async_trait::async_trait;
use prepaid_domain::{OperatorName, OperatorToken, Timestamp};

use super::PortError;

/// The operator tokens in force. The store keeps a digest of each token, never the token: the
/// database alone does not let anyone call the operator interface.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait OperatorTokens: Send + Sync {
    /// The operator `token` was made for, if it was made (and is in force).
    ///
    /// # Errors
    /// [`PortError`] when the store cannot be read.
    async fn operator(&self, token: &OperatorToken) -> Result<Option<OperatorName>, PortError>;

    /// Records `token` as made for `name` at `at`.
    ///
    /// # Errors
    /// [`PortError`] when the store cannot be written.
    async fn add(
        &self,
        name: &OperatorName,
        token: &OperatorToken,
        at: Timestamp,
    ) -> Result<(), PortError>;
}
