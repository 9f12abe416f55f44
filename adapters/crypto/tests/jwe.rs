//! The JWE code against implementations we did not write: the RFC 7516 Appendix A.1 example,
//! and round trips with Python's `jwcrypto` when it is available (`.ci/run` installs it).

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::jwe::{self, JweDecrypter, JweHeader, RSA_OAEP, RSA_OAEP_256};
use openssl::bn::BigNum;
use openssl::pkey::PKey;
use openssl::rsa::Rsa;
use prepaid_application::ports::{
    ContentEncryption, DecryptError, JweProfile, KeyWrapping, MessageCipher,
};
use prepaid_crypto::{CryptoKeyPair, JoseMessageCipher, generate_rsa_pem};
use prepaid_domain::CryptoKeyId;

/// A client's encryption of a request, written here on `josekit` alone: the service's code is
/// tested against what any client would send.
fn encrypt_to(
    public_pem: &str,
    plaintext: &[u8],
    profile: JweProfile,
) -> Result<String, josekit::JoseError> {
    let mut header = JweHeader::new();
    header.set_content_encryption(profile.content.as_str());
    let encrypter = match profile.key_wrapping {
        KeyWrapping::RsaOaep256 => RSA_OAEP_256.encrypter_from_pem(public_pem)?,
        KeyWrapping::RsaOaep => RSA_OAEP.encrypter_from_pem(public_pem)?,
    };
    jwe::serialize_compact(plaintext, &header, &encrypter)
}

/// A client's decryption of an answer, on `josekit` alone.
fn decrypt_with(private_pem: &str, compact: &str) -> Result<Vec<u8>, josekit::JoseError> {
    let oaep = RSA_OAEP.decrypter_from_pem(private_pem)?;
    let oaep256 = RSA_OAEP_256.decrypter_from_pem(private_pem)?;
    let (plaintext, _) = jwe::deserialize_compact_with_selector(compact, |header| {
        Ok(match header.algorithm() {
            Some("RSA-OAEP-256") => Some(&oaep256 as &dyn JweDecrypter),
            Some("RSA-OAEP") => Some(&oaep as &dyn JweDecrypter),
            _ => None,
        })
    })?;
    Ok(plaintext)
}

const KEY_ID: &str = "0123456789abcdef0123456789abcdef";

struct Keys {
    server_private: String,
    server_public: String,
    client_private: String,
    client_public: String,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let (server_private, server_public) = generate_rsa_pem(2048).unwrap();
        let (client_private, client_public) = generate_rsa_pem(2048).unwrap();
        Keys {
            server_private,
            server_public,
            client_private,
            client_public,
        }
    })
}

fn cipher() -> JoseMessageCipher {
    let keys = keys();
    JoseMessageCipher::new(vec![CryptoKeyPair {
        id: CryptoKeyId::parse(KEY_ID).unwrap(),
        server_private_pem: keys.server_private.clone(),
        client_public_pem: keys.client_public.clone(),
    }])
    .unwrap()
}

fn key_id() -> CryptoKeyId {
    CryptoKeyId::parse(KEY_ID).unwrap()
}

const PROFILES: [JweProfile; 4] = [
    JweProfile {
        key_wrapping: KeyWrapping::RsaOaep256,
        content: ContentEncryption::A128Gcm,
    },
    JweProfile {
        key_wrapping: KeyWrapping::RsaOaep256,
        content: ContentEncryption::A256Gcm,
    },
    JweProfile {
        key_wrapping: KeyWrapping::RsaOaep,
        content: ContentEncryption::A128Gcm,
    },
    JweProfile {
        key_wrapping: KeyWrapping::RsaOaep,
        content: ContentEncryption::A256Gcm,
    },
];

fn big(component: &serde_json::Value) -> BigNum {
    let bytes = URL_SAFE_NO_PAD.decode(component.as_str().unwrap()).unwrap();
    BigNum::from_slice(&bytes).unwrap()
}

#[test]
fn the_rfc_7516_appendix_a1_example_decrypts_to_its_plaintext() {
    let fixture: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/rfc7516-a1.json")).unwrap();
    let jwk = &fixture["jwk"];
    let rsa = Rsa::from_private_components(
        big(&jwk["n"]),
        big(&jwk["e"]),
        big(&jwk["d"]),
        big(&jwk["p"]),
        big(&jwk["q"]),
        big(&jwk["dp"]),
        big(&jwk["dq"]),
        big(&jwk["qi"]),
    )
    .unwrap();
    let private_pem = String::from_utf8(
        PKey::from_rsa(rsa)
            .unwrap()
            .private_key_to_pem_pkcs8()
            .unwrap(),
    )
    .unwrap();
    let cipher = JoseMessageCipher::new(vec![CryptoKeyPair {
        id: key_id(),
        server_private_pem: private_pem,
        client_public_pem: keys().client_public.clone(),
    }])
    .unwrap();

    let message = cipher
        .decrypt(&key_id(), fixture["jwe"].as_str().unwrap())
        .unwrap();

    assert_eq!(
        message.plaintext,
        fixture["plaintext"].as_str().unwrap().as_bytes()
    );
    assert_eq!(message.profile.key_wrapping, KeyWrapping::RsaOaep);
    assert_eq!(message.profile.content, ContentEncryption::A256Gcm);
}

#[test]
fn a_request_encrypted_by_a_client_decrypts_in_every_accepted_profile() {
    for profile in PROFILES {
        let compact = encrypt_to(&keys().server_public, b"{\"serviceId\":\"x\"}", profile).unwrap();
        let message = cipher().decrypt(&key_id(), &compact).unwrap();
        assert_eq!(message.plaintext, b"{\"serviceId\":\"x\"}");
        assert_eq!(message.profile, profile);
    }
}

#[test]
fn a_response_decrypts_with_the_client_private_key_and_not_the_server_one() {
    for profile in PROFILES {
        let compact = cipher()
            .encrypt(&key_id(), b"{\"response\":{}}", profile)
            .unwrap();
        assert_eq!(
            decrypt_with(&keys().client_private, &compact).unwrap(),
            b"{\"response\":{}}"
        );
        assert!(decrypt_with(&keys().server_private, &compact).is_err());
    }
}

fn undecryptable(compact: &str) -> bool {
    matches!(
        cipher().decrypt(&key_id(), compact),
        Err(DecryptError::Undecryptable)
    )
}

fn with_part(compact: &str, index: usize, change: impl Fn(&mut Vec<u8>)) -> String {
    let mut parts: Vec<String> = compact.split('.').map(str::to_owned).collect();
    let mut bytes = URL_SAFE_NO_PAD.decode(&parts[index]).unwrap();
    change(&mut bytes);
    parts[index] = URL_SAFE_NO_PAD.encode(bytes);
    parts.join(".")
}

#[test]
fn tampered_keys_ivs_ciphertexts_and_tags_are_all_the_same_refusal() {
    let compact = encrypt_to(&keys().server_public, b"{\"a\":1}", JweProfile::DEFAULT).unwrap();
    for part in 1..=4 {
        assert!(
            undecryptable(&with_part(&compact, part, |bytes| bytes[0] ^= 1)),
            "part {part}"
        );
    }
    assert!(undecryptable(&with_part(&compact, 0, |header| {
        *header = br#"{"alg":"RSA-OAEP-256","enc":"A128GCM"}"#.to_vec();
    })));
}

#[test]
fn alg_none_dir_other_algorithms_and_compression_are_refused() {
    let compact = encrypt_to(&keys().server_public, b"{\"a\":1}", JweProfile::DEFAULT).unwrap();
    for header in [
        r#"{"alg":"none","enc":"A256GCM"}"#,
        r#"{"alg":"dir","enc":"A256GCM"}"#,
        r#"{"alg":"RSA1_5","enc":"A256GCM"}"#,
        r#"{"alg":"RSA-OAEP-256","enc":"A256CBC-HS512"}"#,
        r#"{"alg":"RSA-OAEP-256","enc":"A256GCM","zip":"DEF"}"#,
    ] {
        let forged = with_part(&compact, 0, |bytes| *bytes = header.as_bytes().to_vec());
        assert!(undecryptable(&forged), "{header}");
    }
    for garbage in ["", "a.b.c", "....", "not a jwe at all", &"A".repeat(5000)] {
        assert!(undecryptable(garbage), "{garbage:.20}");
    }
}

#[test]
fn a_jwe_encrypted_to_another_key_is_refused() {
    let (_, other_public) = generate_rsa_pem(2048).unwrap();
    let compact = encrypt_to(&other_public, b"{}", JweProfile::DEFAULT).unwrap();
    assert!(undecryptable(&compact));
}

#[test]
fn an_unknown_key_id_is_reported_as_such() {
    let other = CryptoKeyId::parse(&"f".repeat(32)).unwrap();
    assert!(matches!(
        cipher().decrypt(&other, "a.b.c.d.e"),
        Err(DecryptError::UnknownKey)
    ));
}

#[test]
fn keys_under_2048_bits_are_refused_at_load() {
    let (small_private, small_public) = generate_rsa_pem(1024).unwrap();
    let pair = |private: &str, public: &str| CryptoKeyPair {
        id: key_id(),
        server_private_pem: private.to_owned(),
        client_public_pem: public.to_owned(),
    };
    for (private, public, what) in [
        (&small_private, &keys().client_public, "server private key"),
        (&keys().server_private, &small_public, "client public key"),
    ] {
        match JoseMessageCipher::new(vec![pair(private, public)]) {
            Err(prepaid_crypto::KeyPairError::TooSmall {
                what: half, bits, ..
            }) => {
                assert_eq!((half, bits), (what, 1024));
            }
            other => panic!("{what} of 1024 bits: {other:?}"),
        }
    }
    assert!(JoseMessageCipher::new(vec![pair("not a pem", &keys().client_public)]).is_err());
    assert!(
        !format!("{:?}", pair(&keys().server_private, &keys().client_public)).contains("PRIVATE")
    );
}

/// Runs `script` with the Python that has `jwcrypto` (`PREPAID_PYTHON`), feeding `input`.
fn python(script: &str, input: &str) -> Option<String> {
    let interpreter = std::env::var("PREPAID_PYTHON")
        .ok()
        .filter(|path| !path.is_empty());
    let Some(interpreter) = interpreter else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but PREPAID_PYTHON (a Python with jwcrypto) is not set"
        );
        // Straight to the terminal, past the test harness's capture: a person reading the run
        // sees that this test did not run.
        let _ = writeln!(
            std::io::stderr(),
            "\n  SKIPPED jwcrypto interoperability: set PREPAID_PYTHON to a Python with jwcrypto\n"
        );
        return None;
    };
    let mut child = Command::new(interpreter)
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "python failed");
    Some(String::from_utf8(output.stdout).unwrap())
}

#[test]
fn jwcrypto_encrypts_requests_we_decrypt_and_decrypts_responses_we_encrypt() {
    let script = r#"
import json, sys
from jwcrypto import jwe, jwk
data = json.load(sys.stdin)
server = jwk.JWK.from_pem(data["server_public"].encode())
client = jwk.JWK.from_pem(data["client_private"].encode())
out = {}
for alg in ["RSA-OAEP-256", "RSA-OAEP"]:
    for enc in ["A128GCM", "A256GCM"]:
        token = jwe.JWE(b'{"from":"jwcrypto"}', json.dumps({"alg": alg, "enc": enc}))
        token.add_recipient(server)
        out[alg + "/" + enc] = token.serialize(compact=True)
plain = []
for response in data["responses"]:
    token = jwe.JWE()
    token.deserialize(response, key=client)
    plain.append(token.payload.decode())
out["responses"] = plain
print(json.dumps(out))
"#;
    let responses: Vec<String> = PROFILES
        .iter()
        .map(|profile| {
            cipher()
                .encrypt(&key_id(), b"{\"from\":\"prepaid\"}", *profile)
                .unwrap()
        })
        .collect();
    let input = serde_json::json!({
        "server_public": keys().server_public,
        "client_private": keys().client_private,
        "responses": responses,
    });
    let Some(output) = python(script, &input.to_string()) else {
        return;
    };
    let output: serde_json::Value = serde_json::from_str(&output).unwrap();

    for (label, compact) in output
        .as_object()
        .unwrap()
        .iter()
        .filter(|(label, _)| label.contains('/'))
    {
        let message = cipher()
            .decrypt(&key_id(), compact.as_str().unwrap())
            .unwrap();
        assert_eq!(message.plaintext, b"{\"from\":\"jwcrypto\"}", "{label}");
    }
    for plain in output["responses"].as_array().unwrap() {
        assert_eq!(plain, "{\"from\":\"prepaid\"}");
    }
}

/// A JWE assembled by hand (RSA-OAEP-256, A256GCM): `wrapped` is the encrypted key part, the
/// content encrypted under `cek` with an IV of `iv_bytes` and its tag cut to `tag_bytes`.
fn handmade(wrapped: &[u8], cek: &[u8; 32], iv_bytes: usize, tag_bytes: usize) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RSA-OAEP-256","enc":"A256GCM"}"#);
    let iv = vec![7_u8; iv_bytes];
    let mut tag = [0_u8; 16];
    let ciphertext = openssl::symm::encrypt_aead(
        openssl::symm::Cipher::aes_256_gcm(),
        cek,
        Some(&iv),
        header.as_bytes(),
        br#"{"a":1}"#,
        &mut tag,
    )
    .unwrap();
    [
        header,
        URL_SAFE_NO_PAD.encode(wrapped),
        URL_SAFE_NO_PAD.encode(&iv),
        URL_SAFE_NO_PAD.encode(&ciphertext),
        URL_SAFE_NO_PAD.encode(&tag[..tag_bytes]),
    ]
    .join(".")
}

/// `cek` wrapped to the server key with RSA-OAEP-256.
fn wrapped_to_server(cek: &[u8]) -> Vec<u8> {
    let public = PKey::public_key_from_pem(keys().server_public.as_bytes()).unwrap();
    let mut encrypter = openssl::encrypt::Encrypter::new(&public).unwrap();
    encrypter
        .set_rsa_padding(openssl::rsa::Padding::PKCS1_OAEP)
        .unwrap();
    encrypter
        .set_rsa_oaep_md(openssl::hash::MessageDigest::sha256())
        .unwrap();
    encrypter
        .set_rsa_mgf1_md(openssl::hash::MessageDigest::sha256())
        .unwrap();
    let mut out = vec![0; encrypter.encrypt_len(cek).unwrap()];
    let length = encrypter.encrypt(cek, &mut out).unwrap();
    out.truncate(length);
    out
}

#[test]
fn a_tag_shorter_than_16_bytes_or_an_iv_other_than_12_is_refused_before_decrypting() {
    let cek = [42_u8; 32];
    let wrapped = wrapped_to_server(&cek);
    let whole = handmade(&wrapped, &cek, 12, 16);
    assert_eq!(
        cipher().decrypt(&key_id(), &whole).unwrap().plaintext,
        br#"{"a":1}"#,
        "the hand-made JWE is valid as it is"
    );
    // AES-GCM checks as many tag bytes as it is given: one byte is a 1-in-256 guess.
    for tag_bytes in [1, 4, 12, 15] {
        assert!(
            undecryptable(&handmade(&wrapped, &cek, 12, tag_bytes)),
            "{tag_bytes}-byte tag"
        );
    }
    // GCM accepts any IV length; the JWE profile fixes 96 bits.
    for iv_bytes in [8, 16] {
        assert!(
            undecryptable(&handmade(&wrapped, &cek, iv_bytes, 16)),
            "{iv_bytes}-byte IV"
        );
    }
}

#[test]
fn a_content_key_that_does_not_unwrap_is_replaced_by_a_random_one_never_a_fixed_one() {
    // Garbage, or a key of the wrong length: the decryption goes on with a random content key
    // (RFC 7516, 11.5). A fixed fallback (zeros, say) would open a JWE made under it.
    let zeros = [0_u8; 32];
    for wrapped in [
        vec![0x5a_u8; 256],
        wrapped_to_server(&[0_u8; 16]),
        wrapped_to_server(&[]),
    ] {
        assert!(undecryptable(&handmade(&wrapped, &zeros, 12, 16)));
    }
}

#[test]
fn keys_of_3072_and_4096_bits_load_and_carry_requests_and_responses() {
    for bits in [3072, 4096] {
        let (server_private, server_public) = generate_rsa_pem(bits).unwrap();
        let (client_private, client_public) = generate_rsa_pem(bits).unwrap();
        let cipher = JoseMessageCipher::new(vec![CryptoKeyPair {
            id: key_id(),
            server_private_pem: server_private,
            client_public_pem: client_public,
        }])
        .unwrap();
        for profile in PROFILES {
            let request = encrypt_to(&server_public, b"{\"a\":1}", profile).unwrap();
            let opened = cipher.decrypt(&key_id(), &request).unwrap();
            assert_eq!(
                (opened.plaintext.as_slice(), opened.profile),
                (&b"{\"a\":1}"[..], profile)
            );
            let response = cipher.encrypt(&key_id(), b"{\"b\":2}", profile).unwrap();
            assert_eq!(
                decrypt_with(&client_private, &response).unwrap(),
                b"{\"b\":2}",
                "{bits}"
            );
        }
    }
}

#[test]
fn a_cipher_holds_its_key_ids_and_shows_nothing_but_them() {
    let cipher = cipher();
    assert!(cipher.holds(&key_id()));
    assert!(!cipher.holds(&CryptoKeyId::parse("ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ").unwrap()));
    let shown = format!("{cipher:?}");
    assert!(
        shown.contains(KEY_ID) && !shown.contains("PRIVATE"),
        "{shown}"
    );
    let pair = CryptoKeyPair {
        id: key_id(),
        server_private_pem: keys().server_private.clone(),
        client_public_pem: keys().client_public.clone(),
    };
    let shown = format!("{pair:?}");
    assert!(
        shown.starts_with("CryptoKeyPair { id: ") && shown.contains("<redacted>"),
        "{shown}"
    );
}
