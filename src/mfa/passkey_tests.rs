//! The ceremony checks against a software authenticator made here (real keys, real CBOR, real signatures):
//! the honest ceremonies pass, and each attack gets its own refusal.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ciborium::Value;

use super::*;
use crate::mfa::Factors;
use crate::mfa::passkey_factor::{PasskeyFactor, clean_name};

const ORIGIN: &str = "https://sso.danang.gov.vn";
const RP_ID: &str = "sso.danang.gov.vn";

fn rp() -> RelyingParty {
    RelyingParty::from_issuer("https://sso.danang.gov.vn/").unwrap()
}

enum Key {
    Es256(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
    Rs256(RsaKeyPair),
}

/// A software authenticator: one credential, a counter that moves by one per signature.
pub(super) struct Authenticator {
    key: Key,
    id: Vec<u8>,
    pub counter: u32,
    /// What the browser writes as `origin` and the authenticator hashes as RP ID (an attacker's page changes them).
    pub origin: String,
    pub rp_id: String,
    pub flags: u8,
}

fn int(i: i64) -> Value {
    Value::Integer(i.into())
}

impl Authenticator {
    pub fn new(alg: i64) -> Authenticator {
        let key = match alg {
            -7 => Key::Es256(EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).expect("a P-256 key")),
            -8 => Key::Ed25519(Ed25519KeyPair::generate().expect("an Ed25519 key")),
            _ => Key::Rs256(RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).expect("an RSA key")),
        };
        let mut id = vec![0u8; 16];
        aws_lc_rs::rand::fill(&mut id).unwrap();
        Authenticator { key, id, counter: 0, origin: ORIGIN.into(), rp_id: RP_ID.into(), flags: FLAG_UP }
    }

    pub fn id(&self) -> String {
        B64.encode(&self.id)
    }

    fn cose(&self) -> Vec<u8> {
        let pairs = match &self.key {
            Key::Es256(k) => {
                let point = k.public_key().as_ref();
                vec![
                    (int(1), int(2)),
                    (int(3), int(-7)),
                    (int(-1), int(1)),
                    (int(-2), Value::Bytes(point[1..33].to_vec())),
                    (int(-3), Value::Bytes(point[33..65].to_vec())),
                ]
            }
            Key::Ed25519(k) => vec![
                (int(1), int(1)),
                (int(3), int(-8)),
                (int(-1), int(6)),
                (int(-2), Value::Bytes(k.public_key().as_ref().to_vec())),
            ],
            Key::Rs256(k) => vec![
                (int(1), int(3)),
                (int(3), int(-257)),
                (int(-1), Value::Bytes(k.public_key().modulus().big_endian_without_leading_zero().to_vec())),
                (int(-2), Value::Bytes(k.public_key().exponent().big_endian_without_leading_zero().to_vec())),
            ],
        };
        cbor(&Value::Map(pairs))
    }

    fn client_data(&self, kind: &str, challenge: &str) -> Vec<u8> {
        format!(r#"{{"type":"{kind}","challenge":"{challenge}","origin":"{}","crossOrigin":false}}"#, self.origin)
            .into_bytes()
    }

    fn auth_data(&self, flags: u8, attested: bool) -> Vec<u8> {
        let mut out = crate::oidc::sha256(self.rp_id.as_bytes()).to_vec();
        out.push(flags | if attested { FLAG_AT } else { 0 });
        out.extend_from_slice(&self.counter.to_be_bytes());
        if attested {
            out.extend_from_slice(&[0u8; 16]);
            out.extend_from_slice(&u16::try_from(self.id.len()).unwrap().to_be_bytes());
            out.extend_from_slice(&self.id);
            out.extend_from_slice(&self.cose());
        }
        out
    }

    /// `navigator.credentials.create`: (clientDataJSON, attestationObject), base64url.
    pub fn register(&mut self, challenge: &str) -> (String, String) {
        let attestation = Value::Map(vec![
            (Value::Text("fmt".into()), Value::Text("none".into())),
            (Value::Text("attStmt".into()), Value::Map(vec![])),
            (Value::Text("authData".into()), Value::Bytes(self.auth_data(self.flags, true))),
        ]);
        (B64.encode(self.client_data("webauthn.create", challenge)), B64.encode(cbor(&attestation)))
    }

    /// `navigator.credentials.get`, with the counter moved on by one.
    pub fn assert(&mut self, challenge: &str) -> Assertion {
        self.counter += 1;
        self.assert_with("webauthn.get", challenge)
    }

    fn assert_with(&self, kind: &str, challenge: &str) -> Assertion {
        let client_data = self.client_data(kind, challenge);
        let auth = self.auth_data(self.flags, false);
        let mut signed = auth.clone();
        signed.extend_from_slice(&crate::oidc::sha256(&client_data));
        let rng = SystemRandom::new();
        let sig = match &self.key {
            Key::Es256(k) => k.sign(&rng, &signed).unwrap().as_ref().to_vec(),
            Key::Ed25519(k) => k.sign(&signed).as_ref().to_vec(),
            Key::Rs256(k) => {
                let mut sig = vec![0u8; k.public_modulus_len()];
                k.sign(&RSA_PKCS1_SHA256, &rng, &signed, &mut sig).unwrap();
                sig
            }
        };
        Assertion {
            credential_id: self.id(),
            client_data_json: B64.encode(client_data),
            authenticator_data: B64.encode(auth),
            signature: B64.encode(sig),
        }
    }
}

fn cbor(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).unwrap();
    out
}

/// An account's record holding the authenticator's passkey, registered through the real check.
fn enrolled(auth: &mut Authenticator) -> Factors {
    let challenge = new_challenge();
    let (client_data, attestation) = auth.register(&challenge);
    let c = verify_registration(&rp(), &challenge, &client_data, &attestation).expect("registration passes");
    let passkey = PasskeyFactor {
        id: c.id,
        public_key: c.public_key,
        sign_count: c.sign_count,
        name: "laptop".into(),
        created: 1,
        last_used: None,
    };
    Factors { passkeys: vec![passkey], ..Factors::default() }
}

#[test]
fn the_relying_party_is_the_issuer() {
    assert_eq!(rp(), RelyingParty { id: RP_ID.into(), origin: ORIGIN.into() });
    let local = RelyingParty::from_issuer("http://127.0.0.1:8080").unwrap();
    assert_eq!((local.id.as_str(), local.origin.as_str()), ("127.0.0.1", "http://127.0.0.1:8080"));
}

#[test]
fn honest_ceremonies_pass_for_every_algorithm() {
    for alg in ALGORITHMS {
        let mut auth = Authenticator::new(alg);
        let mut factors = enrolled(&mut auth);
        assert_eq!(factors.passkeys[0].id, auth.id());
        for round in 1..=2 {
            let challenge = new_challenge();
            let assertion = auth.assert(&challenge);
            assert_eq!(factors.check_passkey(&rp(), &challenge, &assertion, 100 + round), Ok(0), "alg {alg}");
            assert_eq!(factors.passkeys[0].sign_count, round as u32);
            assert_eq!(factors.passkeys[0].last_used, Some(100 + round));
        }
    }
}

#[test]
fn registration_refuses_a_wrong_challenge_origin_rp_id_type_or_absent_person() {
    let challenge = new_challenge();
    let mut auth = Authenticator::new(-7);
    let (cd, att) = auth.register(&new_challenge());
    assert_eq!(verify_registration(&rp(), &challenge, &cd, &att), Err(Refusal::WrongChallenge));

    auth.origin = "https://sso.danang.gov.vn.evil.example".into();
    let (cd, att) = auth.register(&challenge);
    assert_eq!(verify_registration(&rp(), &challenge, &cd, &att), Err(Refusal::WrongOrigin));

    auth.origin = ORIGIN.into();
    auth.rp_id = "danang.gov.vn".into();
    let (cd, att) = auth.register(&challenge);
    assert_eq!(verify_registration(&rp(), &challenge, &cd, &att), Err(Refusal::WrongRpId));

    auth.rp_id = RP_ID.into();
    auth.flags = 0;
    let (cd, att) = auth.register(&challenge);
    assert_eq!(verify_registration(&rp(), &challenge, &cd, &att), Err(Refusal::NoUserPresence));

    // An assertion's client data offered as a registration.
    auth.flags = FLAG_UP;
    let (_, att) = auth.register(&challenge);
    let cd = B64.encode(auth.client_data("webauthn.get", &challenge));
    assert_eq!(verify_registration(&rp(), &challenge, &cd, &att), Err(Refusal::WrongType));
    assert_eq!(verify_registration(&rp(), &challenge, "%%%", &att), Err(Refusal::Malformed));
    let (cd, _) = auth.register(&challenge);
    assert_eq!(verify_registration(&rp(), &challenge, &cd, "oA"), Err(Refusal::Malformed), "an empty CBOR map");
}

#[test]
fn authentication_refuses_a_wrong_challenge_origin_rp_id_or_type() {
    let mut auth = Authenticator::new(-7);
    let mut factors = enrolled(&mut auth);
    let challenge = new_challenge();

    let other = auth.assert(&new_challenge());
    assert_eq!(factors.check_passkey(&rp(), &challenge, &other, 5), Err(Refusal::WrongChallenge));

    auth.origin = "https://phish.example".into();
    let phished = auth.assert(&challenge);
    assert_eq!(factors.check_passkey(&rp(), &challenge, &phished, 5), Err(Refusal::WrongOrigin));

    auth.origin = ORIGIN.into();
    auth.rp_id = "phish.example".into();
    let elsewhere = auth.assert(&challenge);
    assert_eq!(factors.check_passkey(&rp(), &challenge, &elsewhere, 5), Err(Refusal::WrongRpId));

    auth.rp_id = RP_ID.into();
    auth.counter += 1;
    let created = auth.assert_with("webauthn.create", &challenge);
    assert_eq!(factors.check_passkey(&rp(), &challenge, &created, 5), Err(Refusal::WrongType));

    auth.flags = 0;
    let absent = auth.assert(&challenge);
    assert_eq!(factors.check_passkey(&rp(), &challenge, &absent, 5), Err(Refusal::NoUserPresence));
    assert_eq!(factors.passkeys[0].sign_count, 0, "no refusal moves the counter");
    assert_eq!(factors.passkeys[0].last_used, None);
}

#[test]
fn a_forged_signature_is_refused() {
    let mut auth = Authenticator::new(-8);
    let mut factors = enrolled(&mut auth);
    let challenge = new_challenge();
    let mut a = auth.assert(&challenge);
    let mut sig = B64.decode(&a.signature).unwrap();
    sig[10] ^= 1;
    a.signature = B64.encode(sig);
    assert_eq!(factors.check_passkey(&rp(), &challenge, &a, 5), Err(Refusal::BadSignature));
    // Another key signing for this credential id.
    let mut impostor = Authenticator::new(-8);
    impostor.id = B64.decode(auth.id()).unwrap();
    let forged = impostor.assert(&challenge);
    assert_eq!(factors.check_passkey(&rp(), &challenge, &forged, 5), Err(Refusal::BadSignature));
}

#[test]
fn a_replayed_or_backwards_counter_is_refused() {
    let mut auth = Authenticator::new(-7);
    let mut factors = enrolled(&mut auth);
    let challenge = new_challenge();
    let first = auth.assert(&challenge);
    assert_eq!(factors.check_passkey(&rp(), &challenge, &first, 5), Ok(0));
    // The same answer again (had its challenge not been spent already): the counter did not move.
    assert_eq!(factors.check_passkey(&rp(), &challenge, &first, 6), Err(Refusal::CounterNotIncreased));
    // A cloned authenticator lagging behind the original.
    auth.counter = 10;
    let ahead = auth.assert(&challenge);
    assert_eq!(factors.check_passkey(&rp(), &challenge, &ahead, 7), Ok(0));
    auth.counter = 5;
    let clone = auth.assert(&challenge);
    assert_eq!(factors.check_passkey(&rp(), &challenge, &clone, 8), Err(Refusal::CounterNotIncreased));
    assert_eq!(factors.passkeys[0].sign_count, 11);
}

#[test]
fn an_authenticator_without_a_counter_may_send_zero() {
    let mut auth = Authenticator::new(-7);
    let mut factors = enrolled(&mut auth);
    let challenge = new_challenge();
    let a = auth.assert_with("webauthn.get", &challenge);
    assert_eq!(factors.check_passkey(&rp(), &challenge, &a, 5), Ok(0));
    assert_eq!(factors.check_passkey(&rp(), &challenge, &a, 6), Ok(0));
}

#[test]
fn another_accounts_credential_is_refused() {
    let mut mine = Authenticator::new(-7);
    let mut theirs = Authenticator::new(-7);
    let mut my_factors = enrolled(&mut mine);
    let _their_factors = enrolled(&mut theirs);
    let challenge = new_challenge();
    let a = theirs.assert(&challenge);
    assert_eq!(my_factors.check_passkey(&rp(), &challenge, &a, 5), Err(Refusal::UnknownCredential));
    assert_eq!(Factors::default().check_passkey(&rp(), &challenge, &a, 5), Err(Refusal::UnknownCredential));
}

#[test]
fn unsupported_keys_are_refused_at_registration() {
    let challenge = new_challenge();
    let auth = Authenticator::new(-7);
    // A P-384 (ES384) key: well-formed COSE, but not an algorithm we offered.
    let es384 = cbor(&Value::Map(vec![
        (int(1), int(2)),
        (int(3), int(-35)),
        (int(-1), int(2)),
        (int(-2), Value::Bytes(vec![1; 48])),
        (int(-3), Value::Bytes(vec![2; 48])),
    ]));
    let mut data = auth.auth_data(FLAG_UP, false);
    data[32] |= FLAG_AT;
    data.extend_from_slice(&[0u8; 16]);
    data.extend_from_slice(&16u16.to_be_bytes());
    data.extend_from_slice(&auth.id);
    data.extend_from_slice(&es384);
    let att = cbor(&Value::Map(vec![
        (Value::Text("fmt".into()), Value::Text("none".into())),
        (Value::Text("authData".into()), Value::Bytes(data)),
    ]));
    let cd = B64.encode(auth.client_data("webauthn.create", &challenge));
    assert_eq!(verify_registration(&rp(), &challenge, &cd, &B64.encode(att)), Err(Refusal::UnsupportedAlgorithm));
}

#[test]
fn names_are_cleaned() {
    assert_eq!(clean_name("  Laptop\u{7} ở cơ quan ", "Khóa"), "Laptop ở cơ quan");
    assert_eq!(clean_name("   ", "Khóa"), "Khóa");
    assert_eq!(clean_name(&"x".repeat(200), "Khóa").chars().count(), 64);
}
