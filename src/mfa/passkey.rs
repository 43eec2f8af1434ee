//! WebAuthn passkeys as a second factor: the relying party's checks of the two ceremonies, pure and unit-tested.
//!
//! Registration ([`verify_registration`]) and authentication ([`verify_assertion`]) follow WebAuthn Level 2, §7.1
//! and §7.2: the client data's type, challenge and origin; the authenticator data's RP ID hash, user-presence flag
//! and signature counter; the signature over `authenticatorData ‖ SHA-256(clientDataJSON)` with the credential's
//! key. The CBOR of the attestation object and the COSE key is read with `ciborium`; the signatures (ES256,
//! EdDSA, RS256) are checked with aws-lc-rs, the crypto the service already has. Attestation is requested as
//! `none`: the city does not restrict authenticator models, so the attestation statement is not checked (the
//! trust in a new passkey comes from the fresh sign-in that registers it). Each refusal has a name of its own
//! ([`Refusal`]), the one the audit trail records.

use aws_lc_rs::constant_time::verify_slices_are_equal;
use aws_lc_rs::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ciborium::Value;
use serde::Deserialize;

/// The COSE algorithms offered to authenticators, in order of preference: ES256, EdDSA, RS256.
pub const ALGORITHMS: [i64; 3] = [-7, -8, -257];
/// Longest credential id accepted (WebAuthn Level 3 caps it at 1023 bytes).
const MAX_CREDENTIAL_ID: usize = 1023;
const FLAG_UP: u8 = 0x01;
const FLAG_AT: u8 = 0x40;

/// Who we are to authenticators: the RP ID (the issuer's host) and the only origin accepted (the issuer's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelyingParty {
    pub id: String,
    pub origin: String,
}

impl RelyingParty {
    /// From the issuer URL: `https://sso.danang.gov.vn/x` → RP ID `sso.danang.gov.vn`, origin
    /// `https://sso.danang.gov.vn`.
    pub fn from_issuer(issuer: &str) -> Option<RelyingParty> {
        let url = url::Url::parse(issuer).ok()?;
        let id = url.host_str()?.to_owned();
        Some(RelyingParty { id, origin: url.origin().ascii_serialization() })
    }
}

/// Why a ceremony was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The browser's answer could not be read (base64, JSON, CBOR, lengths).
    Malformed,
    /// `clientDataJSON.type` is not the ceremony's.
    WrongType,
    /// The challenge is not the one this session was given (or it was already used, or it expired).
    WrongChallenge,
    /// The page that ran the ceremony is not the issuer's origin (or ran in a cross-origin frame).
    WrongOrigin,
    /// The authenticator scoped the credential to another RP ID.
    WrongRpId,
    /// The authenticator did not report that a person was present.
    NoUserPresence,
    /// The credential is not one of this account's passkeys.
    UnknownCredential,
    /// The key's algorithm or curve is not one we offered.
    UnsupportedAlgorithm,
    /// The signature does not verify under the stored key.
    BadSignature,
    /// The signature counter did not go forward: a cloned authenticator or a replayed answer.
    CounterNotIncreased,
}

impl Refusal {
    /// The reason written to the audit trail.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Malformed => "passkey_malformed",
            Refusal::WrongType => "passkey_wrong_type",
            Refusal::WrongChallenge => "passkey_wrong_challenge",
            Refusal::WrongOrigin => "passkey_wrong_origin",
            Refusal::WrongRpId => "passkey_wrong_rp_id",
            Refusal::NoUserPresence => "passkey_no_user_presence",
            Refusal::UnknownCredential => "passkey_unknown_credential",
            Refusal::UnsupportedAlgorithm => "passkey_unsupported_algorithm",
            Refusal::BadSignature => "passkey_bad_signature",
            Refusal::CounterNotIncreased => "passkey_counter_not_increased",
        }
    }
}

/// A new random challenge (32 bytes, base64url without padding).
pub fn new_challenge() -> String {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).expect("the system random generator failed");
    B64.encode(bytes)
}

/// A credential the registration ceremony accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCredential {
    /// Base64url, as the browser names it (`rawId`).
    pub id: String,
    /// The COSE public key, base64url.
    pub public_key: String,
    pub sign_count: u32,
}

#[derive(Deserialize)]
struct ClientData {
    #[serde(rename = "type")]
    kind: String,
    challenge: String,
    origin: String,
    #[serde(rename = "crossOrigin", default)]
    cross_origin: bool,
}

/// The parts of authenticator data the checks need.
struct AuthData<'a> {
    rp_id_hash: &'a [u8],
    flags: u8,
    sign_count: u32,
    /// What follows the fixed 37 bytes (attested credential data, extensions).
    rest: &'a [u8],
}

fn b64(text: &str) -> Result<Vec<u8>, Refusal> {
    B64.decode(text.trim_end_matches('=')).map_err(|_| Refusal::Malformed)
}

fn check_client_data(rp: &RelyingParty, raw: &[u8], kind: &str, challenge: &str) -> Result<(), Refusal> {
    let data: ClientData = serde_json::from_slice(raw).map_err(|_| Refusal::Malformed)?;
    if data.kind != kind {
        return Err(Refusal::WrongType);
    }
    if verify_slices_are_equal(data.challenge.as_bytes(), challenge.as_bytes()).is_err() {
        return Err(Refusal::WrongChallenge);
    }
    if data.origin != rp.origin || data.cross_origin {
        return Err(Refusal::WrongOrigin);
    }
    Ok(())
}

fn parse_auth_data(bytes: &[u8]) -> Result<AuthData<'_>, Refusal> {
    if bytes.len() < 37 {
        return Err(Refusal::Malformed);
    }
    let sign_count = u32::from_be_bytes(bytes[33..37].try_into().map_err(|_| Refusal::Malformed)?);
    Ok(AuthData { rp_id_hash: &bytes[..32], flags: bytes[32], sign_count, rest: &bytes[37..] })
}

fn check_auth_data(rp: &RelyingParty, data: &AuthData<'_>) -> Result<(), Refusal> {
    if data.rp_id_hash != crate::oidc::sha256(rp.id.as_bytes()).as_slice() {
        return Err(Refusal::WrongRpId);
    }
    if data.flags & FLAG_UP == 0 {
        return Err(Refusal::NoUserPresence);
    }
    Ok(())
}

/// Checks a registration (`navigator.credentials.create`) against the challenge this session was given.
pub fn verify_registration(
    rp: &RelyingParty,
    challenge: &str,
    client_data_json: &str,
    attestation_object: &str,
) -> Result<NewCredential, Refusal> {
    check_client_data(rp, &b64(client_data_json)?, "webauthn.create", challenge)?;
    let attestation: Value =
        ciborium::from_reader(b64(attestation_object)?.as_slice()).map_err(|_| Refusal::Malformed)?;
    let auth_data = map_get(&attestation, |k| k.as_text() == Some("authData"))
        .and_then(Value::as_bytes)
        .ok_or(Refusal::Malformed)?;
    let data = parse_auth_data(auth_data)?;
    check_auth_data(rp, &data)?;
    if data.flags & FLAG_AT == 0 || data.rest.len() < 18 {
        return Err(Refusal::Malformed);
    }
    let id_len = usize::from(u16::from_be_bytes([data.rest[16], data.rest[17]]));
    let after_id = 18 + id_len;
    if id_len == 0 || id_len > MAX_CREDENTIAL_ID || data.rest.len() < after_id {
        return Err(Refusal::Malformed);
    }
    let id = &data.rest[18..after_id];
    // The COSE key is the next CBOR item; extensions may follow it.
    let mut reader = &data.rest[after_id..];
    let before = reader.len();
    let _: Value = ciborium::from_reader(&mut reader).map_err(|_| Refusal::Malformed)?;
    let key_bytes = &data.rest[after_id..after_id + (before - reader.len())];
    CoseKey::parse(key_bytes)?;
    Ok(NewCredential { id: B64.encode(id), public_key: B64.encode(key_bytes), sign_count: data.sign_count })
}

/// A stored credential, as the assertion check needs it.
#[derive(Debug, Clone, Copy)]
pub struct StoredCredential<'a> {
    pub public_key: &'a str,
    pub sign_count: u32,
}

/// What the browser sends back from `navigator.credentials.get` (each base64url).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Assertion {
    #[serde(default)]
    pub credential_id: String,
    #[serde(default)]
    pub client_data_json: String,
    #[serde(default)]
    pub authenticator_data: String,
    #[serde(default)]
    pub signature: String,
}

/// Checks an assertion by `stored` against the challenge this session was given; returns the new counter.
/// A counter that does not increase is refused whenever either side is non-zero (authenticators that keep no
/// counter send 0 every time).
pub fn verify_assertion(
    rp: &RelyingParty,
    challenge: &str,
    stored: StoredCredential<'_>,
    a: &Assertion,
) -> Result<u32, Refusal> {
    let client_data = b64(&a.client_data_json)?;
    check_client_data(rp, &client_data, "webauthn.get", challenge)?;
    let auth_bytes = b64(&a.authenticator_data)?;
    let data = parse_auth_data(&auth_bytes)?;
    check_auth_data(rp, &data)?;
    let key = CoseKey::parse(&b64(stored.public_key)?)?;
    let mut signed = auth_bytes.clone();
    signed.extend_from_slice(&crate::oidc::sha256(&client_data));
    key.verify(&signed, &b64(&a.signature)?)?;
    if (data.sign_count != 0 || stored.sign_count != 0) && data.sign_count <= stored.sign_count {
        return Err(Refusal::CounterNotIncreased);
    }
    Ok(data.sign_count)
}

/// A credential public key (RFC 9053 COSE_Key) of one of the [`ALGORITHMS`].
enum CoseKey {
    /// ES256: the uncompressed P-256 point.
    Es256(Vec<u8>),
    /// EdDSA over Ed25519: the 32-byte key.
    Ed25519(Vec<u8>),
    /// RS256: modulus and exponent.
    Rs256 { n: Vec<u8>, e: Vec<u8> },
}

fn map_get(map: &Value, key: impl Fn(&Value) -> bool) -> Option<&Value> {
    map.as_map()?.iter().find(|(k, _)| key(k)).map(|(_, v)| v)
}

fn int_is(value: &Value, wanted: i64) -> bool {
    value.as_integer().and_then(|i| i64::try_from(i).ok()) == Some(wanted)
}

impl CoseKey {
    fn parse(bytes: &[u8]) -> Result<CoseKey, Refusal> {
        let map: Value = ciborium::from_reader(bytes).map_err(|_| Refusal::Malformed)?;
        let field = |label: i64| map_get(&map, |k| int_is(k, label));
        let int = |label: i64| field(label).and_then(Value::as_integer).and_then(|i| i64::try_from(i).ok());
        let bytes_of = |label: i64| field(label).and_then(Value::as_bytes).cloned();
        match (int(1), int(3)) {
            // kty EC2, alg ES256, crv P-256: x and y are 32 bytes each.
            (Some(2), Some(-7)) if int(-1) == Some(1) => {
                let (x, y) = (bytes_of(-2).ok_or(Refusal::Malformed)?, bytes_of(-3).ok_or(Refusal::Malformed)?);
                if x.len() != 32 || y.len() != 32 {
                    return Err(Refusal::Malformed);
                }
                Ok(CoseKey::Es256([&[4u8][..], &x, &y].concat()))
            }
            // kty OKP, alg EdDSA, crv Ed25519.
            (Some(1), Some(-8)) if int(-1) == Some(6) => match bytes_of(-2) {
                Some(x) if x.len() == 32 => Ok(CoseKey::Ed25519(x)),
                _ => Err(Refusal::Malformed),
            },
            // kty RSA, alg RS256.
            (Some(3), Some(-257)) => Ok(CoseKey::Rs256 {
                n: bytes_of(-1).ok_or(Refusal::Malformed)?,
                e: bytes_of(-2).ok_or(Refusal::Malformed)?,
            }),
            (Some(_), Some(_)) => Err(Refusal::UnsupportedAlgorithm),
            _ => Err(Refusal::Malformed),
        }
    }

    fn verify(&self, message: &[u8], sig: &[u8]) -> Result<(), Refusal> {
        let checked = match self {
            CoseKey::Es256(point) => {
                UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_ASN1, point).verify(message, sig)
            }
            CoseKey::Ed25519(key) => UnparsedPublicKey::new(&signature::ED25519, key).verify(message, sig),
            CoseKey::Rs256 { n, e } => {
                RsaPublicKeyComponents { n, e }.verify(&signature::RSA_PKCS1_2048_8192_SHA256, message, sig)
            }
        };
        checked.map_err(|_| Refusal::BadSignature)
    }
}

#[cfg(test)]
#[path = "passkey_tests.rs"]
mod tests;
