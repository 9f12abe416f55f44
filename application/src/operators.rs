//! Operator access (D18): tokens made by the admin command (and the sandbox), checked on every
//! request to the operator interface.

use std::sync::Arc;

use async_trait::async_trait;
use prepaid_domain::{OperatorName, OperatorToken};

use crate::inbound::AuthenticateOperators;
use crate::ports::{Clock, OperatorTokens, PortError, RandomSource};

/// Why an operator request is refused.
#[derive(Debug, thiserror::Error)]
pub enum OperatorAuthError {
    /// No token, a malformed one, or one never made: the answer never says which.
    #[error("not an operator")]
    Refused,
    /// The store failed.
    #[error(transparent)]
    Unavailable(#[from] PortError),
}

/// Makes and checks operator tokens.
#[derive(Clone)]
pub struct OperatorAccess {
    tokens: Arc<dyn OperatorTokens>,
    random: Arc<dyn RandomSource>,
    clock: Arc<dyn Clock>,
}

impl OperatorAccess {
    /// Access over `tokens`, making tokens from `random`.
    pub fn new(
        tokens: Arc<dyn OperatorTokens>,
        random: Arc<dyn RandomSource>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            tokens,
            random,
            clock,
        }
    }

    /// A new token for `name`, recorded (as a digest) before it is returned: shown once, to
    /// whoever asked for it, and never again.
    ///
    /// # Errors
    /// [`PortError`] when it cannot be recorded.
    pub async fn issue(&self, name: &OperatorName) -> Result<OperatorToken, PortError> {
        let mut bytes = [0_u8; OperatorToken::BYTES];
        for chunk in bytes.chunks_mut(8) {
            chunk.copy_from_slice(&self.random.next_u64().to_le_bytes());
        }
        let token = OperatorToken::from_random(&bytes);
        self.tokens.add(name, &token, self.clock.now()).await?;
        Ok(token)
    }
}

#[async_trait]
impl AuthenticateOperators for OperatorAccess {
    async fn authenticate(&self, bearer: &str) -> Result<OperatorName, OperatorAuthError> {
        let token = OperatorToken::parse(bearer).ok_or(OperatorAuthError::Refused)?;
        self.tokens
            .operator(&token)
            .await?
            .ok_or(OperatorAuthError::Refused)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU64, Ordering};

    use prepaid_domain::Timestamp;

    use super::*;
    use crate::ports::{MockClock, MockOperatorTokens, MockRandomSource};

    fn access(tokens: MockOperatorTokens) -> OperatorAccess {
        let mut random = MockRandomSource::new();
        let next = AtomicU64::new(0x0102_0304_0506_0708);
        random
            .expect_next_u64()
            .returning(move || next.fetch_add(1, Ordering::SeqCst));
        let mut clock = MockClock::new();
        clock
            .expect_now()
            .returning(|| Timestamp::from_millis(1_796_007_600_000));
        OperatorAccess::new(Arc::new(tokens), Arc::new(random), Arc::new(clock))
    }

    fn name() -> OperatorName {
        OperatorName::parse("bureau").unwrap()
    }

    #[tokio::test]
    async fn a_token_is_recorded_before_it_is_shown_and_made_of_fresh_random_bytes() {
        let recorded = Arc::new(Mutex::new(Vec::new()));
        let kept = recorded.clone();
        let mut tokens = MockOperatorTokens::new();
        tokens
            .expect_add()
            .times(2)
            .returning(move |name, token, at| {
                assert_eq!(name.as_str(), "bureau");
                assert_eq!(at, Timestamp::from_millis(1_796_007_600_000));
                kept.lock().unwrap().push(token.clone());
                Ok(())
            });
        let access = access(tokens);
        let first = access.issue(&name()).await.unwrap();
        let second = access.issue(&name()).await.unwrap();
        assert_ne!(first, second);
        assert_eq!(*recorded.lock().unwrap(), [first.clone(), second]);
        assert!(
            first
                .expose()
                .starts_with("ops_0807060504030201090706050403020")
        );
    }

    #[tokio::test]
    async fn a_token_that_cannot_be_recorded_is_never_shown() {
        let mut tokens = MockOperatorTokens::new();
        tokens
            .expect_add()
            .returning(|_, _, _| Err(PortError::msg("down")));
        assert!(access(tokens).issue(&name()).await.is_err());
    }

    #[tokio::test]
    async fn only_a_token_made_before_is_an_operator() {
        let made = OperatorToken::from_random(&[7; 32]);
        let known = made.clone();
        let mut tokens = MockOperatorTokens::new();
        tokens
            .expect_operator()
            .returning(move |token| Ok((*token == known).then(name)));
        let access = access(tokens);
        assert_eq!(access.authenticate(made.expose()).await.unwrap(), name());
        let other = OperatorToken::from_random(&[8; 32]);
        for refused in [other.expose(), "", "Bearer x", &made.expose()[1..]] {
            assert!(
                matches!(
                    access.authenticate(refused).await,
                    Err(OperatorAuthError::Refused)
                ),
                "{refused}"
            );
        }
    }

    #[tokio::test]
    async fn a_store_that_cannot_be_read_is_unavailable_not_refused() {
        let mut tokens = MockOperatorTokens::new();
        tokens
            .expect_operator()
            .returning(|_| Err(PortError::msg("down")));
        let token = OperatorToken::from_random(&[7; 32]);
        assert!(matches!(
            access(tokens).authenticate(token.expose()).await,
            Err(OperatorAuthError::Unavailable(_))
        ));
    }
}
