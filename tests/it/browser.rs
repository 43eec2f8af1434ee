//! A minimal browser for tests: keeps cookies (dropping the ones a server expires), never follows redirects, reads
//! and posts the login form.

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Response, StatusCode};

use crate::harness::unescape;

pub const PASSWORD: &str = "Danang@2026";

pub struct Browser {
    http: reqwest::Client,
    /// `name=value` of every cookie set so far.
    cookies: Vec<(String, String)>,
    pub accept_language: Option<String>,
    /// Sent with every request (e.g. `X-Forwarded-For`).
    pub extra_headers: Vec<(String, String)>,
}

/// A page as the browser saw it.
pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: String,
}

impl Page {
    pub fn is_login_form(&self) -> bool {
        self.status == StatusCode::OK && self.body.contains(r#"name="password""#)
    }

    /// The hidden inputs of the sign-in form.
    pub fn hidden_fields(&self) -> Vec<(String, String)> {
        self.body
            .split("<input type=\"hidden\" ")
            .skip(1)
            .filter_map(|rest| {
                let name = between(rest, "name=\"", "\"")?;
                let value = between(rest, "value=\"", "\"")?;
                Some((unescape(name), unescape(value)))
            })
            .collect()
    }

    /// Where the page's first form posts to.
    pub fn form_action(&self) -> Option<String> {
        let form = self.body.split("<form").nth(1)?;
        between(form, "action=\"", "\"").map(unescape)
    }

    /// The value the mailbox field was pre-filled with.
    pub fn username_value(&self) -> String {
        let field = self.body.split("id=\"username\"").nth(1).unwrap_or_default();
        unescape(between(field, "value=\"", "\"").unwrap_or_default())
    }

    /// A query parameter of the redirect target.
    pub fn redirect_param(&self, name: &str) -> Option<String> {
        let url = url::Url::parse(self.location.as_deref()?).ok()?;
        url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
    }
}

/// A cookie the server deletes: `Max-Age=0` (ours), or an `Expires` in the past (mod_auth_mellon's 1970).
fn expired(cookie: &cookie::Cookie) -> bool {
    cookie.max_age().is_some_and(|age| age <= cookie::time::Duration::ZERO)
        || cookie.expires_datetime().is_some_and(|at| at <= cookie::time::OffsetDateTime::now_utc())
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = s.find(start)? + start.len();
    let len = s[from..].find(end)?;
    Some(&s[from..from + len])
}

impl Browser {
    pub fn new() -> Browser {
        Browser::with_http(crate::app::http())
    }

    /// A browser with its own HTTP client (one that trusts a test CA, for HTTPS; redirects not followed).
    pub fn with_http(http: reqwest::Client) -> Browser {
        Browser { http, cookies: Vec::new(), accept_language: None, extra_headers: Vec::new() }
    }

    pub fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    async fn read(&mut self, response: Response) -> Page {
        for value in response.headers().get_all(SET_COOKIE) {
            let text = value.to_str().unwrap();
            let cookie = cookie::Cookie::parse(text).unwrap_or_else(|e| panic!("a bad Set-Cookie {text:?}: {e}"));
            self.cookies.retain(|(k, _)| k != cookie.name());
            if !expired(&cookie) {
                self.cookies.push((cookie.name().to_owned(), cookie.value().to_owned()));
            }
        }
        let status = response.status();
        let location = response.headers().get(LOCATION).map(|v| v.to_str().unwrap().to_owned());
        Page { status, location, body: response.text().await.unwrap() }
    }

    pub async fn get(&mut self, url: &str) -> Page {
        let mut req = self.http.get(url).header(COOKIE, self.cookie_header());
        if let Some(lang) = &self.accept_language {
            req = req.header("accept-language", lang);
        }
        for (k, v) in &self.extra_headers {
            req = req.header(k, v);
        }
        let response = req.send().await.expect("GET");
        self.read(response).await
    }

    pub async fn post_form(&mut self, url: &str, fields: &[(String, String)]) -> Page {
        let mut req = self.http.post(url).header(COOKIE, self.cookie_header()).form(fields);
        for (k, v) in &self.extra_headers {
            req = req.header(k, v);
        }
        self.read(req.send().await.expect("POST")).await
    }

    /// Fills in the sign-in form on `page` and submits it where it posts to (`/login`, or `/saml/login`).
    pub async fn sign_in(&mut self, issuer: &str, page: &Page, username: &str, password: &str) -> Page {
        assert!(page.is_login_form(), "expected the sign-in form, got {} {}", page.status, page.body);
        let mut fields = page.hidden_fields();
        fields.push(("username".into(), username.into()));
        fields.push(("password".into(), password.into()));
        let action = page.form_action().unwrap_or_else(|| "/login".into());
        self.post_form(&format!("{issuer}{action}"), &fields).await
    }

    /// The same cookies as `other` (one person's browser, reaching another instance).
    pub fn copy_cookies_from(&mut self, other: &Browser) {
        self.cookies = other.cookies.clone();
    }

    /// Forgets a cookie (as a fresh browser or another site would not have it).
    pub fn drop_cookie(&mut self, name: &str) {
        self.cookies.retain(|(k, _)| k != name);
    }

    pub fn has_session(&self) -> bool {
        self.cookies.iter().any(|(k, _)| k == "danang_sso")
    }
}
