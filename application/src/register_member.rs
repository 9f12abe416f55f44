//! The use case "Member registration" (`/api/v1/user/registration`, D24): a new member of the
//! project with a drawn id, their profile sealed, the keyed fingerprints they must be unique
//! by, and their password's keyed Argon2id hash, recorded whole with the request's claim
//! (D14).

use std::sync::Arc;

use prepaid_domain::{
    ApplicationStatus, ApplicationType, AspId, CardApplication, CardApplyNo, CardKind, CardProduct,
    CardStatus, DeliveryChoice, ErrorCode, Expiry, JoinChannel, LoginPassword, MemberId,
    MemberProfile, Pan, Par, ProductType, ServiceId, Timestamp,
};

use crate::mint::{CardBlank, CardMint};
use crate::ports::{
    BasicCard, BasicProducts, CardApplicationStore, CardSecrets, Clock, IdempotencyClaim,
    IdempotencyKey, IdempotencyStore, IdempotentOperation, LookupKey, MemberFingerprints,
    MemberRecords, MemberSecrets, MemberValue, NewMember, Passwords, PortError, ProductCatalogue,
    RandomSource, RegisterMemberError,
};
use crate::retry::{RetryRefusal, claimed_without_record, earlier_outcome};

/// How many member ids are drawn before giving up: an id already held is drawn again (a
/// chance of one in 10¹⁹ divided by the members held).
const MOST_DRAWS: usize = 8;

/// The ports the use case runs through.
#[derive(Clone)]
pub struct MemberRegistrationPorts {
    /// Where members are recorded.
    pub records: Arc<dyn MemberRecords>,
    /// Earlier requests' claims.
    pub idempotency: Arc<dyn IdempotencyStore>,
    /// Password hashing.
    pub passwords: Arc<dyn Passwords>,
    /// Sealing profiles and fingerprinting what members are unique by.
    pub members: Arc<dyn MemberSecrets>,
    /// The request's fingerprint.
    pub secrets: Arc<dyn CardSecrets>,
    /// Member ids.
    pub random: Arc<dyn RandomSource>,
    /// Now.
    pub clock: Arc<dyn Clock>,
    /// The basic cards of the projects that name a basic product; `None` where no project
    /// may (the operators' tools).
    pub basic_cards: Option<BasicCardPorts>,
}

/// The ports the basic card of a sign-up is issued through (D24).
#[derive(Clone)]
pub struct BasicCardPorts {
    /// Which product each project names.
    pub projects: Arc<dyn BasicProducts>,
    /// The products.
    pub products: Arc<dyn ProductCatalogue>,
    /// Where cards are made.
    pub mint: CardMint,
    /// The applications and cards, to answer a retry.
    pub applications: Arc<dyn CardApplicationStore>,
}

/// The basic card a sign-up answers: `basicCardInfo`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BasicCardInfo {
    /// Its PAR.
    pub par: Par,
    /// Its card number.
    pub pan: Pan,
    /// Its expiry.
    pub expiry: Expiry,
    /// The basic product.
    pub product: ServiceId,
}

/// A sign-up from an authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisterMemberCommand {
    /// The ASP id and correlation id (D14).
    pub key: IdempotencyKey,
    /// What the member tells about themselves.
    pub profile: MemberProfile,
    /// `loginPassword`.
    pub password: LoginPassword,
    /// `joinChannel`.
    pub join_channel: Option<JoinChannel>,
}

impl RegisterMemberCommand {
    /// What a retry must repeat: every field. Held only to be fingerprinted under the index
    /// key, never stored as it is.
    fn canonical_form(&self) -> String {
        let profile = &self.profile;
        let mut text = [
            "register-member",
            profile.login_id.expose(),
            self.password.expose(),
            &profile.birth_date.to_digits(),
            profile.nationality.as_str(),
            profile.gender.as_str(),
            profile.name.expose(),
            profile.mobile.expose(),
            profile.email.expose(),
            profile.ci.as_ref().map_or("-", |ci| ci.expose()),
            self.join_channel.as_ref().map_or("-", JoinChannel::as_str),
        ]
        .iter()
        // Length-prefixed, so no choice of values can make two requests collide.
        .map(|part| format!("{}:{part}", part.len()))
        .collect::<Vec<_>>()
        .join("\u{1f}");
        text.push_str(&match &profile.address {
            Some(address) => DeliveryChoice::Deliver(address.clone()).canonical_form(),
            None => "\u{1f}-".to_owned(),
        });
        text
    }
}

/// What a sign-up answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberRegistered {
    /// `userId`.
    pub id: MemberId,
    /// The basic card issued with the sign-up, when the project names a basic product.
    pub basic_card: Option<BasicCardInfo>,
    /// `true` when this is the outcome of an earlier request with the same correlation id.
    pub replayed: bool,
}

/// Why no member was registered. In every case nothing was recorded.
#[derive(Debug, thiserror::Error)]
pub enum RegisterMemberFailure {
    /// `001_001`: a member of the project holds the login id, the mobile number or the CI.
    #[error("a member already holds {0:?}")]
    AlreadyExists(MemberValue),
    /// The correlation id was used before with a different payload (D14).
    #[error("correlation id already used with a different payload")]
    CorrelationConflict,
    /// A port failed; the caller may retry with the same correlation id.
    #[error("registration unavailable")]
    Unavailable(#[from] PortError),
}

impl From<RetryRefusal> for RegisterMemberFailure {
    fn from(refusal: RetryRefusal) -> Self {
        match refusal {
            RetryRefusal::Conflict => Self::CorrelationConflict,
            RetryRefusal::Unavailable(error) => Self::Unavailable(error),
        }
    }
}

impl RegisterMemberFailure {
    /// The catalogue code of this error.
    pub const fn code(&self) -> ErrorCode {
        match self {
            Self::AlreadyExists(_) => ErrorCode::UserAlreadyExists,
            Self::CorrelationConflict => ErrorCode::CorrelationIdConflict,
            Self::Unavailable(_) => ErrorCode::SystemError,
        }
    }
}

/// The member registration service.
#[derive(Clone)]
pub struct MemberRegistrationService {
    ports: MemberRegistrationPorts,
}

impl MemberRegistrationService {
    /// A service over `ports`.
    pub fn new(ports: MemberRegistrationPorts) -> Self {
        Self { ports }
    }

    /// Registers the member `command` describes, or answers the first outcome of its
    /// correlation id.
    ///
    /// # Errors
    /// See [`RegisterMemberFailure`]; nothing is recorded when an error is returned.
    pub async fn register(
        &self,
        command: &RegisterMemberCommand,
    ) -> Result<MemberRegistered, RegisterMemberFailure> {
        let ports = &self.ports;
        let canonical = command.canonical_form();
        if let Some(answer) = self.earlier(command, &canonical).await? {
            return Ok(answer);
        }
        let asp_id = &command.key.asp_id;
        let profile = &command.profile;
        let fingerprint = |key, value: &str| ports.members.personal_fingerprint(asp_id, key, value);
        let fingerprints = MemberFingerprints {
            login_id: fingerprint(LookupKey::LoginId, &profile.login_id.normalized()),
            mobile: fingerprint(LookupKey::MobileNumber, profile.mobile.expose()),
            ci: profile
                .ci
                .as_ref()
                .map(|ci| fingerprint(LookupKey::Ci, ci.expose())),
        };
        let password = ports.passwords.hash(&command.password).await?;
        let request_fingerprint = ports.secrets.request_fingerprint(&canonical);
        let basic_product = self.basic_product(asp_id).await?;
        for _ in 0..MOST_DRAWS {
            let id = MemberId::draw(&mut || ports.random.next_u64());
            let now = ports.clock.now();
            let basic = match (&basic_product, &ports.basic_cards) {
                (Some(product), Some(basic)) => {
                    Some(Self::basic_card(basic, ports, product, id, now).await?)
                }
                _ => None,
            };
            let outcome = match &basic {
                Some((card, _)) => format!("{}:{}", id.get(), card.application.number.as_str()),
                None => id.get().to_string(),
            };
            let (basic_card, answered) = basic.unzip();
            let new = NewMember {
                asp_id: asp_id.clone(),
                id,
                profile: ports.members.seal_profile(profile, asp_id, id)?,
                fingerprints: fingerprints.clone(),
                password: password.clone(),
                join_channel: command.join_channel.clone(),
                claim: IdempotencyClaim {
                    key: command.key.clone(),
                    operation: IdempotentOperation::RegisterMember,
                    request_fingerprint: request_fingerprint.clone(),
                    outcome,
                    created_at: now,
                },
                at: now,
                basic_card,
            };
            match ports.records.register(&new).await {
                Ok(()) => {
                    return Ok(MemberRegistered {
                        id,
                        basic_card: answered,
                        replayed: false,
                    });
                }
                // A drawn id or a basic card's number already held: draw again.
                Err(
                    RegisterMemberError::Taken(MemberValue::Id) | RegisterMemberError::NumberTaken,
                ) => {}
                Err(RegisterMemberError::Taken(value)) => {
                    // A concurrent retry of this very request holds the value: its claim
                    // commits with it, so a claim under our key makes this a replay.
                    let earlier = self.earlier(command, &canonical).await?;
                    return earlier.ok_or(RegisterMemberFailure::AlreadyExists(value));
                }
                Err(RegisterMemberError::KeyTaken) => {
                    let earlier = self.earlier(command, &canonical).await?;
                    return earlier.ok_or_else(|| claimed_without_record().into());
                }
                Err(RegisterMemberError::Unavailable(error)) => return Err(error.into()),
            }
        }
        Err(PortError::msg("no free member id after repeated draws").into())
    }

    /// The answer a request with the command's key gave, `None` while none committed.
    async fn earlier(
        &self,
        command: &RegisterMemberCommand,
        canonical: &str,
    ) -> Result<Option<MemberRegistered>, RegisterMemberFailure> {
        let ports = &self.ports;
        let outcome = earlier_outcome(
            ports.idempotency.as_ref(),
            ports.secrets.as_ref(),
            &command.key,
            IdempotentOperation::RegisterMember,
            canonical,
        )
        .await?;
        let Some(outcome) = outcome else {
            return Ok(None);
        };
        let corrupt = || PortError::msg("a sign-up record whose outcome is not a member id");
        let (member, application) = match outcome.split_once(':') {
            Some((member, application)) => (member, Some(application)),
            None => (outcome.as_str(), None),
        };
        let id = MemberId::parse(member).map_err(|_| corrupt())?;
        let basic_card = match application {
            Some(number) => {
                let number = CardApplyNo::parse(number).map_err(|_| corrupt())?;
                Some(self.issued_basic_card(&command.key.asp_id, &number).await?)
            }
            None => None,
        };
        Ok(Some(MemberRegistered {
            id,
            basic_card,
            replayed: true,
        }))
    }

    /// The basic product of project `asp_id`, if it names one: a mobile product, active.
    ///
    /// # Errors
    /// [`PortError`] when the project names a product that is unknown, inactive or not a mobile
    /// product (an operator's mistake: no sign-up is made without the card it promises).
    async fn basic_product(&self, asp_id: &AspId) -> Result<Option<CardProduct>, PortError> {
        let Some(basic) = &self.ports.basic_cards else {
            return Ok(None);
        };
        let Some(id) = basic.projects.basic_product(asp_id).await? else {
            return Ok(None);
        };
        match basic.products.find(&id).await? {
            Some(product) if product.active && product.product_type == ProductType::Mobile => {
                Ok(Some(product))
            }
            _ => Err(PortError::msg(format!(
                "the basic product {} of {} is not an active mobile product",
                id.as_str(),
                asp_id.as_str()
            ))),
        }
    }

    /// A basic card of `product` for member `id`: its application and card, and its answer.
    async fn basic_card(
        basic: &BasicCardPorts,
        ports: &MemberRegistrationPorts,
        product: &CardProduct,
        id: MemberId,
        now: Timestamp,
    ) -> Result<(BasicCard, BasicCardInfo), PortError> {
        let number = CardApplyNo::generate(now, &mut || ports.random.next_u64())
            .ok_or_else(|| PortError::msg("clock outside the supported years"))?;
        let minted = basic
            .mint
            .mint(&CardBlank {
                product,
                owner: id,
                kind: CardKind::Mobile,
                status: CardStatus::Active,
                now,
            })
            .await?;
        let info = BasicCardInfo {
            par: minted.record.card.par.clone(),
            pan: minted.pan,
            expiry: minted.record.card.expiry,
            product: product.id.clone(),
        };
        let card = BasicCard {
            application: CardApplication {
                number,
                member: id,
                product: product.id.clone(),
                application_type: ApplicationType::Basic,
                status: ApplicationStatus::DigitalIssued,
                purpose: None,
                created_at: now,
            },
            card: minted.record,
        };
        Ok((card, info))
    }

    /// The basic card recorded with application `number`, as its sign-up answered it.
    async fn issued_basic_card(
        &self,
        asp_id: &AspId,
        number: &CardApplyNo,
    ) -> Result<BasicCardInfo, PortError> {
        let ports = &self.ports;
        let basic = ports
            .basic_cards
            .as_ref()
            .ok_or_else(|| PortError::msg("a sign-up with a basic card, and no basic cards"))?;
        let missing = || PortError::msg("a sign-up record without its basic card");
        let stored = basic
            .applications
            .find_issuance(asp_id, number)
            .await?
            .ok_or_else(missing)?;
        let card = stored.card.ok_or_else(missing)?;
        let application = basic
            .applications
            .application(asp_id, number)
            .await?
            .ok_or_else(missing)?;
        Ok(BasicCardInfo {
            pan: ports
                .secrets
                .reveal(&card.protected_pan, card.pan_binding())?,
            par: card.par,
            expiry: card.expiry,
            product: application.application.product,
        })
    }
}

#[cfg(test)]
mod tests;
