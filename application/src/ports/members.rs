use async_trait::async_trait;
use prepaid_domain::{Member, MemberId};

use super::PortError;

/// The wallet's members.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait MemberDirectory: Send + Sync {
    /// The member with this id, active or cancelled; `Ok(None)` when there is none.
    ///
    /// # Errors
    /// [`PortError`] only when the directory cannot be read; an unknown id is `Ok(None)`.
    async fn find(&self, id: MemberId) -> Result<Option<Member>, PortError>;
}
