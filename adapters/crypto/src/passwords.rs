//! Members' passwords (D24): Argon2id (RFC 9106) over the password, keyed with a pepper, a
//! server-side secret that is not in the database: a copy of the database alone does not let
//! anyone test a guess, not even one of the million six-digit passwords.

use std::sync::Arc;

use argon2::{Algorithm, Argon2, Params, Version};
use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use prepaid_application::PortError;
use prepaid_application::ports::{PasswordHash, Passwords};
use prepaid_domain::LoginPassword;
use rand::RngCore as _;

use crate::keys::{KeyError, parse_hex};

/// Argon2id's memory cost in KiB: 19 MiB, OWASP's first recommended setting.
pub const PASSWORD_MEMORY_KIB: u32 = 19_456;
/// Argon2id's passes over the memory.
pub const PASSWORD_PASSES: u32 = 2;
/// Argon2id's lanes.
pub const PASSWORD_LANES: u32 = 1;
/// The salt's length in bytes (fresh for every hash).
const SALT_BYTES: usize = 16;
/// The hash's length in bytes.
const HASH_BYTES: usize = 32;

/// A 256-bit pepper with its id: the secret every password hash is keyed with.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordPepper {
    id: String,
    key: [u8; 32],
}

impl PasswordPepper {
    /// The pepper `id` from 64 hex digits; an all-one-byte value is refused as weak.
    ///
    /// # Errors
    /// [`KeyError`] for another length, non-hex text or a weak value.
    pub fn from_hex(id: &str, text: &str) -> Result<Self, KeyError> {
        let valid_id = (1..=32).contains(&id.len())
            && id
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
        if !valid_id {
            return Err(KeyError::Format {
                what: "password pepper id (1-32 letters, digits, '-', '_'); pepper",
                hex_digits: 64,
            });
        }
        Ok(Self {
            id: id.to_owned(),
            key: parse_hex(text, "password pepper")?,
        })
    }
}

impl std::fmt::Debug for PasswordPepper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordPepper")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// The Argon2id cost of new hashes; a stored hash is checked with the cost it names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PasswordCost {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes.
    pub passes: u32,
    /// Lanes.
    pub lanes: u32,
}

impl PasswordCost {
    /// The cost of production hashes (docs/decisions.md).
    pub const STANDARD: Self = Self {
        memory_kib: PASSWORD_MEMORY_KIB,
        passes: PASSWORD_PASSES,
        lanes: PASSWORD_LANES,
    };
}

/// Argon2id password hashing, keyed with the current pepper; the retired ones still verify.
#[derive(Clone)]
pub struct Argon2Passwords {
    peppers: Arc<Vec<PasswordPepper>>,
    cost: PasswordCost,
}

impl Argon2Passwords {
    /// Hashing with `current`, verifying with it or any of `retired`, at `cost`.
    pub fn new(current: PasswordPepper, retired: Vec<PasswordPepper>, cost: PasswordCost) -> Self {
        let mut peppers = vec![current];
        peppers.extend(retired);
        Self {
            peppers: Arc::new(peppers),
            cost,
        }
    }
}

/// The Argon2id hash of `password` with `salt`, keyed with `pepper`, at `cost`.
fn argon2id(
    pepper: &[u8; 32],
    cost: PasswordCost,
    password: &[u8],
    salt: &[u8],
) -> Result<[u8; HASH_BYTES], PortError> {
    let params = Params::new(cost.memory_kib, cost.passes, cost.lanes, Some(HASH_BYTES))
        .map_err(|error| PortError::msg(format!("argon2 parameters: {error}")))?;
    let argon2 = Argon2::new_with_secret(pepper, Algorithm::Argon2id, Version::V0x13, params)
        .map_err(|error| PortError::msg(format!("argon2 pepper: {error}")))?;
    let mut out = [0_u8; HASH_BYTES];
    argon2
        .hash_password_into(password, salt, &mut out)
        .map_err(|error| PortError::msg(format!("argon2: {error}")))?;
    Ok(out)
}

/// The cost, salt and hash a PHC string of this service holds.
fn read_phc(phc: &str) -> Option<(PasswordCost, Vec<u8>, Vec<u8>)> {
    let mut parts = phc.split('$');
    let (Some(""), Some("argon2id"), Some("v=19"), Some(cost), Some(salt), Some(hash), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let mut values = cost.split(',').map(|pair| pair.split_once('='));
    let (Some(Some(("m", m))), Some(Some(("t", t))), Some(Some(("p", p))), None) =
        (values.next(), values.next(), values.next(), values.next())
    else {
        return None;
    };
    let cost = PasswordCost {
        memory_kib: m.parse().ok()?,
        passes: t.parse().ok()?,
        lanes: p.parse().ok()?,
    };
    let salt = STANDARD_NO_PAD.decode(salt).ok()?;
    let hash = STANDARD_NO_PAD.decode(hash).ok()?;
    (salt.len() == SALT_BYTES && hash.len() == HASH_BYTES).then_some((cost, salt, hash))
}

#[async_trait]
impl Passwords for Argon2Passwords {
    async fn hash(&self, password: &LoginPassword) -> Result<PasswordHash, PortError> {
        let pepper = self.peppers[0].clone();
        let cost = self.cost;
        let password = password.expose().as_bytes().to_vec();
        tokio::task::spawn_blocking(move || {
            let mut salt = [0_u8; SALT_BYTES];
            rand::rng().fill_bytes(&mut salt);
            let hash = argon2id(&pepper.key, cost, &password, &salt)?;
            Ok(PasswordHash {
                key_id: pepper.id,
                phc: format!(
                    "$argon2id$v=19$m={},t={},p={}${}${}",
                    cost.memory_kib,
                    cost.passes,
                    cost.lanes,
                    STANDARD_NO_PAD.encode(salt),
                    STANDARD_NO_PAD.encode(hash)
                ),
            })
        })
        .await
        .map_err(|error| PortError::msg(format!("password hashing task: {error}")))?
    }

    async fn verify(
        &self,
        password: &LoginPassword,
        stored: &PasswordHash,
    ) -> Result<bool, PortError> {
        let pepper = self
            .peppers
            .iter()
            .find(|pepper| pepper.id == stored.key_id)
            .cloned()
            .ok_or_else(|| {
                PortError::msg("a password hashed with a pepper no longer configured")
            })?;
        let (cost, salt, expected) = read_phc(&stored.phc)
            .ok_or_else(|| PortError::msg("a stored password hash this service does not make"))?;
        let password = password.expose().as_bytes().to_vec();
        tokio::task::spawn_blocking(move || {
            let hash = argon2id(&pepper.key, cost, &password, &salt)?;
            Ok(openssl::memcmp::eq(&hash, &expected))
        })
        .await
        .map_err(|error| PortError::msg(format!("password checking task: {error}")))?
    }

    fn is_current(&self, stored: &PasswordHash) -> bool {
        stored.key_id == self.peppers[0].id
            && read_phc(&stored.phc).is_some_and(|(cost, _, _)| cost == self.cost)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cheap cost, so the tests run fast; the production cost is checked once below.
    const CHEAP: PasswordCost = PasswordCost {
        memory_kib: 64,
        passes: 1,
        lanes: 1,
    };

    fn pepper(id: &str, byte: u8) -> PasswordPepper {
        let bytes: Vec<u8> = (0..32_u8).map(|index| byte.wrapping_add(index)).collect();
        PasswordPepper::from_hex(id, &hex::encode(bytes)).unwrap()
    }

    fn password(text: &str) -> LoginPassword {
        LoginPassword::parse(text, "").unwrap()
    }

    #[tokio::test]
    async fn a_password_verifies_and_a_wrong_one_does_not() {
        let passwords = Argon2Passwords::new(pepper("pep-1", 1), vec![], CHEAP);
        let stored = passwords.hash(&password("135790")).await.unwrap();
        assert_eq!(stored.key_id, "pep-1");
        assert!(
            stored.phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"),
            "{}",
            stored.phc
        );
        assert!(!stored.phc.contains("135790"));
        assert!(
            passwords
                .verify(&password("135790"), &stored)
                .await
                .unwrap()
        );
        assert!(
            !passwords
                .verify(&password("135791"), &stored)
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn each_hash_has_its_own_salt() {
        let passwords = Argon2Passwords::new(pepper("pep-1", 1), vec![], CHEAP);
        let first = passwords.hash(&password("135790")).await.unwrap();
        let second = passwords.hash(&password("135790")).await.unwrap();
        assert_ne!(first.phc, second.phc);
    }

    #[tokio::test]
    async fn the_database_alone_does_not_let_anyone_test_a_guess() {
        // Whoever holds the stored hash, but not the pepper, computes Argon2id with another
        // secret (or none): even the right password does not match.
        let service = Argon2Passwords::new(pepper("pep-1", 1), vec![], CHEAP);
        let stored = service.hash(&password("135790")).await.unwrap();
        let attacker = Argon2Passwords::new(pepper("pep-1", 9), vec![], CHEAP);
        assert!(!attacker.verify(&password("135790"), &stored).await.unwrap());
        let (cost, salt, expected) = read_phc(&stored.phc).unwrap();
        let params =
            Params::new(cost.memory_kib, cost.passes, cost.lanes, Some(HASH_BYTES)).unwrap();
        let mut unkeyed = [0_u8; HASH_BYTES];
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(b"135790", &salt, &mut unkeyed)
            .unwrap();
        assert_ne!(unkeyed.to_vec(), expected);
    }

    #[tokio::test]
    async fn a_retired_pepper_still_verifies_and_an_unknown_one_is_an_error() {
        let old = Argon2Passwords::new(pepper("pep-1", 1), vec![], CHEAP);
        let stored = old.hash(&password("135790")).await.unwrap();
        let rotated = Argon2Passwords::new(pepper("pep-2", 5), vec![pepper("pep-1", 1)], CHEAP);
        assert!(rotated.verify(&password("135790"), &stored).await.unwrap());
        assert_eq!(
            rotated.hash(&password("135790")).await.unwrap().key_id,
            "pep-2"
        );
        let forgotten = Argon2Passwords::new(pepper("pep-2", 5), vec![], CHEAP);
        assert!(
            forgotten
                .verify(&password("135790"), &stored)
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn only_a_hash_with_the_current_pepper_and_cost_is_current() {
        let old = Argon2Passwords::new(pepper("pep-1", 1), vec![], CHEAP);
        let stored = old.hash(&password("135790")).await.unwrap();
        assert!(old.is_current(&stored));
        let rotated = Argon2Passwords::new(pepper("pep-2", 5), vec![pepper("pep-1", 1)], CHEAP);
        assert!(!rotated.is_current(&stored), "a retired pepper");
        assert!(rotated.is_current(&rotated.hash(&password("135790")).await.unwrap()));
        let costlier = PasswordCost {
            passes: CHEAP.passes + 1,
            ..CHEAP
        };
        let stronger = Argon2Passwords::new(pepper("pep-1", 1), vec![], costlier);
        assert!(!stronger.is_current(&stored), "an older cost");
        let unreadable = PasswordHash {
            phc: "not a hash".into(),
            ..stored
        };
        assert!(!old.is_current(&unreadable));
    }

    #[tokio::test]
    async fn a_hash_this_service_does_not_make_is_an_error() {
        let passwords = Argon2Passwords::new(pepper("pep-1", 1), vec![], CHEAP);
        let stored = passwords.hash(&password("135790")).await.unwrap();
        for phc in [
            stored.phc.replace("argon2id", "argon2i"),
            stored.phc.replace("v=19", "v=16"),
            stored.phc.replace(",p=1", ""),
            format!("{}$", stored.phc),
            stored.phc.rsplit_once('$').unwrap().0.to_owned() + "$AAAA",
            // A salt of another length, its hash as long as ours.
            {
                let parts: Vec<&str> = stored.phc.split('$').collect();
                format!(
                    "${}${}${}${}${}",
                    parts[1],
                    parts[2],
                    parts[3],
                    STANDARD_NO_PAD.encode([7_u8; 8]),
                    parts[5]
                )
            },
        ] {
            let tampered = PasswordHash {
                key_id: "pep-1".into(),
                phc,
            };
            assert!(
                passwords
                    .verify(&password("135790"), &tampered)
                    .await
                    .is_err(),
                "{}",
                tampered.phc
            );
        }
    }

    #[tokio::test]
    async fn production_hashes_take_the_stated_cost() {
        let passwords = Argon2Passwords::new(pepper("pep-1", 1), vec![], PasswordCost::STANDARD);
        let stored = passwords.hash(&password("135790")).await.unwrap();
        assert!(
            stored.phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{}",
            stored.phc
        );
        assert!(
            passwords
                .verify(&password("135790"), &stored)
                .await
                .unwrap()
        );
    }

    #[test]
    fn a_weak_or_malformed_pepper_is_refused_and_never_shown() {
        assert!(PasswordPepper::from_hex("pep-1", &"00".repeat(32)).is_err());
        assert!(PasswordPepper::from_hex("pep-1", "abcd").is_err());
        assert!(PasswordPepper::from_hex("no spaces", &"0123".repeat(16)).is_err());
        let shown = format!("{:?}", pepper("pep-1", 1));
        assert!(!shown.contains("0102"), "{shown}");
        assert!(
            shown.starts_with("PasswordPepper") && shown.contains("pep-1"),
            "{shown}"
        );
    }
}
