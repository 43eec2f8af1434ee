//! Calendar days as Đà Nẵng counts them (Vietnam time, UTC+07:00, no daylight saving), for the city's rules
//! and reports: `--from 2026-01-01` means the city's first of January, not UTC's.
//!
//! Dates are the `time` crate's (no hand-written calendar arithmetic); the audit trail's own formatting lives in
//! [`crate::audit`].

use std::fmt;

use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// Vietnam is UTC+7 all year.
pub const VN_OFFSET_SECS: i64 = 7 * 3600;
const DAY_SECS: i64 = 86_400;
/// The Julian day number of 1970-01-01.
const UNIX_EPOCH_JULIAN_DAY: i64 = 2_440_588;

/// One calendar day in Vietnam time, as days since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(pub i64);

impl Day {
    /// Parses `YYYY-MM-DD` (ISO 8601), refusing impossible dates such as 2026-02-30.
    pub fn parse(text: &str) -> Option<Day> {
        let date =
            Date::parse(text.trim(), format_description!("[year repr:full base:calendar]-[month]-[day]")).ok()?;
        Some(Day::of_date(date))
    }

    fn of_date(date: Date) -> Day {
        Day(i64::from(date.to_julian_day()) - UNIX_EPOCH_JULIAN_DAY)
    }

    fn date(self) -> Date {
        i32::try_from(self.0 + UNIX_EPOCH_JULIAN_DAY)
            .ok()
            .and_then(|j| Date::from_julian_day(j).ok())
            .unwrap_or(if self.0 < 0 { Date::MIN } else { Date::MAX })
    }

    /// The Vietnamese day that contains the Unix time `secs`.
    pub fn of_unix(secs: u64) -> Day {
        Day((secs as i64 + VN_OFFSET_SECS).div_euclid(DAY_SECS))
    }

    /// The Unix time at which this day begins in Vietnam (00:00 UTC+7).
    pub fn start_unix(self) -> u64 {
        (self.0 * DAY_SECS - VN_OFFSET_SECS).max(0) as u64
    }

    /// (year, month, day).
    pub fn ymd(self) -> (i64, u32, u32) {
        let date = self.date();
        (i64::from(date.year()), u32::from(u8::from(date.month())), u32::from(date.day()))
    }

    /// `31/01/2026`, as Vietnamese documents write dates.
    pub fn vi(self) -> String {
        let (y, m, d) = self.ymd();
        format!("{d:02}/{m:02}/{y:04}")
    }
}

impl fmt::Display for Day {
    /// ISO 8601: `2026-01-31`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

/// Reads the audit trail's `time` (`2026-01-31T09:15:02.123Z`, UTC) as Unix seconds.
pub fn parse_rfc3339_utc(text: &str) -> Option<u64> {
    let text = text.strip_suffix('Z')?;
    let described = format_description!(
        version = 2,
        "[year repr:full base:calendar]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    let t = PrimitiveDateTime::parse(text, described).ok()?.assume_offset(UtcOffset::UTC);
    u64::try_from(t.unix_timestamp()).ok()
}

/// The Unix time `secs` as a UTC date-time (clamped to the range `time` supports).
pub fn utc(secs: u64) -> OffsetDateTime {
    i64::try_from(secs)
        .ok()
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_parse_and_print_both_ways() {
        for text in ["1970-01-01", "2000-02-29", "2026-01-31", "2026-12-31", "2100-03-01"] {
            assert_eq!(Day::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(Day::parse("2026-11-28"), Some(Day(20_785)));
        assert_eq!(Day::parse("2026-01-31").unwrap().vi(), "31/01/2026");
        for bad in ["2026-02-30", "2025-02-29", "2026-13-01", "2026-1-5", "26-01-01", "2026/01/01", "", "x"] {
            assert_eq!(Day::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_vietnamese_day_starts_at_17h_utc_the_evening_before() {
        let day = Day::parse("2026-01-31").unwrap();
        let start = day.start_unix();
        assert_eq!(Day::of_unix(start), day);
        assert_eq!(Day::of_unix(start - 1), Day(day.0 - 1));
        assert_eq!(parse_rfc3339_utc("2026-01-30T17:00:00.000Z"), Some(start));
        assert_eq!(Day::of_unix(parse_rfc3339_utc("2026-01-31T16:59:59.999Z").unwrap()), day);
        assert_eq!(parse_rfc3339_utc("2026-01-31T16:59:59Z"), Some(start + 86_399));
        for bad in ["2026-01-31 10:00:00Z", "2026-01-31T10:00:00", "2026-01-31T25:00:00Z", "junk"] {
            assert_eq!(parse_rfc3339_utc(bad), None, "{bad}");
        }
    }
}
