use async_trait::async_trait;
use prepaid_domain::Timestamp;

/// The time now.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait Clock: Send + Sync {
    /// The current instant. Must not block.
    fn now(&self) -> Timestamp;
}
