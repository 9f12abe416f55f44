//! Members' personal data at rest (D24): a profile sealed with AES-256-GCM under the data key,
//! bound to its project and member id as associated data; and keyed HMAC-SHA256 fingerprints of
//! the login id, CI and mobile number, separated by what they are and by project.

use prepaid_application::PortError;
use prepaid_application::ports::{
    LookupKey, MemberKeyIds, MemberSecrets, PersonalFingerprint, SealedProfile,
};
use prepaid_domain::{
    AddressDetail, AspId, BirthDate, Ci, DeliveryAddress, Email, Gender, LoginId, MemberId,
    MemberProfile, MobileNumber, Nationality, RoadAddress, UserName, ZipCode,
};

use crate::secrets::AesGcmCardSecrets;

/// What a profile is bound to: its project and member.
fn profile_associated_data(asp_id: &AspId, member: MemberId) -> Vec<u8> {
    format!(
        "prepaid-card/profile/v1/{}/{}",
        asp_id.as_str(),
        member.get()
    )
    .into_bytes()
}

/// The profile's lines: none of its values holds a line feed (every one of them refuses control
/// characters), and an absent value is an empty line (every present one has a character).
fn lines(profile: &MemberProfile) -> String {
    let address = profile.address.as_ref();
    [
        "v1",
        profile.login_id.expose(),
        &profile.birth_date.to_digits(),
        profile.nationality.as_str(),
        profile.gender.as_str(),
        profile.name.expose(),
        profile.mobile.expose(),
        profile.email.expose(),
        profile.ci.as_ref().map_or("", Ci::expose),
        address.map_or("", |address| address.address.as_str()),
        address.map_or("", |address| address.detail.as_str()),
        address.map_or("", |address| address.zip_code.as_str()),
    ]
    .join("\n")
}

/// Reads [`lines`] back, each value through its own constructor.
fn read_lines(text: &str) -> Option<MemberProfile> {
    let fields: Vec<&str> = text.split('\n').collect();
    let [
        "v1",
        login_id,
        birth_date,
        nationality,
        gender,
        name,
        mobile,
        email,
        ci,
        address,
        detail,
        zip_code,
    ] = fields.as_slice()
    else {
        return None;
    };
    let address = match (*address, *detail, *zip_code) {
        ("", "", "") => None,
        (address, detail, zip_code) => Some(DeliveryAddress {
            address: RoadAddress::parse(address).ok()?,
            detail: AddressDetail::parse(detail).ok()?,
            zip_code: ZipCode::parse(zip_code).ok()?,
        }),
    };
    Some(MemberProfile {
        login_id: LoginId::parse(login_id).ok()?,
        birth_date: BirthDate::parse(birth_date).ok()?,
        nationality: Nationality::parse(nationality).ok()?,
        gender: Gender::parse(gender).ok()?,
        name: UserName::parse(name).ok()?,
        mobile: MobileNumber::parse(mobile).ok()?,
        email: Email::parse(email).ok()?,
        ci: match *ci {
            "" => None,
            ci => Some(Ci::parse(ci).ok()?),
        },
        address,
    })
}

impl MemberSecrets for AesGcmCardSecrets {
    fn seal_profile(
        &self,
        profile: &MemberProfile,
        asp_id: &AspId,
        member: MemberId,
    ) -> Result<SealedProfile, PortError> {
        let (key_id, ciphertext) = self.seal(
            &profile_associated_data(asp_id, member),
            lines(profile).as_bytes(),
            "member profile",
        )?;
        Ok(SealedProfile { key_id, ciphertext })
    }

    fn open_profile(
        &self,
        sealed: &SealedProfile,
        asp_id: &AspId,
        member: MemberId,
    ) -> Result<MemberProfile, PortError> {
        let plaintext = self.open(
            &sealed.key_id,
            &sealed.ciphertext,
            &profile_associated_data(asp_id, member),
            "member profile",
        )?;
        String::from_utf8(plaintext)
            .ok()
            .as_deref()
            .and_then(read_lines)
            .ok_or_else(|| PortError::msg("decrypted member profile is malformed"))
    }

    fn personal_fingerprint(
        &self,
        asp_id: &AspId,
        key: LookupKey,
        value: &str,
    ) -> PersonalFingerprint {
        let domain = format!("member/v1/{}/{}\u{1f}", key.as_str(), asp_id.as_str());
        PersonalFingerprint {
            key_id: self.index_id.clone(),
            digest: self.keyed_digest(domain.as_bytes(), value.as_bytes()),
        }
    }

    fn current_key_ids(&self) -> MemberKeyIds {
        MemberKeyIds {
            data: self.current_data_key_id().to_owned(),
            index: self.index_id.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{DataKey, IndexKey};

    fn with_keys(data: &str, index: &str) -> AesGcmCardSecrets {
        AesGcmCardSecrets::new(
            DataKey::from_hex("data-1", data).unwrap(),
            vec![],
            &IndexKey::from_hex(index).unwrap(),
        )
    }

    fn keys() -> AesGcmCardSecrets {
        with_keys(&"0123456789abcdef".repeat(4), &"fedcba9876543210".repeat(4))
    }

    fn asp(text: &str) -> AspId {
        AspId::parse(text).unwrap()
    }

    fn member(id: u64) -> MemberId {
        MemberId::new(id).unwrap()
    }

    fn profile() -> MemberProfile {
        MemberProfile {
            login_id: LoginId::parse("minsu.kim@example.co.kr").unwrap(),
            birth_date: BirthDate::parse("19900101").unwrap(),
            nationality: Nationality::Korean,
            gender: Gender::Male,
            name: UserName::parse("김민수").unwrap(),
            mobile: MobileNumber::parse("01039571862").unwrap(),
            email: Email::parse("minsu@example.com").unwrap(),
            ci: Some(Ci::parse(&"Ab9+".repeat(22)).unwrap()),
            address: Some(DeliveryAddress {
                address: RoadAddress::parse("서울특별시 강남구 테헤란로 1").unwrap(),
                detail: AddressDetail::parse("101동 1001호").unwrap(),
                zip_code: ZipCode::parse("06236").unwrap(),
            }),
        }
    }

    #[test]
    fn the_current_key_ids_are_those_sealing_and_fingerprinting_use() {
        let index = IndexKey::from_hex(&"fedcba9876543210".repeat(4)).unwrap();
        let secrets = AesGcmCardSecrets::with_index_keys(
            DataKey::from_hex("data-2", &"0123456789abcdef".repeat(4)).unwrap(),
            vec![DataKey::from_hex("data-1", &"1123456789abcdef".repeat(4)).unwrap()],
            "idx-2",
            &index,
            &[(
                "idx-1".to_owned(),
                IndexKey::from_hex(&"aedcba9876543210".repeat(4)).unwrap(),
            )],
        );
        let project = asp("ASPSANDBOX00001");
        let current = secrets.current_key_ids();
        assert_eq!(
            current,
            MemberKeyIds {
                data: "data-2".into(),
                index: "idx-2".into(),
            }
        );
        let sealed = secrets
            .seal_profile(&profile(), &project, member(1001))
            .unwrap();
        assert_eq!(sealed.key_id, current.data);
        let print = secrets.personal_fingerprint(&project, LookupKey::LoginId, "a@b.example");
        assert_eq!(print.key_id, current.index);
    }

    #[test]
    fn a_profile_opens_for_its_member_only_and_holds_nothing_readable() {
        let secrets = keys();
        let (project, other) = (asp("ASPSANDBOX00001"), asp("ASPOTHER0000002"));
        let sealed = secrets
            .seal_profile(&profile(), &project, member(1001))
            .unwrap();
        assert_eq!(sealed.key_id, "data-1");
        assert_eq!(
            secrets
                .open_profile(&sealed, &project, member(1001))
                .unwrap(),
            profile()
        );
        assert!(
            secrets
                .open_profile(&sealed, &project, member(1002))
                .is_err()
        );
        assert!(secrets.open_profile(&sealed, &other, member(1001)).is_err());
        let text = String::from_utf8_lossy(&sealed.ciphertext);
        for plain in ["minsu", "1990", "김민수", "0103957", "테헤란로", "Ab9+"] {
            assert!(!text.contains(plain), "{plain}");
        }
        let mut tampered = sealed.clone();
        let last = tampered.ciphertext.len() - 1;
        tampered.ciphertext[last] ^= 1;
        assert!(
            secrets
                .open_profile(&tampered, &project, member(1001))
                .is_err()
        );
    }

    #[test]
    fn a_profile_without_its_optional_data_round_trips() {
        let secrets = keys();
        let project = asp("ASPSANDBOX00001");
        let bare = MemberProfile {
            ci: None,
            address: None,
            ..profile()
        };
        let sealed = secrets.seal_profile(&bare, &project, member(7)).unwrap();
        assert_eq!(
            secrets.open_profile(&sealed, &project, member(7)).unwrap(),
            bare
        );
    }

    #[test]
    fn fingerprints_tell_equal_values_apart_from_others_by_kind_and_project() {
        let secrets = keys();
        let (project, other) = (asp("ASPSANDBOX00001"), asp("ASPOTHER0000002"));
        let login =
            |asp: &AspId, value: &str| secrets.personal_fingerprint(asp, LookupKey::LoginId, value);
        assert_eq!(login(&project, "a@b.co"), login(&project, "a@b.co"));
        assert_ne!(login(&project, "a@b.co"), login(&project, "a@b.cd"));
        assert_ne!(login(&project, "a@b.co"), login(&other, "a@b.co"));
        assert_ne!(
            secrets.personal_fingerprint(&project, LookupKey::Ci, "x"),
            secrets.personal_fingerprint(&project, LookupKey::MobileNumber, "x")
        );
        // Keyed: another index key gives another fingerprint of the same value.
        let elsewhere = with_keys(&"0123456789abcdef".repeat(4), &"1111222233334444".repeat(4));
        assert_ne!(
            login(&project, "a@b.co").digest,
            elsewhere
                .personal_fingerprint(&project, LookupKey::LoginId, "a@b.co")
                .digest
        );
    }

    #[test]
    fn a_malformed_plaintext_is_not_a_profile() {
        assert!(read_lines(&lines(&profile())).is_some());
        for broken in [
            lines(&profile()).replacen("v1", "v2", 1),
            format!("{}\nextra", lines(&profile())),
            lines(&profile()).replace("19900101", "19901301"),
        ] {
            assert!(read_lines(&broken).is_none(), "{broken}");
        }
    }
}
