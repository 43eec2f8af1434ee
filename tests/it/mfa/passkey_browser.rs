//! The passkey in a real browser (Debian's chromium driven by `tests/browser/passkey.mjs`, with a CDP virtual
//! authenticator): a person adds a passkey on `/tai-khoan`, signs out everywhere, signs in to `mot-cua` (which
//! requires two factors) and proves the second factor with the passkey. Here the code is exchanged and the ID
//! token must say how: `amr` with `hwk` and `mfa`, `acr` the REFEDS MFA profile. The script also checks the
//! passkey pages' CSP (exactly our script) and that the account page still runs none. Screenshots go to
//! `target/e2e/`.

use std::path::Path;

use axum::http::StatusCode;
use serde_json::json;

use crate::app::{TestApp, test_config};
use crate::browser::Page;
use crate::browser_e2e::{artifacts_dir, browser_tools, run_browser_script};
use crate::rp::{Rp, payload};

const MOT_CUA_CALLBACK: &str = "http://127.0.0.1:8084/callback";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passkey_enrolled_in_chromium_signs_in_to_an_app_that_requires_two_factors() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if let Err(missing) = browser_tools(root) {
        panic!("the real-browser test needs {missing}: run `bash .ci/test`, which installs it");
    }
    let app = TestApp::start_on_localhost(test_config()).await;
    let mot_cua = Rp::new(&app.url, "mot-cua", Some("mot-cua-secret"), MOT_CUA_CALLBACK).await;
    let pending = mot_cua.start(&[], &[]);

    let callback_file = artifacts_dir().join("passkey-callback.txt");
    let _ = std::fs::remove_file(&callback_file);
    let env = [("AUTH_URL", &*pending.url), ("CALLBACK", MOT_CUA_CALLBACK)];
    run_browser_script("passkey", &app.url, &env).await;

    let callback = std::fs::read_to_string(&callback_file).expect("the script wrote the app's callback URL");
    let landing = Page { status: StatusCode::SEE_OTHER, location: Some(callback), body: String::new() };
    let tokens = mot_cua.exchange(pending, &landing).await;
    let claims = payload(&openidconnect::TokenResponse::id_token(&tokens).unwrap().to_string());
    assert_eq!(claims["amr"], json!(["pwd", "hwk", "mfa"]));
    assert_eq!(claims["acr"], "https://refeds.org/profile/mfa");
    app.wait_for_audit(1, |l| l["event"] == "mfa_enrolled" && l["reason"] == "passkey").await;
    app.wait_for_audit(1, |l| {
        l["event"] == "mfa_success" && l["reason"] == "passkey" && l["account"] == "huongtt@danang.gov.vn"
    })
    .await;
}
