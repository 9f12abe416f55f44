#![allow(
    missing_docs,
    reason = "criterion's macros generate undocumented functions"
)]

//! criterion benchmarks of the hot pieces of an issuance: header and body parsing, tran-token
//! verification, the replay guard with a full window remembered, JWE decryption and encryption,
//! PAN generation and encryption, CVC derivation.
//! Run: `cargo bench -p prepaid-bootstrap --bench hot_paths`.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use prepaid_application::ports::{
    CardSecrets, CardVerification, Clock, JweProfile, MessageCipher, PanBinding, RandomSource,
    ReplayGuard, TranTokenSigner,
};
use prepaid_crypto::{
    AesGcmCardSecrets, CardVerificationKey, CryptoKeyPair, DEFAULT_CVK_ID, DataKey,
    DesCardVerification, HmacTranTokenSigner, IndexKey, JoseMessageCipher, OsRandom, SystemClock,
    generate_rsa_pem,
};
use prepaid_domain::{
    AccessKey, AspId, Bin, CorrelationId, CryptoKeyId, Expiry, Pan, Par, SecretKey, TimeZone,
    TranTime, TranToken,
};
use prepaid_persistence::InMemoryReplayGuard;
use prepaid_tools::jwe::encrypt_to;

const BODY: &str = r#"{"userInfo":{"userId":1001},"addressInfo":{"address":"서울특별시 강남구 테헤란로 1","addressDetail":"101동 1001호","zipCode":"06236"},"serviceId":"000170000002000","isDeliveryRequired":true}"#;

fn parsing(c: &mut Criterion) {
    c.bench_function("headers: parse the seven X-KM values", |b| {
        b.iter(|| {
            black_box(AspId::parse(black_box("ASPSANDBOX00001")).is_ok());
            black_box(CorrelationId::parse(black_box("261125153000-00a1b2f")).is_ok());
            black_box(
                AccessKey::parse(black_box("AK0000000000000000000000000000000000000A")).is_ok(),
            );
            black_box(CryptoKeyId::parse(black_box("CK000000000000000000000000000001")).is_ok());
            black_box(
                TranToken::parse(black_box(
                    "KMV1:20261125153000250:uLD+mU8mz9K95neGiSJTSsF3zzAQJglCggZAOSs5Fkg",
                ))
                .is_ok(),
            );
            black_box(TranTime::parse(black_box("20261125153000")).is_ok());
            black_box(TimeZone::parse(black_box("KST")).is_ok());
        });
    });
    c.bench_function(
        "body: parse and validate an issue-and-delivery payload",
        |b| {
            b.iter(|| {
                black_box(
                    prepaid_http::parse_issue_delivery_body(black_box(BODY.as_bytes())).is_ok(),
                )
            });
        },
    );
}

fn tokens(c: &mut Criterion) {
    let secret = SecretKey::parse("0123456789abcdef0123456789abcdef0123").unwrap();
    let signature = HmacTranTokenSigner.sign(&secret, BODY.as_bytes());
    c.bench_function("tran token: verify the HMAC of a body", |b| {
        b.iter(|| {
            black_box(HmacTranTokenSigner.verify(&secret, black_box(BODY.as_bytes()), &signature))
        });
    });
}

fn jwe(c: &mut Criterion) {
    let (server_private, server_public) = generate_rsa_pem(2048).unwrap();
    let (_, client_public) = generate_rsa_pem(2048).unwrap();
    let id = CryptoKeyId::parse("CK000000000000000000000000000001").unwrap();
    let cipher = JoseMessageCipher::new(vec![CryptoKeyPair {
        id: id.clone(),
        server_private_pem: server_private,
        client_public_pem: client_public,
    }])
    .unwrap();
    let compact = encrypt_to(&server_public, BODY.as_bytes(), JweProfile::DEFAULT).unwrap();
    c.bench_function("JWE: decrypt a request (RSA-OAEP-256, A256GCM)", |b| {
        b.iter(|| black_box(cipher.decrypt(&id, black_box(&compact)).is_ok()));
    });
    c.bench_function("JWE: encrypt a response (RSA-OAEP-256, A256GCM)", |b| {
        b.iter(|| {
            black_box(
                cipher
                    .encrypt(&id, black_box(BODY.as_bytes()), JweProfile::DEFAULT)
                    .is_ok(),
            )
        });
    });
}

fn cards(c: &mut Criterion) {
    let bin = Bin::parse("943512").unwrap();
    let secrets = AesGcmCardSecrets::new(
        DataKey::from_hex("k1", &"0123456789abcdef".repeat(4)).unwrap(),
        Vec::new(),
        &IndexKey::from_hex(&"00112233445566778899aabbccddeeff".repeat(2)).unwrap(),
    );
    let random = OsRandom;
    c.bench_function(
        "card: generate a PAN and a PAR, encrypt and fingerprint the PAN",
        |b| {
            b.iter(|| {
                let mut draw = || random.next_u64();
                let pan = Pan::generate(&bin, &mut draw);
                let par = Par::generate(&mut draw);
                black_box(secrets.protect(&pan, PanBinding::Par(&par)).is_ok());
                black_box(secrets.fingerprint(&pan));
            });
        },
    );
    let deriver = DesCardVerification::new(
        CardVerificationKey::from_hex("0123456789ABCDEFFEDCBA9876543210").unwrap(),
    );
    let pan = Pan::parse("4111111111111111").unwrap();
    let expiry = Expiry::parse("3111").unwrap();
    c.bench_function("card: derive a CVC (DES, as an HSM computes CVV)", |b| {
        b.iter(|| {
            black_box(
                deriver
                    .derive(DEFAULT_CVK_ID, black_box(&pan), expiry)
                    .is_ok(),
            )
        });
    });
}

/// The in-memory replay guard as it is under a sustained load: the 4 million signatures of a 300 s
/// window at 13,000 requests a second remembered, their expiries spread over the window (16
/// live generations in each shard), and a new token looked up in all of them and added.
fn replay_guard(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let clock = Arc::new(SystemClock);
    let guard = InMemoryReplayGuard::new(clock.clone());
    let asp = AspId::parse("ASPSANDBOX00001").unwrap();
    let correlation = CorrelationId::parse("261130093000-0000001").unwrap();
    let window: i64 = 300_000;
    let remembered: i64 = 4_000_000;
    let now = clock.now();
    runtime.block_on(async {
        for n in 0..remembered {
            let expires_at = now.plus_millis(1_000 + n * window / remembered);
            guard
                .bind(&asp, &format!("AK:{n}"), &correlation, expires_at)
                .await
                .unwrap();
        }
    });
    let expires_at = now.plus_millis(window + 1_000);
    let mut next = remembered;
    c.bench_function(
        "replay guard: first binding of a signature, 4 million remembered",
        |b| {
            b.iter(|| {
                next += 1;
                let token = format!("AK:{next}");
                black_box(
                    runtime
                        .block_on(guard.bind(&asp, &token, &correlation, expires_at))
                        .unwrap(),
                )
            });
        },
    );
}

criterion_group!(benches, parsing, tokens, replay_guard, jwe, cards);
criterion_main!(benches);
