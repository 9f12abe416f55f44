//! The operations of the API, each declared once ([`Operation`]) beside the code that runs it
//! ([`Endpoint`]). Adding an operation is a module here: its declaration, its DTOs, the reading
//! of its validated body into a domain request, and the call of its inbound port; then one line
//! in [`OPERATIONS`] and one in [`endpoints`].

mod cancel_application;
mod card_list;
mod card_owner;
mod card_status;
mod delivery_inquiry;
mod discard_card;
mod issue_delivery;
mod login_id_find;
mod password_check;
mod pre_issued_cards;
mod product_inquiry;
mod register_card;
mod reissue_delivery;
mod renew_card;
mod unregister;
mod unregistered_card;
mod user_info;
mod user_info_change;
mod user_registration;

use std::sync::Arc;

use async_trait::async_trait;
use prepaid_domain::{FieldError, Rule};
use serde_json::{Map, Value};

use crate::InboundPorts;
use crate::error::ApiError;
use crate::headers::RequestHeaders;
use crate::metrics::ApiMetrics;
use crate::operation::{Kind, Operation, Text};
use crate::pipeline::error_chain;
use prepaid_application::PortError;

pub use issue_delivery::{OPERATION as ISSUE_DELIVERY, request as issue_delivery_request};
pub use user_registration::{OPERATION as USER_REGISTRATION, command as registration_command};

/// Every operation, in the order the documentation lists them.
pub const OPERATIONS: &[&Operation] = &[
    &issue_delivery::OPERATION,
    &cancel_application::OPERATION,
    &delivery_inquiry::OPERATION,
    &pre_issued_cards::OPERATION,
    &register_card::OPERATION,
    &reissue_delivery::OPERATION,
    &renew_card::OPERATION,
    &card_status::OPERATION,
    &discard_card::OPERATION,
    &card_list::OPERATION,
    &card_owner::OPERATION,
    &unregistered_card::OPERATION,
    &product_inquiry::OPERATION,
    &user_registration::OPERATION,
    &user_info::OPERATION,
    &user_info_change::OPERATION,
    &password_check::OPERATION,
    &login_id_find::OPERATION,
    &unregister::OPERATION,
];

/// What an endpoint is given: the authenticated request with its body validated against the
/// operation's request table.
pub struct Call<'a> {
    /// The request's headers.
    pub headers: &'a RequestHeaders,
    /// The body (plaintext), valid against the request table.
    pub body: &'a Map<String, Value>,
    /// The metrics.
    pub metrics: &'a ApiMetrics,
}

impl Call<'_> {
    /// The request's idempotency key (D14): its correlation id, scoped to its ASP.
    fn idempotency_key(&self) -> prepaid_application::ports::IdempotencyKey {
        prepaid_application::ports::IdempotencyKey {
            asp_id: self.headers.asp_id.clone(),
            correlation_id: self.headers.correlation_id.clone(),
        }
    }
}

impl Call<'_> {
    /// The use case's `result` as the endpoint answers it: a store failure behind an error is
    /// logged (as `what` unavailable), and the answer is counted for `operation`.
    fn answered<T, E: UseCaseError>(
        &self,
        operation: &Operation,
        what: &str,
        result: Result<T, E>,
    ) -> Result<T, ApiError> {
        let result = result.map_err(|error| {
            if let Some(cause) = error.unavailable() {
                tracing::error!(error = %error_chain(cause), "{what} unavailable");
            }
            error.api_error()
        });
        self.metrics
            .use_case_answered(operation.id, result.as_ref().err());
        result
    }
}

/// A use case's error, as an endpoint answers it.
trait UseCaseError {
    /// The code (and field path) answered.
    fn api_error(&self) -> ApiError;
    /// The store failure behind it, if that is what it is.
    fn unavailable(&self) -> Option<&PortError>;
}

/// Implements [`UseCaseError`] for a use case error whose `Unavailable` variant holds the store
/// failure and whose `code()` is the code answered.
macro_rules! use_case_error {
    ($($error:ty),* $(,)?) => {$(
        impl UseCaseError for $error {
            fn api_error(&self) -> ApiError {
                ApiError::new(self.code())
            }
            fn unavailable(&self) -> Option<&PortError> {
                match self {
                    Self::Unavailable(cause) => Some(cause),
                    _ => None,
                }
            }
        }
    )*};
}

use_case_error!(
    prepaid_application::CancelApplicationError,
    prepaid_application::CancelMembershipError,
    prepaid_application::CardLookupError,
    prepaid_application::CardManagementError,
    prepaid_application::ChangeMemberError,
    prepaid_application::DeliveryInquiryError,
    prepaid_application::MemberLookupError,
    prepaid_application::PasswordCheckError,
    prepaid_application::RegisterMemberFailure,
    prepaid_application::PreIssuedCardsError,
    prepaid_application::RegistrationError,
    prepaid_application::ReplaceCardError,
);

impl UseCaseError for prepaid_application::IssueCardError {
    fn api_error(&self) -> ApiError {
        match self.field() {
            Some(field) => ApiError::with_field(self.code(), field),
            None => ApiError::new(self.code()),
        }
    }
    fn unavailable(&self) -> Option<&PortError> {
        match self {
            Self::Unavailable(cause) => Some(cause),
            _ => None,
        }
    }
}

/// A use case that only reads from a store fails only as the store does.
impl UseCaseError for PortError {
    fn api_error(&self) -> ApiError {
        ApiError::new(prepaid_domain::ErrorCode::SystemError)
    }
    fn unavailable(&self) -> Option<&PortError> {
        Some(self)
    }
}

/// The code that runs one operation.
#[async_trait]
pub trait Endpoint: Send + Sync {
    /// Its declaration.
    fn operation(&self) -> &'static Operation;

    /// Runs the use case and answers the success payload: a JSON object whose members go
    /// beside `response`.
    async fn run(&self, call: Call<'_>) -> Result<Vec<u8>, ApiError>;
}

/// The endpoints over `ports`, one per operation of [`OPERATIONS`].
pub fn endpoints(ports: &InboundPorts) -> Vec<Arc<dyn Endpoint>> {
    vec![
        Arc::new(issue_delivery::IssueDelivery(ports.issuance.clone())),
        Arc::new(cancel_application::CancelApplication(ports.cancels.clone())),
        Arc::new(delivery_inquiry::DeliveryInquiryEndpoint(
            ports.deliveries.clone(),
        )),
        Arc::new(pre_issued_cards::PreIssuedCards(ports.pre_issued.clone())),
        Arc::new(register_card::RegisterPhysicalCard(
            ports.registrations.clone(),
        )),
        Arc::new(reissue_delivery::ReissueDelivery(
            ports.replacements.clone(),
        )),
        Arc::new(renew_card::RenewCard(ports.replacements.clone())),
        Arc::new(card_status::ChangeCardState(ports.card_states.clone())),
        Arc::new(discard_card::DiscardCard(ports.discards.clone())),
        Arc::new(card_list::CardList(ports.look_ups.clone())),
        Arc::new(card_owner::CardOwnerInquiry(ports.look_ups.clone())),
        Arc::new(unregistered_card::UnregisteredCardInquiry(
            ports.look_ups.clone(),
        )),
        Arc::new(product_inquiry::ProductInquiry(ports.products.clone())),
        Arc::new(user_registration::RegisterUser(ports.members.clone())),
        Arc::new(user_info::UserInfo(ports.members.clone())),
        Arc::new(user_info_change::ChangeUserInfo(ports.members.clone())),
        Arc::new(password_check::CheckPassword(ports.members.clone())),
        Arc::new(login_id_find::FindLoginId(ports.members.clone())),
        Arc::new(unregister::Unregister(ports.cancellations.clone())),
    ]
}

/// A product id (`serviceId`): 15 letters or digits.
const SERVICE_ID: Kind = Kind::Text(Text {
    min: prepaid_domain::ServiceId::LENGTH,
    max: prepaid_domain::ServiceId::LENGTH,
    pattern: Some("^[A-Za-z0-9]{15}$"),
    values: &[],
    normalized: false,
    check: |text| rule_of(prepaid_domain::ServiceId::parse(text)),
});

/// A member id (`userId`): an integer from 1 to 9999999999999999999, beyond `int64`.
const MEMBER_ID: Kind = Kind::Integer {
    min: prepaid_domain::MemberId::MIN,
    max: prepaid_domain::MemberId::MAX,
    check: |text| rule_of(prepaid_domain::MemberId::parse(text)),
};

/// An application number (`cardApplyNo`): 22 upper-case letters or digits.
const CARD_APPLY_NO: Kind = Kind::Text(Text {
    min: prepaid_domain::CardApplyNo::LENGTH,
    max: prepaid_domain::CardApplyNo::LENGTH,
    pattern: Some("^[0-9A-Z]{22}$"),
    values: &[],
    normalized: false,
    check: |text| rule_of(prepaid_domain::CardApplyNo::parse(text)),
});

/// A PAR (`par`): 27 upper-case letters or digits.
const PAR: Kind = Kind::Text(Text {
    min: prepaid_domain::Par::LENGTH,
    max: prepaid_domain::Par::LENGTH,
    pattern: Some("^[0-9A-Z]{27}$"),
    values: &[],
    normalized: false,
    check: |text| rule_of(prepaid_domain::Par::parse(text)),
});

/// A card number (`cardNo`): 16 digits, Luhn-valid.
const CARD_NO: Kind = Kind::Text(Text {
    min: prepaid_domain::Pan::LENGTH,
    max: prepaid_domain::Pan::LENGTH,
    pattern: Some("^[0-9]{16}$"),
    values: &[],
    normalized: false,
    check: |text| rule_of(prepaid_domain::Pan::parse(text)),
});

/// A product's name (`serviceName`): 1 to 255 characters.
const SERVICE_NAME: Kind = Kind::Text(Text {
    min: 1,
    max: 255,
    pattern: None,
    values: &[],
    normalized: false,
    check: |text| rule_of(prepaid_domain::ProductName::parse(text)),
});

/// A card's state (D20): the shortest `ACTIVE`, the longest `TERMINATED`.
const CARD_STATUSES: [&str; 4] = [
    prepaid_domain::CardStatus::Inactive.as_str(),
    prepaid_domain::CardStatus::Active.as_str(),
    prepaid_domain::CardStatus::Suspended.as_str(),
    prepaid_domain::CardStatus::Terminated.as_str(),
];

/// A card's state, as answered.
const CARD_STATUS: Kind = Kind::Text(Text {
    min: 6,
    max: 10,
    pattern: None,
    values: &CARD_STATUSES,
    normalized: false,
    check: |text| enumeration(text, 6, 10, &CARD_STATUSES),
});

/// A card's expiry, `YYMM`.
const EXPIRY: Kind = Kind::Text(Text {
    min: 4,
    max: 4,
    pattern: Some("^[0-9]{2}(0[1-9]|1[0-2])$"),
    values: &[],
    normalized: false,
    check: |text| rule_of(prepaid_domain::Expiry::parse(text)),
});

/// A card's CVC: 3 digits.
const CVC: Kind = Kind::Text(Text {
    min: 3,
    max: 3,
    pattern: Some("^[0-9]{3}$"),
    values: &[],
    normalized: false,
    check: |text| rule_of(prepaid_domain::Cvc::parse(text)),
});

/// The largest amount the platform answers (`balance`, `pendingAmount`).
const MOST_AMOUNT: u64 = 9_999_999_999;

/// An amount, 0 to 9999999999.
const AMOUNT: Kind = Kind::Integer {
    min: 0,
    max: MOST_AMOUNT,
    check: |text| match text.parse::<u64>() {
        Ok(amount) if amount <= MOST_AMOUNT => Ok(()),
        _ => Err(Rule::Invalid),
    },
};

/// The member id under `name` of a validated object; `path` names it in a refusal.
fn member_id(
    object: &Map<String, Value>,
    name: &str,
    path: &'static str,
) -> Result<prepaid_domain::MemberId, ApiError> {
    match object.get(name) {
        Some(Value::Number(number)) => prepaid_domain::MemberId::parse(&number.to_string())
            .map_err(|error| ApiError::at(error.code(), path)),
        _ => Err(ApiError::at(prepaid_domain::ErrorCode::InvalidInput, path)),
    }
}

/// A value of an enumeration: outside the length range `000_015`, inside it but not one of the
/// values `000_002` (D12).
pub(crate) fn enumeration(
    text: &str,
    min: usize,
    max: usize,
    values: &[&str],
) -> Result<(), prepaid_domain::Rule> {
    let length = text.chars().count();
    if length < min || length > max {
        Err(prepaid_domain::Rule::Length)
    } else if values.contains(&text) {
        Ok(())
    } else {
        Err(prepaid_domain::Rule::Invalid)
    }
}

/// The rule a domain constructor's refusal broke: how a table's check reuses the constructor.
pub fn rule_of<T>(parsed: Result<T, FieldError>) -> Result<(), Rule> {
    parsed.map(drop).map_err(|error| error.rule())
}

/// The text of the string member `name` of a validated object (empty when the table let it be
/// absent; the domain's constructor then refuses it).
fn text<'a>(object: &'a Map<String, Value>, name: &str) -> &'a str {
    object.get(name).and_then(Value::as_str).unwrap_or_default()
}

/// The object member `name` of a validated object.
fn object<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Map<String, Value>> {
    object.get(name).and_then(Value::as_object)
}

/// The success payload of a DTO.
fn payload<T: serde::Serialize>(dto: &T) -> Vec<u8> {
    crate::pipeline::serialize(dto)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use prepaid_application::{
        CancelApplicationError, CardManagementError, DeliveryInquiryError, IssueCardError,
        PreIssuedCardsError, RegistrationError,
    };
    use prepaid_domain::{ErrorCode, IssuanceRefusal};

    use super::*;
    use crate::operation::{Kind, flatten};

    /// What an endpoint makes of `error`: its code and description, and whether it is logged
    /// as a store failure.
    fn seen(error: &dyn UseCaseError) -> (&'static str, String, bool) {
        let api = error.api_error();
        (
            api.code().code(),
            api.description(),
            error.unavailable().is_some(),
        )
    }

    #[test]
    fn a_store_failure_behind_any_use_case_error_is_logged_and_answered_000_099() {
        let down = || PortError::msg("down");
        let failures: [&dyn UseCaseError; 7] = [
            &IssueCardError::Unavailable(down()),
            &CardManagementError::Unavailable(down()),
            &CancelApplicationError::Unavailable(down()),
            &DeliveryInquiryError::Unavailable(down()),
            &PreIssuedCardsError::Unavailable(down()),
            &RegistrationError::Unavailable(down()),
            &down(),
        ];
        for failure in failures {
            let (code, _, logged) = seen(failure);
            assert_eq!(code, "000_099");
            assert!(logged);
        }
    }

    #[test]
    fn a_refusal_is_answered_with_its_code_and_path_and_never_logged_as_a_failure() {
        assert_eq!(
            seen(&IssueCardError::Refused(IssuanceRefusal::UnknownProduct)),
            (
                "000_002",
                "Invalid input parameter. serviceId".to_owned(),
                false
            )
        );
        assert_eq!(
            seen(&IssueCardError::CorrelationConflict),
            (
                "000_094",
                ErrorCode::CorrelationIdConflict.message().to_owned(),
                false
            )
        );
        let refusals: [&dyn UseCaseError; 4] = [
            &CancelApplicationError::NotFound,
            &DeliveryInquiryError::NotFound,
            &PreIssuedCardsError::NotAMember,
            &RegistrationError::NotAMember,
        ];
        for (refusal, code) in refusals
            .into_iter()
            .zip(["003_013", "003_001", "001_006", "001_006"])
        {
            assert_eq!(seen(refusal).0, code);
            assert!(!seen(refusal).2);
        }
    }

    fn every_text_check() -> Vec<(&'static str, &'static crate::operation::Text)> {
        let mut checks = Vec::new();
        for operation in OPERATIONS {
            for member in flatten(operation.request)
                .into_iter()
                .chain(flatten(operation.response))
            {
                let mut kind = &member.kind;
                if let Kind::List { item, .. } = kind {
                    kind = item;
                }
                if let Kind::Text(text) = kind {
                    checks.push((member.path, text));
                }
            }
        }
        checks
    }

    #[test]
    fn every_documented_length_is_the_length_its_check_enforces() {
        for (path, text) in every_text_check() {
            assert_eq!(
                (text.check)(&"9".repeat(text.max + 1)),
                Err(Rule::Length),
                "{path}: one over the documented maximum"
            );
            assert_eq!(
                (text.check)(&"9".repeat(text.min.saturating_sub(1))),
                Err(Rule::Length),
                "{path}: one under the documented minimum"
            );
            for length in [text.min, text.max] {
                assert_ne!(
                    (text.check)(&"9".repeat(length)),
                    Err(Rule::Length),
                    "{path}: {length} characters are within the documented length"
                );
            }
        }
    }

    #[test]
    fn every_documented_value_of_an_enumeration_is_accepted() {
        for (path, text) in every_text_check() {
            for value in text.values {
                assert_eq!((text.check)(value), Ok(()), "{path}: {value}");
            }
        }
    }

    #[test]
    fn every_scenario_is_json_and_every_success_payload_fits_its_response_table() {
        for operation in OPERATIONS {
            for scenario in operation.scenarios {
                let request: Value = serde_json::from_str(scenario.request).unwrap();
                assert!(request.is_object(), "{} {}", operation.id, scenario.name);
                assert_eq!(
                    scenario.payload.is_some(),
                    scenario.code == prepaid_domain::ErrorCode::Success,
                    "{} {}: a payload exactly for a success",
                    operation.id,
                    scenario.name
                );
                if let Some(payload) = scenario.payload {
                    let payload: Value = serde_json::from_str(payload).unwrap();
                    let valid = crate::operation::validate(
                        operation.response,
                        payload.as_object().unwrap(),
                    );
                    assert!(
                        valid.is_ok(),
                        "{} {}: {:?}",
                        operation.id,
                        scenario.name,
                        valid.err().map(|refusal| refusal.error.description())
                    );
                }
            }
        }
    }

    #[test]
    fn operations_have_distinct_ids_and_paths_and_one_endpoint_each() {
        let ids: HashSet<_> = OPERATIONS.iter().map(|operation| operation.id).collect();
        let paths: HashSet<_> = OPERATIONS.iter().map(|operation| operation.path).collect();
        assert_eq!(ids.len(), OPERATIONS.len());
        assert_eq!(paths.len(), OPERATIONS.len());
    }
}
