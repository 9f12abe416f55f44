use async_trait::async_trait;

/// Unpredictable numbers for card numbers, PARs and application numbers.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait RandomSource: Send + Sync {
    /// A uniformly distributed 64-bit value from a cryptographically secure generator. Must not
    /// block.
    fn next_u64(&self) -> u64;
}
