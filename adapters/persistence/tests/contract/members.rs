//! Members with their personal data (D24): a sign-up written whole or not at all, unique by
//! id, login id, mobile number and CI within its project, and read in its project only.

use prepaid_application::ports::{
    CardApplicationStore as _, CardStore as _, IdempotencyClaim, IdempotencyStore,
    IdempotentOperation, LifecycleChange, LookupKey, MemberDirectory, MemberFingerprints,
    MemberKeyIds, MemberRecords, MemberUnderOldKeys, MemberValue, NewMember, PasswordHash,
    PersonalFingerprint, ProfileUpdate, ProfileUpdateError, RegisterMemberError, RekeyedMember,
    RequestFingerprint, SealedProfile,
};
use prepaid_domain::{AspId, JoinChannel, MemberId, MemberStatus, Timestamp};

use crate::support::{Backend, NOW, asp, key, open, unique};

fn print(seed: u64, kind: u8) -> PersonalFingerprint {
    let mut digest = [kind; 32];
    digest[..8].copy_from_slice(&seed.to_le_bytes());
    PersonalFingerprint {
        key_id: "idx-1".into(),
        digest,
    }
}

/// A sign-up in project `asp_id` whose id, login id, mobile number and CI derive from `seed`.
fn sign_up(asp_id: &str, seed: u64) -> NewMember {
    NewMember {
        asp_id: AspId::parse(asp_id).unwrap(),
        id: MemberId::new(seed % MemberId::MAX + 1).unwrap(),
        profile: SealedProfile {
            key_id: "data-1".into(),
            ciphertext: format!("sealed profile {seed}").into_bytes(),
        },
        fingerprints: MemberFingerprints {
            login_id: print(seed, 1),
            mobile: print(seed, 2),
            ci: Some(print(seed, 3)),
        },
        password: PasswordHash {
            key_id: "pep-1".into(),
            phc: format!("$argon2id$v=19$m=19456,t=2,p=1$salt{seed}$hash"),
        },
        join_channel: Some(JoinChannel::parse("APP").unwrap()),
        claim: IdempotencyClaim {
            key: key(asp_id, unique()),
            operation: IdempotentOperation::IssueAndDeliver,
            request_fingerprint: RequestFingerprint {
                key_id: "idx-1".into(),
                digest: [4; 32],
            },
            outcome: (seed % MemberId::MAX + 1).to_string(),
            created_at: Timestamp::from_millis(NOW),
        },
        at: Timestamp::from_millis(NOW),
        basic_card: None,
    }
}

pub async fn a_sign_up_is_read_by_id_and_by_each_fingerprint_in_its_project_only(backend: Backend) {
    let test = open(&backend);
    let project = asp();
    let new = sign_up(&project, unique());
    test.db.register(&new).await.unwrap();

    let by_id = test.db.member(&new.asp_id, new.id).await.unwrap().unwrap();
    assert_eq!(by_id.member.id, new.id);
    assert_eq!(by_id.member.status, MemberStatus::Active);
    assert_eq!(by_id.profile, new.profile);
    assert_eq!(by_id.password, new.password);
    assert_eq!(by_id.wrong_passwords, 0);
    assert_eq!(by_id.join_channel, new.join_channel);
    assert_eq!(by_id.version, 0);
    for (kind, fingerprint) in [
        (LookupKey::LoginId, &new.fingerprints.login_id),
        (LookupKey::MobileNumber, &new.fingerprints.mobile),
        (LookupKey::Ci, new.fingerprints.ci.as_ref().unwrap()),
    ] {
        let found = test
            .db
            .member_by(&new.asp_id, kind, fingerprint)
            .await
            .unwrap();
        assert_eq!(found.as_ref(), Some(&by_id), "{kind:?}");
        // The fingerprint of one kind is not another kind's.
        let other = if kind == LookupKey::LoginId {
            LookupKey::MobileNumber
        } else {
            LookupKey::LoginId
        };
        assert!(
            test.db
                .member_by(&new.asp_id, other, fingerprint)
                .await
                .unwrap()
                .is_none()
        );
    }
    // A member of the directory, as every operation sees members.
    let member = MemberDirectory::find(&test.db, &new.asp_id, new.id)
        .await
        .unwrap();
    assert_eq!(
        member.map(|member| member.status),
        Some(MemberStatus::Active)
    );
    assert!(test.db.find_record(&new.claim.key).await.unwrap().is_some());

    let other = AspId::parse(&asp()).unwrap();
    assert!(test.db.member(&other, new.id).await.unwrap().is_none());
    assert!(
        test.db
            .member_by(&other, LookupKey::LoginId, &new.fingerprints.login_id)
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn a_value_another_member_of_the_project_holds_writes_nothing(backend: Backend) {
    let test = open(&backend);
    let project = asp();
    let first = sign_up(&project, unique());
    test.db.register(&first).await.unwrap();
    let fresh = || sign_up(&project, unique());
    let mut same_id = fresh();
    same_id.id = first.id;
    let mut same_login = fresh();
    same_login.fingerprints.login_id = first.fingerprints.login_id.clone();
    let mut same_mobile = fresh();
    same_mobile.fingerprints.mobile = first.fingerprints.mobile.clone();
    let mut same_ci = fresh();
    same_ci.fingerprints.ci.clone_from(&first.fingerprints.ci);
    for (new, value) in [
        (same_id, MemberValue::Id),
        (same_login, MemberValue::LoginId),
        (same_mobile, MemberValue::MobileNumber),
        (same_ci, MemberValue::Ci),
    ] {
        let refused = test.db.register(&new).await;
        assert!(
            matches!(refused, Err(RegisterMemberError::Taken(taken)) if taken == value),
            "{value:?}: {refused:?}"
        );
        assert!(test.db.find_record(&new.claim.key).await.unwrap().is_none());
        if value != MemberValue::Id {
            assert!(test.db.member(&new.asp_id, new.id).await.unwrap().is_none());
        }
    }
    // Two members without a CI, and another project's member with the same values: all fine.
    let (mut a, mut b) = (fresh(), fresh());
    a.fingerprints.ci = None;
    b.fingerprints.ci = None;
    test.db.register(&a).await.unwrap();
    test.db.register(&b).await.unwrap();
    let mut elsewhere = sign_up(&asp(), unique());
    elsewhere.id = first.id;
    elsewhere.fingerprints = first.fingerprints.clone();
    test.db.register(&elsewhere).await.unwrap();
}

pub async fn a_claimed_key_makes_nothing_of_the_sign_up(backend: Backend) {
    let test = open(&backend);
    let project = asp();
    let first = sign_up(&project, unique());
    test.db.register(&first).await.unwrap();
    let mut again = sign_up(&project, unique());
    again.claim.key = first.claim.key.clone();
    let refused = test.db.register(&again).await;
    assert!(
        matches!(refused, Err(RegisterMemberError::KeyTaken)),
        "{refused:?}"
    );
    assert!(
        test.db
            .member(&again.asp_id, again.id)
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn of_many_sign_ups_with_one_login_id_at_once_one_is_recorded(backend: Backend) {
    let test = open(&backend);
    let project = asp();
    let login = print(unique(), 1);
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let db = test.db.clone();
            let mut new = sign_up(&project, unique());
            new.fingerprints.login_id = login.clone();
            tokio::spawn(async move { db.register(&new).await })
        })
        .collect();
    let mut recorded = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => recorded += 1,
            Err(RegisterMemberError::Taken(MemberValue::LoginId)) => {}
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(recorded, 1);
}

pub async fn of_64_password_attempts_at_once_five_are_counted_and_a_clear_starts_again(
    backend: Backend,
) {
    let test = open(&backend);
    let new = sign_up(&asp(), unique());
    test.db.register(&new).await.unwrap();
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let (db, asp_id) = (test.db.clone(), new.asp_id.clone());
            tokio::spawn(async move { db.count_password_attempt(&asp_id, new.id, 5).await })
        })
        .collect();
    let mut counted = 0;
    for task in tasks {
        if task.await.unwrap().unwrap() {
            counted += 1;
        }
    }
    assert_eq!(counted, 5);
    let read = test.db.member(&new.asp_id, new.id).await.unwrap().unwrap();
    assert_eq!(read.wrong_passwords, 5);
    assert!(read.version >= 5, "each count moves the version");

    // Another project's member under the same id is neither counted nor cleared.
    let other = AspId::parse(&asp()).unwrap();
    assert!(
        !test
            .db
            .count_password_attempt(&other, new.id, 5)
            .await
            .unwrap()
    );
    assert!(
        !test
            .db
            .clear_password_attempts(&other, new.id)
            .await
            .unwrap()
    );
    assert!(
        test.db
            .clear_password_attempts(&new.asp_id, new.id)
            .await
            .unwrap()
    );
    let read = test.db.member(&new.asp_id, new.id).await.unwrap().unwrap();
    assert_eq!(read.wrong_passwords, 0);
    assert!(
        test.db
            .count_password_attempt(&new.asp_id, new.id, 5)
            .await
            .unwrap()
    );
}

pub async fn a_saved_member_gets_fixture_details_once(backend: Backend) {
    let test = open(&backend);
    let project = asp();
    let seed = unique();
    let first = sign_up(&project, seed);
    crate::support::save_member_in(&test.db, &project, first.id, MemberStatus::Active).await;
    assert_eq!(test.db.member(&first.asp_id, first.id).await.unwrap(), None);
    test.db
        .save_fixture_profile(&details(&first.asp_id, first.id, &first))
        .await
        .unwrap();
    let saved = test
        .db
        .member(&first.asp_id, first.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (&saved.profile, &saved.password, saved.member.status),
        (&first.profile, &first.password, MemberStatus::Active)
    );
    let found = test
        .db
        .member_by(
            &first.asp_id,
            LookupKey::LoginId,
            &first.fingerprints.login_id,
        )
        .await
        .unwrap();
    assert_eq!(found.map(|member| member.member.id), Some(first.id));
    // Saved again with other details: the first ones stay.
    let second = sign_up(&project, unique());
    test.db
        .save_fixture_profile(&details(&first.asp_id, first.id, &second))
        .await
        .unwrap();
    let kept = test
        .db
        .member(&first.asp_id, first.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.profile, first.profile);
}

/// `new`'s details, for member `id` of `asp_id`.
fn details<'a>(
    asp_id: &'a AspId,
    id: MemberId,
    new: &'a NewMember,
) -> prepaid_persistence::FixtureProfile<'a> {
    prepaid_persistence::FixtureProfile {
        asp_id,
        id,
        profile: &new.profile,
        fingerprints: &new.fingerprints,
        password: &new.password,
        join_channel: new.join_channel.as_ref(),
        at: new.at,
    }
}

/// A change of `new`'s details over `read`, with a fresh claim: the profile sealed anew and the
/// mobile number's fingerprint from `seed`, no CI.
fn change_of(new: &NewMember, read: &SealedProfile, seed: u64) -> ProfileUpdate {
    ProfileUpdate {
        asp_id: new.asp_id.clone(),
        id: new.id,
        read: read.clone(),
        profile: SealedProfile {
            key_id: "data-2".into(),
            ciphertext: format!("changed profile {seed}").into_bytes(),
        },
        mobile: print(seed, 2),
        ci: None,
        claim: IdempotencyClaim {
            key: key(new.asp_id.as_str(), unique()),
            operation: IdempotentOperation::ChangeMemberInfo,
            request_fingerprint: RequestFingerprint {
                key_id: "idx-1".into(),
                digest: [5; 32],
            },
            outcome: new.id.get().to_string(),
            created_at: Timestamp::from_millis(NOW + 1),
        },
        at: Timestamp::from_millis(NOW + 1),
    }
}

pub async fn a_refused_profile_change_leaves_the_member_as_they_were(backend: Backend) {
    let test = open(&backend);
    let project = asp();
    let new = sign_up(&project, unique());
    test.db.register(&new).await.unwrap();
    let other = sign_up(&project, unique());
    test.db.register(&other).await.unwrap();
    let read = |db: &prepaid_persistence::Database| {
        let (db, asp_id, id) = (db.clone(), new.asp_id.clone(), new.id);
        async move { db.member(&asp_id, id).await.unwrap().unwrap() }
    };

    // Each refusal leaves the member as they were, and claims nothing.
    let mut taken_mobile = change_of(&new, &new.profile, unique());
    taken_mobile.mobile = other.fingerprints.mobile.clone();
    let mut taken_ci = change_of(&new, &new.profile, unique());
    taken_ci.ci.clone_from(&other.fingerprints.ci);
    let mut taken_key = change_of(&new, &new.profile, unique());
    taken_key.claim.key = other.claim.key.clone();
    let mut elsewhere = change_of(&new, &new.profile, unique());
    elsewhere.asp_id = AspId::parse(&asp()).unwrap();
    elsewhere.claim.key = key(elsewhere.asp_id.as_str(), unique());
    let stale = change_of(&new, &other.profile, unique());
    for (update, expected) in [
        (taken_mobile, "Taken(MobileNumber)"),
        (taken_ci, "Taken(Ci)"),
        (taken_key, "KeyTaken"),
        (elsewhere, "Stale"),
        (stale, "Stale"),
    ] {
        let refused = test.db.change_profile(&update).await;
        assert_eq!(
            refused.map_err(|error| format!("{error:?}")),
            Err(expected.to_owned())
        );
        let kept = read(&test.db).await;
        assert_eq!((kept.profile, kept.version), (new.profile.clone(), 0));
        if expected != "KeyTaken" {
            assert!(
                test.db
                    .find_record(&update.claim.key)
                    .await
                    .unwrap()
                    .is_none()
            );
        }
    }
}

/// A change written whole: the profile, the fingerprints (the old values freed), the claim.
pub async fn a_profile_change_is_written_over_the_profile_as_read_or_not_at_all(backend: Backend) {
    let test = open(&backend);
    let project = asp();
    let new = sign_up(&project, unique());
    test.db.register(&new).await.unwrap();
    let read = |db: &prepaid_persistence::Database| {
        let (db, asp_id, id) = (db.clone(), new.asp_id.clone(), new.id);
        async move { db.member(&asp_id, id).await.unwrap().unwrap() }
    };

    // A wrong password counted meanwhile does not make the profile stale.
    assert!(
        test.db
            .count_password_attempt(&new.asp_id, new.id, 5)
            .await
            .unwrap()
    );
    let seed = unique();
    let change = change_of(&new, &new.profile, seed);
    test.db.change_profile(&change).await.unwrap();
    let changed = read(&test.db).await;
    assert_eq!(changed.profile, change.profile);
    assert_eq!(
        changed.version, 2,
        "one for the attempt, one for the change"
    );
    assert_eq!(changed.wrong_passwords, 1, "the count is not the change's");
    assert!(
        test.db
            .find_record(&change.claim.key)
            .await
            .unwrap()
            .is_some()
    );
    let by = |kind, print: PersonalFingerprint| {
        let (db, asp_id) = (test.db.clone(), new.asp_id.clone());
        async move { db.member_by(&asp_id, kind, &print).await.unwrap() }
    };
    assert_eq!(
        by(LookupKey::MobileNumber, print(seed, 2))
            .await
            .map(|m| m.member.id),
        Some(new.id),
        "found by the new mobile number"
    );
    assert!(
        by(LookupKey::MobileNumber, new.fingerprints.mobile.clone())
            .await
            .is_none()
    );
    assert!(
        by(LookupKey::Ci, new.fingerprints.ci.clone().unwrap())
            .await
            .is_none()
    );
    assert_eq!(
        by(LookupKey::LoginId, new.fingerprints.login_id.clone())
            .await
            .map(|m| m.member.id),
        Some(new.id),
        "the login id is kept"
    );
    // Its old values are free for another member now.
    let mut takes_old = sign_up(&project, unique());
    takes_old.fingerprints.mobile = new.fingerprints.mobile.clone();
    takes_old.fingerprints.ci.clone_from(&new.fingerprints.ci);
    test.db.register(&takes_old).await.unwrap();

    // The same change again is over a profile no longer there.
    let again = change_of(&new, &new.profile, unique());
    assert!(matches!(
        test.db.change_profile(&again).await,
        Err(ProfileUpdateError::Stale)
    ));
}

pub async fn a_cancelled_member_s_profile_does_not_change(backend: Backend) {
    let test = open(&backend);
    let new = sign_up(&asp(), unique());
    test.db.register(&new).await.unwrap();
    let cancellation = LifecycleChange {
        asp_id: new.asp_id.clone(),
        claim: None,
        applications: Vec::new(),
        deliveries: Vec::new(),
        cards: Vec::new(),
        new_cards: Vec::new(),
        at: Timestamp::from_millis(NOW),
    };
    test.db.cancel(new.id, &cancellation).await.unwrap();
    let change = change_of(&new, &new.profile, unique());
    assert!(matches!(
        test.db.change_profile(&change).await,
        Err(ProfileUpdateError::Stale)
    ));
    let kept = test.db.member(&new.asp_id, new.id).await.unwrap().unwrap();
    assert_eq!(kept.profile, new.profile);
    assert!(
        test.db
            .find_record(&change.claim.key)
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn of_16_changes_of_one_member_read_at_once_one_is_written(backend: Backend) {
    let test = open(&backend);
    let new = sign_up(&asp(), unique());
    test.db.register(&new).await.unwrap();
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let db = test.db.clone();
            let change = change_of(&new, &new.profile, unique());
            tokio::spawn(async move { db.change_profile(&change).await })
        })
        .collect();
    let mut written = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => written += 1,
            Err(ProfileUpdateError::Stale) => {}
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(written, 1);
    let changed = test.db.member(&new.asp_id, new.id).await.unwrap().unwrap();
    assert_eq!(changed.version, 1);
}

/// `new` with its profile and fingerprints under the data key `data` and the index key `index`.
fn under(mut new: NewMember, data: &str, index: &str) -> NewMember {
    new.profile.key_id = data.into();
    new.fingerprints.login_id.key_id = index.into();
    new.fingerprints.mobile.key_id = index.into();
    if let Some(ci) = new.fingerprints.ci.as_mut() {
        ci.key_id = index.into();
    }
    new
}

pub async fn members_under_older_keys_are_listed_in_every_project(backend: Backend) {
    let test = open(&backend);
    let current = MemberKeyIds {
        data: "data-2".into(),
        index: "idx-2".into(),
    };
    let (project, elsewhere) = (asp(), asp());
    let old = sign_up(&project, unique());
    let fresh = under(sign_up(&project, unique()), "data-2", "idx-2");
    let mut without_ci = under(sign_up(&project, unique()), "data-2", "idx-2");
    without_ci.fingerprints.ci = None;
    let mut old_mobile = under(sign_up(&project, unique()), "data-2", "idx-2");
    old_mobile.fingerprints.mobile.key_id = "idx-1".into();
    let mut old_ci = under(sign_up(&project, unique()), "data-2", "idx-2");
    old_ci.fingerprints.ci.as_mut().unwrap().key_id = "idx-1".into();
    let other_project = sign_up(&elsewhere, unique());
    for new in [
        &old,
        &fresh,
        &without_ci,
        &old_mobile,
        &old_ci,
        &other_project,
    ] {
        test.db.register(new).await.unwrap();
    }
    let mine = |listed: Vec<MemberUnderOldKeys>| {
        listed
            .into_iter()
            .filter(|member| [&project, &elsewhere].contains(&&member.asp_id.as_str().to_owned()))
            .map(|member| (member.id, member.profile))
            .collect::<Vec<_>>()
    };
    let listed = mine(test.db.members_under_other_keys(&current).await.unwrap());
    let mut expected: Vec<_> = [&old, &old_mobile, &old_ci, &other_project]
        .iter()
        .map(|new| (new.id, new.profile.clone()))
        .collect();
    let sort = |list: &mut Vec<(MemberId, SealedProfile)>| list.sort_by_key(|(id, _)| id.get());
    let mut listed = listed;
    sort(&mut listed);
    sort(&mut expected);
    assert_eq!(
        listed, expected,
        "every project's members under another key, and only them"
    );
}

pub async fn a_rekey_is_written_over_what_was_read_and_never_over_a_held_value(backend: Backend) {
    let test = open(&backend);
    let current = MemberKeyIds {
        data: "data-2".into(),
        index: "idx-2".into(),
    };
    let project = asp();
    let old = sign_up(&project, unique());
    let fresh = under(sign_up(&project, unique()), "data-2", "idx-2");
    let mut old_mobile = under(sign_up(&project, unique()), "data-2", "idx-2");
    old_mobile.fingerprints.mobile.key_id = "idx-1".into();
    for new in [&old, &fresh, &old_mobile] {
        test.db.register(new).await.unwrap();
    }
    let seed = unique();
    let rekeyed = RekeyedMember {
        asp_id: old.asp_id.clone(),
        id: old.id,
        read: old.profile.clone(),
        profile: SealedProfile {
            key_id: "data-2".into(),
            ciphertext: b"sealed again".to_vec(),
        },
        fingerprints: MemberFingerprints {
            login_id: PersonalFingerprint {
                key_id: "idx-2".into(),
                ..print(seed, 1)
            },
            mobile: PersonalFingerprint {
                key_id: "idx-2".into(),
                ..print(seed, 2)
            },
            ci: Some(PersonalFingerprint {
                key_id: "idx-2".into(),
                ..print(seed, 3)
            }),
        },
    };
    assert!(test.db.rekey(&rekeyed).await.unwrap());
    let stored = test.db.member(&old.asp_id, old.id).await.unwrap().unwrap();
    assert_eq!(stored.profile, rekeyed.profile);
    assert_eq!(
        stored.password, old.password,
        "the password is not the index key's"
    );
    for (kind, print) in [
        (LookupKey::LoginId, &rekeyed.fingerprints.login_id),
        (LookupKey::MobileNumber, &rekeyed.fingerprints.mobile),
        (LookupKey::Ci, rekeyed.fingerprints.ci.as_ref().unwrap()),
    ] {
        let found = test.db.member_by(&old.asp_id, kind, print).await.unwrap();
        assert_eq!(
            found.map(|member| member.member.id),
            Some(old.id),
            "{kind:?}"
        );
    }
    assert!(
        test.db
            .member_by(&old.asp_id, LookupKey::LoginId, &old.fingerprints.login_id)
            .await
            .unwrap()
            .is_none(),
        "the old fingerprint is gone"
    );
    // Over a profile no longer there: nothing written.
    assert!(!test.db.rekey(&rekeyed).await.unwrap());
    // A value another member holds under the current key: refused, nothing written.
    let clash = RekeyedMember {
        asp_id: old_mobile.asp_id.clone(),
        id: old_mobile.id,
        read: old_mobile.profile.clone(),
        profile: rekeyed.profile.clone(),
        fingerprints: MemberFingerprints {
            mobile: fresh.fingerprints.mobile.clone(),
            ..old_mobile.fingerprints.clone()
        },
    };
    assert!(test.db.rekey(&clash).await.is_err());
    let kept = test
        .db
        .member(&old_mobile.asp_id, old_mobile.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.profile, old_mobile.profile);
    let listed: Vec<_> = test
        .db
        .members_under_other_keys(&current)
        .await
        .unwrap()
        .into_iter()
        .filter(|member| member.asp_id.as_str() == project)
        .map(|member| member.id)
        .collect();
    assert_eq!(
        listed,
        [old_mobile.id],
        "the rekeyed member is under the current keys"
    );
}

pub async fn a_password_hash_is_replaced_only_over_the_one_read(backend: Backend) {
    let test = open(&backend);
    let new = sign_up(&asp(), unique());
    test.db.register(&new).await.unwrap();
    let again = PasswordHash {
        key_id: "pep-2".into(),
        phc: "$argon2id$v=19$m=19456,t=2,p=1$newsalt$newhash".into(),
    };
    assert!(
        test.db
            .replace_password(&new.asp_id, new.id, &new.password, &again)
            .await
            .unwrap()
    );
    let stored = test.db.member(&new.asp_id, new.id).await.unwrap().unwrap();
    assert_eq!(stored.password, again);
    assert_eq!(stored.profile, new.profile, "nothing else changes");
    // The old hash is no longer there: nothing replaced.
    let third = PasswordHash {
        key_id: "pep-3".into(),
        phc: "third".into(),
    };
    assert!(
        !test
            .db
            .replace_password(&new.asp_id, new.id, &new.password, &third)
            .await
            .unwrap()
    );
    // Nor another project's member of the same id.
    let elsewhere = AspId::parse(&asp()).unwrap();
    assert!(
        !test
            .db
            .replace_password(&elsewhere, new.id, &again, &third)
            .await
            .unwrap()
    );
    let stored = test.db.member(&new.asp_id, new.id).await.unwrap().unwrap();
    assert_eq!(stored.password, again);
}

/// `new` with a basic card of the contract's product, its numbers from `seed`.
fn with_basic_card(mut new: NewMember, seed: u64) -> NewMember {
    let made = crate::support::issuance(new.id, new.claim.key.clone(), seed, true);
    let mut application = made.application;
    application.application_type = prepaid_domain::ApplicationType::Basic;
    new.basic_card = Some(prepaid_application::ports::BasicCard {
        application,
        card: made.card.unwrap(),
    });
    new
}

pub async fn a_sign_up_with_a_basic_card_writes_both_or_neither(backend: Backend) {
    let test = open(&backend);
    let project = crate::support::member_and_product(&test.db).await.0;
    let new = with_basic_card(sign_up(&project, unique()), unique());
    test.db.register(&new).await.unwrap();
    let basic = new.basic_card.as_ref().unwrap();
    let stored = test
        .db
        .application(&new.asp_id, &basic.application.number)
        .await
        .unwrap()
        .expect("the basic card's application");
    assert_eq!(stored.application, basic.application);
    let card = test
        .db
        .card_by_par(&new.asp_id, &basic.card.card.par)
        .await
        .unwrap()
        .expect("the basic card");
    assert_eq!(card.card.owner, new.id);
    assert!(test.db.find_record(&new.claim.key).await.unwrap().is_some());

    // Another sign-up whose card's PAR is taken: neither the member nor anything else.
    let mut clash = with_basic_card(sign_up(&project, unique()), unique());
    let taken = clash.basic_card.as_mut().unwrap();
    taken.card.card.par = basic.card.card.par.clone();
    let refused = test.db.register(&clash).await;
    assert!(
        matches!(refused, Err(RegisterMemberError::NumberTaken)),
        "{refused:?}"
    );
    assert!(
        test.db
            .member(&clash.asp_id, clash.id)
            .await
            .unwrap()
            .is_none()
    );
    let number = &clash.basic_card.as_ref().unwrap().application.number;
    assert!(
        test.db
            .application(&clash.asp_id, number)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        test.db
            .find_record(&clash.claim.key)
            .await
            .unwrap()
            .is_none()
    );
}
