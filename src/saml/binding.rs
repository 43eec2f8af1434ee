//! The SAML bindings we speak (SAML 2.0 Bindings §3.4, §3.5): HTTP-Redirect and HTTP-POST.
//!
//! Redirect: the message is DEFLATEd (raw, RFC 1951), base64-encoded and URL-encoded into `SAMLRequest` or
//! `SAMLResponse`; a signature covers the query string itself, `SAMLRequest=…&RelayState=…&SigAlg=…` with the
//! values exactly as they were URL-encoded on the wire (§3.4.4.1), so no XML canonicalisation is involved.
//! POST: the message is base64-encoded in a form field and signed, if at all, inside the XML (see `dsig`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::cert::{VerifyingKey, from_base64};
use super::dsig::{DsigError, RSA_SHA1, RSA_SHA256};
use super::xml::MAX_BYTES;
use crate::keys::{Key, KeyError};

pub const REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
pub const POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";

/// Why a message could not be taken off the wire.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BindingError {
    #[error("not base64")]
    Base64,
    #[error("not DEFLATE data, or larger than {MAX_BYTES} bytes inflated")]
    Inflate,
    #[error("message larger than {MAX_BYTES} bytes")]
    TooLarge,
    #[error("parameter {0} given twice")]
    Duplicate(String),
}

/// A Redirect-binding message value (URL-decoded already): base64, then raw DEFLATE, bounded in size.
pub fn decode_redirect(value: &str) -> Result<Vec<u8>, BindingError> {
    let deflated = from_base64(value).ok_or(BindingError::Base64)?;
    miniz_oxide::inflate::decompress_to_vec_with_limit(&deflated, MAX_BYTES).map_err(|_| BindingError::Inflate)
}

/// A POST-binding message value: base64 (line breaks allowed).
pub fn decode_post(value: &str) -> Result<Vec<u8>, BindingError> {
    if value.len() > MAX_BYTES * 4 / 3 + 4096 {
        return Err(BindingError::TooLarge);
    }
    from_base64(value).ok_or(BindingError::Base64)
}

pub fn encode_redirect(xml: &str) -> String {
    STANDARD.encode(miniz_oxide::deflate::compress_to_vec(xml.as_bytes(), 6))
}

pub fn encode_post(xml: &str) -> String {
    STANDARD.encode(xml.as_bytes())
}

fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn url_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned()
}

/// A Redirect-binding query as received, keeping each value as it was encoded on the wire.
#[derive(Debug, Clone, Default)]
pub struct RedirectQuery {
    raw: Vec<(String, String)>,
}

const KNOWN: [&str; 5] = ["SAMLRequest", "SAMLResponse", "RelayState", "SigAlg", "Signature"];

impl RedirectQuery {
    /// Splits a raw query string; a SAML parameter given twice is refused (which one would the signature cover?).
    pub fn parse(query: &str) -> Result<RedirectQuery, BindingError> {
        let mut raw: Vec<(String, String)> = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let k = url_decode(k);
            if KNOWN.contains(&k.as_str()) && raw.iter().any(|(x, _)| *x == k) {
                return Err(BindingError::Duplicate(k));
            }
            raw.push((k, v.to_owned()));
        }
        Ok(RedirectQuery { raw })
    }

    fn raw(&self, key: &str) -> Option<&str> {
        self.raw.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// A parameter, URL-decoded.
    pub fn get(&self, key: &str) -> Option<String> {
        self.raw(key).map(url_decode)
    }

    /// Checks the query signature of the message under `message_key` (`SAMLRequest` or `SAMLResponse`).
    /// `Ok(false)`: the query is not signed.
    pub fn verify(&self, message_key: &str, keys: &[VerifyingKey], allow_sha1: bool) -> Result<bool, DsigError> {
        let (Some(sig_alg), Some(signature)) = (self.get("SigAlg"), self.get("Signature")) else {
            return Ok(false);
        };
        let sha1 = match sig_alg.as_str() {
            RSA_SHA256 => false,
            RSA_SHA1 if allow_sha1 => true,
            RSA_SHA1 => return Err(DsigError::Sha1),
            _ => return Err(DsigError::Shape("SigAlg must be RSA-SHA256")),
        };
        if keys.is_empty() {
            return Err(DsigError::NoKey);
        }
        let message = self.raw(message_key).ok_or(DsigError::Shape("no message"))?;
        let mut signed = format!("{message_key}={message}");
        if let Some(relay_state) = self.raw("RelayState") {
            signed.push_str(&format!("&RelayState={relay_state}"));
        }
        signed.push_str(&format!("&SigAlg={}", self.raw("SigAlg").unwrap_or_default()));
        let signature = from_base64(&signature).ok_or(DsigError::Signature)?;
        if keys.iter().any(|k| k.verify(sha1, signed.as_bytes(), &signature)) {
            Ok(true)
        } else {
            Err(DsigError::Signature)
        }
    }
}

/// A signed Redirect-binding URL carrying `xml` as `message_key` to `location`.
pub fn redirect_url(
    location: &str,
    message_key: &str,
    xml: &str,
    relay_state: Option<&str>,
    key: &Key,
) -> Result<String, KeyError> {
    let mut query = format!("{message_key}={}", url_encode(&encode_redirect(xml)));
    if let Some(rs) = relay_state {
        query.push_str(&format!("&RelayState={}", url_encode(rs)));
    }
    query.push_str(&format!("&SigAlg={}", url_encode(RSA_SHA256)));
    let signature = key.sign_rsa_sha256(query.as_bytes())?;
    query.push_str(&format!("&Signature={}", url_encode(&STANDARD.encode(signature))));
    let separator = if location.contains('?') { '&' } else { '?' };
    Ok(format!("{location}{separator}{query}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_a_known_redirect_request() {
        // A minimal AuthnRequest, deflated and base64-encoded by Python's zlib (wbits=-15), as SPs do.
        let value = "s6mwqlSoyM3JK7aqsFUqLcqzqlBS8HSxVYo3VLLLz7bRB8rbAQA=";
        let xml = decode_redirect(value).unwrap();
        assert_eq!(std::str::from_utf8(&xml).unwrap(), "<x:y xmlns:x=\"urn:x\" ID=\"_1\">ok</x:y>");
        assert_eq!(decode_redirect(&encode_redirect("<a/>")).unwrap(), b"<a/>");
        assert_eq!(decode_redirect("%%%"), Err(BindingError::Base64));
        assert_eq!(decode_redirect("AAAA"), Err(BindingError::Inflate));
    }

    #[test]
    fn a_deflate_bomb_is_cut_off() {
        let bomb = miniz_oxide::deflate::compress_to_vec(&vec![b' '; MAX_BYTES * 20], 9);
        assert_eq!(decode_redirect(&STANDARD.encode(bomb)), Err(BindingError::Inflate));
    }

    #[test]
    fn query_values_stay_as_encoded_and_duplicates_are_refused() {
        let q = RedirectQuery::parse("SAMLRequest=a%2Bb%3D&RelayState=x+y&other=1").unwrap();
        assert_eq!(q.get("SAMLRequest").as_deref(), Some("a+b="));
        assert_eq!(q.raw("SAMLRequest"), Some("a%2Bb%3D"));
        assert_eq!(q.get("RelayState").as_deref(), Some("x y"));
        assert_eq!(q.verify("SAMLRequest", &[], false), Ok(false), "unsigned");
        assert!(RedirectQuery::parse("SAMLRequest=a&SAMLRequest=b").is_err());
    }
}
