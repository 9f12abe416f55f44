//! Operator tokens: found by the token itself, kept as a digest.

use prepaid_application::ports::OperatorTokens;
use prepaid_domain::{OperatorName, OperatorToken, Timestamp};

use crate::support::{Backend, NOW, open, unique};

fn token(seed: u64) -> OperatorToken {
    let mut bytes = [0_u8; 32];
    for (index, chunk) in bytes.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(&(seed ^ (index as u64) << 60).to_le_bytes());
    }
    OperatorToken::from_random(&bytes)
}

pub async fn an_operator_is_found_by_its_token_and_by_no_other(backend: Backend) {
    let test = open(&backend);
    let seed = unique();
    let (made, other) = (token(seed), token(seed + 1));
    let name = OperatorName::parse("bureau-1").unwrap();
    assert_eq!(test.db.operator(&made).await.unwrap(), None);

    test.db
        .add(&name, &made, Timestamp::from_millis(NOW))
        .await
        .unwrap();

    assert_eq!(test.db.operator(&made).await.unwrap(), Some(name.clone()));
    assert_eq!(test.db.operator(&other).await.unwrap(), None);
    // The same token again is refused: one token, one operator.
    let second = OperatorName::parse("courier").unwrap();
    assert!(
        test.db
            .add(&second, &made, Timestamp::from_millis(NOW))
            .await
            .is_err()
    );
    assert_eq!(test.db.operator(&made).await.unwrap(), Some(name));
}
