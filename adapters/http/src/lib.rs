#![doc = include_str!("../README.md")]

mod body;
mod docs;
mod dto;
mod error;
mod headers;
mod metrics;
mod openapi;
mod operation;
mod operations;
mod ops;
mod pipeline;
mod server;

use std::sync::Arc;

use prepaid_application::ports::MessageCipher;
use prepaid_application::{
    AuthenticateRequests, CancelApplications, CancelMemberships, ChangeCardStates, DiscardCards,
    InquireDeliveries, InquireProducts, IssueCards, ListPreIssuedCards, LookUpCards, ManageMembers,
    Readiness, RegisterPhysicalCards, ReplaceCards,
};

pub use docs::TryIt;
pub use error::ApiError;
pub use headers::names as header_names;
pub use metrics::ApiMetrics;
pub use openapi::{api_error_tables, document as openapi_document};
pub use operation::{
    COMMON_CODES, Check, Kind, Member, Operation, Prepare, Presence, Reference, Scenario, Text,
};
pub use operations::OPERATIONS;
pub use ops::{OPS_PATH, OpsPorts};
pub use server::{configure, serve};

/// The path of the issue-and-delivery API under a base path.
pub const ISSUE_DELIVERY_PATH: &str = "/api/v1/prepay-card/issue/delivery";

/// The path of the card product inquiry under a base path.
pub const PRODUCT_INQUIRY_PATH: &str = "/api/v1/service/info/list";

/// The path of the cancellation of a card application under a base path.
pub const CANCEL_APPLICATION_PATH: &str = "/api/v1/card/delivery/cancel";

/// The path of the pre-issued cards awaiting a physical card under a base path.
pub const PRE_ISSUED_CARDS_PATH: &str = "/api/v1/issued-cards/pre-issue/waiting/physical";

/// The path of the delivery status inquiry under a base path.
pub const DELIVERY_INQUIRY_PATH: &str = "/api/v1/card/delivery/inquiry";

/// The path of the physical card registration under a base path.
pub const REGISTER_PHYSICAL_CARD_PATH: &str = "/api/v1/prepay-card/physical/register";

/// The path of the reissue of a lost card under a base path.
pub const REISSUE_DELIVERY_PATH: &str = "/api/v1/prepay-card/reissue/delivery";

/// The path of the renewal of an expiring card under a base path.
pub const RENEW_CARD_PATH: &str = "/api/v1/prepay-card/expired/reissue";

/// The path of the modification of a card's state under a base path.
pub const CARD_STATE_PATH: &str = "/api/v1/card/status";

/// The path of the discard of a card under a base path.
pub const DISCARD_CARD_PATH: &str = "/api/v1/card/terminate";

/// The path of the search for a member's cards under a base path.
pub const CARD_LIST_PATH: &str = "/api/v1/user/card/list";

/// The path of the card-user mapped inquiry under a base path.
pub const CARD_OWNER_PATH: &str = "/api/v1/user/card/info";

/// The path of the unregistered card inquiry under a base path.
pub const UNREGISTERED_CARD_PATH: &str = "/api/v1/unregister/card/info";

/// The path of "User Register".
pub const USER_REGISTRATION_PATH: &str = "/api/v1/user/registration";

/// The path of "Search for Member Information".
pub const USER_INFO_PATH: &str = "/api/v1/user/info";

/// The path of "Member Information Change".
pub const USER_INFO_CHANGE_PATH: &str = "/api/v1/user/info/change";

/// The path of "Membership Cancellation".
pub const UNREGISTER_PATH: &str = "/api/v1/user/unregister";

/// The path of "Member password verify".
pub const PASSWORD_CHECK_PATH: &str = "/api/v1/user/password/check";

/// The path of "Checking Log in ID".
pub const LOGIN_ID_FIND_PATH: &str = "/api/v1/user/loginId/find";

/// Parses an issue-and-delivery body (plaintext JSON) as the pipeline does: the JSON object,
/// its table, then the domain request. For benchmarks and tools.
///
/// # Errors
/// The first problem, as the API would answer it (an unknown product is not looked up).
pub fn parse_issue_delivery_body(
    bytes: &[u8],
) -> Result<prepaid_domain::IssuanceRequest, ApiError> {
    let body = body::json_object(bytes)?;
    operation::validate(operations::ISSUE_DELIVERY.request, &body)
        .map_err(|refusal| refusal.error)?;
    operations::issue_delivery_request(&body)
}

/// Parses a sign-up body (plaintext JSON, as `/api/v1/user/registration` takes it once
/// decrypted) as the pipeline does: the JSON object, its table, then the command under `key`.
/// For the operators' `admin add-member`, which signs members up through the same use case.
///
/// # Errors
/// The first problem, as the API would answer it.
pub fn parse_registration_body(
    bytes: &[u8],
    key: prepaid_application::ports::IdempotencyKey,
) -> Result<prepaid_application::RegisterMemberCommand, ApiError> {
    let body = body::json_object(bytes)?;
    operation::validate(operations::USER_REGISTRATION.request, &body)
        .map_err(|refusal| refusal.error)?;
    operations::registration_command(&body, key)
}

/// The use cases the HTTP adapter drives, and what it needs to answer.
#[derive(Clone)]
pub struct InboundPorts {
    /// Request authentication.
    pub authenticator: Arc<dyn AuthenticateRequests>,
    /// Card issuance.
    pub issuance: Arc<dyn IssueCards>,
    /// The product catalogue.
    pub products: Arc<dyn InquireProducts>,
    /// Where deliveries are.
    pub deliveries: Arc<dyn InquireDeliveries>,
    /// Cancelling applications.
    pub cancels: Arc<dyn CancelApplications>,
    /// Mobile cards awaiting their physical card.
    pub pre_issued: Arc<dyn ListPreIssuedCards>,
    /// Registering physical cards.
    pub registrations: Arc<dyn RegisterPhysicalCards>,
    /// Members' card state changes.
    pub card_states: Arc<dyn ChangeCardStates>,
    /// Members' card discards.
    pub discards: Arc<dyn DiscardCards>,
    /// Reissues of lost cards and renewals of expiring ones.
    pub replacements: Arc<dyn ReplaceCards>,
    /// Card look-ups.
    pub look_ups: Arc<dyn LookUpCards>,
    /// The members' operations.
    pub members: Arc<dyn ManageMembers>,
    /// Membership cancellations.
    pub cancellations: Arc<dyn CancelMemberships>,
    /// The fulfilment partner's operator interface.
    pub ops: OpsPorts,
    /// Whether the service can serve (`/readyz`).
    pub readiness: Arc<dyn Readiness>,
    /// Message encryption (D5).
    pub cipher: Arc<dyn MessageCipher>,
    /// Metrics (`/metrics`).
    pub metrics: ApiMetrics,
}

/// The HTTP adapter's settings.
#[derive(Clone, Debug)]
pub struct HttpConfig {
    /// The base paths the API answers under (`""` for the root; `"/open-api"` as the sandbox).
    pub base_paths: Vec<String>,
    /// The largest body accepted, in bytes.
    pub max_body_bytes: usize,
    /// How many worker threads serve requests (one per core when `None`).
    pub workers: Option<usize>,
    /// The sandbox credentials the API page signs "Try it out" requests with, given only to a
    /// page opened on this machine; `None` outside the sandbox (the page is read-only).
    pub try_it: Option<TryIt>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            base_paths: vec![String::new(), "/open-api".to_owned()],
            max_body_bytes: 64 * 1024,
            workers: None,
            try_it: None,
        }
    }
}
