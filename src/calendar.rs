//! Calendar days as Đà Nẵng counts them (Vietnam time, UTC+07:00, no daylight saving), for the city's rules
//! and reports: `--from 2026-01-01` means the city's first of January, not UTC's.
//!
//! A few lines of arithmetic instead of a date crate; the audit trail's own formatting lives in [`crate::audit`].

use std::fmt;

/// Vietnam is UTC+7 all year.
pub const VN_OFFSET_SECS: i64 = 7 * 3600;
const DAY_SECS: i64 = 86_400;

/// One calendar day in Vietnam time, as days since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(pub i64);

impl Day {
    /// Parses `YYYY-MM-DD` (ISO 8601), refusing impossible dates such as 2026-02-30.
    pub fn parse(text: &str) -> Option<Day> {
        let mut parts = text.trim().splitn(3, '-');
        let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
        if y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return None;
        }
        let (y, m, d): (i64, u32, u32) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
        let day = Day(days_from_civil(y, m, d));
        (day.ymd() == (y, m, d)).then_some(day)
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
        crate::audit::civil_from_days(self.0)
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
    let (date, rest) = text.split_once('T')?;
    let day = Day::parse(date)?;
    let time = rest.strip_suffix('Z')?;
    let hms = time.split('.').next()?;
    let mut parts = hms.splitn(3, ':').map(|p| p.parse::<i64>().ok().filter(|_| p.len() == 2));
    let (h, m, s) = (parts.next()??, parts.next()??, parts.next()??);
    if h > 23 || m > 59 || s > 60 {
        return None;
    }
    u64::try_from(day.0 * DAY_SECS + h * 3600 + m * 60 + s).ok()
}

/// (year, month, day) to days since 1970-01-01; Howard Hinnant's algorithm, the inverse of
/// [`crate::audit::civil_from_days`].
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
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
