#![doc = include_str!("../README.md")]

mod address;
mod application;
mod card;
mod card_state;
mod error;
mod fulfilment;
mod header;
mod issuance;
mod lifecycle;
mod member;
pub mod numbering;
mod operator;
mod personal;
mod product;
mod profile_change;
mod replacement;
mod time;

pub use address::{AddressDetail, DeliveryAddress, RoadAddress, ZipCode};
pub use application::{
    ApplicationStatus, ApplicationType, CardApplication, CardKind, CardStatus, Delivery,
    DeliveryStatus, IssuedCard,
};
pub use card::{
    Bin, CardApplyNo, CardId, Cvc, Expiry, Pan, Par, Validity, luhn_check_digit, luhn_valid,
};
pub use card_state::{
    CardFacts, CardStateRefusal, CardStateRequest, DiscardPlan, DiscardRefusal, PrintedCardFacts,
    UnlockRefusal, decide_card_state, decide_discard, decide_unlock, decide_unregistered_inquiry,
};
pub use error::{ErrorClass, ErrorCode, Field, FieldError, Rule};
pub use fulfilment::{
    AwaitingFacts, CancelFacts, CancelPlan, CancelRefusal, DeliveryChangeFacts, DeliveryChangePlan,
    DeliveryChangeRefusal, MOST_WRONG_REGISTRATIONS, MobileCardFacts, MobileCardPlan,
    NamedApplication, PhysicalCardFacts, RegistrationFacts, RegistrationPlan, RegistrationRefusal,
    awaits_physical_card, decide_cancel, decide_delivery_change, decide_redelivery,
    decide_registration,
};
pub use header::{
    AccessKey, AspId, CorrelationId, CryptoKeyId, RequestWindow, SecretKey, TranTime, TranToken,
    WeakSecretKey,
};
pub use issuance::{DeliveryChoice, IssuancePlan, IssuanceRefusal, IssuanceRequest, decide};
pub use lifecycle::{DeliveryChangeRefused, DeliveryHistory, DeliveryStep};
pub use member::{CancellationRefusal, Member, MemberId, MemberStatus, decide_cancellation};
pub use operator::{OperatorName, OperatorToken};
pub use personal::{
    BirthDate, Ci, Email, Gender, JoinChannel, LoginId, LoginPassword, MOST_WRONG_PASSWORDS,
    MemberProfile, MobileNumber, Nationality, PASSWORD_LENGTH, UserName, password_locked,
};
pub use product::{CardProduct, ProductName, ProductType, Purpose, ServiceId};
pub use profile_change::{ChangedDetails, ProfileChange, ProfileChangeRefusal};
pub use replacement::{
    NextProduct, RENEWAL_WINDOW_DAYS, ReissueFacts, ReissuePlan, ReissueRefusal, RenewalFacts,
    RenewalRefusal, decide_reissue, decide_renewal,
};
pub use time::{DateTime, TimeZone, Timestamp};
