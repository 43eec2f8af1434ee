//! The app's own sessions: one entry per browser, in memory, found by a random value in the app's cookie.
//!
//! Everything sensitive (the PKCE verifier, the nonce, the ID token) stays on the server; the browser holds only
//! an unguessable key. A real app would keep these entries in its usual session store (Redis, its database), so
//! that every instance can answer and back-channel logout reaches them all.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use openidconnect::CsrfToken;

use super::provider::{Pending, User};

/// Entries unused for this long are forgotten (the provider's SSO session lasts 10 hours too).
const IDLE_LIMIT: Duration = Duration::from_secs(10 * 3600);

/// What the app knows about one browser.
pub struct Browser {
    /// The sign-in in progress, until `/callback` uses it. One at a time: a second tab's sign-in replaces it.
    pub pending: Option<Pending>,
    /// The signed-in person.
    pub user: Option<User>,
    /// The person signed out (here, or in another app: back-channel logout). The home page says so instead of
    /// starting a new sign-in, which would otherwise happen at once.
    pub signed_out: bool,
    /// The hidden value of the sign-out form: another site cannot know it, so it cannot sign the person out.
    pub form_token: String,
    last_used: Instant,
}

impl Browser {
    fn new() -> Browser {
        Browser { pending: None, user: None, signed_out: false, form_token: random(), last_used: Instant::now() }
    }
}

pub struct Sessions {
    cookie_name: String,
    browsers: Mutex<HashMap<String, Browser>>,
}

impl Sessions {
    pub fn new(cookie_name: String) -> Sessions {
        Sessions { cookie_name, browsers: Mutex::new(HashMap::new()) }
    }

    /// This app's cookie value in the request, if any.
    pub fn key(&self, headers: &HeaderMap) -> Option<String> {
        headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == self.cookie_name)
            .map(|(_, value)| value.to_owned())
    }

    /// Runs `f` on the browser with this key; `None` when the key is unknown (forged, expired, or the app restarted).
    pub fn with<R>(&self, key: &str, f: impl FnOnce(&mut Browser) -> R) -> Option<R> {
        let mut browsers = self.browsers.lock().unwrap_or_else(PoisonError::into_inner);
        let browser = browsers.get_mut(key)?;
        browser.last_used = Instant::now();
        Some(f(browser))
    }

    /// Remembers a sign-in in progress for the browser with `key`, or for a new browser. Returns the new
    /// browser's key when one was made (the caller sets the cookie).
    pub fn begin(&self, key: Option<&str>, pending: Pending) -> Option<String> {
        let mut browsers = self.browsers.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(browser) = key.and_then(|key| browsers.get_mut(key)) {
            browser.pending = Some(pending);
            browser.last_used = Instant::now();
            return None;
        }
        browsers.retain(|_, b| b.last_used.elapsed() < IDLE_LIMIT);
        let key = random();
        browsers.insert(key.clone(), Browser { pending: Some(pending), ..Browser::new() });
        Some(key)
    }

    /// Signs `user` in. The browser gets a new key, so a key planted before sign-in (session fixation) is useless.
    pub fn sign_in(&self, old_key: &str, user: User) -> String {
        let mut browsers = self.browsers.lock().unwrap_or_else(PoisonError::into_inner);
        browsers.remove(old_key);
        let key = random();
        browsers.insert(key.clone(), Browser { user: Some(user), ..Browser::new() });
        key
    }

    /// Ends every local session of the SSO session `sid` (or, without a `sid`, of the person `sub`).
    /// Returns how many there were.
    pub fn end(&self, sid: Option<&str>, sub: Option<&str>) -> usize {
        let mut browsers = self.browsers.lock().unwrap_or_else(PoisonError::into_inner);
        let mut ended = 0;
        for browser in browsers.values_mut() {
            let matches = browser.user.as_ref().is_some_and(|user| match sid {
                Some(sid) => user.sid.as_deref() == Some(sid),
                None => sub.is_some_and(|sub| user.sub == sub),
            });
            if matches {
                browser.user = None;
                browser.signed_out = true;
                ended += 1;
            }
        }
        ended
    }

    /// The `Set-Cookie` value for `key`: not readable by scripts, and sent on top-level navigations from the
    /// provider (SameSite=Lax). Without an expiry, the browser forgets it when it closes. Behind https, add `Secure`.
    pub fn cookie(&self, key: &str) -> String {
        format!("{}={key}; Path=/; HttpOnly; SameSite=Lax", self.cookie_name)
    }
}

/// 32 random bytes, base64url: a session key or form token nobody can guess.
fn random() -> String {
    CsrfToken::new_random_len(32).into_secret()
}
