//! The use case "issue and deliver a prepaid card" (`POST /api/v1/prepay-card/issue/delivery`).

use std::sync::Arc;

use prepaid_domain::{
    ApplicationType, AspId, Bin, CardApplication, CardApplyNo, CardKind, CardProduct, CardStatus,
    Cvc, ErrorCode, Expiry, Field, IssuancePlan, IssuanceRefusal, IssuanceRequest, MemberId, Pan,
    Par, Purpose, Timestamp, decide,
};

use crate::mint::{CardBlank, CardMint, CardMintPorts};
use crate::ports::{
    CardApplicationStore, CardNumberSerials, CardNumbering, CardSecrets, CardVerification, Clock,
    IdempotencyClaim, IdempotencyKey, IdempotencyRecord, IdempotencyStore, IdempotentOperation,
    MemberDirectory, NewDelivery, NewIssuance, NewIssuedCard, PortError, ProductCatalogue,
    RandomSource, RecordError, Replacement, RequestFingerprint,
};
use crate::retry::{Retry, RetryRefusal, recognise};

/// How many times an issuance is tried again when one of its numbers is taken. Card numbers are
/// unique by construction; only numbers issued before that (drawn at random) can be met, and a
/// PAR or an application number drawn twice (1 in 36²⁷ and in 2⁴⁸ a second).
pub(crate) const MAX_DRAWS: usize = 8;

/// The ports the use case runs through.
#[derive(Clone)]
pub struct IssuancePorts {
    /// Who is a member.
    pub members: Arc<dyn MemberDirectory>,
    /// Which products exist.
    pub products: Arc<dyn ProductCatalogue>,
    /// Where issuances are recorded.
    pub store: Arc<dyn CardApplicationStore>,
    /// The idempotency records of every operation (D14).
    pub idempotency: Arc<dyn IdempotencyStore>,
    /// PAN encryption and fingerprints.
    pub secrets: Arc<dyn CardSecrets>,
    /// CVC derivation.
    pub verification: Arc<dyn CardVerification>,
    /// Randomness for new numbers.
    pub random: Arc<dyn RandomSource>,
    /// The card-number permutation.
    pub numbering: Arc<dyn CardNumbering>,
    /// The serials of each BIN.
    pub serials: Arc<dyn CardNumberSerials>,
    /// The time.
    pub clock: Arc<dyn Clock>,
}

/// An application for a card, from an authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssueCardCommand {
    /// The ASP id and correlation id of the request (D6).
    pub key: IdempotencyKey,
    /// What is asked for.
    pub request: IssuanceRequest,
}

/// A mobile card issued with the application.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MobileCard {
    /// Its card number.
    pub pan: Pan,
    /// Its verification code (derived, never stored).
    pub cvc: Cvc,
    /// Its PAR.
    pub par: Par,
    /// Its expiry.
    pub expiry: Expiry,
}

/// What the application answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssueCardOutcome {
    /// `cardApplyNo`.
    pub application_number: CardApplyNo,
    /// The mobile card, when one was issued now.
    pub mobile_card: Option<MobileCard>,
    /// `true` when this is the outcome of an earlier request with the same correlation id.
    pub replayed: bool,
}

/// Why no card was issued. In every case nothing was recorded.
#[derive(Debug, thiserror::Error)]
pub enum IssueCardError {
    /// A rule refused the application (`000_002`, `001_006`, `003_024`).
    #[error(transparent)]
    Refused(#[from] IssuanceRefusal),
    /// The correlation id was used before with a different payload (D6).
    #[error("correlation id already used with a different payload")]
    CorrelationConflict,
    /// A port failed; the caller may retry with the same correlation id.
    #[error("issuance unavailable")]
    Unavailable(#[from] PortError),
}

impl IssueCardError {
    /// The catalogue code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Refused(refusal) => refusal.code(),
            Self::CorrelationConflict => ErrorCode::CorrelationIdConflict,
            Self::Unavailable(_) => ErrorCode::SystemError,
        }
    }

    /// The field the message names, if any.
    pub fn field(&self) -> Option<Field> {
        match self {
            Self::Refused(refusal) => refusal.field(),
            Self::CorrelationConflict | Self::Unavailable(_) => None,
        }
    }
}

/// An application to record, decided: by a new issuance, a reissue or a renewal.
pub(crate) struct Order<'a> {
    /// The request's key.
    pub key: &'a IdempotencyKey,
    /// The operation its claim is for.
    pub operation: IdempotentOperation,
    /// The request's fingerprint.
    pub fingerprint: RequestFingerprint,
    /// Who applies.
    pub member: MemberId,
    /// The new card's product.
    pub product: &'a CardProduct,
    /// What is issued now.
    pub plan: &'a IssuancePlan,
    /// Why the application is made.
    pub application_type: ApplicationType,
    /// `purpose`.
    pub purpose: Option<Purpose>,
    /// The card replaced, and the changes made to cards with it.
    pub replacing: Option<Replacement>,
}

/// What became of an order.
pub(crate) enum Recorded {
    /// Recorded: the outcome to answer.
    Made(IssueCardOutcome),
    /// A concurrent request with the same key committed first: answer its outcome.
    KeyTaken,
    /// A card the order changes moved since it was read: read and decide again.
    Stale,
}

/// The card-issuance service: one method per use case.
#[derive(Clone)]
pub struct CardIssuanceService {
    ports: IssuancePorts,
    mint: CardMint,
}

impl CardIssuanceService {
    /// A service running through `ports`.
    pub fn new(ports: IssuancePorts) -> Self {
        let mint = CardMint::new(CardMintPorts {
            secrets: ports.secrets.clone(),
            verification: ports.verification.clone(),
            random: ports.random.clone(),
            numbering: ports.numbering.clone(),
            serials: ports.serials.clone(),
        });
        Self { ports, mint }
    }

    /// The mint this service makes its cards with, to share its reserved serials with the
    /// other use cases that make cards.
    pub fn mint(&self) -> CardMint {
        self.mint.clone()
    }

    /// How many card numbers are left under each BIN this instance issued from: those never
    /// reserved (as of its last reservation) and those of its own block not used yet.
    pub fn card_numbers_left(&self) -> Vec<(Bin, u64)> {
        self.mint.card_numbers_left()
    }

    /// Issues a card (and a delivery) as `command` asks, or answers the outcome of the first
    /// request with the same correlation id.
    ///
    /// # Errors
    /// See [`IssueCardError`]; nothing is recorded when an error is returned.
    pub async fn issue_and_deliver(
        &self,
        command: IssueCardCommand,
    ) -> Result<IssueCardOutcome, IssueCardError> {
        let ports = &self.ports;
        let canonical = command.request.canonical_form();
        let record = ports.idempotency.find_record(&command.key).await?;
        if record.is_some() {
            return self.replay(record, &command.key.asp_id, &canonical).await;
        }
        let fingerprint = ports.secrets.request_fingerprint(&canonical);

        let product = ports.products.find(&command.request.service_id).await?;
        let member = ports
            .members
            .find(&command.key.asp_id, command.request.member)
            .await?;
        let plan = decide(&command.request, member.as_ref(), product.as_ref())?;
        let Some(product) = product else {
            // `decide` refuses an absent product, so this is never reached.
            return Err(IssuanceRefusal::UnknownProduct.into());
        };

        let order = Order {
            key: &command.key,
            operation: IdempotentOperation::IssueAndDeliver,
            fingerprint,
            member: command.request.member,
            product: &product,
            plan: &plan,
            application_type: ApplicationType::Issue,
            purpose: command.request.purpose,
            replacing: None,
        };
        match self.record(&order).await? {
            Recorded::Made(outcome) => Ok(outcome),
            Recorded::KeyTaken => {
                let record = ports.idempotency.find_record(&command.key).await?;
                if record.is_none() {
                    return Err(PortError::msg("idempotency key claimed but not found").into());
                }
                self.replay(record, &command.key.asp_id, &canonical).await
            }
            // The store makes a card only for an active member: the member left meanwhile.
            Recorded::Stale => {
                let member = ports
                    .members
                    .find(&command.key.asp_id, command.request.member)
                    .await?;
                decide(&command.request, member.as_ref(), Some(&product))?;
                Err(PortError::msg("an issuance refused for a member still active").into())
            }
        }
    }

    /// Records the application `order` describes, drawing new numbers while one drawn is
    /// taken.
    pub(crate) async fn record(&self, order: &Order<'_>) -> Result<Recorded, PortError> {
        for _ in 0..MAX_DRAWS {
            // A card number taken (by a number drawn at random before numbers were allocated)
            // is passed over: the next serial gives another.
            let serial = if order.plan.issues_mobile_card {
                Some(self.mint.next_serial(&order.product.bin).await?)
            } else {
                None
            };
            let (issuance, outcome) = self.draw(order, serial)?;
            match self.ports.store.record_issuance(&issuance).await {
                Ok(()) => return Ok(Recorded::Made(outcome)),
                Err(RecordError::NumberTaken(_)) => {}
                // A concurrent request with the same key committed first.
                Err(RecordError::KeyTaken) => return Ok(Recorded::KeyTaken),
                Err(RecordError::Stale) => return Ok(Recorded::Stale),
                Err(RecordError::Unavailable(error)) => return Err(error),
            }
        }
        Err(PortError::msg("no unique numbers after repeated tries"))
    }

    /// Draws the numbers of a new issuance and builds what is recorded and what is answered.
    fn draw(
        &self,
        order: &Order<'_>,
        serial: Option<(u64, String)>,
    ) -> Result<(NewIssuance, IssueCardOutcome), PortError> {
        let ports = &self.ports;
        let now = ports.clock.now();
        let mut random = || ports.random.next_u64();
        let number = CardApplyNo::generate(now, &mut random)
            .ok_or_else(|| PortError::msg("clock outside the supported years"))?;

        let (card, mobile_card) = match serial {
            Some((serial, key_id)) => {
                let (card, mobile) =
                    self.issue_mobile_card(order.product, order.member, serial, &key_id, now)?;
                (Some(card), Some(mobile))
            }
            None => (None, None),
        };
        let issuance = NewIssuance {
            claim: IdempotencyClaim {
                key: order.key.clone(),
                operation: order.operation,
                request_fingerprint: order.fingerprint.clone(),
                outcome: number.as_str().to_owned(),
                created_at: now,
            },
            application: CardApplication {
                number: number.clone(),
                member: order.member,
                product: order.product.id.clone(),
                application_type: order.application_type,
                status: order.plan.status,
                purpose: order.purpose,
                created_at: now,
            },
            card,
            delivery: order
                .plan
                .delivery
                .as_ref()
                .map(|address| {
                    Ok::<_, PortError>(NewDelivery {
                        address: ports.secrets.seal_address(address, &number)?,
                        created_at: now,
                    })
                })
                .transpose()?,
            replacing: order.replacing.clone(),
        };
        let outcome = IssueCardOutcome {
            application_number: number,
            mobile_card,
            replayed: false,
        };
        Ok((issuance, outcome))
    }

    fn issue_mobile_card(
        &self,
        product: &CardProduct,
        owner: MemberId,
        serial: u64,
        numbering_key: &str,
        now: Timestamp,
    ) -> Result<(NewIssuedCard, MobileCard), PortError> {
        let blank = CardBlank {
            product,
            owner,
            kind: CardKind::Mobile,
            status: CardStatus::Active,
            now,
        };
        let minted = self.mint.make(&blank, serial, numbering_key)?;
        let mobile = MobileCard {
            pan: minted.pan,
            cvc: minted.cvc,
            par: minted.record.card.par.clone(),
            expiry: minted.record.card.expiry,
        };
        Ok((minted.record, mobile))
    }

    /// The outcome of the first request, if this request's payload (`canonical`, its canonical
    /// form) is that request's (D6): compared under the index key the first one was
    /// fingerprinted with, so that a rotation in between changes nothing.
    /// Answers a request whose key has a record: the first outcome when it is a retry of the
    /// same issuance, else a conflict.
    async fn replay(
        &self,
        record: Option<IdempotencyRecord>,
        asp_id: &AspId,
        canonical: &str,
    ) -> Result<IssueCardOutcome, IssueCardError> {
        self.replay_as(
            IdempotentOperation::IssueAndDeliver,
            record,
            asp_id,
            canonical,
        )
        .await
        .map_err(|refusal| match refusal {
            RetryRefusal::Conflict => IssueCardError::CorrelationConflict,
            RetryRefusal::Unavailable(error) => error.into(),
        })
    }

    /// Answers a request for `operation` (an operation that records an application) whose key
    /// has a record: the first outcome when it is a retry of the same request, else a conflict.
    pub(crate) async fn replay_as(
        &self,
        operation: IdempotentOperation,
        record: Option<IdempotencyRecord>,
        asp_id: &AspId,
        canonical: &str,
    ) -> Result<IssueCardOutcome, RetryRefusal> {
        let ports = &self.ports;
        let outcome = match recognise(record, operation, canonical, ports.secrets.as_ref())? {
            Retry::Same(outcome) => outcome,
            Retry::First => {
                return Err(RetryRefusal::Unavailable(PortError::msg(
                    "a replay without a record",
                )));
            }
        };
        let number = CardApplyNo::parse(&outcome).map_err(|_| {
            PortError::msg("an issuance record whose outcome is not an application number")
        })?;
        let stored = ports
            .store
            .find_issuance(asp_id, &number)
            .await?
            .ok_or_else(|| PortError::msg("idempotency record without its issuance"))?;
        let mobile_card = match stored.card {
            Some(card) => {
                let pan = self
                    .ports
                    .secrets
                    .reveal(&card.protected_pan, card.pan_binding())?;
                // The CVC is never stored (D7): derive it again.
                let cvc = self
                    .ports
                    .verification
                    .derive(&card.cvk_id, &pan, card.expiry)?;
                Some(MobileCard {
                    pan,
                    cvc,
                    par: card.par,
                    expiry: card.expiry,
                })
            }
            None => None,
        };
        Ok(IssueCardOutcome {
            application_number: stored.application_number,
            mobile_card,
            replayed: true,
        })
    }
}

#[cfg(test)]
mod tests;
