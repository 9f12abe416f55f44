//! The ports: what the application needs from the world, one trait per concern.
//!
//! Every port is `Send + Sync` and object-safe, so the service holds them as `Arc<dyn Port>`.
//! Each method's documentation states what an implementation must do and which error it must
//! return when. Mocks of every port are generated behind the `mock` feature.

mod balances;
mod card_secrets;
mod cipher;
mod clock;
mod member_secrets;
mod members;
mod numbering;
mod operators;
mod passwords;
mod products;
mod projects;
mod random;
mod store;
mod vault;
mod verification;

pub use balances::Balances;
pub use card_secrets::{
    CardSecrets, PanBinding, PanFingerprint, ProtectedPan, RequestFingerprint, SealedAddress,
};
pub use cipher::{
    ContentEncryption, DecryptError, DecryptedMessage, JweProfile, KeyWrapping, MessageCipher,
    TranTokenSigner,
};
pub use clock::Clock;
pub use member_secrets::{
    LookupKey, MemberKeyIds, MemberSecrets, PersonalFingerprint, SealedProfile,
};
pub use members::{
    BasicCard, MemberDirectory, MemberFingerprints, MemberRecords, MemberUnderOldKeys, MemberValue,
    NewMember, ProfileUpdate, ProfileUpdateError, RegisterMemberError, RekeyedMember, StoredMember,
};
pub use numbering::{CardNumberSerials, CardNumbering, SerialBlock};
pub use operators::OperatorTokens;
pub use passwords::{PasswordHash, Passwords};
pub use products::ProductCatalogue;
pub use projects::{
    AccessKeyState, BasicProducts, CryptoKeyRef, Project, ProjectAccessKey, ProjectDirectory,
    ReplayGuard,
};
pub use random::RandomSource;
pub use store::{
    CardApplicationStore, CardChange, CardRecord, CardStore, ChangeError, DeliveryStore,
    IdempotencyClaim, IdempotencyKey, IdempotencyRecord, IdempotencyStore, IdempotentOperation,
    LifecycleChange, LifecycleChanges, NewCardOf, NewDelivery, NewIssuance, NewIssuedCard,
    ProjectDelivery, RecordError, Replacement, StoredApplication, StoredCard, StoredDelivery,
    StoredIssuance, UniqueNumber, VersionedChange,
};
pub use vault::SecretVault;
pub use verification::CardVerification;

#[cfg(any(test, feature = "mock"))]
pub use balances::MockBalances;
#[cfg(any(test, feature = "mock"))]
pub use card_secrets::MockCardSecrets;
#[cfg(any(test, feature = "mock"))]
pub use cipher::{MockMessageCipher, MockTranTokenSigner};
#[cfg(any(test, feature = "mock"))]
pub use clock::MockClock;
#[cfg(any(test, feature = "mock"))]
pub use member_secrets::MockMemberSecrets;
#[cfg(any(test, feature = "mock"))]
pub use members::{MockMemberDirectory, MockMemberRecords};
#[cfg(any(test, feature = "mock"))]
pub use numbering::{MockCardNumberSerials, MockCardNumbering};
#[cfg(any(test, feature = "mock"))]
pub use operators::MockOperatorTokens;
#[cfg(any(test, feature = "mock"))]
pub use passwords::MockPasswords;
#[cfg(any(test, feature = "mock"))]
pub use products::MockProductCatalogue;
#[cfg(any(test, feature = "mock"))]
pub use projects::{MockBasicProducts, MockProjectDirectory, MockReplayGuard};
#[cfg(any(test, feature = "mock"))]
pub use random::MockRandomSource;
#[cfg(any(test, feature = "mock"))]
pub use store::{
    MockCardApplicationStore, MockCardStore, MockDeliveryStore, MockIdempotencyStore,
    MockLifecycleChanges,
};
#[cfg(any(test, feature = "mock"))]
pub use vault::MockSecretVault;
#[cfg(any(test, feature = "mock"))]
pub use verification::MockCardVerification;

use std::error::Error as StdError;

/// A port could not do its work (I/O failed, a service is down, stored data is unreadable).
///
/// It carries the cause for the logs; callers only learn that the operation failed and may be
/// retried. It never carries card data or secrets.
#[derive(Debug, thiserror::Error)]
#[error("{context}")]
pub struct PortError {
    context: String,
    #[source]
    source: Option<Box<dyn StdError + Send + Sync>>,
}

impl PortError {
    /// A failure described by `context`, caused by `source`.
    pub fn new(context: impl Into<String>, source: impl StdError + Send + Sync + 'static) -> Self {
        Self {
            context: context.into(),
            source: Some(Box::new(source)),
        }
    }

    /// A failure with no underlying error.
    pub fn msg(context: impl Into<String>) -> Self {
        Self {
            context: context.into(),
            source: None,
        }
    }
}
