//! Property tests (`proptest`) on the parsers that take outside input: the authorize and token forms (as axum
//! reads them, then as the provider checks them), the LDIF reader and the CSV reader. Whatever arrives, each
//! answers with a value or an error, never a panic. Cookies are covered beside their reader (http/cookies).
//! Case counts are modest so the whole file runs in seconds.

use axum::body::Body;
use axum::extract::{Form, FromRequest};
use axum::http::Request;
use proptest::prelude::*;

use crate::config::Config;
use crate::oidc::clients::Clients;
use crate::oidc::request::{AuthorizeParams, validate};
use crate::oidc::token::TokenParams;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().build().expect("a runtime")
}

/// Reads `body` as axum's `Form` extractor does for a POST.
async fn form<T: serde::de::DeserializeOwned + Send>(body: Vec<u8>) -> Option<T> {
    let req = Request::post("/").header("content-type", "application/x-www-form-urlencoded").body(Body::from(body));
    Form::<T>::from_request(req.ok()?, &()).await.ok().map(|Form(t)| t)
}

/// Form bodies built from the field names the endpoints know, values of any text, and raw noise.
fn form_body(names: &'static [&'static str]) -> impl Strategy<Value = Vec<u8>> {
    let pair = (proptest::sample::select(names), ".{0,40}")
        .prop_map(|(k, v)| format!("{k}={}", url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()));
    prop_oneof![
        proptest::collection::vec(pair, 0..8).prop_map(|pairs| pairs.join("&").into_bytes()),
        proptest::collection::vec(any::<u8>(), 0..200),
        "[a-z_=&%0-9A-F+.;]{0,120}".prop_map(String::into_bytes),
    ]
}

const AUTHORIZE_FIELDS: &[&str] = &[
    "client_id",
    "redirect_uri",
    "response_type",
    "response_mode",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "max_age",
    "login_hint",
    "ui_locales",
    "request",
    "request_uri",
    "x",
];
const TOKEN_FIELDS: &[&str] = &[
    "grant_type",
    "code",
    "redirect_uri",
    "code_verifier",
    "refresh_token",
    "scope",
    "client_id",
    "client_secret",
    "client_assertion_type",
    "client_assertion",
    "x",
];

fn demo_clients() -> Clients {
    let config = Config::load(None).expect("the embedded defaults load");
    Clients::new(&config.clients).expect("the demo clients")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn authorize_forms_never_panic(body in form_body(AUTHORIZE_FIELDS), portal in any::<bool>()) {
        let clients = demo_clients();
        let rt = runtime();
        if let Some(mut params) = rt.block_on(form::<AuthorizeParams>(body)) {
            if portal {
                // Reach past the client check into scope, PKCE, prompt and max_age.
                params.client_id = Some("portal".into());
                params.redirect_uri = Some("http://127.0.0.1:8081/callback".into());
            }
            let _ = validate(&params, &clients);
        }
    }

    #[test]
    fn token_forms_never_panic(body in form_body(TOKEN_FIELDS)) {
        let rt = runtime();
        let _ = rt.block_on(form::<TokenParams>(body));
    }

    #[test]
    fn the_ldif_reader_never_panics(
        lines in proptest::collection::vec(prop_oneof![
            Just("dn: uid=a,ou=people,dc=danang,dc=gov,dc=vn".to_owned()),
            Just("objectClass: inetOrgPerson".to_owned()),
            Just(" folded".to_owned()),
            Just("mail:: ZHVuZ252QGRhbmFuZy5nb3Yudm4=".to_owned()),
            Just("photo:< file:///etc/passwd".to_owned()),
            Just("# comment".to_owned()),
            Just(String::new()),
            Just("version: 1".to_owned()),
            "[a-zA-Z;:= -]{0,30}",
            ".{0,30}",
        ], 0..20),
        noise in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let mut text = lines.join("\n").into_bytes();
        let _ = crate::directory::ldif::reader::parse(&text);
        let _ = crate::directory::ldif::LdifDirectory::parse_bytes(&text);
        text.extend_from_slice(&noise);
        let _ = crate::directory::ldif::reader::parse(&text);
    }

    #[test]
    fn the_csv_reader_never_panics(text in "[a-zA-Z\",\r\n\u{feff} ạđ]{0,200}", raw in ".{0,100}") {
        let _ = crate::csv::parse(&text);
        let _ = crate::csv::parse(&raw);
        if let Ok(rows) = crate::csv::parse(&text) {
            // What the writer writes, the reader reads back to the same rows (fields are never lost).
            let mut writer = crate::csv::Writer::for_excel();
            for row in &rows {
                writer.record(row);
            }
            let again = crate::csv::parse(&writer.finish());
            prop_assert!(again.is_ok());
        }
    }
}
