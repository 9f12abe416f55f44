//! A client's JWE against the service's cipher: requests the client encrypts open on the
//! service in every accepted profile, answers the service encrypts open with the client key,
//! and the load generator's shared-key messages are each a whole, valid JWE.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use prepaid_application::ports::{
    ContentEncryption, DecryptError, JweProfile, KeyWrapping, MessageCipher,
};
use prepaid_crypto::{CryptoKeyPair, JoseMessageCipher, generate_rsa_pem};
use prepaid_domain::CryptoKeyId;
use prepaid_tools::jwe::{RequestEncrypter, SharedKeyEncrypter, decrypt_with, encrypt_to};

const PROFILES: [JweProfile; 4] = [
    JweProfile {
        key_wrapping: KeyWrapping::RsaOaep256,
        content: ContentEncryption::A256Gcm,
    },
    JweProfile {
        key_wrapping: KeyWrapping::RsaOaep256,
        content: ContentEncryption::A128Gcm,
    },
    JweProfile {
        key_wrapping: KeyWrapping::RsaOaep,
        content: ContentEncryption::A256Gcm,
    },
    JweProfile {
        key_wrapping: KeyWrapping::RsaOaep,
        content: ContentEncryption::A128Gcm,
    },
];

struct Service {
    cipher: JoseMessageCipher,
    server_public: String,
    server_private: String,
    client_private: String,
}

fn key_id() -> CryptoKeyId {
    CryptoKeyId::parse("0123456789abcdef0123456789abcdef").unwrap()
}

fn service() -> Service {
    let (server_private, server_public) = generate_rsa_pem(2048).unwrap();
    let (client_private, client_public) = generate_rsa_pem(2048).unwrap();
    let cipher = JoseMessageCipher::new(vec![CryptoKeyPair {
        id: key_id(),
        server_private_pem: server_private.clone(),
        client_public_pem: client_public,
    }])
    .unwrap();
    Service {
        cipher,
        server_public,
        server_private,
        client_private,
    }
}

#[test]
fn a_client_request_opens_on_the_service_and_its_answer_opens_with_the_client_key_only() {
    let service = service();
    for profile in PROFILES {
        let compact = encrypt_to(&service.server_public, b"{\"a\":1}", profile).unwrap();
        let message = service.cipher.decrypt(&key_id(), &compact).unwrap();
        assert_eq!(
            (message.plaintext.as_slice(), message.profile),
            (&b"{\"a\":1}"[..], profile)
        );
        let again = RequestEncrypter::new(&service.server_public, profile)
            .unwrap()
            .encrypt(b"{\"a\":1}")
            .unwrap();
        assert_ne!(again, compact, "a fresh content key and IV each time");

        let answer = service
            .cipher
            .encrypt(&key_id(), b"{\"b\":2}", profile)
            .unwrap();
        assert_eq!(
            decrypt_with(&service.client_private, &answer).unwrap(),
            b"{\"b\":2}"
        );
        assert!(decrypt_with(&service.server_private, &answer).is_err());
    }
    assert!(encrypt_to("not a key", b"{}", JweProfile::DEFAULT).is_err());
}

#[test]
fn messages_under_one_shared_content_key_each_decrypt_and_differ() {
    let service = service();
    for profile in PROFILES {
        let encrypter = SharedKeyEncrypter::new(&service.server_public, profile).unwrap();
        let first = encrypter.encrypt(b"{\"loadNonce\":1}").unwrap();
        let second = encrypter.encrypt(b"{\"loadNonce\":1}").unwrap();
        assert_ne!(first, second, "a fresh IV each time");
        for compact in [&first, &second] {
            let message = service.cipher.decrypt(&key_id(), compact).unwrap();
            assert_eq!(message.plaintext, b"{\"loadNonce\":1}");
            assert_eq!(message.profile, profile);
        }
        let mut parts: Vec<String> = first.split('.').map(str::to_owned).collect();
        let mut tag = URL_SAFE_NO_PAD.decode(&parts[4]).unwrap();
        tag[0] ^= 1;
        parts[4] = URL_SAFE_NO_PAD.encode(tag);
        assert!(matches!(
            service.cipher.decrypt(&key_id(), &parts.join(".")),
            Err(DecryptError::Undecryptable)
        ));
    }
    let debug = format!(
        "{:?}",
        SharedKeyEncrypter::new(&service.server_public, JweProfile::DEFAULT).unwrap()
    );
    assert!(debug.contains("<redacted>"));
}
