//! Card applications, the cards they issue and their deliveries (reference section 6, D10).

use crate::address::DeliveryAddress;
use crate::card::{CardApplyNo, CardId, Expiry, Par};
use crate::member::MemberId;
use crate::product::{Purpose, ServiceId};
use crate::time::Timestamp;

/// Why an application was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ApplicationType {
    /// A new card.
    Issue,
    /// A replacement after a loss report.
    Reissue,
    /// A replacement of a card that expires soon.
    Renewal,
    /// The mobile card a member gets at sign-up when the project names a basic product (D24).
    Basic,
}

impl ApplicationType {
    /// The name as the platform writes it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Issue => "ISSUE",
            Self::Reissue => "REISSUE",
            Self::Renewal => "RENEWAL",
            Self::Basic => "BASIC",
        }
    }

    /// Reads a name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "ISSUE" => Some(Self::Issue),
            "REISSUE" => Some(Self::Reissue),
            "RENEWAL" => Some(Self::Renewal),
            "BASIC" => Some(Self::Basic),
            _ => None,
        }
    }
}

macro_rules! named_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal,)* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)*
        }

        impl $name {
            /// Every value, in the platform's order.
            pub const ALL: &'static [Self] = &[$(Self::$variant,)*];

            /// The name as the platform writes it.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)*
                }
            }

            /// Reads a name.
            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some(Self::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

named_enum!(
    /// The status of a card application (reference 5.6; the list there is truncated after
    /// `PHYSICAL_ISSUE…`, completed here as `PHYSICAL_ISSUED`, `COMPLETED` and `CANCELLED`, D16).
    ApplicationStatus {
        /// In progress.
        Ready => "READY",
        /// Charging the issue fee.
        CostPaying => "COST_PAYING",
        /// Issue fee paid.
        CostPaid => "COST_PAID",
        /// Ended: the issue fee could not be charged.
        CostPayFailed => "COST_PAY_FAILED",
        /// The mobile card was issued.
        DigitalIssued => "DIGITAL_ISSUED",
        /// The physical card was issued.
        PhysicalIssued => "PHYSICAL_ISSUED",
        /// Fulfilled: the physical card is registered, or a mobile-only application's card
        /// was issued (D16).
        Completed => "COMPLETED",
        /// The application was cancelled.
        Cancelled => "CANCELLED",
    }
);

named_enum!(
    /// The status of a delivery (reference 5.5).
    DeliveryStatus {
        /// Waiting for reception.
        Ready => "READY",
        /// Received.
        Receipt => "RECEIPT",
        /// Preparing shipment.
        PreShipping => "PRE_SHIPPING",
        /// In transit.
        Shipping => "SHIPPING",
        /// Delivered.
        Arrival => "ARRIVAL",
        /// Lost.
        Lost => "LOST",
        /// Returned.
        Return => "RETURN",
        /// Delivery cancelled.
        Cancel => "CANCEL",
        /// Other (system failure).
        Etc => "ETC",
    }
);

named_enum!(
    /// Whether a card is a mobile (digital) card or a plastic one.
    CardKind {
        /// A mobile card, usable without plastic.
        Mobile => "MOBILE",
        /// A physical card.
        Physical => "PHYSICAL",
    }
);

named_enum!(
    /// The state of an issued card (D20).
    CardStatus {
        /// A physical card produced and not registered yet.
        Inactive => "INACTIVE",
        /// Usable.
        Active => "ACTIVE",
        /// Suspended: reported lost, or locked after wrong registration attempts.
        Suspended => "SUSPENDED",
        /// Discarded; final.
        Terminated => "TERMINATED",
    }
);

/// A card application, as created by the issue-and-delivery call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardApplication {
    /// Its number.
    pub number: CardApplyNo,
    /// The member who applied.
    pub member: MemberId,
    /// The product applied for.
    pub product: ServiceId,
    /// ISSUE for this call.
    pub application_type: ApplicationType,
    /// Its status.
    pub status: ApplicationStatus,
    /// The purpose, if any.
    pub purpose: Option<Purpose>,
    /// When it was created.
    pub created_at: Timestamp,
}

/// The public facts of an issued card. The PAN is kept apart, encrypted (D7).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedCard {
    /// Its own id.
    pub id: CardId,
    /// Its PAR.
    pub par: Par,
    /// The member it was issued to.
    pub owner: MemberId,
    /// For a physical card, the mobile card it is linked to.
    pub linked_to: Option<CardId>,
    /// Its expiry.
    pub expiry: Expiry,
    /// Mobile or physical.
    pub kind: CardKind,
    /// Its state.
    pub status: CardStatus,
}

/// A delivery of a physical card.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// Where to.
    pub address: DeliveryAddress,
    /// Its status; `READY` when created (D10).
    pub status: DeliveryStatus,
    /// When it was asked for.
    pub created_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_name_round_trips() {
        for status in ApplicationStatus::ALL {
            assert_eq!(ApplicationStatus::parse(status.as_str()), Some(*status));
        }
        for status in DeliveryStatus::ALL {
            assert_eq!(DeliveryStatus::parse(status.as_str()), Some(*status));
        }
        assert_eq!(DeliveryStatus::ALL.len(), 9);
        assert_eq!(
            CardStatus::ALL.len(),
            4,
            "D20: INACTIVE, ACTIVE, SUSPENDED, TERMINATED"
        );
        for kind in CardKind::ALL {
            assert_eq!(CardKind::parse(kind.as_str()), Some(*kind));
        }
        for status in CardStatus::ALL {
            assert_eq!(CardStatus::parse(status.as_str()), Some(*status));
        }
        assert_eq!(
            ApplicationType::parse("ISSUE"),
            Some(ApplicationType::Issue)
        );
        assert_eq!(
            ApplicationType::parse("REISSUE"),
            Some(ApplicationType::Reissue)
        );
        assert_eq!(
            ApplicationType::parse("BASIC"),
            Some(ApplicationType::Basic)
        );
        assert_eq!(ApplicationType::Basic.as_str(), "BASIC");
        assert_eq!(
            ApplicationType::parse("RENEWAL"),
            Some(ApplicationType::Renewal)
        );
        assert_eq!(ApplicationType::parse("renewal"), None);
    }
}
