#![doc = include_str!("../README.md")]

mod address;
mod application;
mod card;
mod error;
mod header;
mod issuance;
mod member;
pub mod numbering;
mod product;
mod time;

pub use address::{AddressDetail, DeliveryAddress, RoadAddress, ZipCode};
pub use application::{
    ApplicationStatus, ApplicationType, CardApplication, CardKind, CardStatus, Delivery,
    DeliveryStatus, IssuedCard,
};
pub use card::{
    Bin, CardApplyNo, CardId, Cvc, Expiry, Pan, Par, Validity, luhn_check_digit, luhn_valid,
};
pub use error::{ErrorClass, ErrorCode, Field, FieldError, Rule};
pub use header::{
    AccessKey, AspId, CorrelationId, CryptoKeyId, RequestWindow, SecretKey, TranTime, TranToken,
    WeakSecretKey,
};
pub use issuance::{DeliveryChoice, IssuancePlan, IssuanceRefusal, IssuanceRequest, decide};
pub use member::{Member, MemberId, MemberStatus};
pub use product::{CardProduct, ProductName, ProductType, Purpose, ServiceId};
pub use time::{DateTime, TimeZone, Timestamp};
