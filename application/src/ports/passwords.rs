use async_trait::async_trait;
use prepaid_domain::LoginPassword;

use super::PortError;

/// A member's password as stored (D24): never the password, but its Argon2id hash keyed with a
/// server-side secret (the pepper) that is not in the database, with the parameters and salt it
/// was made with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasswordHash {
    /// The id of the pepper it was keyed with (peppers rotate: an old one verifies until the
    /// member's next successful check hashes the password again).
    pub key_id: String,
    /// The PHC string: `$argon2id$v=19$m=...,t=...,p=...$<salt>$<hash>`.
    pub phc: String,
}

/// Hashes and checks members' passwords. Both are slow on purpose (tens of milliseconds of
/// memory-hard work): they run off the request threads.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait Passwords: Send + Sync {
    /// The hash of `password` with a fresh random salt, keyed with the current pepper.
    ///
    /// # Errors
    /// [`PortError`] when the hash cannot be made.
    async fn hash(&self, password: &LoginPassword) -> Result<PasswordHash, PortError>;

    /// Whether `password` is the one `stored` was made from, compared in constant time.
    ///
    /// # Errors
    /// [`PortError`] when `stored` names a pepper no longer configured or is not a hash this
    /// service makes.
    async fn verify(
        &self,
        password: &LoginPassword,
        stored: &PasswordHash,
    ) -> Result<bool, PortError>;

    /// Whether `stored` was made as [`Passwords::hash`] makes hashes now: with the current
    /// pepper and the current cost. A right password whose hash is not is hashed again.
    fn is_current(&self, stored: &PasswordHash) -> bool;
}
