//! X.509 certificates, which SAML uses to carry public keys: ours, self-signed for each RS256 signing key, and
//! the service providers', whose public keys check their signed requests.
//!
//! SAML metadata publishes keys as certificates; nobody validates a chain for them (the metadata itself is the
//! trust anchor), so a self-signed certificate made with `rcgen` (on aws-lc-rs) is what every IdP publishes.
//! It is written next to its key as `<stem>.crt` the first time it is needed, so instances sharing the keys
//! directory publish the same certificate. Received certificates are parsed by `x509-parser` (pure Rust, any X.509
//! version: SP tools such as lasso's `mellon_create_metadata` write version 1 certificates, which `rustls-webpki`
//! refuses), only to take out their SubjectPublicKeyInfo, which must be an RSA key.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::keys::{Key, KeyError};

/// Ten years: the validity of the certificates we make (nobody checks it, but it must be something).
const VALIDITY_DAYS: i64 = 3650;

/// Reads the certificate of `key` (`<stem>.crt`), making it first when it does not exist yet.
pub fn ensure(key: &Key) -> Result<Vec<u8>, KeyError> {
    let path = key.path.with_extension("crt");
    let bad = |m: String| KeyError::File(path.clone(), m);
    if let Ok(text) = std::fs::read_to_string(&path) {
        return pem_certificates(&text).into_iter().next().ok_or_else(|| bad("not a PEM certificate".into()));
    }
    let key_pem = std::fs::read_to_string(&key.path).map_err(|e| KeyError::File(key.path.clone(), e.to_string()))?;
    let der = self_signed(&key_pem, &format!("danang-sso SAML signing {}", key.kid), key.created).map_err(bad)?;
    write_once(&path, &to_pem(&der)).map_err(|e| bad(e.to_string()))?;
    // Another instance may have won the race: publish whichever certificate is on disk.
    let text = std::fs::read_to_string(&path).map_err(|e| bad(e.to_string()))?;
    pem_certificates(&text).into_iter().next().ok_or_else(|| bad("not a PEM certificate".into()))
}

/// A self-signed certificate (DER) for the PKCS#8 RSA key `key_pem`, valid from `not_before` (Unix time).
pub fn self_signed(key_pem: &str, common_name: &str, not_before: u64) -> Result<Vec<u8>, String> {
    let key = rcgen::KeyPair::from_pem_and_sign_algo(key_pem, &rcgen::PKCS_RSA_SHA256).map_err(|e| e.to_string())?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(|e| e.to_string())?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(rcgen::DnType::CommonName, common_name);
    // Whole days, so every instance that makes the certificate for the same key writes the same dates.
    let start = crate::calendar::utc(not_before - not_before % 86_400);
    params.not_before = start;
    params.not_after = start + time::Duration::days(VALIDITY_DAYS);
    let mut serial = [0u8; 16];
    aws_lc_rs::rand::fill(&mut serial).map_err(|_| "no randomness".to_string())?;
    serial[0] &= 0x7f;
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
    let cert = params.self_signed(&key).map_err(|e| e.to_string())?;
    Ok(cert.der().to_vec())
}

/// Creates `path` with `text` unless it exists: written aside, then linked into place, so nobody reads half a file.
fn write_once(path: &Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("crt.{}", crate::oidc::random_id()));
    std::fs::write(&tmp, text)?;
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(e),
        _ => Ok(()),
    }
}

/// The base64 body of a certificate, as `X509Certificate` elements carry it.
pub fn base64(der: &[u8]) -> String {
    STANDARD.encode(der)
}

pub fn to_pem(der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// Every `CERTIFICATE` block of a PEM text, as DER.
pub fn pem_certificates(text: &str) -> Vec<Vec<u8>> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let body = &rest[start + BEGIN.len()..];
        let Some(end) = body.find(END) else { break };
        if let Some(der) = from_base64(&body[..end]) {
            out.push(der);
        }
        rest = &body[end + END.len()..];
    }
    out
}

/// Base64 with any whitespace in it (as in XML elements and PEM bodies).
pub fn from_base64(text: &str) -> Option<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD.decode(compact).ok()
}

/// A public key that checks a service provider's signatures, taken from its certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyingKey {
    /// The DER RSAPublicKey (PKCS#1) inside the certificate's SubjectPublicKeyInfo.
    spki: Vec<u8>,
}

impl VerifyingKey {
    /// The key of a DER certificate of any X.509 version; its dates, issuer and extensions are not checked
    /// (the metadata is the trust anchor, and only the key is ever used).
    pub fn from_certificate(der: &[u8]) -> Result<VerifyingKey, String> {
        use x509_parser::prelude::{FromDer, X509Certificate};
        use x509_parser::public_key::PublicKey;
        let (rest, cert) =
            X509Certificate::from_der(der).map_err(|e| format!("not an X.509 certificate (DER): {e}"))?;
        if !rest.is_empty() {
            return Err("not an X.509 certificate: data after its end".into());
        }
        let spki = cert.public_key();
        match spki.parsed() {
            Ok(PublicKey::RSA(_)) => {}
            Ok(_) => return Err("the certificate's key is not an RSA key (only RSA signatures are checked)".into()),
            Err(e) => return Err(format!("the certificate's public key cannot be read: {e}")),
        }
        // aws-lc-rs takes the RSAPublicKey itself (PKCS#1) for RSA_PKCS1_* verification.
        Ok(VerifyingKey { spki: spki.subject_public_key.data.to_vec() })
    }

    /// Checks an RSASSA-PKCS1-v1_5 signature; SHA-1 only when the caller allows it.
    pub fn verify(&self, sha1: bool, message: &[u8], signature: &[u8]) -> bool {
        use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY, RSA_PKCS1_2048_8192_SHA256};
        let alg = if sha1 { &RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY } else { &RSA_PKCS1_2048_8192_SHA256 };
        aws_lc_rs::signature::UnparsedPublicKey::new(alg, &self.spki).verify(message, signature).is_ok()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A throwaway RSA key (PKCS#8 PEM) and its self-signed certificate, for signature tests.
    pub fn key_and_cert() -> (aws_lc_rs::rsa::KeyPair, String, Vec<u8>) {
        use aws_lc_rs::encoding::AsDer;
        let kp = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let der = kp.as_der().unwrap();
        let pem =
            format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", STANDARD.encode(der.as_ref()));
        let cert = self_signed(&pem, "test", 1_795_886_563).unwrap();
        (kp, pem, cert)
    }

    #[test]
    fn a_self_signed_certificate_carries_the_key_that_signs() {
        let (kp, _, cert) = key_and_cert();
        let again = pem_certificates(&format!("junk\n{}", to_pem(&cert)));
        assert_eq!(again, vec![cert.clone()]);
        let key = VerifyingKey::from_certificate(&cert).unwrap();
        let mut sig = vec![0; kp.public_modulus_len()];
        kp.sign(&aws_lc_rs::signature::RSA_PKCS1_SHA256, &aws_lc_rs::rand::SystemRandom::new(), b"hello", &mut sig)
            .unwrap();
        assert!(key.verify(false, b"hello", &sig));
        assert!(!key.verify(false, b"hellO", &sig));
        assert!(!key.verify(true, b"hello", &sig), "a SHA-256 signature is not a SHA-1 one");
        let refused = VerifyingKey::from_certificate(b"not a certificate").unwrap_err();
        assert!(refused.starts_with("not an X.509 certificate"), "{refused}");
    }

    /// A version 1 certificate and its key, as lasso's `mellon_create_metadata` writes them (no extensions).
    #[test]
    fn a_version_1_certificate_gives_its_key() {
        let cert = pem_certificates(include_str!("testdata/x509v1.crt")).remove(0);
        let key_pem = include_str!("testdata/x509v1.key");
        let b64: String = key_pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let kp = aws_lc_rs::rsa::KeyPair::from_pkcs8(&STANDARD.decode(b64).unwrap()).unwrap();
        let mut sig = vec![0; kp.public_modulus_len()];
        kp.sign(&aws_lc_rs::signature::RSA_PKCS1_SHA256, &aws_lc_rs::rand::SystemRandom::new(), b"xin chao", &mut sig)
            .unwrap();
        let key = VerifyingKey::from_certificate(&cert).unwrap();
        assert!(key.verify(false, b"xin chao", &sig));
        assert!(!key.verify(false, b"xin chaO", &sig));
        let mut trailing = cert.clone();
        trailing.push(0);
        assert!(VerifyingKey::from_certificate(&trailing).is_err());
    }
}
