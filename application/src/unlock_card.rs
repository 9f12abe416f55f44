//! An operator's unlock of a physical card locked by wrong registration attempts (D19, D20):
//! the member cannot resume it; an operator, who has checked who holds it, makes it wait for
//! its registration again. Driven by the operators' `admin` command, not by the API.

use std::sync::Arc;

use prepaid_domain::{AspId, CardFacts, CardKind, Par, UnlockRefusal, decide_unlock};

use crate::ports::{
    CardChange, CardStore, ChangeError, Clock, LifecycleChange, LifecycleChanges, PortError,
    VersionedChange,
};

/// How many times an unlock reads and decides again when another writer changed the card in
/// between.
const MOST_READS: usize = 8;

/// Why a card was not unlocked. Nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum UnlockCardError {
    /// No card with this PAR in the project.
    #[error("no card with this PAR in the project")]
    UnknownCard,
    /// The card is not locked by wrong registration attempts.
    #[error("the card is not locked by wrong registration attempts")]
    NotLocked,
    /// The store failed, or the card kept changing.
    #[error("unlock unavailable")]
    Unavailable(#[from] PortError),
}

/// Unlocks cards locked by wrong registration attempts.
#[derive(Clone)]
pub struct CardUnlockService {
    cards: Arc<dyn CardStore>,
    changes: Arc<dyn LifecycleChanges>,
    clock: Arc<dyn Clock>,
}

impl CardUnlockService {
    /// A service reading `cards` and changing them through `changes`.
    pub fn new(
        cards: Arc<dyn CardStore>,
        changes: Arc<dyn LifecycleChanges>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            cards,
            changes,
            clock,
        }
    }

    /// Makes the locked card `par` of project `asp_id` `INACTIVE` with no wrong attempt, from
    /// the version read.
    ///
    /// # Errors
    /// See [`UnlockCardError`]; nothing changed.
    pub async fn unlock(&self, asp_id: &AspId, par: &Par) -> Result<(), UnlockCardError> {
        for _ in 0..MOST_READS {
            let card = self
                .cards
                .card_by_par(asp_id, par)
                .await?
                .ok_or(UnlockCardError::UnknownCard)?;
            let facts = CardFacts {
                kind: card.card.kind,
                status: card.card.status,
                wrong_registrations: card.wrong_attempts,
                linked: card.card.kind == CardKind::Physical && card.card.linked_to.is_some(),
            };
            let status = decide_unlock(&facts).map_err(|refusal| match refusal {
                UnlockRefusal::NotLocked => UnlockCardError::NotLocked,
            })?;
            let change = LifecycleChange {
                asp_id: asp_id.clone(),
                claim: None,
                applications: vec![],
                deliveries: vec![],
                cards: vec![VersionedChange {
                    key: card.card.id.clone(),
                    from_version: card.version,
                    status: CardChange {
                        status,
                        wrong_attempts: 0,
                        linked_to: card.card.linked_to.clone(),
                    },
                }],
                new_cards: vec![],
                at: self.clock.now(),
            };
            match self.changes.apply(&change).await {
                Ok(()) => return Ok(()),
                Err(ChangeError::Stale) => {}
                Err(ChangeError::Unavailable(error)) => return Err(error.into()),
                Err(ChangeError::KeyTaken | ChangeError::NumberTaken(_)) => {
                    return Err(PortError::msg("an unlock claims nothing and makes no card").into());
                }
            }
        }
        Err(PortError::msg("the card kept changing").into())
    }
}

#[cfg(test)]
mod tests {
    use prepaid_domain::{
        CardApplyNo, CardId, CardStatus, Expiry, IssuedCard, MOST_WRONG_REGISTRATIONS, MemberId,
        Timestamp,
    };

    use super::*;
    use crate::ports::{CardRecord, MockCardStore, MockClock, PanFingerprint, ProtectedPan};
    use crate::test_support::scripted_changes;

    const PAR: &str = "P1AB2CD3EF4GH5IJ6KL7MN8OP9Q";
    const NOW: Timestamp = Timestamp::from_millis(1_796_526_000_000);

    fn asp() -> AspId {
        AspId::parse("ASPSANDBOX00001").unwrap()
    }

    fn locked() -> CardRecord {
        CardRecord {
            card: IssuedCard {
                id: CardId::parse("fedcba9876543210fedcba9876543210").unwrap(),
                par: Par::parse(PAR).unwrap(),
                owner: MemberId::new(1001).unwrap(),
                linked_to: None,
                expiry: Expiry::parse("3111").unwrap(),
                kind: CardKind::Physical,
                status: CardStatus::Suspended,
            },
            application: CardApplyNo::parse("2611300300000000000001").unwrap(),
            protected_pan: ProtectedPan {
                key_id: "pan-1".to_owned(),
                ciphertext: vec![1],
            },
            pan_bound_to_id: true,
            pan_fingerprint: PanFingerprint {
                key_id: "idx-1".to_owned(),
                digest: [1; 32],
            },
            cvk_id: "cvk-1".to_owned(),
            wrong_attempts: MOST_WRONG_REGISTRATIONS,
            version: 6,
        }
    }

    async fn unlock(
        card: Option<CardRecord>,
        answers: Vec<Result<(), ChangeError>>,
    ) -> (Result<(), UnlockCardError>, Vec<LifecycleChange>) {
        let mut cards = MockCardStore::new();
        cards.expect_card_by_par().returning(move |asp_id, par| {
            assert_eq!(asp_id, &asp());
            assert_eq!(par.as_str(), PAR);
            Ok(card.clone())
        });
        let (changes, made) = scripted_changes(answers);
        let mut clock = MockClock::new();
        clock.expect_now().returning(|| NOW);
        let service = CardUnlockService::new(Arc::new(cards), Arc::new(changes), Arc::new(clock));
        let result = service.unlock(&asp(), &Par::parse(PAR).unwrap()).await;
        let applied = made.lock().unwrap().clone();
        (result, applied)
    }

    #[tokio::test]
    async fn a_locked_card_waits_for_its_registration_again_with_no_wrong_attempt() {
        let (result, applied) = unlock(Some(locked()), vec![Ok(())]).await;
        result.unwrap();
        let [change] = applied.as_slice() else {
            panic!("one change: {applied:?}");
        };
        assert_eq!(change.asp_id, asp());
        assert_eq!(change.claim, None);
        assert_eq!(change.at, NOW);
        assert_eq!(
            change.cards,
            [VersionedChange {
                key: locked().card.id,
                from_version: 6,
                status: CardChange {
                    status: CardStatus::Inactive,
                    wrong_attempts: 0,
                    linked_to: None,
                },
            }]
        );
    }

    #[tokio::test]
    async fn a_card_not_locked_or_unknown_is_refused_unchanged() {
        let reported_lost = CardRecord {
            wrong_attempts: 0,
            ..locked()
        };
        let (result, applied) = unlock(Some(reported_lost), vec![Ok(())]).await;
        assert!(
            matches!(result, Err(UnlockCardError::NotLocked)),
            "{result:?}"
        );
        assert!(applied.is_empty());
        let mut registered = locked();
        registered.card.linked_to =
            Some(CardId::parse("0123456789abcdef0123456789abcdef").unwrap());
        let (result, _) = unlock(Some(registered), vec![Ok(())]).await;
        assert!(
            matches!(result, Err(UnlockCardError::NotLocked)),
            "{result:?}"
        );
        let (result, applied) = unlock(None, vec![Ok(())]).await;
        assert!(
            matches!(result, Err(UnlockCardError::UnknownCard)),
            "{result:?}"
        );
        assert!(applied.is_empty());
    }

    #[tokio::test]
    async fn a_card_changed_meanwhile_is_read_again_and_one_that_keeps_changing_is_given_up() {
        let (result, applied) = unlock(Some(locked()), vec![Err(ChangeError::Stale), Ok(())]).await;
        result.unwrap();
        assert_eq!(applied.len(), 1);
        let always_stale = (0..MOST_READS).map(|_| Err(ChangeError::Stale)).collect();
        let (result, applied) = unlock(Some(locked()), always_stale).await;
        assert!(
            matches!(result, Err(UnlockCardError::Unavailable(_))),
            "{result:?}"
        );
        assert!(applied.is_empty());
        let (result, _) = unlock(
            Some(locked()),
            vec![Err(ChangeError::Unavailable(PortError::msg("down")))],
        )
        .await;
        assert!(
            matches!(result, Err(UnlockCardError::Unavailable(_))),
            "{result:?}"
        );
    }

    #[test]
    fn the_refusals_say_what_they_are() {
        assert_eq!(
            UnlockCardError::NotLocked.to_string(),
            "the card is not locked by wrong registration attempts"
        );
    }
}
