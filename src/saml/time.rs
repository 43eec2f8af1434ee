//! SAML times (`xs:dateTime`, always UTC on output): formatting ours and reading the SPs'.

use crate::audit::civil_from_days;

/// `2026-11-28T17:22:43Z` for a Unix time.
pub fn format(secs: u64) -> String {
    let secs = secs as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Reads `YYYY-MM-DDThh:mm:ss[.fraction][Z|±hh:mm]` (no zone means UTC) into Unix seconds.
pub fn parse(text: &str) -> Option<u64> {
    let t = text.trim();
    let b = t.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| t.get(r)?.parse::<i64>().ok();
    let (y, mo, d, h, mi, s) = (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let mut rest = &t[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &frac[digits..];
    }
    let offset = match rest {
        "" | "Z" => 0,
        _ => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (oh, om) = rest[1..].split_once(':')?;
            sign * (oh.parse::<i64>().ok()? * 3600 + om.parse::<i64>().ok()? * 60)
        }
    };
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s - offset;
    u64::try_from(secs).ok()
}

/// (year, month, day) to days since 1970-01-01; Howard Hinnant's algorithm, the inverse of `civil_from_days`.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
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
        assert_eq!(parse("2026-11-28T17:22:43"), Some(1_795_886_563));
        assert_eq!(parse("2000-02-29T00:00:00Z").map(format).as_deref(), Some("2000-02-29T00:00:00Z"));
        for bad in ["", "2026-11-28", "2026-13-01T00:00:00Z", "2026-11-28T17:22:43.Z", "2026-11-28T17:22:43X"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
