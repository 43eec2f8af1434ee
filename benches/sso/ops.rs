//! What the simulated users and apps do, each operation one complete exchange with the server:
//! a whole login flow (authorize → sign-in form with its anti-forgery value → code → tokens), a refresh,
//! a client-credentials grant, userinfo, introspection, discovery and JWKS.
//!
//! Every answer is checked (status, and that the tokens are there), so a fast error is never counted
//! as a fast success.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD as B64};
use hyper::StatusCode;
use hyper::header::{AUTHORIZATION, COOKIE, LOCATION, SET_COOKIE};
use serde::Deserialize;
use url::form_urlencoded;

use crate::accounts::PASSWORD;
use crate::client::{Http, Reply};
use crate::harness::unescape;

/// The demo portal app (a confidential client; secrets are `<client_id>-secret`).
const CLIENT: &str = "portal";
const REDIRECT_URI: &str = "http://127.0.0.1:8081/callback";
/// What the city's apps ask for: the person, their mailbox, and a refresh token for the back end.
const SCOPE: &str = "openid profile email offline_access";
/// The demo document-management API: client credentials only.
const SERVICE: &str = "vanban-api";
const SERVICE_SCOPE: &str = "vanban.read";
/// The sign-in form's anti-forgery cookie (double submit: the form carries the same value).
pub(crate) const CSRF_COOKIE: &str = "danang_sso_csrf";

/// The operations measured, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Discovery,
    Jwks,
    Login,
    Refresh,
    ClientCredentials,
    Userinfo,
    Introspect,
}

impl Op {
    pub const ALL: [Op; 7] =
        [Op::Discovery, Op::Jwks, Op::Login, Op::Refresh, Op::ClientCredentials, Op::Userinfo, Op::Introspect];

    /// From the names `--only` takes (as in the JSON).
    pub fn parse(name: &str) -> Option<Op> {
        Some(match name {
            "discovery" => Op::Discovery,
            "jwks" => Op::Jwks,
            "login" => Op::Login,
            "refresh" => Op::Refresh,
            "client_credentials" => Op::ClientCredentials,
            "userinfo" => Op::Userinfo,
            "introspect" => Op::Introspect,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Op::Discovery => "discovery",
            Op::Jwks => "JWKS",
            Op::Login => "login flow",
            Op::Refresh => "refresh grant",
            Op::ClientCredentials => "client credentials",
            Op::Userinfo => "userinfo",
            Op::Introspect => "introspection",
        }
    }
}

/// What every worker shares: the mailboxes to sign in with (taken in turn) and the prepared credentials.
pub struct Shared {
    mailboxes: Vec<String>,
    next: AtomicUsize,
    portal_basic: String,
    service_basic: String,
    /// The server's JWKS, fetched at the first sign-in, to verify every ID token against.
    jwks: std::sync::OnceLock<jsonwebtoken::jwk::JwkSet>,
}

impl Shared {
    pub fn new(mailboxes: Vec<String>) -> Arc<Shared> {
        let basic = |id: &str| format!("Basic {}", STANDARD.encode(format!("{id}:{id}-secret")));
        Arc::new(Shared {
            mailboxes,
            next: AtomicUsize::new(0),
            portal_basic: basic(CLIENT),
            service_basic: basic(SERVICE),
            jwks: std::sync::OnceLock::new(),
        })
    }

    /// The next account in turn, so every account signs in before any signs in twice.
    fn next_mailbox(&self) -> &str {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.mailboxes.len();
        &self.mailboxes[i]
    }
}

/// An app's tokens for one person.
pub struct Tokens {
    pub access: String,
    pub refresh: String,
    /// The ID token's `sub` (verified), which userinfo must answer too.
    pub sub: String,
}

/// One simulated user (or app back end): its connection and, once signed in, its tokens.
pub struct Worker {
    pub http: Http,
    pub tokens: Option<Tokens>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    refresh_token: Option<String>,
    id_token: Option<String>,
}

impl Worker {
    /// Runs `op` once.
    pub async fn run(&mut self, op: Op, shared: &Shared) -> Result<(), String> {
        match op {
            Op::Discovery => self.fetch("/.well-known/openid-configuration").await,
            Op::Jwks => self.fetch("/jwks").await,
            Op::Login => self.login(shared).await,
            Op::Refresh => self.refresh(shared).await,
            Op::ClientCredentials => self.client_credentials(shared).await,
            Op::Userinfo => self.userinfo().await,
            Op::Introspect => self.introspect(shared).await,
        }
    }

    async fn fetch(&mut self, path: &str) -> Result<(), String> {
        expect(self.http.get(path, &[]).await?, StatusCode::OK, path).map(drop)
    }

    /// A fresh browser signs in to the portal: authorize, the form with its anti-forgery value, the
    /// password checked by the directory, the code, and the portal's back end exchanging it for tokens.
    pub async fn login(&mut self, shared: &Shared) -> Result<(), String> {
        let mailbox = shared.next_mailbox();
        let (state, nonce, verifier) = (random(12), random(12), random(32));
        let challenge = B64.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes()));
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("client_id", CLIENT),
                ("redirect_uri", REDIRECT_URI),
                ("response_type", "code"),
                ("scope", SCOPE),
                ("state", &state),
                ("nonce", &nonce),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ])
            .finish();
        let form = expect(self.http.get(&format!("/authorize?{query}"), &[]).await?, StatusCode::OK, "authorize")?;
        let csrf = cookie(&form, CSRF_COOKIE).ok_or("the sign-in form set no anti-forgery cookie")?;
        let page = std::str::from_utf8(&form.body).map_err(|e| e.to_string())?;
        let mut fields = hidden_fields(page);
        if !fields.iter().any(|(name, _)| name == "csrf") {
            return Err("the sign-in form has no anti-forgery field".into());
        }
        fields.push(("username".into(), mailbox.into()));
        fields.push(("password".into(), PASSWORD.into()));
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        let cookie_header = format!("{CSRF_COOKIE}={csrf}");
        let signed_in = self.http.post_form("/login", &[(COOKIE, &cookie_header)], body).await?;
        if !signed_in.status.is_redirection() {
            return Err(format!("sign-in of {mailbox}: {} {}", signed_in.status, signed_in.text()));
        }
        let location = signed_in.header(LOCATION).ok_or("a redirect without Location")?;
        let back = url::Url::parse(location).map_err(|e| e.to_string())?;
        let param = |name: &str| back.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
        if param("state").as_deref() != Some(state.as_str()) {
            return Err(format!("the redirect lost the state: {location}"));
        }
        let code = param("code").ok_or_else(|| format!("no code in {location}"))?;
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT_URI),
                ("code_verifier", &verifier),
            ])
            .finish();
        let answer = self.token(&shared.portal_basic, body).await?;
        let id_token = answer.id_token.ok_or("the code exchange gave no ID token")?;
        let jwks = match shared.jwks.get() {
            Some(jwks) => jwks,
            None => {
                let reply = expect(self.http.get("/jwks", &[]).await?, StatusCode::OK, "jwks")?;
                let jwks = serde_json::from_slice(&reply.body).map_err(|e| format!("JWKS: {e}"))?;
                shared.jwks.get_or_init(|| jwks)
            }
        };
        let sub = crate::verify::id_token(jwks, &id_token, CLIENT, &nonce, &answer.access_token)?;
        let refresh = answer.refresh_token.ok_or("the code exchange gave no refresh token")?;
        self.tokens = Some(Tokens { access: answer.access_token, refresh, sub });
        Ok(())
    }

    /// The portal's back end refreshes (the token rotates; an ID token comes too).
    async fn refresh(&mut self, shared: &Shared) -> Result<(), String> {
        let tokens = self.tokens.as_ref().ok_or("no tokens to refresh")?;
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs([("grant_type", "refresh_token"), ("refresh_token", &tokens.refresh)])
            .finish();
        let sub = tokens.sub.clone();
        let answer = self.token(&shared.portal_basic, body).await?;
        if answer.id_token.is_none() {
            return Err("the refresh gave no ID token".into());
        }
        let refresh = answer.refresh_token.ok_or("the refresh gave no refresh token")?;
        self.tokens = Some(Tokens { access: answer.access_token, refresh, sub });
        Ok(())
    }

    async fn client_credentials(&mut self, shared: &Shared) -> Result<(), String> {
        let body = format!("grant_type=client_credentials&scope={SERVICE_SCOPE}");
        self.token(&shared.service_basic, body).await.map(drop)
    }

    async fn userinfo(&mut self) -> Result<(), String> {
        let tokens = self.tokens.as_ref().ok_or("no access token")?;
        let bearer = format!("Bearer {}", tokens.access);
        let reply = expect(self.http.get("/userinfo", &[(AUTHORIZATION, &bearer)]).await?, StatusCode::OK, "userinfo")?;
        crate::verify::userinfo_sub(&reply.body, &tokens.sub)
    }

    async fn introspect(&mut self, shared: &Shared) -> Result<(), String> {
        let tokens = self.tokens.as_ref().ok_or("no access token")?;
        let body = form_urlencoded::Serializer::new(String::new()).append_pair("token", &tokens.access).finish();
        let headers = [(AUTHORIZATION, shared.portal_basic.as_str())];
        let reply = expect(self.http.post_form("/introspect", &headers, body).await?, StatusCode::OK, "introspect")?;
        if !reply.text().contains("\"active\":true") {
            return Err(format!("the token is not active: {}", reply.text()));
        }
        Ok(())
    }

    async fn token(&mut self, basic: &str, body: String) -> Result<TokenAnswer, String> {
        let reply = self.http.post_form("/token", &[(AUTHORIZATION, basic)], body).await?;
        let reply = expect(reply, StatusCode::OK, "token")?;
        serde_json::from_slice(&reply.body).map_err(|e| format!("token answer: {e}: {}", reply.text()))
    }
}

fn expect(reply: Reply, status: StatusCode, what: &str) -> Result<Reply, String> {
    if reply.status == status { Ok(reply) } else { Err(format!("{what}: {} {}", reply.status, reply.text())) }
}

/// `bytes` random bytes, base64url.
fn random(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    aws_lc_rs::rand::fill(&mut buf).expect("the system random generator works");
    B64.encode(buf)
}

/// The value of cookie `name` among the answer's `Set-Cookie` headers.
pub(crate) fn cookie(reply: &Reply, name: &str) -> Option<String> {
    reply.headers.get_all(SET_COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|v| {
        let pair = v.split(';').next()?;
        let (k, value) = pair.split_once('=')?;
        (k.trim() == name).then(|| value.to_owned())
    })
}

/// The hidden inputs of the sign-in form, unescaped (as `tests/it/browser.rs` reads them).
pub(crate) fn hidden_fields(page: &str) -> Vec<(String, String)> {
    page.split("<input type=\"hidden\" ")
        .skip(1)
        .filter_map(|rest| {
            let name = between(rest, "name=\"", "\"")?;
            let value = between(rest, "value=\"", "\"")?;
            Some((unescape(name), unescape(value)))
        })
        .collect()
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = s.find(start)? + start.len();
    let len = s[from..].find(end)?;
    Some(&s[from..from + len])
}
