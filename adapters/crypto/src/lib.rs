#![doc = include_str!("../README.md")]

mod cvc;
mod jwe;
mod keys;
mod numbering;
mod passwords;
mod profiles;
mod secrets;
mod system;
mod token;
mod vault;

pub use cvc::{DEFAULT_CVK_ID, DesCardVerification};
pub use jwe::{CryptoKeyPair, JoseMessageCipher, KeyPairError, MIN_RSA_BITS, generate_rsa_pem};
pub use keys::{CardVerificationKey, DataKey, IndexKey, KeyError, random_hex};
pub use numbering::HmacCardNumbering;
pub use passwords::{
    Argon2Passwords, PASSWORD_LANES, PASSWORD_MEMORY_KIB, PASSWORD_PASSES, PasswordCost,
    PasswordPepper,
};
pub use secrets::{AesGcmCardSecrets, DEFAULT_INDEX_KEY_ID};
pub use system::{OsRandom, SystemClock};
pub use token::HmacTranTokenSigner;
pub use vault::AesGcmSecretVault;
