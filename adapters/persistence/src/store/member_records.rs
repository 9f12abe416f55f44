//! Members with their personal data (D24): a sign-up written whole with its claim, and members
//! read by id or by the fingerprint of what they are unique by, in their project only (D15).

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::{BoolExpressionMethods as _, JoinOnDsl as _};
use prepaid_application::ports::{
    LookupKey, MemberFingerprints, MemberKeyIds, MemberRecords, MemberUnderOldKeys, MemberValue,
    NewMember, PasswordHash, PersonalFingerprint, ProfileUpdate, ProfileUpdateError,
    RegisterMemberError, RekeyedMember, SealedProfile, StoredMember,
};
use prepaid_domain::{JoinChannel, MemberStatus};

use super::issuance::{ActiveMember, IssuanceRows, claim_row, insert_issuance_rows};
use super::lifecycle::{change_cards, stored_version};
use super::{
    AspId, Database, DatabaseError, ExpressionMethods, Member, MemberId, NewMemberRow,
    OptionalExtension, PortError, QueryDsl, RunQueryDsl, SelectableHelper, async_trait,
    idempotency_records, member_profiles, members, on_conn,
};
use super::{CardId, NewIssuance, card_applications, cards, deliveries, delivery_steps};
use crate::rows::MemberProfileRow;

/// Which unique value (or the idempotency key) a unique violation is about.
fn classify(info: &dyn diesel::result::DatabaseErrorInformation) -> RegisterMemberError {
    // PostgreSQL names the constraint; SQLite names `table.column` in the message.
    let text = format!(
        "{} {}",
        info.constraint_name().unwrap_or(""),
        info.message()
    );
    if text.contains("idempotency_records") {
        RegisterMemberError::KeyTaken
    } else if text.contains("card_applications") || text.contains("cards") {
        // The basic card's application number, PAR or PAN fingerprint.
        RegisterMemberError::NumberTaken
    } else if text.contains("login") {
        RegisterMemberError::Taken(MemberValue::LoginId)
    } else if text.contains("mobile") {
        RegisterMemberError::Taken(MemberValue::MobileNumber)
    } else if text.contains("ci_fingerprint") || text.contains("member_profiles_ci") {
        RegisterMemberError::Taken(MemberValue::Ci)
    } else {
        RegisterMemberError::Taken(MemberValue::Id)
    }
}

fn stored_member(row: MemberProfileRow, status: &str) -> Result<StoredMember, DatabaseError> {
    let corrupt = DatabaseError::Corrupt;
    Ok(StoredMember {
        member: Member {
            id: MemberId::parse(&row.member_id).map_err(|_| corrupt("member_id"))?,
            status: MemberStatus::parse(status).ok_or(corrupt("member status"))?,
        },
        profile: SealedProfile {
            key_id: row.profile_key_id,
            ciphertext: row.profile_sealed,
        },
        password: PasswordHash {
            key_id: row.password_key_id,
            phc: row.password_hash,
        },
        wrong_passwords: u8::try_from(row.wrong_passwords)
            .map_err(|_| corrupt("wrong_passwords"))?,
        join_channel: row
            .join_channel
            .as_deref()
            .map(JoinChannel::parse)
            .transpose()
            .map_err(|_| corrupt("join_channel"))?,
        version: u64::try_from(row.version).map_err(|_| corrupt("version"))?,
    })
}

/// Which members of a project to read.
enum MembersBy {
    Id(String),
    Fingerprint(LookupKey, Vec<u8>, String),
}

impl Database {
    async fn member_where(
        &self,
        asp_id: &AspId,
        by: MembersBy,
    ) -> Result<Option<StoredMember>, PortError> {
        let asp = asp_id.as_str().to_owned();
        let found: Option<(MemberProfileRow, String)> = self
            .read(move |source| {
                on_conn!(source, |conn| {
                    let mine = member_profiles::table
                        .inner_join(
                            members::table.on(members::asp_id
                                .eq(member_profiles::asp_id)
                                .and(members::member_id.eq(member_profiles::member_id))),
                        )
                        .filter(member_profiles::asp_id.eq(&asp))
                        .into_boxed();
                    let selected = match &by {
                        MembersBy::Id(id) => mine.filter(member_profiles::member_id.eq(id)),
                        MembersBy::Fingerprint(LookupKey::LoginId, digest, key_id) => mine
                            .filter(member_profiles::login_fingerprint.eq(digest))
                            .filter(member_profiles::login_fingerprint_key_id.eq(key_id)),
                        MembersBy::Fingerprint(LookupKey::MobileNumber, digest, key_id) => mine
                            .filter(member_profiles::mobile_fingerprint.eq(digest))
                            .filter(member_profiles::mobile_fingerprint_key_id.eq(key_id)),
                        MembersBy::Fingerprint(LookupKey::Ci, digest, key_id) => mine
                            .filter(member_profiles::ci_fingerprint.eq(digest))
                            .filter(member_profiles::ci_fingerprint_key_id.eq(key_id)),
                    };
                    Ok(selected
                        .select((MemberProfileRow::as_select(), members::status))
                        .get_result::<(MemberProfileRow, String)>(conn)
                        .optional()?)
                })
            })
            .await?;
        Ok(found
            .map(|(row, status)| stored_member(row, &status))
            .transpose()?)
    }
}

/// A fixture member's personal data (the sandbox's).
pub struct FixtureProfile<'a> {
    /// The project.
    pub asp_id: &'a AspId,
    /// The member, already saved.
    pub id: MemberId,
    /// The profile, sealed.
    pub profile: &'a SealedProfile,
    /// What the member is unique by.
    pub fingerprints: &'a MemberFingerprints,
    /// The password's hash.
    pub password: &'a PasswordHash,
    /// `joinChannel`.
    pub join_channel: Option<&'a JoinChannel>,
    /// When.
    pub at: prepaid_domain::Timestamp,
}

impl Database {
    /// Gives the saved member `fixture.id` their personal data, unless they have some already (a
    /// member who changed it keeps their change).
    ///
    /// # Errors
    /// [`DatabaseError`] when the store cannot be written, or another member of the project
    /// holds one of the values.
    pub async fn save_fixture_profile(
        &self,
        fixture: &FixtureProfile<'_>,
    ) -> Result<(), DatabaseError> {
        let at = fixture.at.as_millis();
        let prints = fixture.fingerprints;
        let row = MemberProfileRow {
            asp_id: fixture.asp_id.as_str().to_owned(),
            member_id: fixture.id.get().to_string(),
            profile_key_id: fixture.profile.key_id.clone(),
            profile_sealed: fixture.profile.ciphertext.clone(),
            login_fingerprint: prints.login_id.digest.to_vec(),
            login_fingerprint_key_id: prints.login_id.key_id.clone(),
            mobile_fingerprint: prints.mobile.digest.to_vec(),
            mobile_fingerprint_key_id: prints.mobile.key_id.clone(),
            ci_fingerprint: prints.ci.as_ref().map(|ci| ci.digest.to_vec()),
            ci_fingerprint_key_id: prints.ci.as_ref().map(|ci| ci.key_id.clone()),
            password_key_id: fixture.password.key_id.clone(),
            password_hash: fixture.password.phc.clone(),
            wrong_passwords: 0,
            join_channel: fixture
                .join_channel
                .map(|channel| channel.as_str().to_owned()),
            version: 0,
            created_at: at,
            updated_at: at,
        };
        self.execute(move |source| {
            on_conn!(source, |conn| {
                diesel::insert_into(member_profiles::table)
                    .values(&row)
                    .on_conflict((member_profiles::asp_id, member_profiles::member_id))
                    .do_nothing()
                    .execute(conn)
            })
        })
        .await?
        .map_err(DatabaseError::from)?;
        Ok(())
    }
}

#[async_trait]
impl MemberRecords for Database {
    async fn register(&self, new: &NewMember) -> Result<(), RegisterMemberError> {
        let new = new.clone();
        let retention = self.retention_millis;
        let basic = new.basic_card.as_ref().map(|basic| NewIssuance {
            claim: new.claim.clone(),
            application: basic.application.clone(),
            card: Some(basic.card.clone()),
            delivery: None,
            replacing: None,
        });
        let written = self
            .execute(move |source| {
                let asp = new.asp_id.as_str().to_owned();
                let id = new.id.get().to_string();
                let at = new.at.as_millis();
                let prints = &new.fingerprints;
                on_conn!(source, |conn| {
                    diesel::insert_into(members::table)
                        .values(&NewMemberRow {
                            asp_id: &asp,
                            member_id: &id,
                            status: MemberStatus::Active.as_str(),
                            created_at: at,
                            updated_at: at,
                        })
                        .execute(conn)?;
                    diesel::insert_into(member_profiles::table)
                        .values(&MemberProfileRow {
                            asp_id: asp.clone(),
                            member_id: id.clone(),
                            profile_key_id: new.profile.key_id.clone(),
                            profile_sealed: new.profile.ciphertext.clone(),
                            login_fingerprint: prints.login_id.digest.to_vec(),
                            login_fingerprint_key_id: prints.login_id.key_id.clone(),
                            mobile_fingerprint: prints.mobile.digest.to_vec(),
                            mobile_fingerprint_key_id: prints.mobile.key_id.clone(),
                            ci_fingerprint: prints.ci.as_ref().map(|ci| ci.digest.to_vec()),
                            ci_fingerprint_key_id: prints.ci.as_ref().map(|ci| ci.key_id.clone()),
                            password_key_id: new.password.key_id.clone(),
                            password_hash: new.password.phc.clone(),
                            wrong_passwords: 0,
                            join_channel: new
                                .join_channel
                                .as_ref()
                                .map(|channel| channel.as_str().to_owned()),
                            version: 0,
                            created_at: at,
                            updated_at: at,
                        })
                        .execute(conn)?;
                    // The basic card's application and card, then the claim, as an issuance
                    // writes them (the member is active: just written); or the claim alone,
                    // last as for every state change.
                    if let Some(issuance) = &basic {
                        let rows = IssuanceRows::of(issuance, retention);
                        insert_issuance_rows!(&mut *conn, &rows, issuance)
                    } else {
                        diesel::insert_into(idempotency_records::table)
                            .values(&claim_row(&new.claim, retention))
                            .execute(conn)?;
                        Ok::<(), DieselError>(())
                    }
                })
            })
            .await
            .map_err(|error| RegisterMemberError::Unavailable(error.into()))?;
        match written {
            Ok(()) => Ok(()),
            Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info)) => {
                Err(classify(info.as_ref()))
            }
            Err(error) => Err(RegisterMemberError::Unavailable(
                DatabaseError::from(error).into(),
            )),
        }
    }

    async fn member(
        &self,
        asp_id: &AspId,
        id: MemberId,
    ) -> Result<Option<StoredMember>, PortError> {
        self.member_where(asp_id, MembersBy::Id(id.get().to_string()))
            .await
    }

    async fn member_by(
        &self,
        asp_id: &AspId,
        key: LookupKey,
        fingerprint: &PersonalFingerprint,
    ) -> Result<Option<StoredMember>, PortError> {
        let by =
            MembersBy::Fingerprint(key, fingerprint.digest.to_vec(), fingerprint.key_id.clone());
        self.member_where(asp_id, by).await
    }

    async fn count_password_attempt(
        &self,
        asp_id: &AspId,
        id: MemberId,
        most: u8,
    ) -> Result<bool, PortError> {
        let (asp, id) = (asp_id.as_str().to_owned(), id.get().to_string());
        let counted = self
            .execute(move |source| {
                on_conn!(source, |conn| {
                    // One conditional update: the database serialises concurrent attempts on
                    // the row, so no more than `most` are ever counted.
                    diesel::update(
                        member_profiles::table
                            .filter(member_profiles::asp_id.eq(&asp))
                            .filter(member_profiles::member_id.eq(&id))
                            .filter(member_profiles::wrong_passwords.lt(i16::from(most))),
                    )
                    .set((
                        member_profiles::wrong_passwords.eq(member_profiles::wrong_passwords + 1),
                        member_profiles::version.eq(member_profiles::version + 1),
                    ))
                    .execute(conn)
                })
            })
            .await?
            .map_err(DatabaseError::from)?;
        Ok(counted == 1)
    }

    async fn clear_password_attempts(
        &self,
        asp_id: &AspId,
        id: MemberId,
    ) -> Result<bool, PortError> {
        let (asp, id) = (asp_id.as_str().to_owned(), id.get().to_string());
        let cleared = self
            .execute(move |source| {
                on_conn!(source, |conn| {
                    diesel::update(
                        member_profiles::table
                            .filter(member_profiles::asp_id.eq(&asp))
                            .filter(member_profiles::member_id.eq(&id)),
                    )
                    .set((
                        member_profiles::wrong_passwords.eq(0),
                        member_profiles::version.eq(member_profiles::version + 1),
                    ))
                    .execute(conn)
                })
            })
            .await?
            .map_err(DatabaseError::from)?;
        Ok(cleared == 1)
    }

    async fn replace_password(
        &self,
        asp_id: &AspId,
        id: MemberId,
        from: &PasswordHash,
        to: &PasswordHash,
    ) -> Result<bool, PortError> {
        let (asp, id) = (asp_id.as_str().to_owned(), id.get().to_string());
        let (from, to) = (from.clone(), to.clone());
        let replaced = self
            .execute(move |source| {
                on_conn!(source, |conn| {
                    diesel::update(
                        member_profiles::table
                            .filter(member_profiles::asp_id.eq(&asp))
                            .filter(member_profiles::member_id.eq(&id))
                            .filter(member_profiles::password_key_id.eq(&from.key_id))
                            .filter(member_profiles::password_hash.eq(&from.phc)),
                    )
                    .set((
                        member_profiles::password_key_id.eq(&to.key_id),
                        member_profiles::password_hash.eq(&to.phc),
                        member_profiles::version.eq(member_profiles::version + 1),
                    ))
                    .execute(conn)
                })
            })
            .await?
            .map_err(DatabaseError::from)?;
        Ok(replaced == 1)
    }

    async fn cancel(
        &self,
        id: MemberId,
        change: &prepaid_application::ports::LifecycleChange,
    ) -> Result<(), prepaid_application::ports::ChangeError> {
        self.cancel_member(id, change).await
    }

    async fn members_under_other_keys(
        &self,
        current: &MemberKeyIds,
    ) -> Result<Vec<MemberUnderOldKeys>, PortError> {
        let current = current.clone();
        let rows: Vec<(String, String, String, Vec<u8>)> = self
            .read(move |source| {
                on_conn!(source, |conn| {
                    let index = &current.index;
                    Ok(member_profiles::table
                        .filter(
                            member_profiles::profile_key_id
                                .ne(&current.data)
                                .or(member_profiles::login_fingerprint_key_id.ne(index))
                                .or(member_profiles::mobile_fingerprint_key_id.ne(index))
                                // No CI, no fingerprint: NULL is never "another key".
                                .or(member_profiles::ci_fingerprint_key_id.ne(index)),
                        )
                        .order((member_profiles::asp_id, member_profiles::member_id))
                        .select((
                            member_profiles::asp_id,
                            member_profiles::member_id,
                            member_profiles::profile_key_id,
                            member_profiles::profile_sealed,
                        ))
                        .load(conn)?)
                })
            })
            .await?;
        rows.into_iter()
            .map(|(asp, id, key_id, ciphertext)| {
                let corrupt = DatabaseError::Corrupt;
                Ok(MemberUnderOldKeys {
                    asp_id: AspId::parse(&asp).map_err(|_| corrupt("member_profiles.asp_id"))?,
                    id: MemberId::parse(&id).map_err(|_| corrupt("member_profiles.member_id"))?,
                    profile: SealedProfile { key_id, ciphertext },
                })
            })
            .collect::<Result<_, DatabaseError>>()
            .map_err(Into::into)
    }

    async fn rekey(&self, rekeyed: &RekeyedMember) -> Result<bool, PortError> {
        let rekeyed = rekeyed.clone();
        let written = self
            .execute(move |source| {
                let prints = &rekeyed.fingerprints;
                on_conn!(source, |conn| {
                    diesel::update(
                        member_profiles::table
                            .filter(member_profiles::asp_id.eq(rekeyed.asp_id.as_str()))
                            .filter(member_profiles::member_id.eq(rekeyed.id.get().to_string()))
                            .filter(member_profiles::profile_key_id.eq(&rekeyed.read.key_id))
                            .filter(member_profiles::profile_sealed.eq(&rekeyed.read.ciphertext)),
                    )
                    .set((
                        member_profiles::profile_key_id.eq(&rekeyed.profile.key_id),
                        member_profiles::profile_sealed.eq(&rekeyed.profile.ciphertext),
                        member_profiles::login_fingerprint.eq(prints.login_id.digest.to_vec()),
                        member_profiles::login_fingerprint_key_id.eq(&prints.login_id.key_id),
                        member_profiles::mobile_fingerprint.eq(prints.mobile.digest.to_vec()),
                        member_profiles::mobile_fingerprint_key_id.eq(&prints.mobile.key_id),
                        member_profiles::ci_fingerprint
                            .eq(prints.ci.as_ref().map(|ci| ci.digest.to_vec())),
                        member_profiles::ci_fingerprint_key_id
                            .eq(prints.ci.as_ref().map(|ci| ci.key_id.clone())),
                        member_profiles::version.eq(member_profiles::version + 1),
                    ))
                    .execute(conn)
                })
            })
            .await?
            .map_err(DatabaseError::from)?;
        Ok(written == 1)
    }

    async fn change_profile(&self, update: &ProfileUpdate) -> Result<(), ProfileUpdateError> {
        let update = update.clone();
        let retention = self.retention_millis;
        let written = self
            .execute(move |source| {
                let asp = update.asp_id.as_str().to_owned();
                let id = update.id.get().to_string();
                let at = update.at.as_millis();
                on_conn!(source, |conn| {
                    // The member's row first, only while active: a cancellation that holds it
                    // makes this wait, then find the member cancelled.
                    let active = diesel::update(
                        members::table
                            .filter(members::asp_id.eq(&asp))
                            .filter(members::member_id.eq(&id))
                            .filter(members::status.eq(MemberStatus::Active.as_str())),
                    )
                    .set(members::updated_at.eq(at))
                    .execute(conn)?;
                    // Only over the profile as it was read: each sealing has its own nonce, so
                    // any change since makes another ciphertext (a wrong password counted does
                    // not, and does not stop this).
                    let changed = diesel::update(
                        member_profiles::table
                            .filter(member_profiles::asp_id.eq(&asp))
                            .filter(member_profiles::member_id.eq(&id))
                            .filter(member_profiles::profile_key_id.eq(&update.read.key_id))
                            .filter(member_profiles::profile_sealed.eq(&update.read.ciphertext)),
                    )
                    .set((
                        member_profiles::profile_key_id.eq(&update.profile.key_id),
                        member_profiles::profile_sealed.eq(&update.profile.ciphertext),
                        member_profiles::mobile_fingerprint.eq(update.mobile.digest.to_vec()),
                        member_profiles::mobile_fingerprint_key_id.eq(&update.mobile.key_id),
                        member_profiles::ci_fingerprint
                            .eq(update.ci.as_ref().map(|ci| ci.digest.to_vec())),
                        member_profiles::ci_fingerprint_key_id
                            .eq(update.ci.as_ref().map(|ci| ci.key_id.clone())),
                        member_profiles::version.eq(member_profiles::version + 1),
                        member_profiles::updated_at.eq(at),
                    ))
                    .execute(conn)?;
                    if active != 1 || changed != 1 {
                        return Err(DieselError::RollbackTransaction);
                    }
                    // The claim goes last, as for every state change.
                    diesel::insert_into(idempotency_records::table)
                        .values(&claim_row(&update.claim, retention))
                        .execute(conn)?;
                    Ok::<(), DieselError>(())
                })
            })
            .await
            .map_err(|error| ProfileUpdateError::Unavailable(error.into()))?;
        match written {
            Ok(()) => Ok(()),
            Err(DieselError::RollbackTransaction) => Err(ProfileUpdateError::Stale),
            Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info)) => {
                Err(match classify(info.as_ref()) {
                    RegisterMemberError::KeyTaken => ProfileUpdateError::KeyTaken,
                    RegisterMemberError::Taken(value) => ProfileUpdateError::Taken(value),
                    RegisterMemberError::NumberTaken => ProfileUpdateError::Unavailable(
                        PortError::msg("a profile change met a card number"),
                    ),
                    RegisterMemberError::Unavailable(error) => {
                        ProfileUpdateError::Unavailable(error)
                    }
                })
            }
            Err(error) => Err(ProfileUpdateError::Unavailable(
                DatabaseError::from(error).into(),
            )),
        }
    }
}
