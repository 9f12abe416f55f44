//! The fake store's cards and lifecycle changes: what a cancel reads and changes, kept in the
//! recorded issuances themselves (versions are not kept: the persistence contract tests prove
//! the optimistic concurrency against the real databases).

use async_trait::async_trait;
use prepaid_application::PortError;
use prepaid_application::ports::{
    CardRecord, CardStore, ChangeError, LifecycleChange, LifecycleChanges, PanFingerprint,
};
use prepaid_domain::{AspId, CardApplyNo, MemberId, Par};

use crate::support::Store;

#[async_trait]
impl CardStore for Store {
    async fn card_by_par(
        &self,
        asp_id: &AspId,
        par: &Par,
    ) -> Result<Option<CardRecord>, PortError> {
        Ok(self
            .cards(asp_id)
            .into_iter()
            .find(|card| card.card.par == *par))
    }

    async fn card_by_fingerprint(
        &self,
        asp_id: &AspId,
        fingerprint: &PanFingerprint,
    ) -> Result<Option<CardRecord>, PortError> {
        Ok(self
            .cards(asp_id)
            .into_iter()
            .find(|card| card.pan_fingerprint == *fingerprint))
    }

    async fn cards_of_member(
        &self,
        asp_id: &AspId,
        member: MemberId,
    ) -> Result<Vec<CardRecord>, PortError> {
        Ok(self
            .cards(asp_id)
            .into_iter()
            .filter(|card| card.card.owner == member)
            .collect())
    }

    async fn cards_of_application(
        &self,
        asp_id: &AspId,
        number: &CardApplyNo,
    ) -> Result<Vec<CardRecord>, PortError> {
        Ok(self
            .cards(asp_id)
            .into_iter()
            .filter(|card| card.application == *number)
            .collect())
    }
}

impl Store {
    /// Every card of project `asp_id`, oldest first.
    fn cards(&self, asp_id: &AspId) -> Vec<CardRecord> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|issuance| issuance.claim.key.asp_id == *asp_id)
            .filter_map(|issuance| {
                let card = issuance.card.as_ref()?;
                Some(CardRecord {
                    card: card.card.clone(),
                    application: issuance.application.number.clone(),
                    protected_pan: card.protected_pan.clone(),
                    pan_bound_to_id: true,
                    pan_fingerprint: card.pan_fingerprint.clone(),
                    cvk_id: card.cvk_id.clone(),
                    wrong_attempts: 0,
                    version: 0,
                })
            })
            .collect()
    }
}

#[async_trait]
impl LifecycleChanges for Store {
    async fn apply(&self, change: &LifecycleChange) -> Result<(), ChangeError> {
        let mut issuances = self.0.lock().unwrap();
        let mut claims = self.1.lock().unwrap();
        if let Some(claim) = &change.claim {
            let taken = issuances
                .iter()
                .map(|issuance| &issuance.claim)
                .chain(claims.iter())
                .any(|other| other.key == claim.key);
            if taken {
                return Err(ChangeError::KeyTaken);
            }
            claims.push(claim.clone());
        }
        for issuance in issuances
            .iter_mut()
            .filter(|issuance| issuance.claim.key.asp_id == change.asp_id)
        {
            let number = &issuance.application.number;
            for moved in change
                .applications
                .iter()
                .filter(|moved| moved.key == *number)
            {
                issuance.application.status = moved.status;
            }
            for moved in change
                .deliveries
                .iter()
                .filter(|moved| moved.key == *number)
            {
                self.2.lock().unwrap().insert(number.clone(), moved.status);
            }
            if let Some(card) = &mut issuance.card {
                for moved in change
                    .cards
                    .iter()
                    .filter(|moved| moved.key == card.card.id)
                {
                    card.card.status = moved.status.status;
                }
            }
        }
        Ok(())
    }
}
