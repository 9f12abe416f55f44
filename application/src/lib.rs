#![doc = include_str!("../README.md")]

mod authenticate;
mod cached_projects;
mod issue_card;
pub mod ports;

pub use authenticate::{AuthError, Authenticator, Credentials};
pub use cached_projects::CachedProjectDirectory;
pub use issue_card::{
    CardIssuanceService, IssuancePorts, IssueCardCommand, IssueCardError, IssueCardOutcome,
    MobileCard,
};
pub use ports::PortError;
