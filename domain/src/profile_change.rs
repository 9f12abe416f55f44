//! "Member Information Change" (D24): which of a member's details a request changes, and the
//! rule the platform states for them: a new CI comes only with a corrected birth date or gender
//! (the CI follows the identity it was verified for). The login id and the password are not
//! details a change reaches.

use crate::address::DeliveryAddress;
use crate::error::{Field, FieldError};
use crate::personal::{
    BirthDate, Ci, Email, Gender, MemberProfile, MobileNumber, Nationality, UserName,
};

/// The details a request names, each already valid on its own; absent ones stay as they are.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChangedDetails {
    /// `userName`.
    pub name: Option<UserName>,
    /// `birthDate`.
    pub birth_date: Option<BirthDate>,
    /// `gender`.
    pub gender: Option<Gender>,
    /// `nationality`.
    pub nationality: Option<Nationality>,
    /// `mobileNumber`.
    pub mobile: Option<MobileNumber>,
    /// `email`.
    pub email: Option<Email>,
    /// `ci`.
    pub ci: Option<Ci>,
    /// `addressInfo`.
    pub address: Option<DeliveryAddress>,
}

/// Why a request is no change at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProfileChangeRefusal {
    /// No detail named: `000_003`, nothing is missing more than everything.
    NothingToChange,
    /// A CI without a birth date or a gender beside it: `000_002` at `ci`.
    CiWithoutIdentity,
}

impl ProfileChangeRefusal {
    /// The refusal as the field error it is answered with; `None` for a request naming nothing
    /// (no one field is the missing one).
    pub const fn field_error(self) -> Option<FieldError> {
        match self {
            Self::NothingToChange => None,
            Self::CiWithoutIdentity => Some(FieldError::invalid(Field::Ci)),
        }
    }
}

/// A change of a member's details that keeps the rules: at least one detail, and a CI only with
/// the identity it follows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileChange(ChangedDetails);

impl ProfileChange {
    /// The change `details` ask for.
    ///
    /// # Errors
    /// [`ProfileChangeRefusal`] when it names nothing, or a CI alone.
    pub fn new(details: ChangedDetails) -> Result<Self, ProfileChangeRefusal> {
        if details == ChangedDetails::default() {
            return Err(ProfileChangeRefusal::NothingToChange);
        }
        if details.ci.is_some() && details.birth_date.is_none() && details.gender.is_none() {
            return Err(ProfileChangeRefusal::CiWithoutIdentity);
        }
        Ok(Self(details))
    }

    /// The details it names.
    pub const fn details(&self) -> &ChangedDetails {
        &self.0
    }

    /// `current` with the named details replaced; the login id always kept.
    pub fn apply(&self, current: &MemberProfile) -> MemberProfile {
        let new = &self.0;
        MemberProfile {
            login_id: current.login_id.clone(),
            birth_date: new.birth_date.unwrap_or(current.birth_date),
            nationality: new.nationality.unwrap_or(current.nationality),
            gender: new.gender.unwrap_or(current.gender),
            name: new.name.clone().unwrap_or_else(|| current.name.clone()),
            mobile: new.mobile.clone().unwrap_or_else(|| current.mobile.clone()),
            email: new.email.clone().unwrap_or_else(|| current.email.clone()),
            ci: new.ci.clone().or_else(|| current.ci.clone()),
            address: new.address.clone().or_else(|| current.address.clone()),
        }
    }
}

#[cfg(test)]
mod tests;
