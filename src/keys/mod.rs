//! Signing keys: PKCS#8 PEM files in `[keys] dir`, made on first start, published as a JWKS.
//!
//! The directory always holds a key for each algorithm we offer (RS256, ES256, EdDSA); the newest key of an
//! algorithm signs, older ones stay published so tokens they signed keep verifying until they expire.
//! `danang-sso keys rotate` adds keys, `keys prune` removes retired ones, and running instances notice the
//! change by themselves ([`KeyRing::reload`]). Instances that share the directory sign and verify the same
//! tokens. Keys are parsed once when loaded:
//! signing goes straight to aws-lc-rs with the prepared key pair, because jsonwebtoken 12 re-parses the
//! private key on every signature. Verification and JWK building use jsonwebtoken.

mod pem;
mod ring;
mod secret;

use std::path::{Path, PathBuf};

pub use ring::{KeyRing, prune, rotate};
pub use secret::ServerSecret;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Validation};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The algorithms we sign with; the string forms are the JOSE names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Alg {
    RS256,
    ES256,
    EdDSA,
}

impl Alg {
    pub const ALL: [Alg; 3] = [Alg::RS256, Alg::ES256, Alg::EdDSA];

    pub fn parse(s: &str) -> Option<Alg> {
        match s {
            "RS256" => Some(Alg::RS256),
            "ES256" => Some(Alg::ES256),
            "EdDSA" => Some(Alg::EdDSA),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Alg::RS256 => "RS256",
            Alg::ES256 => "ES256",
            Alg::EdDSA => "EdDSA",
        }
    }

    fn jwt(self) -> Algorithm {
        match self {
            Alg::RS256 => Algorithm::RS256,
            Alg::ES256 => Algorithm::ES256,
            Alg::EdDSA => Algorithm::EdDSA,
        }
    }

    fn file_tag(self) -> &'static str {
        match self {
            Alg::RS256 => "rs256",
            Alg::ES256 => "es256",
            Alg::EdDSA => "eddsa",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key file {0}: {1}")]
    File(PathBuf, String),
    #[error("signing failed")]
    Sign,
    #[error("invalid token: {0}")]
    Invalid(String),
}

enum Signer {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

/// One signing key, parsed once.
pub struct Key {
    pub kid: String,
    pub alg: Alg,
    /// Unix time the key was made (from its file name); the newest of an algorithm signs.
    pub created: u64,
    pub path: PathBuf,
    signer: Signer,
    decoding: DecodingKey,
    jwk: Jwk,
}

/// All keys in the directory, newest first, and the JWKS document prepared once.
pub struct KeySet {
    keys: Vec<Key>,
    default_alg: Alg,
    jwks: axum::body::Bytes,
    rng: SystemRandom,
}

impl KeySet {
    /// Loads every `*.pem` key in `dir`, first making a key for each algorithm that has none.
    pub fn load_or_create(dir: &Path, default_alg: Alg) -> Result<KeySet, KeyError> {
        let existing = load_dir(dir)?;
        for alg in Alg::ALL {
            if !existing.iter().any(|k| k.alg == alg) {
                let path = generate(dir, alg, now())?;
                tracing::info!(path = %path.display(), alg = alg.as_str(), "created a new signing key");
            }
        }
        KeySet::load(dir, default_alg)
    }

    /// Loads every `*.pem` key in `dir` as it is.
    pub fn load(dir: &Path, default_alg: Alg) -> Result<KeySet, KeyError> {
        let keys = load_dir(dir)?;
        let set = JwkSet { keys: keys.iter().map(|k| k.jwk.clone()).collect() };
        let jwks = serde_json::to_vec(&set).map_err(|e| KeyError::File(dir.into(), e.to_string()))?;
        Ok(KeySet { keys, default_alg, jwks: jwks.into(), rng: SystemRandom::new() })
    }

    /// The JWKS document, serialised once.
    pub fn jwks_json(&self) -> &axum::body::Bytes {
        &self.jwks
    }

    /// Every key, newest first.
    pub fn keys(&self) -> &[Key] {
        &self.keys
    }

    pub fn default_alg(&self) -> Alg {
        self.default_alg
    }

    /// The newest key of `alg`: the one that signs.
    pub fn signing_key(&self, alg: Alg) -> Option<&Key> {
        self.keys.iter().find(|k| k.alg == alg)
    }

    /// Signs `claims` as a compact JWS with the newest key of `alg` (default: the configured one).
    pub fn sign(&self, typ: &str, claims: &impl Serialize, alg: Option<Alg>) -> Result<String, KeyError> {
        let key = self.signing_key(alg.unwrap_or(self.default_alg)).ok_or(KeyError::Sign)?;
        let header = format!(r#"{{"alg":"{}","typ":"{typ}","kid":"{}"}}"#, key.alg.as_str(), key.kid);
        let payload = serde_json::to_vec(claims).map_err(|_| KeyError::Sign)?;
        let mut out = String::with_capacity(512 + payload.len() * 4 / 3);
        B64.encode_string(header, &mut out);
        out.push('.');
        B64.encode_string(&payload, &mut out);
        let sig = match &key.signer {
            Signer::Rsa(kp) => {
                let mut sig = vec![0; kp.public_modulus_len()];
                kp.sign(&signature::RSA_PKCS1_SHA256, &self.rng, out.as_bytes(), &mut sig)
                    .map_err(|_| KeyError::Sign)?;
                sig
            }
            Signer::Ec(kp) => kp.sign(&self.rng, out.as_bytes()).map_err(|_| KeyError::Sign)?.as_ref().to_vec(),
            Signer::Ed(kp) => kp.sign(out.as_bytes()).as_ref().to_vec(),
        };
        out.push('.');
        B64.encode_string(sig, &mut out);
        Ok(out)
    }

    /// Verifies a JWT signed by one of our keys with header `typ`; `tune` sets audience, issuer and expiry rules.
    pub fn verify<T: DeserializeOwned>(
        &self,
        token: &str,
        typ: &str,
        tune: impl FnOnce(&mut Validation),
    ) -> Result<T, KeyError> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| KeyError::Invalid(e.to_string()))?;
        if !header.typ.is_some_and(|t| t.eq_ignore_ascii_case(typ)) {
            return Err(KeyError::Invalid(format!("typ must be {typ}")));
        }
        let kid = header.kid.ok_or_else(|| KeyError::Invalid("no kid".into()))?;
        let key = self.keys.iter().find(|k| k.kid == kid).ok_or_else(|| KeyError::Invalid("unknown kid".into()))?;
        let mut validation = Validation::new(key.alg.jwt());
        validation.leeway = 30;
        tune(&mut validation);
        jsonwebtoken::decode::<T>(token, &key.decoding, &validation)
            .map(|d| d.claims)
            .map_err(|e| KeyError::Invalid(e.to_string()))
    }
}

impl Key {
    /// A raw RSASSA-PKCS1-v1_5 SHA-256 signature of `data` with an RS256 key: XML signatures (SAML) need the
    /// signature itself, not a JWS.
    pub fn sign_rsa_sha256(&self, data: &[u8]) -> Result<Vec<u8>, KeyError> {
        let Signer::Rsa(kp) = &self.signer else { return Err(KeyError::Sign) };
        let mut sig = vec![0; kp.public_modulus_len()];
        kp.sign(&signature::RSA_PKCS1_SHA256, &SystemRandom::new(), data, &mut sig).map_err(|_| KeyError::Sign)?;
        Ok(sig)
    }
}

pub(crate) fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

pub(crate) fn load_dir(dir: &Path) -> Result<Vec<Key>, KeyError> {
    let err = |e: std::io::Error| KeyError::File(dir.into(), e.to_string());
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let mut keys = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(err)? {
        let path = entry.map_err(err)?.path();
        if path.extension().is_some_and(|e| e == "pem") {
            keys.push(load_file(&path)?);
        }
    }
    keys.sort_by(|a, b| b.created.cmp(&a.created).then(a.kid.cmp(&b.kid)));
    Ok(keys)
}

/// A key file is named `<unix-time>-<alg>.pem`, e.g. `1764347760-rs256.pem`.
fn parse_name(path: &Path) -> Option<(u64, Alg)> {
    let stem = path.file_stem()?.to_str()?;
    let (created, tag) = stem.split_once('-')?;
    let alg = [Alg::RS256, Alg::ES256, Alg::EdDSA].into_iter().find(|a| a.file_tag() == tag)?;
    Some((created.parse().ok()?, alg))
}

fn load_file(path: &Path) -> Result<Key, KeyError> {
    let bad = |m: &str| KeyError::File(path.into(), m.to_string());
    let (created, alg) = parse_name(path).ok_or_else(|| bad("name must be <unix-time>-<rs256|es256|eddsa>.pem"))?;
    let text = std::fs::read_to_string(path).map_err(|e| bad(&e.to_string()))?;
    let der = pem::decode_private_key(&text).ok_or_else(|| bad("not a PKCS#8 PEM private key"))?;
    let (signer, encoding) = match alg {
        Alg::RS256 => (
            Signer::Rsa(RsaKeyPair::from_pkcs8(&der).map_err(|e| bad(&e.to_string()))?),
            EncodingKey::from_rsa_pem(text.as_bytes()),
        ),
        Alg::ES256 => (
            Signer::Ec(
                EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &der)
                    .map_err(|e| bad(&e.to_string()))?,
            ),
            EncodingKey::from_ec_pem(text.as_bytes()),
        ),
        Alg::EdDSA => (
            Signer::Ed(Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der).map_err(|e| bad(&e.to_string()))?),
            EncodingKey::from_ed_pem(text.as_bytes()),
        ),
    };
    let encoding = encoding.map_err(|e| bad(&e.to_string()))?;
    let mut jwk = Jwk::from_encoding_key(&encoding, alg.jwt()).map_err(|e| bad(&e.to_string()))?;
    let public = serde_json::to_vec(&jwk.algorithm).map_err(|e| bad(&e.to_string()))?;
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &public);
    let kid = B64.encode(&digest.as_ref()[..12]);
    jwk.common.key_id = Some(kid.clone());
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    jwk.common.key_algorithm = Some(match alg {
        Alg::RS256 => KeyAlgorithm::RS256,
        Alg::ES256 => KeyAlgorithm::ES256,
        Alg::EdDSA => KeyAlgorithm::EdDSA,
    });
    let decoding = DecodingKey::from_jwk(&jwk).map_err(|e| bad(&e.to_string()))?;
    Ok(Key { kid, alg, created, path: path.into(), signer, decoding, jwk })
}

/// Makes a new key of `alg` in `dir` (mode 0600, directory 0700) and returns its path.
pub fn generate(dir: &Path, alg: Alg, created: u64) -> Result<PathBuf, KeyError> {
    let io = |e: std::io::Error| KeyError::File(dir.into(), e.to_string());
    let gen_err = |_| KeyError::File(dir.into(), "key generation failed".into());
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(io)?;
    let der: Vec<u8> = match alg {
        Alg::RS256 => {
            let kp = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).map_err(gen_err)?;
            kp.as_der().map_err(gen_err)?.as_ref().to_vec()
        }
        Alg::ES256 => {
            let kp = EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).map_err(gen_err)?;
            kp.to_pkcs8v1().map_err(gen_err)?.as_ref().to_vec()
        }
        Alg::EdDSA => Ed25519KeyPair::generate_pkcs8v1(&SystemRandom::new()).map_err(gen_err)?.as_ref().to_vec(),
    };
    let path = dir.join(format!("{created}-{}.pem", alg.file_tag()));
    pem::write_private_key(&path, &der).map_err(io)?;
    Ok(path)
}

#[cfg(test)]
mod tests;
