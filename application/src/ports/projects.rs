use async_trait::async_trait;
use prepaid_domain::{AccessKey, AspId, CorrelationId, CryptoKeyId, SecretKey, Timestamp};

use super::PortError;

/// The state of an access key (reference section 1: active, inactive, discarded).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AccessKeyState {
    /// Accepted.
    Active,
    /// Refused, may be reactivated.
    Inactive,
    /// Refused for ever.
    Discarded,
}

impl AccessKeyState {
    /// The state's name, as stored and configured.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Inactive => "INACTIVE",
            Self::Discarded => "DISCARDED",
        }
    }

    /// Reads a state's name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "ACTIVE" => Some(Self::Active),
            "INACTIVE" => Some(Self::Inactive),
            "DISCARDED" => Some(Self::Discarded),
            _ => None,
        }
    }
}

/// An access key of a project with its secret key (the tran-token HMAC key).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectAccessKey {
    /// The access key, sent in `X-KM-Access-Key`.
    pub access_key: AccessKey,
    /// Its secret key (redacted in `Debug`).
    pub secret_key: SecretKey,
    /// Whether it is accepted.
    pub state: AccessKeyState,
}

/// A crypto key pair of a project (D5), named by its id; the key material itself stays with
/// the crypto adapter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CryptoKeyRef {
    /// The id sent in `X-KM-Crypto-Key-Id`.
    pub id: CryptoKeyId,
}

/// A service provider's project (D3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Project {
    /// Its ASP id.
    pub asp_id: AspId,
    /// Its access keys.
    pub access_keys: Vec<ProjectAccessKey>,
    /// Its crypto keys (up to two).
    pub crypto_keys: Vec<CryptoKeyRef>,
    /// Whether it may send plaintext to encrypted APIs (D5: the sandbox may, others not).
    pub plaintext_allowed: bool,
}

impl Project {
    /// The active access key `key` of this project, if there is one.
    pub fn active_key(&self, key: &AccessKey) -> Option<&ProjectAccessKey> {
        self.access_keys.iter().find(|candidate| {
            candidate.access_key == *key && candidate.state == AccessKeyState::Active
        })
    }

    /// This project's crypto key named `id`, if it has one. A request is decrypted with the
    /// key this returns, never with the id as sent: another project's key cannot be reached.
    pub fn crypto_key(&self, id: &CryptoKeyId) -> Option<&CryptoKeyRef> {
        self.crypto_keys.iter().find(|key| key.id == *id)
    }
}

/// The service providers' projects.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ProjectDirectory: Send + Sync {
    /// The project of `asp_id`; `Ok(None)` when there is none.
    ///
    /// # Errors
    /// [`PortError`] when the directory cannot be read.
    async fn find(&self, asp_id: &AspId) -> Result<Option<Project>, PortError>;
}

/// Binds each accepted tran-token signature to the correlation id of the request that first
/// carried it, for the replay window (D4, D6).
///
/// The tran token signs the body only, not its time: a captured request can be sent again with
/// any token time. So a signature, not a token, is what is remembered, and with it the request
/// it belongs to. Sent again with the same correlation id it is that request's retry (admitted;
/// the idempotency record answers it); with another correlation id it is a replay.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ReplayGuard: Send + Sync {
    /// Binds the signature `token` (access key and HMAC) of `asp_id` to `correlation_id` until
    /// `expires_at`. Returns `true` when the signature was not bound (it is now) or is bound to
    /// this same correlation id, `false` when it is bound to another one and has not expired.
    /// Once a binding has expired, a guard may go on keeping it for a bounded time before it
    /// forgets it: the caller sets `expires_at` after the end of the request window. Atomic: of
    /// concurrent calls with one signature and different correlation ids, exactly one binds it.
    ///
    /// A binding is durable no later than any state change of the request that made it (an
    /// implementation with a write-behind journal writes the binding before, or in the same
    /// transaction as, anything the request records afterwards), and survives a restart.
    ///
    /// # Errors
    /// [`PortError`] when the binding cannot be kept.
    async fn bind(
        &self,
        asp_id: &AspId,
        token: &str,
        correlation_id: &CorrelationId,
        expires_at: Timestamp,
    ) -> Result<bool, PortError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_access_key_state_reads_back_from_its_name_and_nothing_else_reads() {
        for (state, name) in [
            (AccessKeyState::Active, "ACTIVE"),
            (AccessKeyState::Inactive, "INACTIVE"),
            (AccessKeyState::Discarded, "DISCARDED"),
        ] {
            assert_eq!(state.as_str(), name);
            assert_eq!(AccessKeyState::parse(name), Some(state));
        }
        assert_eq!(AccessKeyState::parse("active"), None);
        assert_eq!(AccessKeyState::parse("REVOKED"), None);
    }
}

/// The basic product each project may name (D24): a mobile product whose card every member of
/// the project gets at sign-up.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait BasicProducts: Send + Sync {
    /// The basic product of project `asp_id`, if it names one.
    ///
    /// # Errors
    /// [`PortError`] when the store cannot be read.
    async fn basic_product(
        &self,
        asp_id: &AspId,
    ) -> Result<Option<prepaid_domain::ServiceId>, PortError>;
}
