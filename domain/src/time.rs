//! Civil date-times, instants and the time zones of `X-KM-Time-Zone`.
//!
//! The contract writes times as digit strings read in a named zone. This module turns them into
//! [`Timestamp`]s (milliseconds since the Unix epoch, UTC) and back, with the proleptic Gregorian
//! calendar, without any dependency.

use std::fmt;

use crate::error::{Field, FieldError, check_char_length};

/// A calendar date and a time of day, without a zone. Always a real date and time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime {
    year: u16,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
    millisecond: u16,
}

impl DateTime {
    /// A date-time, if every part is in range and the day exists in that month.
    pub fn new(year: u16, month: u8, day: u8, hour: u8, minute: u8, second: u8) -> Option<Self> {
        Self::with_millis(year, month, day, hour, minute, second, 0)
    }

    /// As [`DateTime::new`], with milliseconds (0 to 999).
    pub fn with_millis(
        year: u16,
        month: u8,
        day: u8,
        hour: u8,
        minute: u8,
        second: u8,
        millisecond: u16,
    ) -> Option<Self> {
        let valid = (1..=9999).contains(&year)
            && (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month)
            && hour < 24
            && minute < 60
            && second < 60
            && millisecond < 1000;
        valid.then_some(Self {
            year,
            month,
            day,
            hour,
            minute,
            second,
            millisecond,
        })
    }

    /// Reads `yyyyMMddHHmmss` (14 digits) or `yyyyMMddHHmmssSSS` (17 digits).
    pub fn parse_digits(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        if !(bytes.len() == 14 || bytes.len() == 17) || !bytes.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let millis = if bytes.len() == 17 {
            digits(&bytes[14..17])
        } else {
            0
        };
        Self::with_millis(
            u16::try_from(digits(&bytes[0..4])).ok()?,
            u8::try_from(digits(&bytes[4..6])).ok()?,
            u8::try_from(digits(&bytes[6..8])).ok()?,
            u8::try_from(digits(&bytes[8..10])).ok()?,
            u8::try_from(digits(&bytes[10..12])).ok()?,
            u8::try_from(digits(&bytes[12..14])).ok()?,
            u16::try_from(millis).ok()?,
        )
    }

    /// The year.
    pub const fn year(&self) -> u16 {
        self.year
    }

    /// The month, 1 to 12.
    pub const fn month(&self) -> u8 {
        self.month
    }

    /// The day of the month, from 1.
    pub const fn day(&self) -> u8 {
        self.day
    }

    /// The milliseconds, 0 to 999.
    pub const fn millisecond(&self) -> u16 {
        self.millisecond
    }

    /// `yyyyMMddHHmmss`.
    pub fn to_digits14(&self) -> String {
        format!(
            "{:04}{:02}{:02}{:02}{:02}{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }

    /// `yyyyMMddHHmmssSSS`.
    pub fn to_digits17(&self) -> String {
        format!("{}{:03}", self.to_digits14(), self.millisecond)
    }

    /// The instant this date-time names when read in `zone`.
    pub fn in_zone(&self, zone: TimeZone) -> Timestamp {
        let days = days_from_civil(i64::from(self.year), self.month, self.day);
        let seconds = days * 86_400
            + i64::from(self.hour) * 3_600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
            - i64::from(zone.offset_seconds());
        Timestamp::from_millis(seconds * 1_000 + i64::from(self.millisecond))
    }
}

/// An instant: milliseconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The instant `millis` milliseconds after the Unix epoch.
    pub const fn from_millis(millis: i64) -> Self {
        Self(millis)
    }

    /// Milliseconds since the Unix epoch.
    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// The absolute distance to `other`, in milliseconds.
    pub const fn distance_millis(self, other: Self) -> u64 {
        self.0.abs_diff(other.0)
    }

    /// This instant `millis` later (saturating).
    #[must_use]
    pub const fn plus_millis(self, millis: i64) -> Self {
        Self(self.0.saturating_add(millis))
    }

    /// The day of this instant in `zone`, counted from 1970-01-01 there: two instants are on
    /// the same calendar day in `zone` exactly when their numbers are equal.
    pub const fn day_number(self, zone: TimeZone) -> i64 {
        (self.0 + zone.offset_seconds() as i64 * 1_000).div_euclid(86_400_000)
    }

    /// The civil date-time of this instant in `zone`, or `None` outside years 1 to 9999.
    pub fn civil(self, zone: TimeZone) -> Option<DateTime> {
        let local = self.0 + i64::from(zone.offset_seconds()) * 1_000;
        let days = local.div_euclid(86_400_000);
        let in_day = local.rem_euclid(86_400_000);
        let (year, month, day) = civil_from_days(days);
        let year = u16::try_from(year).ok()?;
        let hour = u8::try_from(in_day / 3_600_000).ok()?;
        let minute = u8::try_from(in_day / 60_000 % 60).ok()?;
        let second = u8::try_from(in_day / 1_000 % 60).ok()?;
        let millisecond = u16::try_from(in_day % 1_000).ok()?;
        DateTime::with_millis(year, month, day, hour, minute, second, millisecond)
    }
}

/// A time zone of `X-KM-Time-Zone`: three letters naming a fixed offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimeZone {
    /// Coordinated Universal Time.
    Utc,
    /// Greenwich Mean Time (UTC+0).
    Gmt,
    /// Korea Standard Time (UTC+9, no daylight saving).
    Kst,
    /// Japan Standard Time (UTC+9, no daylight saving).
    Jst,
}

impl TimeZone {
    /// Reads a 3-letter zone code. Other lengths are `000_015`, unknown codes `000_002` (D4).
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        check_char_length(text, 3, 3, Field::TimeZone)?;
        match text {
            "UTC" => Ok(Self::Utc),
            "GMT" => Ok(Self::Gmt),
            "KST" => Ok(Self::Kst),
            "JST" => Ok(Self::Jst),
            _ => Err(FieldError::invalid(Field::TimeZone)),
        }
    }

    /// The code as sent.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Utc => "UTC",
            Self::Gmt => "GMT",
            Self::Kst => "KST",
            Self::Jst => "JST",
        }
    }

    /// Offset from UTC in seconds.
    pub const fn offset_seconds(self) -> i32 {
        match self {
            Self::Utc | Self::Gmt => 0,
            Self::Kst | Self::Jst => 9 * 3_600,
        }
    }
}

impl fmt::Display for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether `year` is a Gregorian leap year.
pub(crate) const fn is_leap_year(year: u16) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

/// The number of days of `month` (1 to 12) in `year`.
pub(crate) const fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// The decimal value of ASCII digits (the caller checked they are digits).
pub(crate) fn digits(bytes: &[u8]) -> u32 {
    bytes
        .iter()
        .fold(0, |acc, byte| acc * 10 + u32::from(byte - b'0'))
}

// Howard Hinnant's days_from_civil and civil_from_days (public-domain algorithms).
pub(crate) fn days_from_civil(year: i64, month: u8, day: u8) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // Both are in range by construction of the algorithm.
    (
        year,
        u8::try_from(month).unwrap_or(1),
        u8::try_from(day).unwrap_or(1),
    )
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_epoch_is_1970_01_01_in_utc() {
        let epoch = DateTime::new(1970, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(epoch.in_zone(TimeZone::Utc), Timestamp::from_millis(0));
    }

    #[test]
    fn kst_is_nine_hours_ahead_of_utc() {
        let kst = DateTime::new(2026, 11, 25, 9, 0, 0)
            .unwrap()
            .in_zone(TimeZone::Kst);
        let utc = DateTime::new(2026, 11, 25, 0, 0, 0)
            .unwrap()
            .in_zone(TimeZone::Utc);
        assert_eq!(kst, utc);
    }

    #[test]
    fn february_29th_exists_only_in_leap_years() {
        assert!(DateTime::new(2024, 2, 29, 0, 0, 0).is_some());
        assert!(DateTime::new(2025, 2, 29, 0, 0, 0).is_none());
        assert!(DateTime::new(2000, 2, 29, 0, 0, 0).is_some());
        assert!(DateTime::new(1900, 2, 29, 0, 0, 0).is_none());
    }

    #[test]
    fn digits_with_an_impossible_time_are_refused() {
        assert!(DateTime::parse_digits("20261125240000").is_none());
        assert!(DateTime::parse_digits("20261131120000").is_none());
        assert!(DateTime::parse_digits("20261125126000").is_none());
        assert!(DateTime::parse_digits("2026112512000").is_none());
        assert!(DateTime::parse_digits("2026112512000a").is_none());
        assert!(DateTime::parse_digits("20261125120000").is_some());
        assert!(DateTime::parse_digits("20261125120000999").is_some());
    }

    #[test]
    fn a_zone_must_be_three_letters_and_known() {
        assert_eq!(TimeZone::parse("KST"), Ok(TimeZone::Kst));
        assert_eq!(TimeZone::parse("UTC"), Ok(TimeZone::Utc));
        assert_eq!(
            TimeZone::parse("PST"),
            Err(FieldError::invalid(Field::TimeZone))
        );
        assert_eq!(
            TimeZone::parse("kst"),
            Err(FieldError::invalid(Field::TimeZone))
        );
        assert_eq!(
            TimeZone::parse("KSTX"),
            Err(FieldError::length(Field::TimeZone))
        );
        assert_eq!(
            TimeZone::parse(""),
            Err(FieldError::length(Field::TimeZone))
        );
    }

    proptest! {
        #[test]
        fn an_instant_survives_the_trip_through_civil_time(
            millis in -62_135_596_800_000_i64..253_402_300_799_000,
            zone in prop_oneof![Just(TimeZone::Utc), Just(TimeZone::Kst)],
        ) {
            let instant = Timestamp::from_millis(millis);
            if let Some(civil) = instant.civil(zone) {
                prop_assert_eq!(civil.in_zone(zone), instant);
            }
        }

        #[test]
        fn civil_digits_survive_the_trip_through_text(
            millis in 0_i64..4_102_444_800_000,
        ) {
            let civil = Timestamp::from_millis(millis).civil(TimeZone::Utc).unwrap();
            prop_assert_eq!(DateTime::parse_digits(&civil.to_digits17()), Some(civil));
        }
    }

    #[test]
    fn every_zone_reads_back_as_its_code_with_its_offset() {
        for (code, offset) in [("UTC", 0), ("GMT", 0), ("KST", 32_400), ("JST", 32_400)] {
            let zone = TimeZone::parse(code).unwrap();
            assert_eq!((zone.as_str(), zone.offset_seconds()), (code, offset));
            assert_eq!(zone.to_string(), code);
        }
        assert!(TimeZone::parse("PST").is_err());
    }

    #[test]
    fn second_60_and_minute_60_do_not_exist_and_59_does() {
        assert!(DateTime::new(2026, 11, 30, 23, 59, 59).is_some());
        assert!(DateTime::new(2026, 11, 30, 23, 59, 60).is_none());
        assert!(DateTime::new(2026, 11, 30, 23, 60, 0).is_none());
        assert!(DateTime::parse_digits("20261130235960").is_none());
        assert!(DateTime::with_millis(2026, 11, 30, 23, 59, 59, 999).is_some());
        assert!(DateTime::with_millis(2026, 11, 30, 23, 59, 59, 1_000).is_none());
    }
}
