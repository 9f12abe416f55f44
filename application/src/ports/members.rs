use async_trait::async_trait;
use prepaid_domain::{AspId, Member, MemberId};

use super::PortError;

/// The wallet's members, each belonging to the project (ASP id) that holds it (D15).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait MemberDirectory: Send + Sync {
    /// The member `id` of project `asp_id`, active or cancelled; `Ok(None)` when that project
    /// has none, whatever other projects hold under the same id.
    ///
    /// # Errors
    /// [`PortError`] only when the directory cannot be read; an unknown id is `Ok(None)`.
    async fn find(&self, asp_id: &AspId, id: MemberId) -> Result<Option<Member>, PortError>;
}
