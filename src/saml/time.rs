//! SAML times (`xs:dateTime`, always UTC on output): formatting ours and reading the SPs', with the `time` crate.
//!
//! A time an SP sends must name its zone (`Z` or `±hh:mm`, RFC 3339): a time without one is ambiguous, and an
//! impossible date (`2026-02-31`) or offset (`+99:99`) is refused rather than rolled over.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

/// `2026-11-28T17:22:43Z` for a Unix time.
pub fn format(secs: u64) -> String {
    let t = i64::try_from(secs).ok().and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok());
    let t = t.unwrap_or(OffsetDateTime::UNIX_EPOCH);
    t.format(format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z")).unwrap_or_default()
}

/// Reads `YYYY-MM-DDThh:mm:ss[.fraction](Z|±hh:mm)` into Unix seconds (fractions dropped); `None` for anything
/// else, and for times before 1970.
pub fn parse(text: &str) -> Option<u64> {
    let t = OffsetDateTime::parse(text.trim(), &Rfc3339).ok()?;
    u64::try_from(t.unix_timestamp()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses() {
        assert_eq!(format(0), "1970-01-01T00:00:00Z");
        assert_eq!(format(1_795_886_563), "2026-11-28T17:22:43Z");
        assert_eq!(parse("2026-11-28T17:22:43Z"), Some(1_795_886_563));
        assert_eq!(parse("2026-11-28T17:22:43.123Z"), Some(1_795_886_563));
        assert_eq!(parse("2026-11-29T00:22:43+07:00"), Some(1_795_886_563));
        assert_eq!(parse("2000-02-29T00:00:00Z").map(format).as_deref(), Some("2000-02-29T00:00:00Z"));
        for bad in ["", "2026-11-28", "2026-13-01T00:00:00Z", "2026-11-28T17:22:43.Z", "2026-11-28T17:22:43X"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn impossible_dates_offsets_and_zoneless_times_are_refused() {
        for bad in [
            "2026-02-31T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2026-04-31T12:00:00Z",
            "2026-11-28T17:22:43+99:99",
            "2026-11-28T17:22:43+24:00",
            "2026-11-28T17:22:43-99:00",
            "2026-11-28T17:22:43",
            "2026-11-28T17:22:43.5",
            "2026-11-28T24:00:00Z",
            "1969-12-31T23:59:59Z",
            "99999-01-01T00:00:00Z",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
