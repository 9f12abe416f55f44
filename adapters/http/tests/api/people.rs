//! The fake members of the HTTP tests: profiles kept in memory, "sealed" as an index into them,
//! passwords "hashed" as themselves, with the sandbox's fixture members 1001 (active), 1002
//! (cancelled) and 1003 (active, without cards) as the sandbox has them. The persistence contract tests prove the real store's
//! uniqueness and counting; these fakes keep the same rules in the simplest way.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use prepaid_application::ports::{
    ChangeError, IdempotencyClaim, IdempotencyKey, IdempotencyRecord, IdempotencyStore,
    LifecycleChange, LookupKey, MemberDirectory, MemberFingerprints, MemberKeyIds, MemberRecords,
    MemberSecrets, MemberUnderOldKeys, MemberValue, NewMember, PasswordHash, Passwords,
    PersonalFingerprint, ProfileUpdate, ProfileUpdateError, RegisterMemberError, RekeyedMember,
    SealedProfile, StoredMember,
};
use prepaid_application::{
    CancellationPorts, MemberRegistrationPorts, MemberService, MembershipCancellationService,
    PortError,
};
use prepaid_domain::{
    AspId, BirthDate, Ci, Email, Gender, JoinChannel, LoginId, LoginPassword, Member, MemberId,
    MemberProfile, MemberStatus, MobileNumber, Nationality, UserName,
};

use crate::support::{ASP, Secrets, now};

pub const ACTIVE_LOGIN_ID: &str = "member1001@sandbox.example";
pub const ACTIVE_PASSWORD: &str = "135790";
pub const ACTIVE_CI: &str =
    "U0FOREJPWC1GSVhUVVJFLU1FTUJFUi0xMDAxLUFDVElWRS1DSS1WQUxVRS1GT1ItVEVTVC1EQVRBLU9OTFkwMA==";

#[derive(Default)]
struct World {
    profiles: Vec<MemberProfile>,
    members: HashMap<(String, u64), (StoredMember, MemberFingerprints)>,
    claims: HashMap<IdempotencyKey, IdempotencyRecord>,
}

/// The fake members' store and secrets, shared by every clone.
#[derive(Clone, Default)]
pub struct People(Arc<Mutex<World>>);

fn print(asp_id: &AspId, key: LookupKey, value: &str) -> PersonalFingerprint {
    let mut digest = [0; 32];
    for (index, byte) in format!("{}{}{value}", asp_id.as_str(), key.as_str())
        .bytes()
        .enumerate()
    {
        digest[index % 32] ^= byte.rotate_left(u32::try_from(index % 8).unwrap());
    }
    PersonalFingerprint {
        key_id: "idx-1".into(),
        digest,
    }
}

impl People {
    /// The sandbox's fixture members.
    pub fn with_fixtures() -> Self {
        let people = Self::default();
        let asp_id = AspId::parse(ASP).unwrap();
        for (id, status, login, password, mobile, ci) in [
            (
                1001,
                MemberStatus::Active,
                ACTIVE_LOGIN_ID,
                ACTIVE_PASSWORD,
                "01000001001",
                Some(ACTIVE_CI),
            ),
            (
                1002,
                MemberStatus::Cancelled,
                "member1002@sandbox.example",
                "246802",
                "01000001002",
                None,
            ),
            (
                1003,
                MemberStatus::Active,
                "member1003@sandbox.example",
                "975319",
                "01000001003",
                None,
            ),
        ] {
            let profile = MemberProfile {
                login_id: LoginId::parse(login).unwrap(),
                birth_date: BirthDate::parse(if id == 1001 { "19900101" } else { "19851231" })
                    .unwrap(),
                nationality: Nationality::Korean,
                gender: if id == 1001 {
                    Gender::Female
                } else {
                    Gender::Male
                },
                name: UserName::parse(if id == 1001 { "김하나" } else { "이두리" }).unwrap(),
                mobile: MobileNumber::parse(mobile).unwrap(),
                email: Email::parse(login).unwrap(),
                ci: ci.map(|ci| Ci::parse(ci).unwrap()),
                address: None,
            };
            let id = MemberId::new(id).unwrap();
            let fingerprints = MemberFingerprints {
                login_id: print(&asp_id, LookupKey::LoginId, &profile.login_id.normalized()),
                mobile: print(&asp_id, LookupKey::MobileNumber, mobile),
                ci: ci.map(|ci| print(&asp_id, LookupKey::Ci, ci)),
            };
            let sealed = people.seal_profile(&profile, &asp_id, id).unwrap();
            let stored = StoredMember {
                member: Member { id, status },
                profile: sealed,
                password: PasswordHash {
                    key_id: "pep-1".into(),
                    phc: password.into(),
                },
                wrong_passwords: 0,
                join_channel: Some(JoinChannel::parse("OPENAPI").unwrap()),
                version: 0,
            };
            people
                .0
                .lock()
                .unwrap()
                .members
                .insert((ASP.into(), id.get()), (stored, fingerprints));
        }
        people
    }

    /// The member service over these fakes.
    pub fn service(&self) -> Arc<MemberService> {
        Arc::new(MemberService::new(MemberRegistrationPorts {
            records: Arc::new(self.clone()),
            idempotency: Arc::new(self.clone()),
            passwords: Arc::new(self.clone()),
            members: Arc::new(self.clone()),
            secrets: Arc::new(Secrets),
            random: Arc::new(Draws::default()),
            clock: Arc::new(crate::support::FixedClock(now())),
            basic_cards: None,
        }))
    }

    /// Membership cancellations over these fakes, reading the cards of `store`.
    pub fn cancellations(
        &self,
        store: &crate::support::Store,
    ) -> Arc<MembershipCancellationService> {
        Arc::new(MembershipCancellationService::new(CancellationPorts {
            members: Arc::new(self.clone()),
            cards: Arc::new(store.clone()),
            records: Arc::new(self.clone()),
            idempotency: Arc::new(self.clone()),
            secrets: Arc::new(Secrets),
            clock: Arc::new(crate::support::FixedClock(now())),
        }))
    }

    /// The status of member `id` of the sandbox project.
    pub fn status(&self, id: u64) -> MemberStatus {
        self.0.lock().unwrap().members[&(ASP.to_owned(), id)]
            .0
            .member
            .status
    }

    /// Wrong passwords counted for member `id` of the sandbox project.
    pub fn wrong_passwords(&self, id: u64) -> u8 {
        self.0.lock().unwrap().members[&(ASP.to_owned(), id)]
            .0
            .wrong_passwords
    }
}

/// Member ids 7310459285014467201, then on by one.
#[derive(Default)]
struct Draws(std::sync::atomic::AtomicU64);

impl prepaid_application::ports::RandomSource for Draws {
    fn next_u64(&self) -> u64 {
        7_310_459_285_014_467_200 + self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    }
}

impl MemberSecrets for People {
    fn seal_profile(
        &self,
        profile: &MemberProfile,
        _: &AspId,
        _: MemberId,
    ) -> Result<SealedProfile, PortError> {
        let mut world = self.0.lock().unwrap();
        world.profiles.push(profile.clone());
        Ok(SealedProfile {
            key_id: "data-1".into(),
            ciphertext: (world.profiles.len() - 1).to_le_bytes().to_vec(),
        })
    }

    fn open_profile(
        &self,
        sealed: &SealedProfile,
        _: &AspId,
        _: MemberId,
    ) -> Result<MemberProfile, PortError> {
        let index = usize::from_le_bytes(sealed.ciphertext.as_slice().try_into().unwrap());
        Ok(self.0.lock().unwrap().profiles[index].clone())
    }

    fn personal_fingerprint(
        &self,
        asp_id: &AspId,
        key: LookupKey,
        value: &str,
    ) -> PersonalFingerprint {
        print(asp_id, key, value)
    }

    fn current_key_ids(&self) -> MemberKeyIds {
        MemberKeyIds {
            data: "data-1".into(),
            index: "idx-1".into(),
        }
    }
}

#[async_trait]
impl Passwords for People {
    async fn hash(&self, password: &LoginPassword) -> Result<PasswordHash, PortError> {
        Ok(PasswordHash {
            key_id: "pep-1".into(),
            phc: password.expose().into(),
        })
    }

    async fn verify(
        &self,
        password: &LoginPassword,
        stored: &PasswordHash,
    ) -> Result<bool, PortError> {
        Ok(stored.phc == password.expose())
    }

    fn is_current(&self, _: &PasswordHash) -> bool {
        true
    }
}

#[async_trait]
impl MemberDirectory for People {
    async fn find(&self, asp_id: &AspId, id: MemberId) -> Result<Option<Member>, PortError> {
        let world = self.0.lock().unwrap();
        Ok(world
            .members
            .get(&(asp_id.as_str().to_owned(), id.get()))
            .map(|(stored, _)| stored.member))
    }
}

#[async_trait]
impl IdempotencyStore for People {
    async fn find_record(
        &self,
        key: &IdempotencyKey,
    ) -> Result<Option<IdempotencyRecord>, PortError> {
        Ok(self.0.lock().unwrap().claims.get(key).cloned())
    }
}

#[async_trait]
impl MemberRecords for People {
    async fn register(&self, new: &NewMember) -> Result<(), RegisterMemberError> {
        let mut world = self.0.lock().unwrap();
        let asp = new.asp_id.as_str().to_owned();
        let mine = || {
            world
                .members
                .iter()
                .filter(|((project, _), _)| *project == asp)
        };
        if mine().any(|((_, id), _)| *id == new.id.get()) {
            return Err(RegisterMemberError::Taken(MemberValue::Id));
        }
        for (value, same) in [
            (
                MemberValue::LoginId,
                mine().any(|(_, (_, prints))| prints.login_id == new.fingerprints.login_id),
            ),
            (
                MemberValue::MobileNumber,
                mine().any(|(_, (_, prints))| prints.mobile == new.fingerprints.mobile),
            ),
            (
                MemberValue::Ci,
                new.fingerprints.ci.is_some()
                    && mine().any(|(_, (_, prints))| prints.ci == new.fingerprints.ci),
            ),
        ] {
            if same {
                return Err(RegisterMemberError::Taken(value));
            }
        }
        if world.claims.contains_key(&new.claim.key) {
            return Err(RegisterMemberError::KeyTaken);
        }
        let claim = &new.claim;
        world.claims.insert(
            claim.key.clone(),
            IdempotencyRecord {
                operation: claim.operation.as_str().to_owned(),
                request_fingerprint: claim.request_fingerprint.clone(),
                outcome: claim.outcome.clone(),
                created_at: claim.created_at,
            },
        );
        world.members.insert(
            (asp, new.id.get()),
            (
                StoredMember {
                    member: Member {
                        id: new.id,
                        status: MemberStatus::Active,
                    },
                    profile: new.profile.clone(),
                    password: new.password.clone(),
                    wrong_passwords: 0,
                    join_channel: new.join_channel.clone(),
                    version: 0,
                },
                new.fingerprints.clone(),
            ),
        );
        Ok(())
    }

    async fn member(
        &self,
        asp_id: &AspId,
        id: MemberId,
    ) -> Result<Option<StoredMember>, PortError> {
        let world = self.0.lock().unwrap();
        Ok(world
            .members
            .get(&(asp_id.as_str().to_owned(), id.get()))
            .map(|(stored, _)| stored.clone()))
    }

    async fn member_by(
        &self,
        asp_id: &AspId,
        key: LookupKey,
        fingerprint: &PersonalFingerprint,
    ) -> Result<Option<StoredMember>, PortError> {
        let world = self.0.lock().unwrap();
        Ok(world
            .members
            .iter()
            .filter(|((project, _), _)| project == asp_id.as_str())
            .find(|(_, (_, prints))| match key {
                LookupKey::LoginId => prints.login_id == *fingerprint,
                LookupKey::MobileNumber => prints.mobile == *fingerprint,
                LookupKey::Ci => prints.ci.as_ref() == Some(fingerprint),
            })
            .map(|(_, (stored, _))| stored.clone()))
    }

    async fn count_password_attempt(
        &self,
        asp_id: &AspId,
        id: MemberId,
        most: u8,
    ) -> Result<bool, PortError> {
        let mut world = self.0.lock().unwrap();
        Ok(
            match world
                .members
                .get_mut(&(asp_id.as_str().to_owned(), id.get()))
            {
                Some((stored, _)) if stored.wrong_passwords < most => {
                    stored.wrong_passwords += 1;
                    true
                }
                _ => false,
            },
        )
    }

    async fn clear_password_attempts(
        &self,
        asp_id: &AspId,
        id: MemberId,
    ) -> Result<bool, PortError> {
        let mut world = self.0.lock().unwrap();
        Ok(
            match world
                .members
                .get_mut(&(asp_id.as_str().to_owned(), id.get()))
            {
                Some((stored, _)) => {
                    stored.wrong_passwords = 0;
                    true
                }
                None => false,
            },
        )
    }

    async fn replace_password(
        &self,
        asp_id: &AspId,
        id: MemberId,
        from: &PasswordHash,
        to: &PasswordHash,
    ) -> Result<bool, PortError> {
        let mut world = self.0.lock().unwrap();
        Ok(
            match world
                .members
                .get_mut(&(asp_id.as_str().to_owned(), id.get()))
            {
                Some((stored, _)) if stored.password == *from => {
                    stored.password = to.clone();
                    true
                }
                _ => false,
            },
        )
    }

    /// The fakes hold no cards: a change that names one is not theirs to make.
    async fn cancel(&self, id: MemberId, change: &LifecycleChange) -> Result<(), ChangeError> {
        let mut world = self.0.lock().unwrap();
        if !change.cards.is_empty() || !change.new_cards.is_empty() {
            return Err(ChangeError::Unavailable(PortError::msg(
                "the fake members hold no cards",
            )));
        }
        let claim = change.claim.as_ref().expect("a cancellation is claimed");
        if world.claims.contains_key(&claim.key) {
            return Err(ChangeError::KeyTaken);
        }
        match world
            .members
            .get_mut(&(change.asp_id.as_str().to_owned(), id.get()))
        {
            Some((stored, _)) if stored.member.status == MemberStatus::Active => {
                stored.member.status = MemberStatus::Cancelled;
            }
            _ => return Err(ChangeError::Stale),
        }
        insert_claim(&mut world, claim);
        Ok(())
    }

    async fn members_under_other_keys(
        &self,
        current: &MemberKeyIds,
    ) -> Result<Vec<MemberUnderOldKeys>, PortError> {
        let world = self.0.lock().unwrap();
        Ok(world
            .members
            .iter()
            .filter(|(_, (stored, prints))| {
                stored.profile.key_id != current.data
                    || prints.login_id.key_id != current.index
                    || prints.mobile.key_id != current.index
                    || prints
                        .ci
                        .as_ref()
                        .is_some_and(|ci| ci.key_id != current.index)
            })
            .map(|((asp, _), (stored, _))| MemberUnderOldKeys {
                asp_id: AspId::parse(asp).unwrap(),
                id: stored.member.id,
                profile: stored.profile.clone(),
            })
            .collect())
    }

    async fn rekey(&self, rekeyed: &RekeyedMember) -> Result<bool, PortError> {
        let mut world = self.0.lock().unwrap();
        Ok(
            match world
                .members
                .get_mut(&(rekeyed.asp_id.as_str().to_owned(), rekeyed.id.get()))
            {
                Some((stored, prints)) if stored.profile == rekeyed.read => {
                    stored.profile = rekeyed.profile.clone();
                    *prints = rekeyed.fingerprints.clone();
                    true
                }
                _ => false,
            },
        )
    }

    async fn change_profile(&self, update: &ProfileUpdate) -> Result<(), ProfileUpdateError> {
        let mut world = self.0.lock().unwrap();
        let asp = update.asp_id.as_str().to_owned();
        let held_by_another = |value: &dyn Fn(&MemberFingerprints) -> bool| {
            world.members.iter().any(|((project, id), (_, prints))| {
                *project == asp && *id != update.id.get() && value(prints)
            })
        };
        if held_by_another(&|prints| prints.mobile == update.mobile) {
            return Err(ProfileUpdateError::Taken(MemberValue::MobileNumber));
        }
        if update.ci.is_some() && held_by_another(&|prints| prints.ci == update.ci) {
            return Err(ProfileUpdateError::Taken(MemberValue::Ci));
        }
        if world.claims.contains_key(&update.claim.key) {
            return Err(ProfileUpdateError::KeyTaken);
        }
        match world.members.get_mut(&(asp, update.id.get())) {
            Some((stored, prints))
                if stored.member.status == MemberStatus::Active
                    && stored.profile == update.read =>
            {
                stored.profile = update.profile.clone();
                stored.version += 1;
                prints.mobile = update.mobile.clone();
                prints.ci.clone_from(&update.ci);
            }
            _ => return Err(ProfileUpdateError::Stale),
        }
        insert_claim(&mut world, &update.claim);
        Ok(())
    }
}

/// Records `claim` as the store does.
fn insert_claim(world: &mut World, claim: &IdempotencyClaim) {
    world.claims.insert(
        claim.key.clone(),
        IdempotencyRecord {
            operation: claim.operation.as_str().to_owned(),
            request_fingerprint: claim.request_fingerprint.clone(),
            outcome: claim.outcome.clone(),
            created_at: claim.created_at,
        },
    );
}
