//! What the attack files share: a signed-in code for a client, and raw calls to the token endpoints.

use openidconnect::PkceCodeChallenge;
use serde_json::Value;

use crate::app::{TestApp, http};
use crate::browser::{Browser, PASSWORD};

pub const PORTAL_CALLBACK: &str = "http://127.0.0.1:8081/callback";
pub const PORTAL: (&str, &str) = ("portal", "portal-secret");
pub const VANBAN: (&str, &str) = ("vanban", "vanban-secret");

/// A fresh authorization code, with what a legitimate client needs to redeem it.
pub struct Code {
    pub code: String,
    pub verifier: String,
}

/// Signs `user` in at `client_id` (redirect `redirect`) in `browser` and returns the code.
pub async fn code_for(app: &TestApp, browser: &mut Browser, client_id: &str, redirect: &str, scope: &str) -> Code {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let url = format!(
        "{}/authorize?response_type=code&client_id={client_id}&redirect_uri={}&scope={}&state=st&nonce=n\
         &code_challenge={}&code_challenge_method=S256",
        app.url,
        urlencode(redirect),
        urlencode(scope),
        challenge.as_str()
    );
    let mut page = browser.get(&url).await;
    if page.is_login_form() {
        page = browser.sign_in(&app.url, &page, "dungnv", PASSWORD).await;
    }
    let code = page.redirect_param("code").unwrap_or_else(|| panic!("no code: {} {:?}", page.status, page.location));
    Code { code, verifier: verifier.secret().clone() }
}

pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// POSTs a form to `path`, with HTTP Basic client authentication when `auth` is given; status and JSON body.
pub async fn post(app: &TestApp, path: &str, auth: Option<(&str, &str)>, form: &[(&str, &str)]) -> (u16, Value) {
    let mut req = http().post(format!("{}{path}", app.url)).form(form);
    if let Some((id, secret)) = auth {
        req = req.basic_auth(id, Some(secret));
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Redeems `code` as portal would.
pub async fn redeem(app: &TestApp, auth: (&str, &str), code: &Code, redirect: &str) -> (u16, Value) {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.code.as_str()),
        ("redirect_uri", redirect),
        ("code_verifier", code.verifier.as_str()),
    ];
    post(app, "/token", Some(auth), &form).await
}

/// The status and `error` of a refusal.
pub fn refusal(answer: &(u16, Value)) -> (u16, Option<&str>) {
    (answer.0, answer.1["error"].as_str())
}

/// The status of `/userinfo` for `access_token` (200 while its grant lives, 401 after).
pub async fn userinfo(app: &TestApp, access_token: &str) -> (u16, Option<String>) {
    let r = http().get(format!("{}/userinfo", app.url)).bearer_auth(access_token).send().await.unwrap();
    let status = r.status().as_u16();
    let challenge = r.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned());
    (status, challenge)
}
