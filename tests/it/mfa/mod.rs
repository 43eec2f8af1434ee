//! Second factors end to end: TOTP enrolment on `/tai-khoan`, the step-up an app with `require_mfa` gets (no
//! password asked again), `amr`/`acr` in the ID token, throttled wrong codes, recovery codes used once, the IT
//! centre's reset, fresh sign-in for removing a factor, and "sign out everywhere" with back-channel logout.

mod account;
mod par;
mod saml;
mod saml_context;

// Passkeys (WebAuthn).
mod authenticator;
mod passkey;
mod passkey_browser;

use danang_sso::config::Config;
use danang_sso::mfa::totp::code_at;

use crate::app::{TestApp, test_config};
use crate::browser::{Browser, PASSWORD, Page};
use crate::rp::Rp;

/// The demo config with `vanban` requiring two factors.
pub fn config_requiring_mfa_for_vanban() -> Config {
    let mut config = test_config();
    for c in &mut config.clients {
        if c.client_id == "vanban" {
            c.require_mfa = true;
        }
    }
    config
}

/// The text of the element with `id`.
pub fn element_text(page: &Page, id: &str) -> String {
    let start = page.body.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no #{id} in {}", page.body));
    let rest = &page.body[start..];
    let from = rest.find('>').unwrap() + 1;
    let to = rest[from..].find('<').unwrap();
    rest[from..from + to].trim().to_owned()
}

/// Signs `user` in to the account page with the password (the account's own form).
pub async fn sign_in_to_account(app: &TestApp, browser: &mut Browser, user: &str) -> Page {
    let page = browser.get(&format!("{}/tai-khoan", app.url)).await;
    assert_eq!(page.status, 303);
    let form = browser.get(&format!("{}{}", app.url, page.location.unwrap())).await;
    let after = browser.sign_in(&app.url, &form, user, PASSWORD).await;
    assert_eq!((after.status.as_u16(), after.location.as_deref()), (303, Some("/tai-khoan")));
    after
}

/// Enrols TOTP through `/tai-khoan/totp`; returns the secret and the recovery codes shown once.
pub async fn enrol_totp(app: &TestApp, browser: &mut Browser) -> (String, Vec<String>) {
    let form = browser.get(&format!("{}/tai-khoan/totp", app.url)).await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("<svg"), "the QR code is drawn inline on the server");
    let secret = element_text(&form, "totp-secret");
    let mut fields = form.hidden_fields();
    fields.push(("otp".into(), code_at(&secret, app.clock.now()).unwrap()));
    let done = browser.post_form(&format!("{}/tai-khoan/totp", app.url), &fields).await;
    assert_eq!(done.status, 200, "{}", done.body);
    let codes: Vec<String> =
        done.body.split("<li><code>").skip(1).map(|rest| rest.split('<').next().unwrap().to_owned()).collect();
    assert_eq!(codes.len(), 10, "ten recovery codes, shown once");
    (secret, codes)
}

/// Posts `otp` on the second-factor page the browser was sent to.
pub async fn post_otp(app: &TestApp, browser: &mut Browser, page: &Page, otp: &str) -> Page {
    let mut fields = page.hidden_fields();
    fields.push(("otp".into(), otp.into()));
    browser.post_form(&format!("{}/mfa", app.url), &fields).await
}

/// Follows a redirect on this service.
pub async fn follow(app: &TestApp, browser: &mut Browser, page: &Page) -> Page {
    let to = page.location.clone().unwrap_or_else(|| panic!("a redirect, got {} {}", page.status, page.body));
    let url = if to.starts_with('/') { format!("{}{to}", app.url) } else { to };
    browser.get(&url).await
}

/// The code one step ahead (the current step was spent by the enrolment), still inside the ±1 step window.
pub fn next_code(app: &TestApp, secret: &str, steps_ahead: u64) -> String {
    code_at(secret, app.clock.now() + 30 * steps_ahead).unwrap()
}

pub async fn vanban(app: &TestApp) -> Rp {
    Rp::demo(&app.url, "vanban").await
}
