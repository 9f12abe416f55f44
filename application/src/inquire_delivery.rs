//! The use case "Delivery status inquiry" (`POST /api/v1/card/delivery/inquiry`, D18): where
//! the physical card of a member's application is, with every status its delivery went through.
//! It changes nothing.

use std::sync::Arc;

use async_trait::async_trait;
use prepaid_domain::{AspId, CardApplyNo, DeliveryHistory, ErrorCode, MemberId, MemberStatus};

use crate::inbound::InquireDeliveries;
use crate::ports::{CardApplicationStore, DeliveryStore, MemberDirectory, PortError};

/// A delivery inquiry: the calling project, the member and the application they name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryInquiry {
    /// The calling project (D15).
    pub asp_id: AspId,
    /// The member asking.
    pub member: MemberId,
    /// The application asked about.
    pub application: CardApplyNo,
}

/// Why a delivery inquiry has no answer.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryInquiryError {
    /// `001_006`: not a member of the project, or one whose membership is cancelled.
    #[error("not a member of the project")]
    NotAMember,
    /// `003_001`: no application of the member with this number, or one without a delivery.
    /// Another member's or another project's application is answered the same way.
    #[error("no delivery of such an application of the member")]
    NotFound,
    /// A store could not be read.
    #[error(transparent)]
    Unavailable(#[from] PortError),
}

impl DeliveryInquiryError {
    /// The code answered.
    pub const fn code(&self) -> ErrorCode {
        match self {
            Self::NotAMember => ErrorCode::WalletUserNotFound,
            Self::NotFound => ErrorCode::InvalidCardInfo,
            Self::Unavailable(_) => ErrorCode::SystemError,
        }
    }
}

/// Answers delivery inquiries from the member directory and the stores.
#[derive(Clone)]
pub struct DeliveryInquiryService {
    members: Arc<dyn MemberDirectory>,
    applications: Arc<dyn CardApplicationStore>,
    deliveries: Arc<dyn DeliveryStore>,
}

impl DeliveryInquiryService {
    /// A service reading these ports.
    pub fn new(
        members: Arc<dyn MemberDirectory>,
        applications: Arc<dyn CardApplicationStore>,
        deliveries: Arc<dyn DeliveryStore>,
    ) -> Self {
        Self {
            members,
            applications,
            deliveries,
        }
    }
}

#[async_trait]
impl InquireDeliveries for DeliveryInquiryService {
    async fn delivery(
        &self,
        inquiry: &DeliveryInquiry,
    ) -> Result<DeliveryHistory, DeliveryInquiryError> {
        // The member first: a non-member learns nothing about any application (D12).
        let member = self.members.find(&inquiry.asp_id, inquiry.member).await?;
        if !member.is_some_and(|member| member.status == MemberStatus::Active) {
            return Err(DeliveryInquiryError::NotAMember);
        }
        let application = self
            .applications
            .application(&inquiry.asp_id, &inquiry.application)
            .await?;
        if application.is_none_or(|stored| stored.application.member != inquiry.member) {
            return Err(DeliveryInquiryError::NotFound);
        }
        let delivery = self
            .deliveries
            .delivery(&inquiry.asp_id, &inquiry.application)
            .await?
            .ok_or(DeliveryInquiryError::NotFound)?;
        Ok(delivery.history)
    }
}

#[cfg(test)]
mod tests;
