//! The decision at the heart of "Application for Issuance and Delivery of Prepaid Card": given
//! the request, the member and the product, what is issued now, whether a delivery is created,
//! or which rule refuses the application (D8, D9).

use std::fmt;
use std::fmt::Write as _;

use crate::address::DeliveryAddress;
use crate::application::ApplicationStatus;
use crate::error::{ErrorCode, Field};
use crate::member::{Member, MemberId};
use crate::product::{CardProduct, ProductType, Purpose, ServiceId};

/// Whether the member asked for a physical card to be delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeliveryChoice {
    /// `isDeliveryRequired` true (the default): deliver a physical card here.
    Deliver(DeliveryAddress),
    /// `isDeliveryRequired` false: a mobile card only.
    MobileOnly,
}

impl DeliveryChoice {
    /// A canonical text of the choice, each part after a `U+001F` separator: two choices have
    /// the same text exactly when they are equal. Part of the requests' canonical forms (D6).
    pub fn canonical_form(&self) -> String {
        let mut text = String::new();
        match self {
            Self::Deliver(address) => {
                for part in [
                    address.address.as_str(),
                    address.detail.as_str(),
                    address.zip_code.as_str(),
                ] {
                    // Length-prefixed, so no choice of text can make two addresses collide.
                    let _ = write!(text, "\u{1f}{}:{part}", part.len());
                }
            }
            Self::MobileOnly => text.push_str("\u{1f}mobile-only"),
        }
        text
    }
}

/// A validated application for a card: every value already parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuanceRequest {
    /// `userInfo.userId`.
    pub member: MemberId,
    /// `addressInfo` and `isDeliveryRequired`.
    pub delivery: DeliveryChoice,
    /// `serviceId`.
    pub service_id: ServiceId,
    /// `purpose`.
    pub purpose: Option<Purpose>,
}

impl IssuanceRequest {
    /// A canonical text of the payload: two requests have the same canonical form exactly when
    /// they ask for the same thing, however their JSON was written (member order, defaults,
    /// unknown members). Used to recognise retries (D6); it holds the address, so hash it
    /// before storing it.
    pub fn canonical_form(&self) -> String {
        let mut text = format!(
            "v1\u{1f}{}\u{1f}{}",
            self.member.get(),
            self.service_id.as_str()
        );
        text.push_str(&self.delivery.canonical_form());
        text.push('\u{1f}');
        text.push_str(self.purpose.map_or("-", Purpose::as_str));
        text
    }
}

/// What an accepted application issues now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuancePlan {
    /// Whether a mobile card is issued now (its number, CVC and PAR are answered).
    pub issues_mobile_card: bool,
    /// The delivery to create at `READY`, if one was asked for.
    pub delivery: Option<DeliveryAddress>,
    /// The status the new application starts in.
    pub status: ApplicationStatus,
}

/// Why an application is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IssuanceRefusal {
    /// The product is unknown or inactive: `000_002 serviceId`.
    UnknownProduct,
    /// `GIFTABLE` on a product that is not giftable: `000_002 purpose`.
    PurposeNotAllowed,
    /// Not a member, or a cancelled member: `001_006`.
    NotAMember,
    /// A NORMAL product without delivery: `003_024`.
    DeliveryRequired,
}

impl IssuanceRefusal {
    /// The catalogue code.
    pub const fn code(self) -> ErrorCode {
        match self {
            Self::UnknownProduct | Self::PurposeNotAllowed => ErrorCode::InvalidInput,
            Self::NotAMember => ErrorCode::WalletUserNotFound,
            Self::DeliveryRequired => ErrorCode::DeliveryRequiredForNormalType,
        }
    }

    /// The field the message names, if any.
    pub const fn field(self) -> Option<Field> {
        match self {
            Self::UnknownProduct => Some(Field::ServiceId),
            Self::PurposeNotAllowed => Some(Field::Purpose),
            Self::NotAMember | Self::DeliveryRequired => None,
        }
    }
}

impl fmt::Display for IssuanceRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.field() {
            Some(field) => write!(f, "{} {}", self.code().message(), field.path()),
            None => f.write_str(self.code().message()),
        }
    }
}

impl std::error::Error for IssuanceRefusal {}

/// Decides an application.
///
/// The rules are applied in this order, so that the first refusal is the one reported:
/// 1. the product must exist and be active (`000_002 serviceId`);
/// 2. `GIFTABLE` needs a giftable product (`000_002 purpose`);
/// 3. the member must exist and be active (`001_006`);
/// 4. a NORMAL product needs delivery (`003_024`).
///
/// Validation refusals (1, 2) come before business refusals (3, 4), as D2 orders field errors
/// before anything else. Then:
/// - delivery asked, product without pre-issuance: the application only (`READY`), the mobile
///   card comes at physical card registration;
/// - delivery asked, product with pre-issuance: a mobile card now (`DIGITAL_ISSUED`);
/// - no delivery (MOBILE product): a mobile card now (`DIGITAL_ISSUED`), no delivery.
pub fn decide(
    request: &IssuanceRequest,
    member: Option<&Member>,
    product: Option<&CardProduct>,
) -> Result<IssuancePlan, IssuanceRefusal> {
    let product = product
        .filter(|product| product.active && product.id == request.service_id)
        .ok_or(IssuanceRefusal::UnknownProduct)?;
    if request.purpose == Some(Purpose::Giftable) && !product.giftable {
        return Err(IssuanceRefusal::PurposeNotAllowed);
    }
    if !member.is_some_and(|member| member.may_apply() && member.id == request.member) {
        return Err(IssuanceRefusal::NotAMember);
    }
    let (issues_mobile_card, delivery) = match &request.delivery {
        DeliveryChoice::Deliver(address) => (product.pre_issuance, Some(address.clone())),
        DeliveryChoice::MobileOnly => match product.product_type {
            ProductType::Normal => return Err(IssuanceRefusal::DeliveryRequired),
            ProductType::Mobile => (true, None),
        },
    };
    let status = if issues_mobile_card {
        ApplicationStatus::DigitalIssued
    } else {
        ApplicationStatus::Ready
    };
    Ok(IssuancePlan {
        issues_mobile_card,
        delivery,
        status,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::address::{AddressDetail, RoadAddress, ZipCode};
    use crate::card::{Bin, Validity};
    use crate::member::MemberStatus;
    use crate::product::ProductName;

    fn address() -> DeliveryAddress {
        DeliveryAddress {
            address: RoadAddress::parse("서울특별시 강남구 테헤란로 1").unwrap(),
            detail: AddressDetail::parse("101동 1001호").unwrap(),
            zip_code: ZipCode::parse("06236").unwrap(),
        }
    }

    fn product(product_type: ProductType, pre_issuance: bool, giftable: bool) -> CardProduct {
        CardProduct {
            id: ServiceId::parse("000170000002000").unwrap(),
            name: ProductName::parse("Prepaid").unwrap(),
            bin: Bin::parse("943512").unwrap(),
            product_type,
            pre_issuance,
            giftable,
            validity: Validity::DEFAULT,
            active: true,
        }
    }

    fn member(status: MemberStatus) -> Member {
        Member {
            id: MemberId::new(1001).unwrap(),
            status,
        }
    }

    fn request(delivery: DeliveryChoice, purpose: Option<Purpose>) -> IssuanceRequest {
        IssuanceRequest {
            member: MemberId::new(1001).unwrap(),
            delivery,
            service_id: ServiceId::parse("000170000002000").unwrap(),
            purpose,
        }
    }

    #[test]
    fn delivery_without_pre_issuance_creates_the_application_and_the_delivery_only() {
        let plan = decide(
            &request(DeliveryChoice::Deliver(address()), None),
            Some(&member(MemberStatus::Active)),
            Some(&product(ProductType::Normal, false, false)),
        )
        .unwrap();
        assert!(!plan.issues_mobile_card);
        assert_eq!(plan.delivery, Some(address()));
        assert_eq!(plan.status, ApplicationStatus::Ready);
    }

    #[test]
    fn delivery_with_pre_issuance_also_issues_a_mobile_card() {
        let plan = decide(
            &request(DeliveryChoice::Deliver(address()), None),
            Some(&member(MemberStatus::Active)),
            Some(&product(ProductType::Normal, true, false)),
        )
        .unwrap();
        assert!(plan.issues_mobile_card);
        assert!(plan.delivery.is_some());
        assert_eq!(plan.status, ApplicationStatus::DigitalIssued);
    }

    #[test]
    fn a_mobile_product_without_delivery_issues_a_mobile_card_only() {
        let plan = decide(
            &request(DeliveryChoice::MobileOnly, None),
            Some(&member(MemberStatus::Active)),
            Some(&product(ProductType::Mobile, false, false)),
        )
        .unwrap();
        assert!(plan.issues_mobile_card);
        assert_eq!(plan.delivery, None);
    }

    #[test]
    fn a_normal_product_without_delivery_is_refused_with_003_024() {
        let refusal = decide(
            &request(DeliveryChoice::MobileOnly, None),
            Some(&member(MemberStatus::Active)),
            Some(&product(ProductType::Normal, true, true)),
        );
        assert_eq!(refusal, Err(IssuanceRefusal::DeliveryRequired));
        assert_eq!(IssuanceRefusal::DeliveryRequired.code().code(), "003_024");
    }

    #[test]
    fn a_cancelled_member_is_treated_as_a_non_member() {
        let refusal = decide(
            &request(DeliveryChoice::Deliver(address()), None),
            Some(&member(MemberStatus::Cancelled)),
            Some(&product(ProductType::Normal, false, false)),
        );
        assert_eq!(refusal, Err(IssuanceRefusal::NotAMember));
        assert_eq!(
            IssuanceRefusal::NotAMember.to_string(),
            "Wallet user not found."
        );
    }

    #[test]
    fn an_unknown_product_names_service_id() {
        let refusal = decide(
            &request(DeliveryChoice::Deliver(address()), None),
            Some(&member(MemberStatus::Active)),
            None,
        );
        assert_eq!(refusal, Err(IssuanceRefusal::UnknownProduct));
        assert_eq!(
            IssuanceRefusal::UnknownProduct.to_string(),
            "Invalid input parameter. serviceId"
        );
    }

    #[test]
    fn giftable_needs_a_giftable_product() {
        let giftable = request(DeliveryChoice::Deliver(address()), Some(Purpose::Giftable));
        let active = member(MemberStatus::Active);
        assert_eq!(
            decide(
                &giftable,
                Some(&active),
                Some(&product(ProductType::Normal, false, false))
            ),
            Err(IssuanceRefusal::PurposeNotAllowed)
        );
        assert!(
            decide(
                &giftable,
                Some(&active),
                Some(&product(ProductType::Normal, false, true))
            )
            .is_ok()
        );
    }

    #[test]
    fn retries_are_recognised_whatever_the_json_looked_like_but_changes_are_not() {
        let first = request(DeliveryChoice::Deliver(address()), None);
        assert_eq!(first.canonical_form(), first.clone().canonical_form());
        let other = request(DeliveryChoice::MobileOnly, None);
        assert_ne!(first.canonical_form(), other.canonical_form());
        let gift = request(DeliveryChoice::Deliver(address()), Some(Purpose::Giftable));
        assert_ne!(first.canonical_form(), gift.canonical_form());
    }

    fn arbitrary_product() -> impl Strategy<Value = Option<CardProduct>> {
        (
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(exists, active, mobile, pre_issuance, giftable)| {
                exists.then(|| {
                    let kind = if mobile {
                        ProductType::Mobile
                    } else {
                        ProductType::Normal
                    };
                    CardProduct {
                        active,
                        ..product(kind, pre_issuance, giftable)
                    }
                })
            })
    }

    fn arbitrary_member() -> impl Strategy<Value = Option<Member>> {
        prop_oneof![
            Just(None),
            Just(Some(member(MemberStatus::Active))),
            Just(Some(member(MemberStatus::Cancelled))),
        ]
    }

    proptest! {
        #[test]
        fn the_decision_table_holds_for_every_combination(
            product in arbitrary_product(),
            member in arbitrary_member(),
            deliver: bool,
            gift: bool,
        ) {
            let delivery = if deliver { DeliveryChoice::Deliver(address()) } else { DeliveryChoice::MobileOnly };
            let purpose = gift.then_some(Purpose::Giftable);
            let outcome = decide(&request(delivery, purpose), member.as_ref(), product.as_ref());

            let usable = product.as_ref().filter(|p| p.active);
            let expected = match usable {
                None => Err(IssuanceRefusal::UnknownProduct),
                Some(p) if gift && !p.giftable => Err(IssuanceRefusal::PurposeNotAllowed),
                Some(_) if !member.is_some_and(|m| m.status == MemberStatus::Active) => Err(IssuanceRefusal::NotAMember),
                Some(p) if !deliver && p.product_type == ProductType::Normal => Err(IssuanceRefusal::DeliveryRequired),
                Some(p) => Ok((!deliver || p.pre_issuance, deliver)),
            };
            match (outcome, expected) {
                (Ok(plan), Ok((mobile, delivered))) => {
                    prop_assert_eq!(plan.issues_mobile_card, mobile);
                    prop_assert_eq!(plan.delivery.is_some(), delivered);
                    prop_assert_eq!(plan.status == ApplicationStatus::DigitalIssued, mobile);
                }
                (Err(refusal), Err(expected)) => prop_assert_eq!(refusal, expected),
                (outcome, expected) => prop_assert!(false, "got {outcome:?}, expected {expected:?}"),
            }
        }
    }
}
