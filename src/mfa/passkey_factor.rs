//! A passkey as the account's factor record keeps it (credential id, COSE public key, signature counter, the
//! name the person gave it, created and last used), and the account-level part of the authentication check:
//! the credential must be one of *this* account's, and its counter moves forward. Pure, unit-tested with the
//! ceremony checks in `passkey_tests.rs`.

use serde::{Deserialize, Serialize};

use super::Factors;
use super::passkey::{Assertion, Refusal, RelyingParty, StoredCredential, verify_assertion};

/// Longest passkey name kept (characters).
pub const NAME_MAX: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyFactor {
    /// Credential id, base64url (the browser's `rawId`).
    pub id: String,
    /// COSE public key, base64url.
    pub public_key: String,
    pub sign_count: u32,
    /// What the person called it ("Laptop ở cơ quan"), shown on the account page and the console.
    pub name: String,
    pub created: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used: Option<u64>,
}

/// A name as typed: control characters dropped, spaces trimmed, cut to [`NAME_MAX`]; `fallback` when empty.
pub fn clean_name(typed: &str, fallback: &str) -> String {
    let name: String = typed.chars().filter(|c| !c.is_control()).take(NAME_MAX).collect();
    let name = name.trim();
    if name.is_empty() { fallback.to_owned() } else { name.to_owned() }
}

impl Factors {
    /// The account's passkey with this credential id.
    pub fn passkey(&self, id: &str) -> Option<&PasskeyFactor> {
        self.passkeys.iter().find(|p| p.id == id)
    }

    /// Checks an assertion against this account's passkeys; on success the passkey's counter and last use are
    /// updated in the record (to be saved) and its index returned.
    pub fn check_passkey(
        &mut self,
        rp: &RelyingParty,
        challenge: &str,
        assertion: &Assertion,
        now: u64,
    ) -> Result<usize, Refusal> {
        let index = self.passkeys.iter().position(|p| p.id == assertion.credential_id);
        let Some(index) = index else { return Err(Refusal::UnknownCredential) };
        let key = &mut self.passkeys[index];
        let stored = StoredCredential { public_key: &key.public_key, sign_count: key.sign_count };
        key.sign_count = verify_assertion(rp, challenge, stored, assertion)?;
        key.last_used = Some(now);
        Ok(index)
    }

    /// Removes the passkey with this credential id; true when there was one.
    pub fn remove_passkey(&mut self, id: &str) -> bool {
        let before = self.passkeys.len();
        self.passkeys.retain(|p| p.id != id);
        self.passkeys.len() < before
    }
}
