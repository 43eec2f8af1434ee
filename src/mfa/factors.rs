//! One account's second factors: its TOTP secret, its passkeys and the hashes of its unused recovery codes.
//!
//! The record is JSON, sealed ([`super::Sealer`]) before it is stored. Recovery codes are shown once and kept only
//! as SHA-256 hashes (they are 50 random bits, so a slow hash would add nothing); using one removes it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::{Deserialize, Serialize};

/// How many recovery codes a person gets at a time.
pub const RECOVERY_CODES: usize = 10;
/// Letters and digits that cannot be confused when read from paper (no 0/o, 1/l/i).
const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Factors {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp: Option<TotpFactor>,
    /// Hashes of the unused recovery codes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recovery: Vec<String>,
    /// WebAuthn credentials (platform authenticators or security keys).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub passkeys: Vec<super::passkey_factor::PasskeyFactor>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpFactor {
    /// Base32, as the authenticator app was given it.
    pub secret: String,
    pub created: u64,
}

impl Factors {
    /// Whether the person has a factor to prove (recovery codes alone do not count: they back a factor up).
    pub fn is_enrolled(&self) -> bool {
        self.totp.is_some() || !self.passkeys.is_empty()
    }

    /// Names of the factors, for the account page, the CLI and the audit trail.
    pub fn kinds(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.totp.is_some() {
            out.push("totp");
        }
        if !self.passkeys.is_empty() {
            out.push("passkey");
        }
        if !self.recovery.is_empty() {
            out.push("recovery_codes");
        }
        out
    }

    /// Replaces the recovery codes with ten new ones; returns them, to be shown once.
    pub fn new_recovery_codes(&mut self) -> Vec<String> {
        let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| random_code()).collect();
        self.recovery = codes.iter().map(|c| hash(c)).collect();
        codes
    }

    /// Uses a recovery code: true (and the code is gone) when it was one of the unused ones.
    pub fn take_recovery_code(&mut self, typed: &str) -> bool {
        let h = hash(typed);
        let before = self.recovery.len();
        self.recovery.retain(|c| c != &h);
        self.recovery.len() < before
    }

    /// Whether `typed` looks like a recovery code rather than a 6-digit TOTP code.
    pub fn looks_like_recovery_code(typed: &str) -> bool {
        normalize(typed).len() == 10
    }
}

/// `xxxxx-xxxxx`: ten characters of [`ALPHABET`] (about 50 bits).
fn random_code() -> String {
    let mut bytes = [0u8; 10];
    aws_lc_rs::rand::fill(&mut bytes).expect("the system random generator failed");
    let chars: String = bytes.iter().map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char).collect();
    format!("{}-{}", &chars[..5], &chars[5..])
}

/// Case, spaces and dashes do not matter when typing a code from paper.
fn normalize(typed: &str) -> String {
    typed.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect()
}

fn hash(code: &str) -> String {
    B64.encode(crate::oidc::sha256(normalize(code).as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_ten_hashed_and_work_once() {
        let mut f = Factors::default();
        let codes = f.new_recovery_codes();
        assert_eq!(codes.len(), 10);
        assert_eq!(f.recovery.len(), 10);
        assert!(codes.iter().all(|c| c.len() == 11 && Factors::looks_like_recovery_code(c)));
        assert!(!f.recovery.iter().any(|h| codes.contains(h)), "stored hashed, not in the clear");
        let typed = codes[3].to_uppercase().replace('-', " ");
        assert!(f.take_recovery_code(&typed));
        assert!(!f.take_recovery_code(&codes[3]), "a code works once");
        assert_eq!(f.recovery.len(), 9);
        assert!(!Factors::looks_like_recovery_code("123456"));
    }

    #[test]
    fn kinds_name_what_is_there() {
        let mut f = Factors::default();
        assert!(!f.is_enrolled() && f.kinds().is_empty());
        f.totp = Some(TotpFactor { secret: "JBSWY3DPEHPK3PXP".into(), created: 1 });
        f.new_recovery_codes();
        assert_eq!(f.kinds(), ["totp", "recovery_codes"]);
    }
}
