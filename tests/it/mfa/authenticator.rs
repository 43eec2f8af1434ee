//! A software authenticator for the passkey tests (a real P-256 key, real CBOR, real signatures, posted as
//! `static/passkey.js` posts a browser's answer), and reading the passkey forms of a page.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ciborium::Value;
use serde_json::json;

use crate::app::TestApp;
use crate::browser::Page;

/// A security key with one credential (ES256), a counter that moves on with every signature.
pub struct Authenticator {
    key: EcdsaKeyPair,
    pub id: Vec<u8>,
    counter: u32,
    pub origin: String,
    rp_id: String,
}

fn int(i: i64) -> Value {
    Value::Integer(i.into())
}

fn cbor(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).unwrap();
    out
}

fn sha256(data: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data).as_ref().to_vec()
}

impl Authenticator {
    pub fn new(app: &TestApp) -> Authenticator {
        let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).unwrap();
        let mut id = vec![0u8; 20];
        aws_lc_rs::rand::fill(&mut id).unwrap();
        Authenticator { key, id, counter: 0, origin: app.url.clone(), rp_id: "localhost".into() }
    }

    fn client_data(&self, kind: &str, challenge: &str) -> Vec<u8> {
        json!({ "type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": false })
            .to_string()
            .into_bytes()
    }

    fn auth_data(&self, attested: bool) -> Vec<u8> {
        let mut out = sha256(self.rp_id.as_bytes());
        out.push(if attested { 0x45 } else { 0x05 });
        out.extend_from_slice(&self.counter.to_be_bytes());
        if attested {
            let point = self.key.public_key().as_ref();
            let cose = Value::Map(vec![
                (int(1), int(2)),
                (int(3), int(-7)),
                (int(-1), int(1)),
                (int(-2), Value::Bytes(point[1..33].to_vec())),
                (int(-3), Value::Bytes(point[33..65].to_vec())),
            ]);
            out.extend_from_slice(&[0u8; 16]);
            out.extend_from_slice(&(self.id.len() as u16).to_be_bytes());
            out.extend_from_slice(&self.id);
            out.extend_from_slice(&cbor(&cose));
        }
        out
    }

    /// The fields `passkey.js` fills in after `navigator.credentials.create`.
    pub fn register(&self, challenge: &str) -> Vec<(String, String)> {
        let attestation = Value::Map(vec![
            (Value::Text("fmt".into()), Value::Text("none".into())),
            (Value::Text("attStmt".into()), Value::Map(vec![])),
            (Value::Text("authData".into()), Value::Bytes(self.auth_data(true))),
        ]);
        vec![
            ("client_data_json".into(), B64.encode(self.client_data("webauthn.create", challenge))),
            ("attestation_object".into(), B64.encode(cbor(&attestation))),
        ]
    }

    /// The fields `passkey.js` fills in after `navigator.credentials.get`.
    pub fn assert(&mut self, challenge: &str) -> Vec<(String, String)> {
        self.counter += 1;
        let client_data = self.client_data("webauthn.get", challenge);
        let auth = self.auth_data(false);
        let mut signed = auth.clone();
        signed.extend_from_slice(&sha256(&client_data));
        let sig = self.key.sign(&SystemRandom::new(), &signed).unwrap();
        vec![
            ("credential_id".into(), B64.encode(&self.id)),
            ("client_data_json".into(), B64.encode(client_data)),
            ("authenticator_data".into(), B64.encode(auth)),
            ("signature".into(), B64.encode(sig.as_ref())),
        ]
    }
}

/// The hidden fields of the form with `id` (the page may hold several forms), less the ones the script fills.
pub fn form_fields(page: &Page, id: &str) -> Vec<(String, String)> {
    let start = page.body.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no #{id} in {}", page.body));
    let end = start + page.body[start..].find("</form>").unwrap();
    let form = Page { status: page.status, location: None, body: page.body[start..end].to_owned() };
    let filled = ["credential_id", "client_data_json", "authenticator_data", "signature", "attestation_object"];
    form.hidden_fields().into_iter().filter(|(k, _)| !filled.contains(&k.as_str())).collect()
}

pub fn challenge_of(fields: &[(String, String)]) -> String {
    fields.iter().find(|(k, _)| k == "challenge").map(|(_, v)| v.clone()).expect("a challenge")
}
