//! The inbound ports: the use cases as the driving adapters (HTTP, the admin commands) see
//! them. An adapter holds `Arc<dyn ...>` of these traits, never a concrete service, so that its
//! tests can mock the few use cases it drives instead of faking every outbound port.

use async_trait::async_trait;
use prepaid_domain::{
    AspId, Bin, CardApplyNo, CardProduct, Ci, DeliveryHistory, DeliveryStatus, LoginId,
    LoginPassword, MemberId, OperatorName, Pan, ServiceId,
};

use crate::authenticate::{AuthError, Authenticator, Credentials};
use crate::cancel_application::{CancelApplicationCommand, CancelApplicationError, CancelOutcome};
use crate::cancel_membership::{
    CancelMembershipCommand, CancelMembershipError, MembershipCancellationService,
    MembershipCancelled,
};
use crate::change_member::{ChangeMemberCommand, ChangeMemberError, MemberChanged};
use crate::fulfil::{DeliveryOrder, DeliveryReport, FulfilmentError, PrintedCard};
use crate::inquire_delivery::{DeliveryInquiry, DeliveryInquiryError};
use crate::issue_card::{CardIssuanceService, IssueCardCommand, IssueCardError, IssueCardOutcome};
use crate::look_up_cards::{
    CardLookupError, CardOwner, CardSearch, MemberCard, PrintedCardQuery, UnregisteredCard,
};
use crate::manage_card::{
    CardManaged, CardManagementError, ChangeCardStateCommand, DiscardCardCommand,
};
use crate::member_account::{MemberInfo, MemberLookupError, PasswordCheckError};
use crate::operators::OperatorAuthError;
use crate::ports::{PortError, Project};
use crate::pre_issued_cards::{AwaitingCard, PreIssuedCardsError};
use crate::register_card::{RegisterPhysicalCardCommand, RegistrationError, RegistrationOutcome};
use crate::register_member::{MemberRegistered, RegisterMemberCommand, RegisterMemberFailure};
use crate::replace_card::{ReissueCardCommand, RenewCardCommand, ReplaceCardError};

/// Authenticates a request (D3, D4).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait AuthenticateRequests: Send + Sync {
    /// The caller's project, or why it is refused.
    async fn authenticate<'a>(&self, credentials: Credentials<'a>) -> Result<Project, AuthError>;
}

/// Issues cards: "Application for Issuance and Delivery of Prepaid Card".
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait IssueCards: Send + Sync {
    /// Issues a card as `command` asks, or answers the first outcome of its correlation id.
    async fn issue_and_deliver(
        &self,
        command: IssueCardCommand,
    ) -> Result<IssueCardOutcome, IssueCardError>;

    /// How many card numbers are left under each BIN this instance issued from.
    fn card_numbers_left(&self) -> Vec<(Bin, u64)>;
}

/// Reads the product catalogue: "Card product inquiry", and the check that a request's
/// product exists at its place in the body's order (D2).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait InquireProducts: Send + Sync {
    /// Whether product `id` is offered (known and active).
    async fn offers(&self, id: &ServiceId) -> Result<bool, PortError>;

    /// The products among `ids` that exist, active or not, in the order asked, each once.
    async fn products(&self, ids: &[ServiceId]) -> Result<Vec<CardProduct>, PortError>;
}

/// Reads where a member's card is on its way: "Delivery status inquiry" (D18).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait InquireDeliveries: Send + Sync {
    /// The history of the delivery of the member's application, last status last.
    async fn delivery(
        &self,
        inquiry: &DeliveryInquiry,
    ) -> Result<DeliveryHistory, DeliveryInquiryError>;
}

/// Cancels card applications: "Cancellation of Card Application" (D17).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait CancelApplications: Send + Sync {
    /// Cancels the member's application as `command` asks, or answers the first outcome of its
    /// correlation id.
    async fn cancel(
        &self,
        command: &CancelApplicationCommand,
    ) -> Result<CancelOutcome, CancelApplicationError>;
}

/// Authenticates operators of the fulfilment partner (D18).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait AuthenticateOperators: Send + Sync {
    /// The operator whose bearer token is `bearer`, or why it is refused.
    async fn authenticate(&self, bearer: &str) -> Result<OperatorName, OperatorAuthError>;
}

/// The fulfilment partner's operations (D18), through the operator interface.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait FulfilDeliveries: Send + Sync {
    /// The deliveries in progress of `project` (of every project when `None`), the longest
    /// unchanged first, at most `limit` (and never more than [`crate::MOST_ORDERS`]), with their
    /// addresses.
    async fn orders(
        &self,
        project: Option<AspId>,
        limit: usize,
    ) -> Result<Vec<DeliveryOrder>, FulfilmentError>;

    /// Records that application `number`'s delivery reached `next`, as the table allows.
    async fn report(
        &self,
        number: &CardApplyNo,
        next: DeliveryStatus,
    ) -> Result<DeliveryReport, FulfilmentError>;

    /// Sends application `number`'s card again after its delivery was lost or returned: a new
    /// leg from `READY`, and a new physical card on the way.
    async fn redeliver(&self, number: &CardApplyNo) -> Result<DeliveryReport, FulfilmentError>;

    /// The physical card produced for application `number`, as printed (sandbox only).
    async fn printed_card(&self, number: &CardApplyNo) -> Result<PrintedCard, FulfilmentError>;
}

/// Registers physical cards: "Physical Card Registration" (D19).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait RegisterPhysicalCards: Send + Sync {
    /// Registers the member's physical card as `command` asks, or answers the first outcome of
    /// its correlation id.
    async fn register(
        &self,
        command: &RegisterPhysicalCardCommand,
    ) -> Result<RegistrationOutcome, RegistrationError>;
}

/// Changes the state of a member's card: "Modification of the Card's State" (D20).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ChangeCardStates: Send + Sync {
    /// Suspends or resumes the member's card as `command` asks, or answers the first outcome of
    /// its correlation id.
    async fn change_state(
        &self,
        command: &ChangeCardStateCommand,
    ) -> Result<CardManaged, CardManagementError>;
}

/// Looks cards up (D23): "Search for Card", "Card-User Mapped Inquiry" and "Unregistered card
/// inquiry".
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait LookUpCards: Send + Sync {
    /// The member's mobile cards (not terminated), oldest first, each with its linked physical
    /// card; only those the query names.
    async fn search(&self, query: &CardSearch) -> Result<Vec<MemberCard>, CardLookupError>;

    /// Whose card number `pan` of project `asp_id` is (terminated cards are no one's).
    async fn owner(&self, asp_id: &AspId, pan: &Pan) -> Result<CardOwner, CardLookupError>;

    /// The produced physical card the query proves, before anyone registers it; a wrong expiry
    /// or CVC counts as a wrong registration attempt.
    async fn unregistered(
        &self,
        query: &PrintedCardQuery,
    ) -> Result<UnregisteredCard, CardLookupError>;
}

/// Discards a member's card: "Discarding a Card" (D21).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait DiscardCards: Send + Sync {
    /// Terminates the member's card (a mobile card with its linked physical cards), or answers
    /// the first outcome of its correlation id.
    async fn discard(
        &self,
        command: &DiscardCardCommand,
    ) -> Result<CardManaged, CardManagementError>;
}

/// Replaces cards (D22): "Reissuance of Prepaid Card" after a loss report and "Reissuance &
/// Renewal of Prepaid Card to be Expired".
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ReplaceCards: Send + Sync {
    /// Reissues the member's lost card as `command` asks, or answers the first outcome of its
    /// correlation id.
    async fn reissue(
        &self,
        command: &ReissueCardCommand,
    ) -> Result<IssueCardOutcome, ReplaceCardError>;

    /// Applies for the renewal of the member's expiring card, or answers the first outcome of
    /// its correlation id.
    async fn renew(&self, command: &RenewCardCommand)
    -> Result<IssueCardOutcome, ReplaceCardError>;
}

/// Lists a member's mobile cards awaiting their physical card: "Search for Mobile Card
/// Application Information Linkable to Physical Card" (D19).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ListPreIssuedCards: Send + Sync {
    /// The member's applications awaiting a physical card, oldest first, each with its mobile
    /// card.
    async fn awaiting(
        &self,
        asp_id: &AspId,
        member: MemberId,
    ) -> Result<Vec<AwaitingCard>, PreIssuedCardsError>;
}

/// The members' operations (D24): sign-up, information and its change, the login id of a CI,
/// the password check.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ManageMembers: Send + Sync {
    /// Registers the member `command` describes, or answers the first outcome of its
    /// correlation id.
    async fn register(
        &self,
        command: &RegisterMemberCommand,
    ) -> Result<MemberRegistered, RegisterMemberFailure>;

    /// Member `id`'s information.
    async fn info(&self, asp_id: &AspId, id: MemberId) -> Result<MemberInfo, MemberLookupError>;

    /// The login id of the member whose CI is `ci`.
    async fn login_id(&self, asp_id: &AspId, ci: &Ci) -> Result<LoginId, MemberLookupError>;

    /// The id of the member whose login id is `login_id`, when `password` is theirs.
    async fn check_password(
        &self,
        asp_id: &AspId,
        login_id: &LoginId,
        password: &LoginPassword,
    ) -> Result<MemberId, PasswordCheckError>;

    /// Changes the member's details `command` names, or answers the first outcome of its
    /// correlation id.
    async fn change(
        &self,
        command: &ChangeMemberCommand,
    ) -> Result<MemberChanged, ChangeMemberError>;
}

/// Cancels memberships: "Membership Cancellation" (D24).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait CancelMemberships: Send + Sync {
    /// Cancels the membership `command` names, or answers the first outcome of its correlation
    /// id.
    async fn cancel(
        &self,
        command: &CancelMembershipCommand,
    ) -> Result<MembershipCancelled, CancelMembershipError>;
}

#[async_trait]
impl CancelMemberships for MembershipCancellationService {
    async fn cancel(
        &self,
        command: &CancelMembershipCommand,
    ) -> Result<MembershipCancelled, CancelMembershipError> {
        MembershipCancellationService::cancel(self, command).await
    }
}

/// Whether the service can serve: its database answers.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait Readiness: Send + Sync {
    /// `Ok` when requests can be served now.
    async fn check_ready(&self) -> Result<(), PortError>;
}

#[async_trait]
impl AuthenticateRequests for Authenticator {
    async fn authenticate<'a>(&self, credentials: Credentials<'a>) -> Result<Project, AuthError> {
        Authenticator::authenticate(self, credentials).await
    }
}

#[async_trait]
impl IssueCards for CardIssuanceService {
    async fn issue_and_deliver(
        &self,
        command: IssueCardCommand,
    ) -> Result<IssueCardOutcome, IssueCardError> {
        CardIssuanceService::issue_and_deliver(self, command).await
    }

    fn card_numbers_left(&self) -> Vec<(Bin, u64)> {
        CardIssuanceService::card_numbers_left(self)
    }
}
