//! A member's personal data (D24), each value a type whose only constructor checks it: the
//! login id and e-mail, the password and its rules, birth date, nationality, gender, name,
//! mobile number, CI and join channel. Personal data is
//! never shown: every type here has a redacted `Debug` and no `Display`.

use std::fmt;

use crate::address::DeliveryAddress;
use crate::error::{Field, FieldError, check_char_length};
use crate::time::DateTime;

/// Writes `Name(<redacted>)`: personal data never reaches a log through `Debug`.
macro_rules! redacted_debug {
    ($($name:ident),* $(,)?) => {$(
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }
    )*};
}

/// Whether `text` is an e-mail address of the usual form: one `@`, a local part of the
/// characters RFC 5322 allows unquoted (no dot first, last or twice in a row), and a domain of
/// two or more labels of letters, digits and inner hyphens.
fn is_email_form(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b".!#$%&'*+/=?^_`{|}~-".contains(&byte));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
        });
    local_ok && domain_ok
}

/// `loginId`: 1 to 80 characters, an e-mail address. Unique per project, compared without
/// regard to the case of its letters ([`LoginId::normalized`]).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct LoginId(String);

impl LoginId {
    /// Checks `text`: its length (`000_015 loginId`), then its form (`000_002 loginId`).
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        check_char_length(text, 1, 80, Field::LoginId)?;
        if !is_email_form(text) {
            return Err(FieldError::invalid(Field::LoginId));
        }
        Ok(Self(text.to_owned()))
    }

    /// The login id as given.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The form two login ids are compared in (and fingerprinted in): ASCII lower case.
    pub fn normalized(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

/// `email`: 1 to 50 characters, an e-mail address.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Checks `text`: its length (`000_015 email`), then its form (`000_002 email`).
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        check_char_length(text, 1, 50, Field::Email)?;
        if !is_email_form(text) {
            return Err(FieldError::invalid(Field::Email));
        }
        Ok(Self(text.to_owned()))
    }

    /// The address.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// `mobileNumber`: 10 or 11 digits.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct MobileNumber(String);

impl MobileNumber {
    /// Checks `text`: its length (`000_015 mobileNumber`), then that it is digits only
    /// (`000_002 mobileNumber`).
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        check_char_length(text, 10, 11, Field::MobileNumber)?;
        if !text.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(FieldError::invalid(Field::MobileNumber));
        }
        Ok(Self(text.to_owned()))
    }

    /// The digits.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// The length of a login password.
pub const PASSWORD_LENGTH: usize = 6;

/// `loginPassword`: exactly six digits, with no digit three times in a row, no three digits
/// ascending or descending by one in a row (`123`, `987`; `890` is neither), and not to be
/// found inside the member's mobile number. Held only to be hashed; never shown.
#[derive(Clone, PartialEq, Eq)]
pub struct LoginPassword(String);

impl LoginPassword {
    /// Checks `text` against `mobile_number`, the mobile number of the same request as it was
    /// sent (the password's rules come before the mobile number's own, in the order of the
    /// request's fields): its length (`000_015 loginPassword`), then digits only and every rule
    /// (`000_002 loginPassword`).
    pub fn parse(text: &str, mobile_number: &str) -> Result<Self, FieldError> {
        check_char_length(text, PASSWORD_LENGTH, PASSWORD_LENGTH, Field::LoginPassword)?;
        let invalid = FieldError::invalid(Field::LoginPassword);
        if !text.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(invalid);
        }
        // Digits' codes step as the digits do: a run is two equal steps of -1, 0 or +1.
        let codes: Vec<i16> = text.bytes().map(i16::from).collect();
        let runs = codes.windows(3).any(|three| {
            let (first, second) = (three[1] - three[0], three[2] - three[1]);
            first == second && first.abs() <= 1
        });
        if runs || mobile_number.contains(text) {
            return Err(invalid);
        }
        Ok(Self(text.to_owned()))
    }

    /// A password sent to be checked against a member's (`/user/password/check`): its length
    /// (`000_015 loginPassword`), then digits only (`000_002 loginPassword`). The sign-up's
    /// rules are not applied: a guess that breaks them matches no member's password, and
    /// counts as a wrong attempt like any other.
    pub fn attempt(text: &str) -> Result<Self, FieldError> {
        check_char_length(text, PASSWORD_LENGTH, PASSWORD_LENGTH, Field::LoginPassword)?;
        if !text.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(FieldError::invalid(Field::LoginPassword));
        }
        Ok(Self(text.to_owned()))
    }

    /// The digits, to be hashed.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Wrong passwords in a row that lock a member's password (D24): the attempt that makes this
/// many is still answered `001_045`; every later one is `001_069` until an operator unlocks it.
pub const MOST_WRONG_PASSWORDS: u8 = 5;

/// Whether a password with `wrong` wrong attempts in a row counted is locked.
pub const fn password_locked(wrong: u8) -> bool {
    wrong >= MOST_WRONG_PASSWORDS
}

/// `birthDate`: `yyyyMMdd`, a real date from 1900-01-01 to 2099-12-31.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct BirthDate {
    year: u16,
    month: u8,
    day: u8,
}

impl BirthDate {
    /// Checks `text`: its length (`000_015 birthDate`), then that it is a real date in range
    /// (`000_002 birthDate`).
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        check_char_length(text, 8, 8, Field::BirthDate)?;
        let invalid = FieldError::invalid(Field::BirthDate);
        if !text.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(invalid);
        }
        let number = |range: std::ops::Range<usize>| text[range].parse::<u16>().ok();
        let (Some(year), Some(month), Some(day)) = (number(0..4), number(4..6), number(6..8))
        else {
            return Err(invalid);
        };
        let (month, day) = (
            u8::try_from(month).map_err(|_| invalid)?,
            u8::try_from(day).map_err(|_| invalid)?,
        );
        if !(1900..=2099).contains(&year) || DateTime::new(year, month, day, 0, 0, 0).is_none() {
            return Err(invalid);
        }
        Ok(Self { year, month, day })
    }

    /// `yyyyMMdd`.
    pub fn to_digits(self) -> String {
        format!("{:04}{:02}{:02}", self.year, self.month, self.day)
    }
}

/// `userName`: 1 to 100 characters, not blank, no control characters.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct UserName(String);

impl UserName {
    /// Checks `text`: its length (`000_015 userName`), then its characters (`000_002
    /// userName`).
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        check_char_length(text, 1, 100, Field::UserName)?;
        if text.trim().is_empty() || text.chars().any(char::is_control) {
            return Err(FieldError::invalid(Field::UserName));
        }
        Ok(Self(text.to_owned()))
    }

    /// The name.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// `ci`: the member's connecting information from identity verification, 88 characters of
/// Base64 (64 bytes). Unique per project.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Ci(String);

impl Ci {
    /// The length of a CI.
    pub const LENGTH: usize = 88;

    /// Checks `text`: its length (`000_015 ci`), then its alphabet: Base64 with at most two
    /// `=` at the end (`000_002 ci`).
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        check_char_length(text, Self::LENGTH, Self::LENGTH, Field::Ci)?;
        let body = text.trim_end_matches('=');
        let padding = text.len() - body.len();
        if padding > 2
            || !body
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'+' || byte == b'/')
        {
            return Err(FieldError::invalid(Field::Ci));
        }
        Ok(Self(text.to_owned()))
    }

    /// The CI.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// `joinChannel`: 1 to 20 characters, no control characters: where the member signed up.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct JoinChannel(String);

impl JoinChannel {
    /// Checks `text`: its length (`000_015 joinChannel`), then its characters (`000_002
    /// joinChannel`).
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        check_char_length(text, 1, 20, Field::JoinChannel)?;
        if text.trim().is_empty() || text.chars().any(char::is_control) {
            return Err(FieldError::invalid(Field::JoinChannel));
        }
        Ok(Self(text.to_owned()))
    }

    /// The channel.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

redacted_debug!(
    LoginId,
    Email,
    MobileNumber,
    LoginPassword,
    BirthDate,
    UserName,
    Ci
);

/// `nationality`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Nationality {
    /// `Korean`.
    Korean,
    /// `Foreigner`.
    Foreigner,
}

impl Nationality {
    /// The name as the platform writes it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Korean => "Korean",
            Self::Foreigner => "Foreigner",
        }
    }

    /// Reads a name; any other is `000_002 nationality`.
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        match text {
            "Korean" => Ok(Self::Korean),
            "Foreigner" => Ok(Self::Foreigner),
            _ => Err(FieldError::invalid(Field::Nationality)),
        }
    }
}

/// `gender`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Gender {
    /// `Male`.
    Male,
    /// `Female`.
    Female,
}

impl Gender {
    /// The name as the platform writes it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Male => "Male",
            Self::Female => "Female",
        }
    }

    /// Reads a name; any other is `000_002 gender`.
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        match text {
            "Male" => Ok(Self::Male),
            "Female" => Ok(Self::Female),
            _ => Err(FieldError::invalid(Field::Gender)),
        }
    }
}

/// What a member tells about themselves at sign-up (D24): all of it personal data, stored
/// sealed, never logged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberProfile {
    /// `loginId`.
    pub login_id: LoginId,
    /// `birthDate`.
    pub birth_date: BirthDate,
    /// `nationality`.
    pub nationality: Nationality,
    /// `gender`.
    pub gender: Gender,
    /// `userName`.
    pub name: UserName,
    /// `mobileNumber`.
    pub mobile: MobileNumber,
    /// `email`.
    pub email: Email,
    /// `ci`, when given.
    pub ci: Option<Ci>,
    /// `addressInfo`, when given.
    pub address: Option<DeliveryAddress>,
}

#[cfg(test)]
mod tests;
