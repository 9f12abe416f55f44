//! A caller of the running service as the sandbox's ASP and as its fulfilment partner.

use std::time::Duration;

use prepaid_application::ports::CardStore as _;
use prepaid_application::ports::Clock as _;
use prepaid_bootstrap::sandbox::{self, ClientCredentials};
use prepaid_crypto::SystemClock;
use prepaid_domain::{AspId, CardApplyNo, CardKind, CardStatus};
use prepaid_persistence::Database;
use prepaid_tools::client::{self, IssueRequest, OpsCall, Outgoing};
use serde_json::Value;

/// Where the sandbox's new cards are delivered.
pub const ADDRESS: client::AddressLines<'static> = client::AddressLines {
    address: "서울특별시 강남구 테헤란로 1",
    detail: "101동 1001호",
    zip_code: "06236",
};

/// Where the service is and who calls it.
pub struct Caller {
    pub credentials: ClientCredentials,
    pub urls: Vec<String>,
}

pub fn code(answer: &Value) -> &str {
    answer["response"]["code"].as_str().unwrap_or_default()
}

pub fn text<'a>(answer: &'a Value, member: &str) -> &'a str {
    answer[member].as_str().unwrap_or_default()
}

/// A printed card, as the sandbox's operator interface shows it.
pub struct Printed {
    pub card_no: String,
    pub expiry: String,
    pub cvc: String,
}

impl Caller {
    /// The instance the `index`-th request goes to.
    pub fn url(&self, index: usize) -> &str {
        &self.urls[index % self.urls.len()]
    }

    pub async fn send_with(
        &self,
        index: usize,
        path: &'static str,
        payload: String,
        id: &str,
        encrypt: bool,
    ) -> Value {
        let outgoing = Outgoing {
            path,
            payload,
            encrypt,
            correlation_id: Some(id.to_owned()),
        };
        client::send(
            &self.credentials,
            self.url(index),
            &outgoing,
            SystemClock.now(),
        )
        .await
        .expect("an answer")
        .body
    }

    pub async fn send(&self, index: usize, path: &'static str, payload: String, id: &str) -> Value {
        self.send_with(index, path, payload, id, false).await
    }

    /// Applies for `product` (delivered when `delivered`) as member 1001.
    pub async fn apply(&self, product: &str, delivered: bool) -> Value {
        let mut request = IssueRequest::mobile_only(sandbox::ACTIVE_MEMBER.to_string(), product);
        if delivered {
            request.delivery = true;
            "서울특별시 강남구 테헤란로 1".clone_into(&mut request.address);
            "101동 1001호".clone_into(&mut request.address_detail);
            "06236".clone_into(&mut request.zip_code);
        }
        let answer = client::issue(&self.credentials, self.url(0), &request, SystemClock.now())
            .await
            .unwrap();
        assert_eq!(code(&answer.body), "000_000", "{}", answer.body);
        answer.body
    }

    /// Cancels application `number` under correlation id `id`, through instance `index`.
    pub async fn cancel(&self, index: usize, number: &str, id: &str) -> Value {
        let payload = serde_json::json!({"cardApplyNo": number, "userId": sandbox::ACTIVE_MEMBER});
        // The correlation id in the body: a retry is the same body, another request another.
        let payload = client::with_nonce(&payload.to_string(), id);
        self.send(index, prepaid_http::CANCEL_APPLICATION_PATH, payload, id)
            .await
    }

    /// Asks card `card` (a PAR or a number) of member 1001 to take `status`, under correlation
    /// id `id`, through instance `index`.
    pub async fn card_state(&self, index: usize, card: &str, status: &str, id: &str) -> Value {
        let payload = client::card_state_payload(&sandbox::ACTIVE_MEMBER.to_string(), card, status);
        // The correlation id in the body: a retry is the same body, another request another.
        let payload = client::with_nonce(&payload, id);
        self.send(index, prepaid_http::CARD_STATE_PATH, payload, id)
            .await
    }

    /// Discards card `par` of member 1001 under correlation id `id`, through instance `index`.
    pub async fn discard(&self, index: usize, par: &str, id: &str) -> Value {
        let payload = client::discard_payload(&sandbox::ACTIVE_MEMBER.to_string(), par);
        let payload = client::with_nonce(&payload, id);
        self.send(index, prepaid_http::DISCARD_CARD_PATH, payload, id)
            .await
    }

    /// Member 1001's cards, restricted to PAR `par` when given.
    pub async fn cards(&self, par: Option<&str>) -> Value {
        let id = client::new_correlation_id(SystemClock.now());
        let payload = client::card_list_payload(&sandbox::ACTIVE_MEMBER.to_string(), par, None);
        let payload = client::with_nonce(&payload, &id);
        self.send(0, prepaid_http::CARD_LIST_PATH, payload, &id)
            .await
    }

    /// Whose card number `card_no` is, asked encrypted through instance `index`.
    pub async fn owner(&self, index: usize, card_no: &str) -> Value {
        let id = client::new_correlation_id(SystemClock.now());
        let payload = client::with_nonce(&client::card_owner_payload(card_no), &id);
        self.send_with(index, prepaid_http::CARD_OWNER_PATH, payload, &id, true)
            .await
    }

    /// The unregistered card inquiry of `card` with CVC `cvc`, encrypted, through `index`.
    pub async fn unregistered(&self, index: usize, card: &Printed, cvc: &str) -> Value {
        let id = client::new_correlation_id(SystemClock.now());
        let payload = client::unregistered_card_payload(&card.card_no, &card.expiry, cvc);
        let payload = client::with_nonce(&payload, &id);
        self.send_with(
            index,
            prepaid_http::UNREGISTERED_CARD_PATH,
            payload,
            &id,
            true,
        )
        .await
    }

    /// Reissues member 1001's lost card `par` (delivered to the sandbox's address) under
    /// correlation id `id` through instance `index`, encrypted both ways.
    pub async fn reissue(&self, index: usize, par: &str, id: &str) -> Value {
        let payload = client::reissue_payload(
            &sandbox::ACTIVE_MEMBER.to_string(),
            par,
            None,
            Some(&ADDRESS),
        );
        let payload = client::with_nonce(&payload, id);
        self.send_with(
            index,
            prepaid_http::REISSUE_DELIVERY_PATH,
            payload,
            id,
            true,
        )
        .await
    }

    /// Applies for the renewal of member 1001's card `card_no` under correlation id `id`
    /// through instance `index`, the request encrypted.
    pub async fn renew(&self, index: usize, card_no: &str, id: &str) -> Value {
        let payload = client::renew_payload(&sandbox::ACTIVE_MEMBER.to_string(), card_no, &ADDRESS);
        let payload = client::with_nonce(&payload, id);
        self.send_with(index, prepaid_http::RENEW_CARD_PATH, payload, id, true)
            .await
    }

    pub async fn pre_issued(&self) -> Value {
        let id = client::new_correlation_id(SystemClock.now());
        let payload = client::pre_issued_payload(&sandbox::ACTIVE_MEMBER.to_string());
        let answer = self
            .send(0, prepaid_http::PRE_ISSUED_CARDS_PATH, payload, &id)
            .await;
        assert_eq!(code(&answer), "000_000", "{answer}");
        answer
    }

    pub async fn delivery(&self, number: &str) -> Value {
        let id = client::new_correlation_id(SystemClock.now());
        let payload = client::delivery_payload(&sandbox::ACTIVE_MEMBER.to_string(), number);
        self.send(0, prepaid_http::DELIVERY_INQUIRY_PATH, payload, &id)
            .await
    }

    /// Registers the printed card under correlation id `id` through instance `index`, naming
    /// application `number` when given, encrypted both ways when `encrypt`.
    pub async fn register(
        &self,
        index: usize,
        (number, card): (Option<&str>, &Printed),
        cvc: &str,
        id: &str,
        encrypt: bool,
    ) -> Value {
        let payload = client::register_payload(
            &sandbox::ACTIVE_MEMBER.to_string(),
            number,
            &card.card_no,
            &card.expiry,
            cvc,
        );
        // The correlation id in the body: a retry is the same body, another request another.
        let payload = client::with_nonce(&payload, id);
        self.send_with(
            index,
            prepaid_http::REGISTER_PHYSICAL_CARD_PATH,
            payload,
            id,
            encrypt,
        )
        .await
    }

    /// The operator interface's answer to `call`, with the sandbox's operator token.
    pub async fn ops(&self, call: &OpsCall) -> Value {
        let token = self
            .credentials
            .operator_token
            .as_deref()
            .expect("the sandbox's operator token");
        let answer = client::ops(self.url(0), token, call).await.unwrap();
        answer.body
    }

    /// Waits until application `number`'s delivery reached `status` (the simulated partner
    /// moves it), and answers its history then.
    pub async fn wait_for(&self, number: &str, status: &str) -> Vec<String> {
        for _ in 0..400 {
            let answer = self.delivery(number).await;
            let history: Vec<String> = answer["statusHistory"]
                .as_array()
                .unwrap_or_else(|| panic!("{answer}"))
                .iter()
                .map(|step| step["status"].as_str().unwrap().to_owned())
                .collect();
            if history.iter().any(|reached| reached == status) {
                return history;
            }
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the delivery of {number} never reached {status}");
    }

    /// The physical card produced for application `number`, as printed.
    pub async fn printed(&self, number: &str) -> Printed {
        let answer = self
            .ops(&OpsCall::PrintedCard {
                card_apply_no: number.to_owned(),
            })
            .await;
        assert_eq!(code(&answer), "000_000", "{answer}");
        assert_eq!(answer["cardStatus"], "INACTIVE", "{answer}");
        Printed {
            card_no: text(&answer, "cardNo").to_owned(),
            expiry: text(&answer, "expiryDate").to_owned(),
            cvc: text(&answer, "cardCvc").to_owned(),
        }
    }
}

/// The cards of application `number` as stored: (kind, status, wrong attempts, linked to the
/// card with this PAR).
pub async fn cards_of(
    db: &Database,
    caller: &Caller,
    number: &str,
) -> Vec<(CardKind, CardStatus, u8, Option<String>)> {
    let asp = AspId::parse(&caller.credentials.asp_id).unwrap();
    let cards = db
        .cards_of_application(&asp, &CardApplyNo::parse(number).unwrap())
        .await
        .unwrap();
    cards
        .iter()
        .map(|card| {
            let linked = card.card.linked_to.as_ref().map(|id| {
                cards
                    .iter()
                    .find(|other| other.card.id == *id)
                    .map(|other| other.card.par.as_str().to_owned())
                    .unwrap_or_default()
            });
            (
                card.card.kind,
                card.card.status,
                card.wrong_attempts,
                linked,
            )
        })
        .collect()
}

/// A delivered application of `product`, once its card is shipped: its answer and the card as
/// printed.
pub async fn shipped(caller: &Caller, product: &str) -> (Value, Printed) {
    let applied = caller.apply(product, true).await;
    let number = text(&applied, "cardApplyNo");
    let history = caller.wait_for(number, "SHIPPING").await;
    assert_eq!(
        history[..4],
        ["READY", "RECEIPT", "PRE_SHIPPING", "SHIPPING"],
        "one step at a time"
    );
    let printed = caller.printed(number).await;
    (applied, printed)
}

/// A pre-issued application whose physical card is registered: the answer of the application
/// and the physical card's number.
pub async fn registered(caller: &Caller) -> (Value, String) {
    let (applied, printed) = shipped(caller, sandbox::PRE_ISSUANCE_PRODUCT).await;
    let number = text(&applied, "cardApplyNo");
    let id = client::new_correlation_id(SystemClock.now());
    let answer = caller
        .register(0, (Some(number), &printed), &printed.cvc, &id, true)
        .await;
    assert_eq!(code(&answer), "000_000", "{answer}");
    (applied, printed.card_no)
}

/// A path's instances, its caller, and a handle on its database.
pub struct Running {
    pub services: Vec<super::Service>,
    pub caller: Caller,
    pub db: Database,
}

/// One instance on a fresh SQLite sandbox in `data_dir`, logging to `log`, with `environment`.
pub fn on_sqlite(
    data_dir: &std::path::Path,
    log: &std::path::Path,
    environment: &[(&str, &str)],
) -> Running {
    let service = super::start_with(data_dir, log, environment);
    let caller = Caller {
        credentials: super::credentials(data_dir),
        urls: vec![service.base_url.clone()],
    };
    Running {
        services: vec![service],
        caller,
        db: super::database(data_dir),
    }
}

/// Two instances on the PostgreSQL database `url`, sharing `data_dir` (the second started once
/// the first is ready, so that it finds the sandbox project), logging to `log`, with
/// `environment` beside the database URL.
pub fn on_postgresql(
    url: &str,
    data_dir: &std::path::Path,
    log: &std::path::Path,
    environment: &[(&str, &str)],
) -> Running {
    let mut all = vec![("PREPAID_DATABASE_URL", url)];
    all.extend_from_slice(environment);
    let first = super::start_with(data_dir, log, &all);
    super::wait_ready(&first);
    let second = super::start_with(data_dir, log, &all);
    let caller = Caller {
        credentials: super::credentials(data_dir),
        urls: vec![first.base_url.clone(), second.base_url.clone()],
    };
    Running {
        services: vec![first, second],
        caller,
        db: super::postgres(url),
    }
}
