//! What the application's values show of themselves: the JWE names written to headers, the
//! audit reasons written to logs, and the redacted `Debug` of everything that carries card data
//! or a fingerprint.

use prepaid_application::AuthError;
use prepaid_application::ports::{
    ContentEncryption, CryptoKeyRef, DecryptedMessage, JweProfile, KeyWrapping, PanFingerprint,
    Project, ProtectedPan, RequestFingerprint,
};
use prepaid_domain::{AspId, CryptoKeyId};

#[test]
fn jwe_algorithms_are_written_by_their_registered_names() {
    assert_eq!(KeyWrapping::RsaOaep256.as_str(), "RSA-OAEP-256");
    assert_eq!(KeyWrapping::RsaOaep.as_str(), "RSA-OAEP");
    assert_eq!(ContentEncryption::A128Gcm.as_str(), "A128GCM");
    assert_eq!(ContentEncryption::A256Gcm.as_str(), "A256GCM");
}

#[test]
fn each_authentication_failure_has_its_own_audit_reason_and_none_names_a_key() {
    let reasons = [
        AuthError::UnknownCaller.audit_reason(),
        AuthError::OutOfWindow.audit_reason(),
        AuthError::BadSignature.audit_reason(),
        AuthError::Replayed.audit_reason(),
    ];
    assert_eq!(
        reasons,
        [
            "unknown ASP id or access key not active for it",
            "request time outside the window or inconsistent",
            "HMAC mismatch",
            "tran token signature already bound to another correlation id",
        ]
    );
}

#[test]
fn card_data_and_fingerprints_show_only_their_shape_in_debug_output() {
    let protected = ProtectedPan {
        key_id: "k1".into(),
        ciphertext: vec![0x41; 44],
    };
    assert_eq!(
        format!("{protected:?}"),
        r#"ProtectedPan { key_id: "k1", ciphertext_len: 44 }"#
    );
    let pan = PanFingerprint {
        key_id: "idx-1".into(),
        digest: [7; 32],
    };
    assert_eq!(format!("{pan:?}"), "PanFingerprint(..)");
    let request = RequestFingerprint {
        key_id: "idx-1".into(),
        digest: [7; 32],
    };
    assert_eq!(format!("{request:?}"), "RequestFingerprint(..)");
    let message = DecryptedMessage {
        plaintext: b"{\"userInfo\":{\"userId\":1001}}".to_vec(),
        profile: JweProfile::DEFAULT,
    };
    let shown = format!("{message:?}");
    assert!(
        shown.starts_with("DecryptedMessage { plaintext_len: 28, profile: "),
        "{shown}"
    );
    assert!(!shown.contains("userId"), "{shown}");
}

#[test]
fn a_project_gives_its_own_crypto_key_and_no_other() {
    let id = |text: &str| CryptoKeyId::parse(text).unwrap();
    let project = Project {
        asp_id: AspId::parse("ASP000000000001").unwrap(),
        access_keys: vec![],
        crypto_keys: vec![
            CryptoKeyRef {
                id: id("CK000000000000000000000000000001"),
            },
            CryptoKeyRef {
                id: id("CK000000000000000000000000000002"),
            },
        ],
        plaintext_allowed: false,
    };
    let second = id("CK000000000000000000000000000002");
    assert_eq!(
        project.crypto_key(&second).map(|key| &key.id),
        Some(&second)
    );
    assert_eq!(
        project.crypto_key(&id("CK000000000000000000000000000009")),
        None
    );
}
