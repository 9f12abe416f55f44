//! The wiring of the member's card operations and look-ups, and the balances they read while
//! no ledger is kept.

use std::sync::Arc;

use prepaid_application::ports::Balances;
use prepaid_application::{
    CardIssuanceService, CardLookupPorts, CardLookupService, CardManagementPorts,
    CardManagementService, CardReplacementService, PortError, ReplacementPorts,
};
use prepaid_domain::{AspId, CardId};
use prepaid_persistence::Database;

use crate::Core;

/// The balances of cards while the service keeps no ledger: every card holds nothing, so a
/// refusal that depends on a balance (a discard's `001_052`) is never answered yet. The ledger
/// replaces this with its own implementation of the port.
struct NoLedgerYet;

#[async_trait::async_trait]
impl Balances for NoLedgerYet {
    async fn balance(&self, _: &AspId, _: &CardId) -> Result<u64, PortError> {
        Ok(0)
    }
}

/// The member's card operations over the database.
pub(crate) fn card_management(database: &Database, core: &Core) -> Arc<CardManagementService> {
    Arc::new(CardManagementService::new(CardManagementPorts {
        members: Arc::new(database.clone()),
        cards: Arc::new(database.clone()),
        balances: Arc::new(NoLedgerYet),
        applications: Arc::new(database.clone()),
        changes: Arc::new(database.clone()),
        idempotency: Arc::new(database.clone()),
        secrets: core.secrets.clone(),
        clock: core.clock.clone(),
    }))
}

/// The card look-ups over the database.
pub(crate) fn card_look_ups(database: &Database, core: &Core) -> Arc<CardLookupService> {
    Arc::new(CardLookupService::new(CardLookupPorts {
        members: Arc::new(database.clone()),
        applications: Arc::new(database.clone()),
        cards: Arc::new(database.clone()),
        products: core.catalogue.clone(),
        balances: Arc::new(NoLedgerYet),
        changes: Arc::new(database.clone()),
        secrets: core.secrets.clone(),
        verification: core.verification.clone(),
        clock: core.clock.clone(),
    }))
}

/// The reissues and renewals over the database, recording through `issuance` (whose mint they
/// share).
pub(crate) fn card_replacements(
    database: &Database,
    core: &Core,
    issuance: CardIssuanceService,
) -> Arc<CardReplacementService> {
    Arc::new(CardReplacementService::new(
        ReplacementPorts {
            members: Arc::new(database.clone()),
            products: core.catalogue.clone(),
            applications: Arc::new(database.clone()),
            cards: Arc::new(database.clone()),
            idempotency: Arc::new(database.clone()),
            secrets: core.secrets.clone(),
            clock: core.clock.clone(),
        },
        issuance,
    ))
}
