//! RFC 6238 time-based codes, as every authenticator app makes them: 6 digits, 30-second steps, HMAC-SHA-1,
//! one step of clock drift either way. The arithmetic is `totp-rs`'s; this module adds which step matched (so a
//! code is accepted once) and the `otpauth://` URI the QR code carries.

use totp_rs::{Algorithm, Secret, TOTP};

pub const DIGITS: usize = 6;
pub const STEP_SECS: u64 = 30;
/// Steps of drift accepted either side of now.
pub const SKEW: u8 = 1;

/// A new secret: 160 random bits (RFC 4226's recommendation), base32 as apps want it typed.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 20];
    aws_lc_rs::rand::fill(&mut bytes).expect("the system random generator failed");
    Secret::Raw(bytes.to_vec()).to_encoded().to_string()
}

fn totp(secret: &str) -> Option<TOTP> {
    let bytes = Secret::Encoded(secret.to_owned()).to_bytes().ok()?;
    TOTP::new(Algorithm::SHA1, DIGITS, SKEW, STEP_SECS, bytes).ok()
}

/// The code for `secret` at `time` (tests and the demo use it; the server only verifies).
pub fn code_at(secret: &str, time: u64) -> Option<String> {
    totp(secret).map(|t| t.generate(time))
}

/// The time step a typed code belongs to, if it is right within ±[`SKEW`] steps of `now`. The caller remembers
/// the step so the same code is not accepted twice.
pub fn matching_step(secret: &str, typed: &str, now: u64) -> Option<u64> {
    let typed: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    if typed.len() != DIGITS || !typed.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let t = totp(secret)?;
    let step = now / STEP_SECS;
    let candidates = [step.saturating_sub(1), step, step + 1];
    // Compare every candidate, so the time taken does not tell which step (if any) matched.
    let mut found = None;
    for s in candidates {
        let expected = t.generate(s * STEP_SECS);
        if aws_lc_rs::constant_time::verify_slices_are_equal(expected.as_bytes(), typed.as_bytes()).is_ok() {
            found = Some(s);
        }
    }
    found
}

/// The `otpauth://totp/…` URI an authenticator app scans.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &str) -> String {
    let enc = |s: &str| percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string();
    format!(
        "otpauth://totp/{}:{}?secret={secret}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        enc(issuer),
        enc(account),
        enc(issuer)
    )
}

/// The URI drawn as an SVG QR code (server-side, no script).
pub fn qr_svg(uri: &str) -> String {
    match qrcode::QrCode::new(uri.as_bytes()) {
        Ok(code) => code.render::<qrcode::render::svg::Color>().min_dimensions(200, 200).build(),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1: the secret "12345678901234567890" (base32 below), 8 digits there, 6 here
    /// (the last six digits of the RFC's values).
    const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    #[test]
    fn codes_match_rfc_6238() {
        assert_eq!(code_at(RFC_SECRET, 59).unwrap(), "287082");
        assert_eq!(code_at(RFC_SECRET, 1_111_111_109).unwrap(), "081804");
        assert_eq!(code_at(RFC_SECRET, 1_234_567_890).unwrap(), "005924");
    }

    #[test]
    fn one_step_of_drift_is_accepted_and_named() {
        let now = 1_767_225_615;
        let step = now / STEP_SECS;
        let previous = code_at(RFC_SECRET, now - 30).unwrap();
        assert_eq!(matching_step(RFC_SECRET, &previous, now), Some(step - 1));
        assert_eq!(matching_step(RFC_SECRET, &code_at(RFC_SECRET, now).unwrap(), now), Some(step));
        assert_eq!(matching_step(RFC_SECRET, &code_at(RFC_SECRET, now + 30).unwrap(), now), Some(step + 1));
        assert_eq!(matching_step(RFC_SECRET, &code_at(RFC_SECRET, now - 90).unwrap(), now), None);
        assert_eq!(matching_step(RFC_SECRET, "12345", now), None);
        assert_eq!(matching_step(RFC_SECRET, "abcdef", now), None);
    }

    #[test]
    fn a_new_secret_is_160_bits_of_base32_and_draws_a_qr_code() {
        let s = new_secret();
        assert_eq!(s.len(), 32);
        assert!(code_at(&s, 0).is_some());
        let uri = otpauth_uri("Đà Nẵng SSO", "anhvn@danang.gov.vn", &s);
        assert!(uri.starts_with("otpauth://totp/") && uri.contains(&format!("secret={s}")));
        let svg = qr_svg(&uri);
        assert!(svg.contains("<svg") && svg.contains("</svg>"));
    }
}
