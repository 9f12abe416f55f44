//! The client command: sends a real, signed (and on request encrypted) request with the
//! sandbox credentials, and decrypts the answer. What an integrator's code would do.

use prepaid_application::ports::{JweProfile, RandomSource, TranTokenSigner};
use prepaid_bootstrap::sandbox::ClientCredentials;
use prepaid_crypto::{HmacTranTokenSigner, OsRandom};
use prepaid_domain::{CorrelationId, SecretKey, TimeZone, Timestamp, TranToken};
use serde_json::{Value, json};

use crate::jwe::{decrypt_with, encrypt_to};

/// The client failed before getting an answer.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The credentials file is unusable.
    #[error("credentials: {0}")]
    Credentials(String),
    /// The request could not be sent or the answer read.
    #[error("HTTP: {0}")]
    Http(String),
    /// The answer could not be decrypted.
    #[error("answer: {0}")]
    Answer(String),
}

/// What to ask for.
#[derive(Clone, Debug)]
pub struct IssueRequest {
    /// `userInfo.userId` (raw JSON number text is allowed, to try invalid values).
    pub member: String,
    /// `serviceId`.
    pub service_id: String,
    /// `isDeliveryRequired`.
    pub delivery: bool,
    /// `addressInfo.address`.
    pub address: String,
    /// `addressInfo.addressDetail`.
    pub address_detail: String,
    /// `addressInfo.zipCode`.
    pub zip_code: String,
    /// `purpose`.
    pub purpose: Option<String>,
    /// Encrypt the body (D5).
    pub encrypt: bool,
    /// Use this correlation id instead of a fresh one (to try retries).
    pub correlation_id: Option<String>,
}

impl IssueRequest {
    /// A mobile card only (no delivery, no address), plaintext, with a fresh correlation id.
    pub fn mobile_only(member: impl Into<String>, service_id: impl Into<String>) -> Self {
        Self {
            member: member.into(),
            service_id: service_id.into(),
            delivery: false,
            address: String::new(),
            address_detail: String::new(),
            zip_code: String::new(),
            purpose: None,
            encrypt: false,
            correlation_id: None,
        }
    }
}

/// What came back.
#[derive(Clone, Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// `X-KM-Correlation-Id`.
    pub correlation_id: Option<String>,
    /// Whether the body was encrypted.
    pub encrypted: bool,
    /// The (decrypted) JSON body.
    pub body: Value,
}

/// The JSON payload of a card product inquiry for `ids`.
pub fn products_payload(ids: &[String]) -> String {
    json!({ "serviceIdList": ids }).to_string()
}

/// The JSON payload of a delivery status inquiry of `member`'s application `card_apply_no`.
pub fn delivery_payload(member: &str, card_apply_no: &str) -> String {
    json!({ "userId": member_value(member), "cardApplyNo": card_apply_no }).to_string()
}

/// The JSON payload of the cancellation of `member`'s application `card_apply_no`.
pub fn cancel_payload(member: &str, card_apply_no: &str) -> String {
    json!({ "cardApplyNo": card_apply_no, "userId": member_value(member) }).to_string()
}

/// The JSON payload of `member`'s change of card `card` (a PAR of 27 characters, or else a card
/// number) to `status` (`SUSPEND` or `RESUME`).
pub fn card_state_payload(member: &str, card: &str, status: &str) -> String {
    let named = if card.len() == 27 { "par" } else { "cardNo" };
    json!({ "userId": member_value(member), named: card, "status": status }).to_string()
}

/// The JSON payload of the search for `member`'s cards, restricted to the card with PAR `par`
/// or with linked physical card `physical_card_no` when given.
pub fn card_list_payload(
    member: &str,
    par: Option<&str>,
    physical_card_no: Option<&str>,
) -> String {
    let mut body = json!({ "userId": member_value(member) });
    if let Some(par) = par {
        body["par"] = json!(par);
    }
    if let Some(number) = physical_card_no {
        body["physicalCardNo"] = json!(number);
    }
    body.to_string()
}

/// The JSON payload of the card-user mapped inquiry of card number `card_no`.
pub fn card_owner_payload(card_no: &str) -> String {
    json!({ "cardNo": card_no }).to_string()
}

/// The JSON payload of the unregistered card inquiry of printed card `card_no` (expiry `YYMM`
/// and CVC as printed).
pub fn unregistered_card_payload(card_no: &str, expiry: &str, cvc: &str) -> String {
    json!({ "cardNo": card_no, "expiryDate": expiry, "cardCVC": cvc }).to_string()
}

/// Where a new physical card is delivered (`addressInfo`).
#[derive(Clone, Copy, Debug)]
pub struct AddressLines<'a> {
    /// `address`.
    pub address: &'a str,
    /// `addressDetail`.
    pub detail: &'a str,
    /// `zipCode`.
    pub zip_code: &'a str,
}

impl AddressLines<'_> {
    fn json(&self) -> Value {
        json!({"address": self.address, "addressDetail": self.detail, "zipCode": self.zip_code})
    }
}

/// The JSON payload of `member`'s reissue of the lost card with PAR `par`, of product `next`
/// (the lost card's when `None`), delivered to `delivery` (a mobile card only when `None`).
pub fn reissue_payload(
    member: &str,
    par: &str,
    next: Option<&str>,
    delivery: Option<&AddressLines<'_>>,
) -> String {
    let mut body = json!({
        "userInfo": {"userId": member_value(member)},
        "cardInfo": {"par": par},
        "isDeliveryRequired": delivery.is_some(),
    });
    if let Some(next) = next {
        body["nextServiceId"] = json!(next);
    }
    if let Some(address) = delivery {
        body["addressInfo"] = address.json();
    }
    body.to_string()
}

/// The JSON payload of `member`'s renewal of card `card_no`, delivered to `address`.
pub fn renew_payload(member: &str, card_no: &str, address: &AddressLines<'_>) -> String {
    json!({
        "userInfo": {"userId": member_value(member)},
        "cardInfo": {"oldCardNo": card_no},
        "addressInfo": address.json(),
    })
    .to_string()
}

/// The JSON payload of `member`'s discard of the card with PAR `par`.
pub fn discard_payload(member: &str, par: &str) -> String {
    json!({ "userId": member_value(member), "par": par }).to_string()
}

/// The JSON payload of the list of `member`'s pre-issued cards awaiting a physical card.
pub fn pre_issued_payload(member: &str) -> String {
    json!({ "userId": member_value(member) }).to_string()
}

/// The JSON payload of `member`'s registration of the physical card `card_no` (printed expiry
/// `expiry`, `YYMM`, and CVC `cvc`), naming application `card_apply_no` when given.
pub fn register_payload(
    member: &str,
    card_apply_no: Option<&str>,
    card_no: &str,
    expiry: &str,
    cvc: &str,
) -> String {
    let mut body = json!({
        "userId": member_value(member),
        "physicalCardNo": card_no,
        "physicalCardExpDate": expiry,
        "physicalCardCVC": cvc,
    });
    if let Some(number) = card_apply_no {
        body["cardApplyNo"] = Value::String(number.to_owned());
    }
    body.to_string()
}

/// A call of the operator interface (`/ops/v1`), for the fulfilment partner.
#[derive(Clone, Debug)]
pub enum OpsCall {
    /// The deliveries in progress, at most `limit` (the service's default when `None`).
    Deliveries {
        /// How many at most.
        limit: Option<usize>,
    },
    /// A delivery reached `status`.
    Report {
        /// The application whose delivery moved.
        card_apply_no: String,
        /// The status it reached.
        status: String,
    },
    /// A lost or returned delivery sent again.
    Redeliver {
        /// The application whose delivery is sent again.
        card_apply_no: String,
    },
    /// The physical card produced for the application, as printed (sandbox only).
    PrintedCard {
        /// The application.
        card_apply_no: String,
    },
}

/// Sends `call` to the operator interface of `base_url` with the bearer `token`.
///
/// # Errors
/// [`ClientError`] when the request cannot be sent or the answer not read.
pub async fn ops(base_url: &str, token: &str, call: &OpsCall) -> Result<Answer, ClientError> {
    let client = awc::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .finish();
    let ops = format!("{base_url}{}", prepaid_http::OPS_PATH);
    let request = match call {
        OpsCall::Deliveries { limit } => client.get(match limit {
            Some(limit) => format!("{ops}/deliveries?limit={limit}"),
            None => format!("{ops}/deliveries"),
        }),
        OpsCall::Report { card_apply_no, .. } => {
            client.post(format!("{ops}/deliveries/{card_apply_no}/status"))
        }
        OpsCall::Redeliver { card_apply_no } => {
            client.post(format!("{ops}/deliveries/{card_apply_no}/redelivery"))
        }
        OpsCall::PrintedCard { card_apply_no } => {
            client.get(format!("{ops}/deliveries/{card_apply_no}/printed-card"))
        }
    }
    .insert_header(("Authorization", format!("Bearer {token}")));
    let sent = match call {
        OpsCall::Report { status, .. } => {
            request
                .insert_header(("Content-Type", "application/json"))
                .send_body(json!({ "status": status }).to_string())
                .await
        }
        OpsCall::Redeliver { .. } => request.send_body("{}").await,
        OpsCall::Deliveries { .. } | OpsCall::PrintedCard { .. } => request.send().await,
    };
    let mut response = sent.map_err(|error| ClientError::Http(error.to_string()))?;
    let status = response.status().as_u16();
    let bytes = response
        .body()
        .limit(4 * 1024 * 1024)
        .await
        .map_err(|error| ClientError::Http(error.to_string()))?;
    Ok(Answer {
        status,
        correlation_id: None,
        encrypted: false,
        body: serde_json::from_slice(&bytes)
            .map_err(|error| ClientError::Answer(error.to_string()))?,
    })
}

/// A member id as sent: a JSON number when it reads as one, otherwise the text as it is (so
/// that the service's answer to a malformed id can be tried).
fn member_value(member: &str) -> Value {
    serde_json::from_str(member).unwrap_or_else(|_| Value::String(member.to_owned()))
}

/// The JSON payload of `request`.
pub fn payload(request: &IssueRequest) -> String {
    let mut body = serde_json::Map::new();
    body.insert(
        "userInfo".into(),
        json!({"userId": member_value(&request.member)}),
    );
    if request.delivery {
        body.insert(
            "addressInfo".into(),
            json!({"address": request.address, "addressDetail": request.address_detail, "zipCode": request.zip_code}),
        );
    }
    body.insert("serviceId".into(), json!(request.service_id));
    body.insert("isDeliveryRequired".into(), json!(request.delivery));
    if let Some(purpose) = &request.purpose {
        body.insert("purpose".into(), json!(purpose));
    }
    Value::Object(body).to_string()
}

/// `payload` with a `clientNonce` member holding `correlation_id`. The tran token signs the body
/// only, and a signature belongs to one correlation id (docs/API.md, "Replays"): two requests
/// with identical bodies would be one signature, and the second refused. The service ignores
/// the member (unknown members are ignored, and are not part of the retry fingerprint), so a
/// retry with the same correlation id is the same body and still answers the first outcome.
pub fn with_nonce(payload: &str, correlation_id: &str) -> String {
    let mut body: Value = serde_json::from_str(payload).unwrap_or_else(|_| json!({}));
    if let Some(members) = body.as_object_mut() {
        members.insert("clientNonce".into(), json!(correlation_id));
    }
    body.to_string()
}

/// A fresh correlation id for `now`: the time to the second and a 28-bit serial. The serials of
/// one process follow one another from a random start, so no two of its ids are alike (before
/// 2²⁸ of them); drawn at random each time, two of a thousand sent in one second would share an
/// id about once in 500 seconds, and the second request would be answered as a retry of the
/// first.
pub fn new_correlation_id(now: Timestamp) -> String {
    static NEXT: std::sync::OnceLock<std::sync::atomic::AtomicU32> = std::sync::OnceLock::new();
    let next = NEXT.get_or_init(|| {
        std::sync::atomic::AtomicU32::new(u32::try_from(OsRandom.next_u64() >> 32).unwrap_or(0))
    });
    let serial = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) & 0x0fff_ffff;
    now.civil(TimeZone::Kst)
        .and_then(|civil| CorrelationId::compose(civil, serial))
        .map(|id| id.as_str().to_owned())
        .unwrap_or_default()
}

/// The headers of a signed request with `body`, sent at `now`.
pub fn signed_headers(
    credentials: &ClientCredentials,
    body: &[u8],
    now: Timestamp,
    correlation_id: &str,
    encrypted: bool,
) -> Result<Vec<(&'static str, String)>, ClientError> {
    let secret = SecretKey::parse(&credentials.secret_key)
        .map_err(|error| ClientError::Credentials(error.to_string()))?;
    let civil = now
        .civil(TimeZone::Kst)
        .ok_or_else(|| ClientError::Credentials("clock out of range".into()))?;
    let signature = HmacTranTokenSigner.sign(&secret, body);
    let mut headers = vec![
        ("X-KM-User-AspId", credentials.asp_id.clone()),
        ("X-KM-Correlation-Id", correlation_id.to_owned()),
        ("X-KM-Access-Key", credentials.access_key.clone()),
        ("X-KM-Tran-Token", TranToken::compose(civil, &signature)),
        ("X-KM-Tran-Time", civil.to_digits14()),
        ("X-KM-Time-Zone", "KST".to_owned()),
        ("Content-Type", "application/json".to_owned()),
    ];
    if encrypted {
        headers.push(("X-KM-Crypto-Key-Id", credentials.crypto_key_id.clone()));
    }
    Ok(headers)
}

/// Sends an issue-and-delivery request to `base_url` and reads the answer.
///
/// # Errors
/// [`ClientError`] when the request cannot be built or sent, or the answer not read.
pub async fn issue(
    credentials: &ClientCredentials,
    base_url: &str,
    request: &IssueRequest,
    now: Timestamp,
) -> Result<Answer, ClientError> {
    let call = Outgoing {
        path: prepaid_http::ISSUE_DELIVERY_PATH,
        payload: payload(request),
        encrypt: request.encrypt,
        correlation_id: request.correlation_id.clone(),
    };
    send(credentials, base_url, &call, now).await
}

/// A request for any operation.
#[derive(Clone, Debug)]
pub struct Outgoing {
    /// The operation's path.
    pub path: &'static str,
    /// Its JSON body (plaintext).
    pub payload: String,
    /// Encrypt the body (D5).
    pub encrypt: bool,
    /// Use this correlation id instead of a fresh one (to try retries).
    pub correlation_id: Option<String>,
}

/// Sends `call` to `base_url`, signed (and encrypted when asked), and reads the answer,
/// decrypting it when it is encrypted.
///
/// # Errors
/// [`ClientError`] when the request cannot be built or sent, or the answer not read.
pub async fn send(
    credentials: &ClientCredentials,
    base_url: &str,
    call: &Outgoing,
    now: Timestamp,
) -> Result<Answer, ClientError> {
    let correlation_id = call
        .correlation_id
        .clone()
        .unwrap_or_else(|| new_correlation_id(now));
    let plaintext = with_nonce(&call.payload, &correlation_id);
    let body = if call.encrypt {
        let compact = encrypt_to(
            &credentials.server_public_key_pem,
            plaintext.as_bytes(),
            JweProfile::DEFAULT,
        )
        .map_err(|error| ClientError::Credentials(error.to_string()))?;
        json!({"encData": compact}).to_string()
    } else {
        plaintext
    };
    let headers = signed_headers(
        credentials,
        body.as_bytes(),
        now,
        &correlation_id,
        call.encrypt,
    )?;
    let client = awc::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .finish();
    let mut outgoing = client.post(format!("{base_url}{}", call.path));
    for (name, value) in headers {
        outgoing = outgoing.insert_header((name, value));
    }
    let mut response = outgoing
        .send_body(body)
        .await
        .map_err(|error| ClientError::Http(error.to_string()))?;
    let status = response.status().as_u16();
    let correlation_id = response
        .headers()
        .get("X-KM-Correlation-Id")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let bytes = response
        .body()
        .limit(1024 * 1024)
        .await
        .map_err(|error| ClientError::Http(error.to_string()))?;
    let json: Value =
        serde_json::from_slice(&bytes).map_err(|error| ClientError::Answer(error.to_string()))?;
    let (encrypted, body) = match json.get("encData").and_then(Value::as_str) {
        Some(compact) => {
            let plain = decrypt_with(&credentials.client_private_key_pem, compact)
                .map_err(|error| ClientError::Answer(error.to_string()))?;
            (
                true,
                serde_json::from_slice(&plain)
                    .map_err(|error| ClientError::Answer(error.to_string()))?,
            )
        }
        None => (false, json),
    };
    Ok(Answer {
        status,
        correlation_id,
        encrypted,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_requests_with_one_payload_have_different_bodies_and_a_retry_the_same_body() {
        let request = IssueRequest::mobile_only("1001", "000170000003000");
        let payload = payload(&request);
        let first = with_nonce(&payload, "261130093000-0000001");
        assert_ne!(first, with_nonce(&payload, "261130093000-0000002"));
        assert_eq!(first, with_nonce(&payload, "261130093000-0000001"));
        let parsed: Value = serde_json::from_str(&first).unwrap();
        assert_eq!(parsed["clientNonce"], "261130093000-0000001");
        assert_eq!(parsed["serviceId"], "000170000003000");
    }

    #[test]
    fn a_delivery_inquiry_sends_the_member_as_a_number_when_it_is_one() {
        let sent: Value =
            serde_json::from_str(&delivery_payload("1001", "20261124003000000DLVRY")).unwrap();
        assert_eq!(
            sent,
            json!({"userId": 1001, "cardApplyNo": "20261124003000000DLVRY"})
        );
        let sent: Value = serde_json::from_str(&delivery_payload("x1", "N")).unwrap();
        assert_eq!(sent["userId"], "x1");
    }

    #[test]
    fn a_cancel_names_the_application_and_the_member() {
        let sent: Value =
            serde_json::from_str(&cancel_payload("1001", "20261124003000000DLVRY")).unwrap();
        assert_eq!(
            sent,
            json!({"cardApplyNo": "20261124003000000DLVRY", "userId": 1001})
        );
    }

    #[test]
    fn a_reissue_and_a_renewal_carry_their_card_product_and_address() {
        let address = AddressLines {
            address: "서울특별시 강남구 테헤란로 1",
            detail: "101동 1001호",
            zip_code: "06236",
        };
        let par = "Q1AB2CD3EF4GH5IJ6KL7MN8OP9Q";
        let sent: Value = serde_json::from_str(&reissue_payload(
            "1001",
            par,
            Some("000170000002000"),
            Some(&address),
        ))
        .unwrap();
        assert_eq!(
            sent,
            json!({
                "userInfo": {"userId": 1001},
                "cardInfo": {"par": par},
                "nextServiceId": "000170000002000",
                "isDeliveryRequired": true,
                "addressInfo": {"address": "서울특별시 강남구 테헤란로 1", "addressDetail": "101동 1001호", "zipCode": "06236"},
            })
        );
        let sent: Value = serde_json::from_str(&reissue_payload("1001", par, None, None)).unwrap();
        assert_eq!(
            sent,
            json!({"userInfo": {"userId": 1001}, "cardInfo": {"par": par}, "isDeliveryRequired": false})
        );
        let sent: Value =
            serde_json::from_str(&renew_payload("1001", "9435120001234568", &address)).unwrap();
        assert_eq!(sent["cardInfo"], json!({"oldCardNo": "9435120001234568"}));
        assert_eq!(sent["addressInfo"]["zipCode"], "06236");
        assert_eq!(sent["userInfo"]["userId"], 1001);
    }

    #[test]
    fn a_card_state_names_the_card_by_par_or_by_number_and_a_discard_by_par() {
        let par = "Q1AB2CD3EF4GH5IJ6KL7MN8OP9Q";
        let sent: Value =
            serde_json::from_str(&card_state_payload("1001", par, "SUSPEND")).unwrap();
        assert_eq!(
            sent,
            json!({"userId": 1001, "par": par, "status": "SUSPEND"})
        );
        let sent: Value =
            serde_json::from_str(&card_state_payload("1001", "9435120001234568", "RESUME"))
                .unwrap();
        assert_eq!(
            sent,
            json!({"userId": 1001, "cardNo": "9435120001234568", "status": "RESUME"})
        );
        let sent: Value = serde_json::from_str(&discard_payload("1001", par)).unwrap();
        assert_eq!(sent, json!({"userId": 1001, "par": par}));
    }

    #[test]
    fn the_look_ups_send_only_what_they_are_given() {
        let sent: Value = serde_json::from_str(&card_list_payload("1001", None, None)).unwrap();
        assert_eq!(sent, json!({"userId": 1001}));
        let sent: Value = serde_json::from_str(&card_list_payload(
            "1001",
            Some("Q1AB2CD3EF4GH5IJ6KL7MN8OP9Q"),
            Some("9435120001234568"),
        ))
        .unwrap();
        assert_eq!(
            sent,
            json!({"userId": 1001, "par": "Q1AB2CD3EF4GH5IJ6KL7MN8OP9Q", "physicalCardNo": "9435120001234568"})
        );
        let sent: Value = serde_json::from_str(&card_owner_payload("9435120001234568")).unwrap();
        assert_eq!(sent, json!({"cardNo": "9435120001234568"}));
        let sent: Value = serde_json::from_str(&unregistered_card_payload(
            "9435120001234568",
            "3111",
            "123",
        ))
        .unwrap();
        assert_eq!(
            sent,
            json!({"cardNo": "9435120001234568", "expiryDate": "3111", "cardCVC": "123"})
        );
    }

    #[test]
    fn a_registration_names_the_application_only_when_given() {
        let sent: Value = serde_json::from_str(&register_payload(
            "1001",
            Some("2611300300000000000001"),
            "9435120001234568",
            "3111",
            "123",
        ))
        .unwrap();
        assert_eq!(
            sent,
            json!({
                "userId": 1001,
                "cardApplyNo": "2611300300000000000001",
                "physicalCardNo": "9435120001234568",
                "physicalCardExpDate": "3111",
                "physicalCardCVC": "123",
            })
        );
        let sent: Value = serde_json::from_str(&register_payload(
            "1001",
            None,
            "9435120001234568",
            "3111",
            "123",
        ))
        .unwrap();
        assert!(sent.get("cardApplyNo").is_none());
    }

    #[test]
    fn correlation_ids_made_in_one_second_by_one_process_are_all_distinct() {
        let now = Timestamp::from_millis(1_795_588_200_000);
        let ids: std::collections::HashSet<String> =
            (0..200_000).map(|_| new_correlation_id(now)).collect();
        assert_eq!(ids.len(), 200_000);
        assert!(ids.iter().all(|id| CorrelationId::parse(id).is_ok()));
    }
}
