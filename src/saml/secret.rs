//! Values we hand to service providers and must recognise later, without storing them: the IDs of the
//! LogoutRequests we send (a LogoutResponse counts only when it answers one of them, from the SP it went to) and
//! transient NameIDs (opaque, different per SP, the same for one SP within one SSO session).
//!
//! Both are HMAC-SHA256 tags under a secret derived from our own RS256 signing key: RSASSA-PKCS1-v1_5 is
//! deterministic, so its signature over a fixed label is a value only the key's holder can compute, the same on
//! every instance sharing the keys directory. Checks try every RS256 key of the set (retired ones included), so a
//! key rotation does not break a logout in flight.

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;

use super::Saml;
use crate::error::Error;
use crate::keys::{Alg, Key, KeySet};

const LABEL: &[u8] = b"danang-sso saml secret v1";
/// How long after sending it we accept an answer to one of our LogoutRequests.
const SLO_ANSWER_SECS: u64 = 600;

impl Saml {
    fn secret(&self, key: &Key) -> Result<hmac::Key, Error> {
        let mut known = self.secrets.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(secret) = known.get(&key.kid) {
            return Ok(hmac::Key::new(hmac::HMAC_SHA256, secret));
        }
        let signature = key.sign_rsa_sha256(LABEL).map_err(|e| Error::Internal(e.to_string()))?;
        let secret = crate::oidc::sha256(&signature);
        known.insert(key.kid.clone(), secret);
        Ok(hmac::Key::new(hmac::HMAC_SHA256, &secret))
    }

    /// The secrets of every RS256 key, the signing one first.
    fn secrets(&self, keys: &KeySet) -> Result<Vec<hmac::Key>, Error> {
        let signing = keys.signing_key(Alg::RS256).ok_or_else(|| Error::Internal("no RS256 key".into()))?;
        let others = keys.keys().iter().filter(|k| k.alg == Alg::RS256 && k.kid != signing.kid);
        std::iter::once(signing).chain(others).map(|k| self.secret(k)).collect()
    }

    /// An ID for a LogoutRequest to `sp`: `_<nonce>.<time>.<tag>`, an NCName.
    pub fn logout_request_id(&self, keys: &KeySet, sp: &str, now: u64) -> Result<String, Error> {
        let nonce = crate::oidc::random_id();
        let data = slo_data(sp, &nonce, now);
        let tag = hmac::sign(&self.secrets(keys)?[0], data.as_bytes());
        Ok(format!("_{nonce}.{now}.{}", B64.encode(&tag.as_ref()[..16])))
    }

    /// Whether `id` is the ID of a LogoutRequest we sent to `sp` recently.
    pub fn sent_logout_request(&self, keys: &KeySet, sp: &str, id: &str, now: u64) -> bool {
        let Some((nonce, sent, tag)) = id.strip_prefix('_').and_then(|rest| {
            let mut parts = rest.splitn(3, '.');
            Some((parts.next()?, parts.next()?.parse::<u64>().ok()?, B64.decode(parts.next()?).ok()?))
        }) else {
            return false;
        };
        let skew = self.config.clock_skew_secs;
        if sent > now + skew || sent.saturating_add(SLO_ANSWER_SECS + skew) < now || tag.len() != 16 {
            return false;
        }
        let data = slo_data(sp, nonce, sent);
        self.secrets(keys).unwrap_or_default().iter().any(|k| {
            let full = hmac::sign(k, data.as_bytes());
            aws_lc_rs::constant_time::verify_slices_are_equal(&full.as_ref()[..16], &tag).is_ok()
        })
    }

    /// The transient NameID of the session `sid` at `sp`, under the signing key.
    pub fn transient_name_id(&self, keys: &KeySet, sid: &str, sp: &str) -> Result<String, Error> {
        Ok(transient(&self.secrets(keys)?[0], sid, sp))
    }

    /// Every transient NameID `sp` may hold for `sid` (one per key, the signing key's first).
    pub fn transient_name_ids(&self, keys: &KeySet, sid: &str, sp: &str) -> Vec<String> {
        self.secrets(keys).unwrap_or_default().iter().map(|k| transient(k, sid, sp)).collect()
    }
}

fn slo_data(sp: &str, nonce: &str, sent: u64) -> String {
    format!("slo\0{sp}\0{nonce}\0{sent}")
}

fn transient(key: &hmac::Key, sid: &str, sp: &str) -> String {
    format!("_{}", B64.encode(hmac::sign(key, format!("transient\0{sid}\0{sp}").as_bytes()).as_ref()))
}

#[cfg(test)]
mod tests {
    use crate::config::saml::{SamlConfig, ServiceProviderConfig};
    use crate::keys::{Alg, KeySet};
    use crate::saml::Saml;

    const NOW: u64 = 1_795_886_563;

    fn idp() -> (Saml, KeySet) {
        let dir = std::env::temp_dir().join(format!("danang-sso-secret-{}", crate::oidc::random_id()));
        let keys = KeySet::load_or_create(&dir, Alg::RS256).unwrap();
        let sp = ServiceProviderConfig {
            entity_id: "https://vanban/sp".into(),
            acs_urls: vec!["https://vanban/acs".into()],
            ..Default::default()
        };
        let config = SamlConfig { service_providers: vec![sp], ..Default::default() };
        (Saml::new(&config, "https://sso", &keys).unwrap(), keys)
    }

    #[test]
    fn only_our_recent_logout_request_ids_for_that_sp_are_recognised() {
        let (saml, keys) = idp();
        let id = saml.logout_request_id(&keys, "https://vanban/sp", NOW).unwrap();
        assert!(id.starts_with('_') && !id.contains(['<', '&', '"', ' ']), "{id}");
        assert!(saml.sent_logout_request(&keys, "https://vanban/sp", &id, NOW + 5));
        assert!(!saml.sent_logout_request(&keys, "https://other/sp", &id, NOW + 5), "sent to another SP");
        assert!(!saml.sent_logout_request(&keys, "https://vanban/sp", &id, NOW + 3600), "too old");
        assert!(!saml.sent_logout_request(&keys, "https://vanban/sp", &id, NOW - 3600), "from the future");
        let (nonce, rest) = id.split_once('.').unwrap();
        let moved = format!("{nonce}.{}", rest.replacen(&NOW.to_string(), &(NOW + 1).to_string(), 1));
        assert!(!saml.sent_logout_request(&keys, "https://vanban/sp", &moved, NOW + 5), "time altered");
        for junk in ["", "_", "_a.b.c", "_x.1795886563.", "_x.99999999999999999999999.AAAA", "no-underscore"] {
            assert!(!saml.sent_logout_request(&keys, "https://vanban/sp", junk, NOW), "{junk}");
        }
        let (other, other_keys) = idp();
        assert!(!other.sent_logout_request(&other_keys, "https://vanban/sp", &id, NOW), "another IdP's key");
    }

    #[test]
    fn transient_name_ids_differ_per_sp_and_session_and_stay_put_within_one() {
        let (saml, keys) = idp();
        let a = saml.transient_name_id(&keys, "sid-1", "https://vanban/sp").unwrap();
        assert_eq!(a, saml.transient_name_id(&keys, "sid-1", "https://vanban/sp").unwrap());
        assert_ne!(a, saml.transient_name_id(&keys, "sid-1", "https://other/sp").unwrap());
        assert_ne!(a, saml.transient_name_id(&keys, "sid-2", "https://vanban/sp").unwrap());
        assert!(saml.transient_name_ids(&keys, "sid-1", "https://vanban/sp").contains(&a));
        assert!(a.starts_with('_') && a.len() == 44, "{a}");
    }
}
