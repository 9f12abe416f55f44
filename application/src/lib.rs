#![doc = include_str!("../README.md")]

mod authenticate;
mod cached_products;
mod cached_projects;
mod cancel_application;
mod cancel_membership;
mod change_member;
mod fulfil;
mod inbound;
mod inquire_delivery;
mod inquire_products;
mod issue_card;
mod look_up_cards;
mod manage_card;
mod member_account;
mod mint;
mod operators;
pub mod ports;
mod pre_issued_cards;
mod register_card;
mod register_member;
mod rekey_members;
mod replace_card;
mod retry;
#[cfg(test)]
mod test_support;
mod unlock_card;

pub use authenticate::{AuthError, Authenticator, Credentials};
pub use cached_products::CachedProductCatalogue;
pub use cached_projects::CachedProjectDirectory;
pub use cancel_application::{
    CancelApplicationCommand, CancelApplicationError, CancelApplicationService, CancelOutcome,
    CancelPorts, DiscardedCard,
};
pub use cancel_membership::{
    CancelMembershipCommand, CancelMembershipError, CancellationPorts,
    MembershipCancellationService, MembershipCancelled,
};
pub use change_member::{
    ChangeMemberCommand, ChangeMemberError, MemberChangeService, MemberChanged,
};
pub use fulfil::{
    DeliveryOrder, DeliveryReport, FulfilmentError, FulfilmentPorts, FulfilmentService,
    MOST_ORDERS, OrderAddress, PrintedCard, PrintedCards,
};
pub use inbound::{
    AuthenticateOperators, AuthenticateRequests, CancelApplications, CancelMemberships,
    ChangeCardStates, DiscardCards, FulfilDeliveries, InquireDeliveries, InquireProducts,
    IssueCards, ListPreIssuedCards, LookUpCards, ManageMembers, Readiness, RegisterPhysicalCards,
    ReplaceCards,
};
#[cfg(any(test, feature = "mock"))]
pub use inbound::{
    MockAuthenticateOperators, MockAuthenticateRequests, MockCancelApplications,
    MockCancelMemberships, MockChangeCardStates, MockDiscardCards, MockFulfilDeliveries,
    MockInquireDeliveries, MockInquireProducts, MockIssueCards, MockListPreIssuedCards,
    MockLookUpCards, MockManageMembers, MockReadiness, MockRegisterPhysicalCards, MockReplaceCards,
};
pub use inquire_delivery::{DeliveryInquiry, DeliveryInquiryError, DeliveryInquiryService};
pub use inquire_products::ProductInquiryService;
pub use issue_card::{
    CardIssuanceService, IssuancePorts, IssueCardCommand, IssueCardError, IssueCardOutcome,
    MobileCard,
};
pub use look_up_cards::{
    CardLookupError, CardLookupPorts, CardLookupService, CardOwner, CardProductName, CardSearch,
    LinkedCard, MemberCard, PrintedCardQuery, UnregisteredCard,
};
pub use manage_card::{
    CardManaged, CardManagementError, CardManagementPorts, CardManagementService, CardRef,
    ChangeCardStateCommand, DiscardCardCommand,
};
pub use member_account::{MemberInfo, MemberLookupError, MemberService, PasswordCheckError};
pub use mint::{CardBlank, CardMint, CardMintPorts, MintedCard};
pub use operators::{OperatorAccess, OperatorAuthError};
pub use ports::PortError;
pub use pre_issued_cards::{
    AwaitingCard, MOST_LISTED, PreIssuedCardsError, PreIssuedCardsPorts, PreIssuedCardsService,
};
pub use register_card::{
    RegisterPhysicalCardCommand, RegistrationError, RegistrationOutcome, RegistrationPorts,
    RegistrationService,
};
pub use register_member::{
    BasicCardInfo, BasicCardPorts, MemberRegistered, MemberRegistrationPorts,
    MemberRegistrationService, RegisterMemberCommand, RegisterMemberFailure,
};
pub use rekey_members::{MemberRekeying, RekeyReport};
pub use replace_card::{
    CardReplacementService, ReissueCardCommand, RenewCardCommand, ReplaceCardError,
    ReplacementPorts,
};
pub use unlock_card::{CardUnlockService, UnlockCardError};
