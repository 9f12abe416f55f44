//! PAN and address protection at rest (D7, PCI DSS 3.5): AES-256-GCM with a random 96-bit nonce
//! and what the value belongs to (its card, its application) as associated data, and keyed
//! HMAC-SHA256 fingerprints.

use std::collections::HashMap;
use std::sync::OnceLock;

use async_trait::async_trait;
use hmac::{KeyInit as _, Mac as _};
use openssl::cipher::{Cipher, CipherRef};
use openssl::cipher_ctx::CipherCtx;
use openssl::error::ErrorStack;
use prepaid_application::PortError;
use prepaid_application::ports::{
    CardSecrets, PanBinding, PanFingerprint, ProtectedPan, RequestFingerprint, SealedAddress,
};
use prepaid_domain::{AddressDetail, CardApplyNo, DeliveryAddress, Pan, RoadAddress, ZipCode};

use crate::keys::{DataKey, IndexKey};

pub(crate) const NONCE_LEN: usize = 12;
pub(crate) const TAG_LEN: usize = 16;

/// Card secrets on OpenSSL: encrypts with the current data key, decrypts with any known key.
#[derive(Debug)]
pub struct AesGcmCardSecrets {
    current: DataKey,
    retired: HashMap<String, DataKey>,
    pub(crate) index_id: String,
    index_macs: HashMap<String, HmacKey>,
}

/// The id of the index key when none is configured (keys configured before key ids existed,
/// and the fingerprints made with them, carry it).
pub const DEFAULT_INDEX_KEY_ID: &str = "idx-1";

impl AesGcmCardSecrets {
    /// Encrypts with `current`, decrypts with `current` or any of `retired` (key rotation);
    /// fingerprints with `index_key`, as key [`DEFAULT_INDEX_KEY_ID`].
    pub fn new(current: DataKey, retired: Vec<DataKey>, index_key: &IndexKey) -> Self {
        Self::with_index_keys(current, retired, DEFAULT_INDEX_KEY_ID, index_key, &[])
    }

    /// As [`AesGcmCardSecrets::new`], fingerprinting with `index_key` (id `index_id`) and
    /// keeping `retired_index` (id, key) pairs to compare fingerprints made before a rotation.
    pub fn with_index_keys(
        current: DataKey,
        retired: Vec<DataKey>,
        index_id: &str,
        index_key: &IndexKey,
        retired_index: &[(String, IndexKey)],
    ) -> Self {
        let retired = retired
            .into_iter()
            .map(|key| (key.id.clone(), key))
            .collect();
        let mut index_macs: HashMap<String, HmacKey> = retired_index
            .iter()
            .map(|(id, key)| (id.clone(), HmacKey::new(&key.0)))
            .collect();
        index_macs.insert(index_id.to_owned(), HmacKey::new(&index_key.0));
        Self {
            current,
            retired,
            index_id: index_id.to_owned(),
            index_macs,
        }
    }

    fn key(&self, id: &str) -> Option<&DataKey> {
        if self.current.id == id {
            Some(&self.current)
        } else {
            self.retired.get(id)
        }
    }
}

/// AES-256-GCM, fetched from OpenSSL's provider once: through the legacy
/// `symm::Cipher::aes_256_gcm()`, OpenSSL 3 fetches the algorithm again, under a global lock,
/// on every initialisation (docs/PERFORMANCE.md).
fn aes_256_gcm() -> Result<&'static CipherRef, ErrorStack> {
    static FETCHED: OnceLock<Result<Cipher, ErrorStack>> = OnceLock::new();
    FETCHED
        .get_or_init(|| Cipher::fetch(None, "AES-256-GCM", None))
        .as_deref()
        .map_err(Clone::clone)
}

/// AES-256-GCM encryption of `data` under `key` and the 96-bit `nonce`, authenticating `aad`;
/// the tag goes to `tag`.
pub(crate) fn encrypt_aead(
    key: &[u8],
    nonce: Option<&[u8]>,
    aad: &[u8],
    data: &[u8],
    tag: &mut [u8],
) -> Result<Vec<u8>, ErrorStack> {
    let mut context = CipherCtx::new()?;
    context.encrypt_init(Some(aes_256_gcm()?), Some(key), nonce)?;
    context.cipher_update(aad, None)?;
    let mut out = Vec::with_capacity(data.len() + 16);
    context.cipher_update_vec(data, &mut out)?;
    context.cipher_final_vec(&mut out)?;
    context.tag(tag)?;
    Ok(out)
}

/// AES-256-GCM decryption, refused unless `tag` authenticates `data` and `aad`.
pub(crate) fn decrypt_aead(
    key: &[u8],
    nonce: Option<&[u8]>,
    aad: &[u8],
    data: &[u8],
    tag: &[u8],
) -> Result<Vec<u8>, ErrorStack> {
    let mut context = CipherCtx::new()?;
    context.decrypt_init(Some(aes_256_gcm()?), Some(key), nonce)?;
    context.cipher_update(aad, None)?;
    let mut out = Vec::with_capacity(data.len() + 16);
    context.cipher_update_vec(data, &mut out)?;
    context.set_tag(tag)?;
    context.cipher_final_vec(&mut out)?;
    Ok(out)
}

/// The associated data binding a PAN ciphertext to its card.
fn associated_data(binding: PanBinding<'_>) -> Vec<u8> {
    let (prefix, text): (&[u8], &str) = match binding {
        PanBinding::Card(id) => (b"prepaid-card/pan/v2/card/", id.as_str()),
        PanBinding::Par(par) => (b"prepaid-card/pan/v1/", par.as_str()),
    };
    let mut aad = prefix.to_vec();
    aad.extend_from_slice(text.as_bytes());
    aad
}

/// A key ready for HMAC-SHA256: keyed once (the inner and outer pads hashed), cloned for each
/// message. `RustCrypto`'s `hmac` rather than OpenSSL: OpenSSL 3 builds an `EVP_PKEY` and looks
/// up its providers on every call, which cost the service about 25 µs per HMAC (three per
/// issuance; see docs/PERFORMANCE.md); this costs well under one.
#[derive(Clone)]
pub(crate) struct HmacKey(hmac::Hmac<sha2::Sha256>);

impl HmacKey {
    /// Keys HMAC-SHA256 with `key`, of any length (RFC 2104).
    pub(crate) fn new(key: &[u8]) -> Self {
        match hmac::Hmac::new_from_slice(key) {
            Ok(mac) => Self(mac),
            // `Hmac::new_from_slice` hashes long keys and pads short ones: it never fails.
            Err(_) => unreachable!("HMAC accepts keys of any length"),
        }
    }

    /// The HMAC of the concatenation of `parts`.
    pub(crate) fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut mac = self.0.clone();
        for part in parts {
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }
}

impl std::fmt::Debug for HmacKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("HmacKey(<redacted>)")
    }
}

impl AesGcmCardSecrets {
    pub(crate) fn keyed_digest(&self, domain: &[u8], message: &[u8]) -> [u8; 32] {
        self.keyed_digest_with(&self.index_id, domain, message)
            .unwrap_or_else(|| unreachable!("the current index key is always held"))
    }

    fn keyed_digest_with(&self, key_id: &str, domain: &[u8], message: &[u8]) -> Option<[u8; 32]> {
        Some(self.index_macs.get(key_id)?.mac(&[domain, message]))
    }
}

impl AesGcmCardSecrets {
    /// `plaintext` encrypted under the current data key with `aad`: the key's id, and the nonce,
    /// ciphertext and tag laid end to end.
    /// The id of the data key [`Self::seal`] uses.
    pub(crate) fn current_data_key_id(&self) -> &str {
        &self.current.id
    }

    pub(crate) fn seal(
        &self,
        aad: &[u8],
        plaintext: &[u8],
        what: &str,
    ) -> Result<(String, Vec<u8>), PortError> {
        let mut nonce = [0_u8; NONCE_LEN];
        openssl::rand::rand_bytes(&mut nonce).map_err(|error| PortError::new("nonce", error))?;
        let mut tag = [0_u8; TAG_LEN];
        let ciphertext = encrypt_aead(&self.current.key, Some(&nonce), aad, plaintext, &mut tag)
            .map_err(|error| PortError::new(format!("{what} encryption failed"), error))?;
        let mut sealed = Vec::with_capacity(NONCE_LEN + ciphertext.len() + TAG_LEN);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        sealed.extend_from_slice(&tag);
        Ok((self.current.id.clone(), sealed))
    }

    /// The plaintext of what [`Self::seal`] made under key `key_id` with `aad`.
    pub(crate) fn open(
        &self,
        key_id: &str,
        sealed: &[u8],
        aad: &[u8],
        what: &str,
    ) -> Result<Vec<u8>, PortError> {
        let key = self
            .key(key_id)
            .ok_or_else(|| PortError::msg(format!("{what} encrypted under an unknown data key")))?;
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return Err(PortError::msg(format!("{what} ciphertext truncated")));
        }
        let (nonce, rest) = sealed.split_at(NONCE_LEN);
        let (ciphertext, tag) = rest.split_at(rest.len() - TAG_LEN);
        decrypt_aead(&key.key, Some(nonce), aad, ciphertext, tag)
            .map_err(|_| PortError::msg(format!("{what} ciphertext failed authentication")))
    }
}

/// The associated data of an address: its application, so that it does not decrypt when moved
/// to another one.
fn address_associated_data(application: &CardApplyNo) -> Vec<u8> {
    let mut aad = b"prepaid-card/address/v1/".to_vec();
    aad.extend_from_slice(application.as_str().as_bytes());
    aad
}

#[async_trait]
impl CardSecrets for AesGcmCardSecrets {
    fn protect(&self, pan: &Pan, binding: PanBinding<'_>) -> Result<ProtectedPan, PortError> {
        let (key_id, ciphertext) =
            self.seal(&associated_data(binding), pan.expose().as_bytes(), "PAN")?;
        Ok(ProtectedPan { key_id, ciphertext })
    }

    fn reveal(&self, protected: &ProtectedPan, binding: PanBinding<'_>) -> Result<Pan, PortError> {
        let plaintext = self.open(
            &protected.key_id,
            &protected.ciphertext,
            &associated_data(binding),
            "PAN",
        )?;
        let text = String::from_utf8(plaintext)
            .map_err(|_| PortError::msg("decrypted PAN is not text"))?;
        Pan::parse(&text).map_err(|_| PortError::msg("decrypted PAN is malformed"))
    }

    fn seal_address(
        &self,
        address: &DeliveryAddress,
        application: &CardApplyNo,
    ) -> Result<SealedAddress, PortError> {
        // Address lines hold no control character, so a line feed separates them unambiguously.
        let text = format!(
            "{}\n{}\n{}",
            address.address.as_str(),
            address.detail.as_str(),
            address.zip_code.as_str()
        );
        let (key_id, ciphertext) = self.seal(
            &address_associated_data(application),
            text.as_bytes(),
            "address",
        )?;
        Ok(SealedAddress { key_id, ciphertext })
    }

    fn open_address(
        &self,
        sealed: &SealedAddress,
        application: &CardApplyNo,
    ) -> Result<DeliveryAddress, PortError> {
        let plaintext = self.open(
            &sealed.key_id,
            &sealed.ciphertext,
            &address_associated_data(application),
            "address",
        )?;
        let malformed = || PortError::msg("decrypted address is malformed");
        let text = String::from_utf8(plaintext).map_err(|_| malformed())?;
        let mut lines = text.split('\n');
        let mut line = || lines.next().ok_or_else(malformed);
        let address = DeliveryAddress {
            address: RoadAddress::parse(line()?).map_err(|_| malformed())?,
            detail: AddressDetail::parse(line()?).map_err(|_| malformed())?,
            zip_code: ZipCode::parse(line()?).map_err(|_| malformed())?,
        };
        if lines.next().is_some() {
            return Err(malformed());
        }
        Ok(address)
    }

    fn fingerprint(&self, pan: &Pan) -> PanFingerprint {
        PanFingerprint {
            key_id: self.index_id.clone(),
            digest: self.keyed_digest(b"pan/v1/", pan.expose().as_bytes()),
        }
    }

    fn request_fingerprint(&self, canonical_form: &str) -> RequestFingerprint {
        RequestFingerprint {
            key_id: self.index_id.clone(),
            digest: self.keyed_digest(b"request/v1/", canonical_form.as_bytes()),
        }
    }

    fn request_fingerprint_with(
        &self,
        key_id: &str,
        canonical_form: &str,
    ) -> Option<RequestFingerprint> {
        Some(RequestFingerprint {
            key_id: key_id.to_owned(),
            digest: self.keyed_digest_with(key_id, b"request/v1/", canonical_form.as_bytes())?,
        })
    }
}

#[cfg(test)]
mod tests {
    use prepaid_domain::{CardId, Par};

    use super::*;

    fn secrets() -> AesGcmCardSecrets {
        AesGcmCardSecrets::new(
            DataKey::from_hex("k2", &"0123456789abcdef".repeat(4)).unwrap(),
            vec![DataKey::from_hex("k1", &"fedcba9876543210".repeat(4)).unwrap()],
            &IndexKey::from_hex(&"00112233445566778899aabbccddeeff".repeat(2)).unwrap(),
        )
    }

    fn par(text: char) -> Par {
        Par::parse(&text.to_string().repeat(27)).unwrap()
    }

    #[test]
    fn hmac_matches_the_rfc_4231_vectors_whole_or_in_parts() {
        // RFC 4231, test case 2 (a short key) and test case 6 (a key longer than a block).
        let short = HmacKey::new(b"Jefe");
        let expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        assert_eq!(
            hex::encode(short.mac(&[b"what do ya want for nothing?"])),
            expected
        );
        assert_eq!(
            hex::encode(short.mac(&[b"what do ya ", b"want for nothing?"])),
            expected
        );
        let long = HmacKey::new(&[0xaa; 131]);
        assert_eq!(
            hex::encode(long.mac(&[b"Test Using Larger Than Block-Size Key - Hash Key First"])),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
        assert_eq!(format!("{short:?}"), "HmacKey(<redacted>)");
    }

    #[test]
    fn a_protected_pan_reveals_to_the_same_pan_and_hides_it() {
        let secrets = secrets();
        let pan = Pan::parse("4111111111111111").unwrap();
        let protected = secrets.protect(&pan, PanBinding::Par(&par('A'))).unwrap();
        assert_eq!(protected.key_id, "k2");
        assert!(
            !protected
                .ciphertext
                .windows(16)
                .any(|w| w == pan.expose().as_bytes())
        );
        assert_eq!(
            secrets
                .reveal(&protected, PanBinding::Par(&par('A')))
                .unwrap(),
            pan
        );
    }

    #[test]
    fn a_pan_sealed_by_openssls_one_shot_aead_reveals_and_ours_opens_with_it() {
        // PANs already at rest were sealed with `openssl::symm::encrypt_aead`: both ways agree.
        let secrets = secrets();
        let pan = Pan::parse("4111111111111111").unwrap();
        let key = [0x01_u8, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef].repeat(4);
        let nonce = [7_u8; NONCE_LEN];
        let mut tag = [0_u8; TAG_LEN];
        let ciphertext = openssl::symm::encrypt_aead(
            openssl::symm::Cipher::aes_256_gcm(),
            &key,
            Some(&nonce),
            &associated_data(PanBinding::Par(&par('A'))),
            pan.expose().as_bytes(),
            &mut tag,
        )
        .unwrap();
        let sealed = [&nonce[..], &ciphertext, &tag].concat();
        let protected = ProtectedPan {
            key_id: "k2".into(),
            ciphertext: sealed,
        };
        assert_eq!(
            secrets
                .reveal(&protected, PanBinding::Par(&par('A')))
                .unwrap(),
            pan
        );

        let ours = secrets
            .protect(&pan, PanBinding::Par(&par('A')))
            .unwrap()
            .ciphertext;
        let (nonce, rest) = ours.split_at(NONCE_LEN);
        let (ciphertext, tag) = rest.split_at(rest.len() - TAG_LEN);
        let opened = openssl::symm::decrypt_aead(
            openssl::symm::Cipher::aes_256_gcm(),
            &key,
            Some(nonce),
            &associated_data(PanBinding::Par(&par('A'))),
            ciphertext,
            tag,
        )
        .unwrap();
        assert_eq!(opened, b"4111111111111111");
    }

    #[test]
    fn each_protection_uses_a_fresh_nonce() {
        let secrets = secrets();
        let pan = Pan::parse("4111111111111111").unwrap();
        let first = secrets.protect(&pan, PanBinding::Par(&par('A'))).unwrap();
        let second = secrets.protect(&pan, PanBinding::Par(&par('A'))).unwrap();
        assert_ne!(first.ciphertext, second.ciphertext);
    }

    #[test]
    fn a_ciphertext_moved_to_another_card_or_altered_does_not_decrypt() {
        let secrets = secrets();
        let pan = Pan::parse("4111111111111111").unwrap();
        let protected = secrets.protect(&pan, PanBinding::Par(&par('A'))).unwrap();
        assert!(
            secrets
                .reveal(&protected, PanBinding::Par(&par('B')))
                .is_err()
        );
        let mut altered = protected.clone();
        altered.ciphertext[NONCE_LEN] ^= 1;
        assert!(
            secrets
                .reveal(&altered, PanBinding::Par(&par('A')))
                .is_err()
        );
        let unknown = ProtectedPan {
            key_id: "k9".into(),
            ..protected
        };
        assert!(
            secrets
                .reveal(&unknown, PanBinding::Par(&par('A')))
                .is_err()
        );
    }

    #[test]
    fn a_pan_bound_to_a_card_id_decrypts_for_that_id_only_and_never_as_a_par_binding() {
        let secrets = secrets();
        let pan = Pan::parse("4111111111111111").unwrap();
        let id = CardId::parse(&"0a".repeat(16)).unwrap();
        let other = CardId::parse(&"0b".repeat(16)).unwrap();
        let protected = secrets.protect(&pan, PanBinding::Card(&id)).unwrap();
        assert_eq!(
            secrets.reveal(&protected, PanBinding::Card(&id)).unwrap(),
            pan
        );
        assert!(
            secrets
                .reveal(&protected, PanBinding::Card(&other))
                .is_err()
        );
        // The two bindings never share associated data, whatever the text.
        assert_ne!(
            associated_data(PanBinding::Card(&id)),
            associated_data(PanBinding::Par(&par('A')))
        );
        assert!(associated_data(PanBinding::Card(&id)).ends_with(id.as_str().as_bytes()));
        assert!(associated_data(PanBinding::Par(&par('A'))).starts_with(b"prepaid-card/pan/v1/"));
    }

    #[test]
    fn fingerprints_are_keyed_stable_and_distinct() {
        let secrets = secrets();
        let pan = Pan::parse("4111111111111111").unwrap();
        let other = Pan::parse("4012888888881881").unwrap();
        assert_eq!(secrets.fingerprint(&pan), secrets.fingerprint(&pan));
        assert_ne!(secrets.fingerprint(&pan), secrets.fingerprint(&other));
        let other_key = AesGcmCardSecrets::new(
            DataKey::from_hex("k2", &"0123456789abcdef".repeat(4)).unwrap(),
            vec![],
            &IndexKey::from_hex(&"ffeeddccbbaa99887766554433221100".repeat(2)).unwrap(),
        );
        assert_ne!(secrets.fingerprint(&pan), other_key.fingerprint(&pan));
        assert_ne!(
            secrets.fingerprint(&pan).digest,
            secrets.request_fingerprint(pan.expose()).digest
        );
    }

    #[test]
    fn after_an_index_key_rotation_old_fingerprints_are_made_again_under_their_own_key() {
        let old_index = IndexKey::from_hex(&"00112233445566778899aabbccddeeff".repeat(2)).unwrap();
        let new_index = IndexKey::from_hex(&"ffeeddccbbaa99887766554433221100".repeat(2)).unwrap();
        let data = || DataKey::from_hex("k2", &"0123456789abcdef".repeat(4)).unwrap();
        let before = AesGcmCardSecrets::with_index_keys(data(), vec![], "idx-1", &old_index, &[]);
        let after = AesGcmCardSecrets::with_index_keys(
            data(),
            vec![],
            "idx-2",
            &new_index,
            &[("idx-1".to_owned(), old_index)],
        );
        let recorded = before.request_fingerprint("payload");
        assert_eq!(recorded.key_id, "idx-1");
        assert_eq!(
            after.request_fingerprint_with("idx-1", "payload"),
            Some(recorded.clone())
        );
        let current = after.request_fingerprint("payload");
        assert_eq!(current.key_id, "idx-2");
        assert_ne!(current.digest, recorded.digest);
        assert_eq!(after.request_fingerprint_with("idx-9", "payload"), None);
        assert_eq!(
            after
                .fingerprint(&Pan::parse("4111111111111111").unwrap())
                .key_id,
            "idx-2"
        );
    }

    fn seoul() -> DeliveryAddress {
        DeliveryAddress {
            address: RoadAddress::parse("서울특별시 강남구 테헤란로 1").unwrap(),
            detail: AddressDetail::parse("101동 1001호").unwrap(),
            zip_code: ZipCode::parse("06236").unwrap(),
        }
    }

    fn application(last: char) -> CardApplyNo {
        CardApplyNo::parse(&format!("2026113003000000000000{last}")[1..]).unwrap()
    }

    #[test]
    fn a_sealed_address_opens_to_the_same_address_for_its_application_only() {
        let secrets = secrets();
        let sealed = secrets.seal_address(&seoul(), &application('1')).unwrap();
        assert_eq!(sealed.key_id, "k2");
        for line in ["서울특별시", "101동", "06236"] {
            assert!(
                !sealed
                    .ciphertext
                    .windows(line.len())
                    .any(|window| window == line.as_bytes()),
                "{line} in the ciphertext"
            );
        }
        assert_eq!(
            secrets.open_address(&sealed, &application('1')).unwrap(),
            seoul()
        );
        assert!(secrets.open_address(&sealed, &application('2')).is_err());
        let again = secrets.seal_address(&seoul(), &application('1')).unwrap();
        assert_ne!(
            again.ciphertext, sealed.ciphertext,
            "a fresh nonce each time"
        );
        assert_eq!(
            format!("{sealed:?}"),
            format!(
                "SealedAddress {{ key_id: \"k2\", ciphertext_len: {} }}",
                sealed.ciphertext.len()
            )
        );
    }

    #[test]
    fn an_address_sealed_under_a_retired_key_opens_and_an_altered_one_does_not() {
        let old = AesGcmCardSecrets::new(
            DataKey::from_hex("k1", &"fedcba9876543210".repeat(4)).unwrap(),
            vec![],
            &IndexKey::from_hex(&"00112233445566778899aabbccddeeff".repeat(2)).unwrap(),
        );
        let sealed = old.seal_address(&seoul(), &application('3')).unwrap();
        assert_eq!(
            secrets().open_address(&sealed, &application('3')).unwrap(),
            seoul()
        );
        for cut in 0..sealed.ciphertext.len() {
            let mut altered = sealed.clone();
            altered.ciphertext.truncate(cut);
            assert!(secrets().open_address(&altered, &application('3')).is_err());
        }
        let mut flipped = sealed.clone();
        flipped.ciphertext[NONCE_LEN] ^= 1;
        assert!(secrets().open_address(&flipped, &application('3')).is_err());
        let mut unknown = sealed;
        unknown.key_id = "k9".into();
        assert!(secrets().open_address(&unknown, &application('3')).is_err());
    }

    #[test]
    fn the_shortest_sealed_value_is_a_nonce_and_a_tag_and_opens() {
        let secrets = secrets();
        let (key_id, sealed) = secrets.seal(b"aad", b"", "nothing").unwrap();
        assert_eq!(sealed.len(), NONCE_LEN + TAG_LEN);
        assert_eq!(
            secrets.open(&key_id, &sealed, b"aad", "nothing").unwrap(),
            b""
        );
        assert!(
            secrets
                .open(&key_id, &sealed[1..], b"aad", "nothing")
                .is_err()
        );
    }

    #[test]
    fn a_sealed_text_that_is_not_three_valid_lines_is_refused() {
        let secrets = secrets();
        let number = application('4');
        for text in [
            "서울특별시 강남구 테헤란로 1\n101동 1001호",
            "서울특별시 강남구 테헤란로 1\n101동 1001호\n06236\nmore",
            "서울특별시 강남구 테헤란로 1\n101동 1001호\n0623",
            " \n101동 1001호\n06236",
            "서울특별시 강남구 테헤란로 1\n \n06236",
        ] {
            let (key_id, ciphertext) = secrets
                .seal(
                    &address_associated_data(&number),
                    text.as_bytes(),
                    "address",
                )
                .unwrap();
            let sealed = SealedAddress { key_id, ciphertext };
            assert!(secrets.open_address(&sealed, &number).is_err(), "{text:?}");
        }
    }

    #[test]
    fn a_pan_encrypted_under_a_retired_key_still_decrypts() {
        let old = AesGcmCardSecrets::new(
            DataKey::from_hex("k1", &"fedcba9876543210".repeat(4)).unwrap(),
            vec![],
            &IndexKey::from_hex(&"00112233445566778899aabbccddeeff".repeat(2)).unwrap(),
        );
        let pan = Pan::parse("4111111111111111").unwrap();
        let protected = old.protect(&pan, PanBinding::Par(&par('C'))).unwrap();
        assert_eq!(
            secrets()
                .reveal(&protected, PanBinding::Par(&par('C')))
                .unwrap(),
            pan
        );
    }

    #[test]
    fn a_pan_ciphertext_cut_anywhere_is_refused_without_a_panic() {
        let secrets = secrets();
        let pan = Pan::compose(&prepaid_domain::Bin::parse("943512").unwrap(), 42);
        let protected = secrets.protect(&pan, PanBinding::Par(&par('A'))).unwrap();
        assert_eq!(
            secrets
                .reveal(&protected, PanBinding::Par(&par('A')))
                .unwrap(),
            pan
        );
        for length in [
            0,
            1,
            NONCE_LEN - 1,
            NONCE_LEN,
            NONCE_LEN + TAG_LEN - 1,
            NONCE_LEN + TAG_LEN,
        ] {
            let cut = ProtectedPan {
                key_id: protected.key_id.clone(),
                ciphertext: protected.ciphertext[..length].to_vec(),
            };
            assert!(
                secrets.reveal(&cut, PanBinding::Par(&par('A'))).is_err(),
                "{length} bytes"
            );
        }
    }
}
