//! The wiring of the members' operations (D24): password hashing keyed with the configured
//! pepper, and the member service over the database.

use std::sync::Arc;

use prepaid_application::ports::{CardSecrets, Clock, MemberSecrets};
use prepaid_application::{
    CancellationPorts, MemberRegistrationPorts, MemberService, MembershipCancellationService,
};
use prepaid_crypto::{Argon2Passwords, OsRandom, PasswordCost, PasswordPepper, SystemClock};
use prepaid_persistence::Database;

use crate::config::{ConfigError, KeySettings, Settings};
use crate::keys::{card_secrets, card_verification, required, resolve_keys, retired};
use crate::{Core, StartupError, issuance_service};

/// The id of the password pepper when none is configured.
const DEFAULT_PEPPER_ID: &str = "pep-1";

/// Password hashing with the configured pepper (the retired ones still check).
pub(crate) fn passwords(keys: &KeySettings) -> Result<Argon2Passwords, StartupError> {
    let setting = "keys.password_pepper";
    let id = keys
        .password_pepper_id
        .as_deref()
        .unwrap_or(DEFAULT_PEPPER_ID);
    let current = PasswordPepper::from_hex(id, required(keys.password_pepper.as_ref(), setting)?)
        .map_err(|error| ConfigError::new(setting, error.to_string()))?;
    let setting = "keys.retired_password_peppers";
    let mut old = Vec::new();
    for (id, hex) in retired(&keys.retired_password_peppers, setting)? {
        old.push(
            PasswordPepper::from_hex(id, hex)
                .map_err(|error| ConfigError::new(setting, error.to_string()))?,
        );
    }
    Ok(Argon2Passwords::new(current, old, PasswordCost::STANDARD))
}

/// The members' operations over the database.
pub(crate) fn member_service(
    database: &Database,
    core: &Core,
    mint: prepaid_application::CardMint,
) -> Arc<MemberService> {
    let basic_cards = prepaid_application::BasicCardPorts {
        projects: Arc::new(database.clone()),
        products: core.catalogue.clone(),
        mint,
        applications: Arc::new(database.clone()),
    };
    Arc::new(MemberService::new(MemberRegistrationPorts {
        records: Arc::new(database.clone()),
        idempotency: Arc::new(database.clone()),
        passwords: core.passwords.clone(),
        members: core.members.clone(),
        secrets: core.secrets.clone(),
        random: Arc::new(OsRandom),
        clock: core.clock.clone(),
        basic_cards: Some(basic_cards),
    }))
}

/// Membership cancellations over the database.
pub(crate) fn membership_cancellation(
    database: &Database,
    core: &Core,
) -> Arc<MembershipCancellationService> {
    Arc::new(cancellation_over(
        database,
        core.secrets.clone(),
        core.clock.clone(),
    ))
}

/// Membership cancellations over `database` with these secrets.
fn cancellation_over(
    database: &Database,
    secrets: Arc<dyn CardSecrets>,
    clock: Arc<dyn Clock>,
) -> MembershipCancellationService {
    MembershipCancellationService::new(CancellationPorts {
        members: Arc::new(database.clone()),
        cards: Arc::new(database.clone()),
        records: Arc::new(database.clone()),
        idempotency: Arc::new(database.clone()),
        secrets,
        clock,
    })
}

/// The members' operations over `database` with the keys of `settings` (the sandbox's when it
/// configures none), as the API runs them (a sign-up with the project's basic card when it
/// names one), for the operators' admin commands.
///
/// # Errors
/// [`StartupError`] when keys are missing or weak.
pub fn member_operations(
    settings: &Settings,
    database: &Database,
) -> Result<Arc<MemberService>, StartupError> {
    let keys = resolve_keys(settings)?;
    let secrets = Arc::new(card_secrets(&keys)?);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let core = Core {
        database: database.clone(),
        clock: clock.clone(),
        catalogue: Arc::new(database.clone()),
        secrets: secrets.clone(),
        verification: Arc::new(card_verification(&keys)?),
        members: secrets,
        passwords: Arc::new(passwords(&keys)?),
    };
    let issuance = issuance_service(
        database,
        (
            core.catalogue.clone(),
            core.secrets.clone(),
            core.verification.clone(),
        ),
        clock,
        &keys,
    )?;
    Ok(member_service(database, &core, issuance.mint()))
}

/// Membership cancellations over `database` with the keys of `settings`, for the operators'
/// admin command: the same use case as the API's.
///
/// # Errors
/// [`StartupError`] when keys are missing or weak.
pub fn membership_cancellations(
    settings: &Settings,
    database: &Database,
) -> Result<MembershipCancellationService, StartupError> {
    let keys = resolve_keys(settings)?;
    Ok(cancellation_over(
        database,
        Arc::new(card_secrets(&keys)?),
        Arc::new(SystemClock),
    ))
}

/// Brings members' personal data under the current data and index keys (at each start, before
/// serving), and says in the log what it did and what it had to leave.
pub(crate) async fn rekey(
    database: &Database,
    members: Arc<dyn MemberSecrets>,
) -> Result<(), StartupError> {
    let report = prepaid_application::MemberRekeying::new(Arc::new(database.clone()), members)
        .run()
        .await?;
    if report.rekeyed > 0 || report.changed_meanwhile > 0 {
        tracing::info!(
            rekeyed = report.rekeyed,
            changed_meanwhile = report.changed_meanwhile,
            "members' personal data brought under the current data and index keys"
        );
    }
    if report.left > 0 {
        tracing::warn!(
            left = report.left,
            "members' personal data left under older keys: a profile no configured data key opens, or a value two members hold"
        );
    }
    Ok(())
}
