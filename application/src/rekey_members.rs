//! Members' personal data brought under the current keys (D24: "rotatable like the card
//! keys"): each profile sealed under an older data key is sealed again, and each fingerprint
//! made under an older index key is made again, so that look-ups and uniqueness, which compare
//! fingerprints of the current key only, keep finding every member after a rotation. Run at each
//! start, before requests are served.

use std::sync::Arc;

use crate::ports::{
    LookupKey, MemberFingerprints, MemberRecords, MemberSecrets, PortError, RekeyedMember,
};

/// What a run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RekeyReport {
    /// Members brought under the current keys.
    pub rekeyed: usize,
    /// Members changed by a request meanwhile (a change writes under the current keys).
    pub changed_meanwhile: usize,
    /// Members left as they were: a profile no configured key opens, or a value another member
    /// holds under the current key.
    pub left: usize,
}

/// Brings members' personal data under the current keys.
pub struct MemberRekeying {
    records: Arc<dyn MemberRecords>,
    secrets: Arc<dyn MemberSecrets>,
}

impl MemberRekeying {
    /// A run over `records` with `secrets`.
    pub fn new(records: Arc<dyn MemberRecords>, secrets: Arc<dyn MemberSecrets>) -> Self {
        Self { records, secrets }
    }

    /// Seals again and fingerprints again every member under an older key; a member that cannot
    /// be is left as it is and counted.
    ///
    /// # Errors
    /// [`PortError`] when the members cannot be listed.
    pub async fn run(&self) -> Result<RekeyReport, PortError> {
        let current = self.secrets.current_key_ids();
        let mut report = RekeyReport::default();
        for member in self.records.members_under_other_keys(&current).await? {
            let Ok(rekeyed) = self.rekeyed(&member.asp_id, member.id, member.profile) else {
                report.left += 1;
                continue;
            };
            match self.records.rekey(&rekeyed).await {
                Ok(true) => report.rekeyed += 1,
                Ok(false) => report.changed_meanwhile += 1,
                Err(_) => report.left += 1,
            }
        }
        Ok(report)
    }

    /// The member's profile opened, sealed again and fingerprinted again.
    fn rekeyed(
        &self,
        asp_id: &prepaid_domain::AspId,
        id: prepaid_domain::MemberId,
        read: crate::ports::SealedProfile,
    ) -> Result<RekeyedMember, PortError> {
        let secrets = &self.secrets;
        let profile = secrets.open_profile(&read, asp_id, id)?;
        let print = |key, value: &str| secrets.personal_fingerprint(asp_id, key, value);
        Ok(RekeyedMember {
            asp_id: asp_id.clone(),
            id,
            fingerprints: MemberFingerprints {
                login_id: print(LookupKey::LoginId, &profile.login_id.normalized()),
                mobile: print(LookupKey::MobileNumber, profile.mobile.expose()),
                ci: profile
                    .ci
                    .as_ref()
                    .map(|ci| print(LookupKey::Ci, ci.expose())),
            },
            profile: secrets.seal_profile(&profile, asp_id, id)?,
            read,
        })
    }
}

#[cfg(test)]
mod tests;
