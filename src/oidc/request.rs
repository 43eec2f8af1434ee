//! Validation of authorization requests (OIDC Core §3.1.2), pure: parameters in, a checked request or an error out.
//!
//! The order matters for safety: until the client and its exact redirect URI are known good, an error is shown
//! as a page and never redirected, so the service can never be used as an open redirector.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::clients::{Client, Clients, GRANT_CODE};
use crate::error::Error;

/// Scopes this provider understands; others are ignored (RFC 6749 §3.3 lets us grant fewer).
pub const SUPPORTED_SCOPES: &[&str] = &["openid", "profile", "email", "groups", "offline_access"];

/// Parameters as they arrive, from the query string or a form (or as pushed to `/par` and kept in the store).
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct AuthorizeParams {
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub response_type: Option<String>,
    pub response_mode: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<String>,
    pub login_hint: Option<String>,
    pub ui_locales: Option<String>,
    /// Requested authentication context classes (OIDC Core §3.1.2.1); the REFEDS MFA profile asks for two factors.
    pub acr_values: Option<String>,
    pub request: Option<String>,
    pub request_uri: Option<String>,
    /// A pushed request as the pages carry it, sealed (see [`super::par`]); never sent by apps.
    pub pushed_request: Option<String>,
}

/// A request whose every part has been checked.
#[derive(Debug, Clone)]
pub struct AuthRequest {
    pub client: Arc<Client>,
    pub redirect_uri: String,
    pub scope: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub prompt: Prompt,
    pub max_age: Option<u64>,
    pub login_hint: Option<String>,
    pub ui_locales: Option<String>,
    /// `acr_values`, split.
    pub acr_values: Vec<String>,
    /// `response_mode=form_post`: the answer is POSTed by the browser instead of put in the query.
    pub form_post: bool,
    /// `prompt=select_account`: with a live session, ask whether to continue as its person or use another mailbox.
    pub select_account: bool,
    /// `prompt=consent`: ask for consent even when it was given before.
    pub consent: bool,
    /// The parameters came from a pushed request (RFC 9126), not from the browser.
    pub pushed: bool,
}

impl AuthRequest {
    pub fn scope_string(&self) -> String {
        self.scope.join(" ")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Prompt {
    #[default]
    Default,
    /// `prompt=none`: answer without any page, or `login_required`.
    None,
    /// `prompt=login`: ask for the password even with a live session.
    Login,
}

/// An error for the client, sent back to its registered redirect URI (RFC 6749 §4.1.2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectError {
    pub redirect_uri: String,
    pub error: &'static str,
    pub description: String,
    pub state: Option<String>,
    pub form_post: bool,
}

#[derive(Debug)]
pub enum AuthorizeError {
    /// Not safe to redirect: shown to the person as a page.
    Page(Error),
    Redirect(RedirectError),
}

impl From<Error> for AuthorizeError {
    fn from(e: Error) -> Self {
        AuthorizeError::Page(e)
    }
}

/// Checks an authorization request that came from the browser against the client registry.
pub fn validate(p: &AuthorizeParams, clients: &Clients) -> Result<AuthRequest, AuthorizeError> {
    validate_as(p, clients, false)
}

/// Checks an authorization request; `pushed` when its parameters came from a pushed request (RFC 9126), which
/// a client required to push its requests needs.
pub fn validate_as(p: &AuthorizeParams, clients: &Clients, pushed: bool) -> Result<AuthRequest, AuthorizeError> {
    let client = p.client_id.as_deref().and_then(|id| clients.get(id)).ok_or(Error::UnknownClient)?.clone();
    let redirect_uri = match &p.redirect_uri {
        Some(uri) if client.redirect_uris.iter().any(|r| r == uri) => uri.clone(),
        _ => return Err(Error::UnregisteredRedirectUri.into()),
    };
    // From here on, errors go back to the client's registered redirect URI.
    let form_post = p.response_mode.as_deref() == Some("form_post");
    let fail = |error: &'static str, description: &str| {
        Err(AuthorizeError::Redirect(RedirectError {
            redirect_uri: redirect_uri.clone(),
            error,
            description: description.into(),
            state: p.state.clone(),
            form_post,
        }))
    };
    if p.request.is_some() {
        return fail("request_not_supported", "request objects are not supported");
    }
    if p.request_uri.is_some() {
        return fail("invalid_request", "request_uri is only for requests pushed to /par");
    }
    if client.require_par && !pushed {
        return fail("invalid_request", "this client must push its authorization requests to /par (RFC 9126)");
    }
    if !matches!(p.response_mode.as_deref(), None | Some("query") | Some("form_post")) {
        return fail("invalid_request", "response_mode must be query or form_post");
    }
    match p.response_type.as_deref() {
        Some("code") => {}
        None => return fail("invalid_request", "response_type is required"),
        Some(_) => return fail("unsupported_response_type", "only response_type=code is supported"),
    }
    if !client.allows_grant(GRANT_CODE) {
        return fail("unauthorized_client", "this client may not use the authorization code flow");
    }
    let requested: Vec<&str> = p.scope.as_deref().unwrap_or("").split_whitespace().collect();
    if !requested.contains(&"openid") {
        return fail("invalid_scope", "scope must include openid");
    }
    let mut scope: Vec<String> = Vec::new();
    for s in requested {
        if SUPPORTED_SCOPES.contains(&s) && client.allows_scope(s) && !scope.iter().any(|x| x == s) {
            scope.push(s.to_owned());
        }
    }
    if !scope.iter().any(|s| s == "openid") {
        return fail("invalid_scope", "this client may not use the openid scope");
    }
    let code_challenge = match (p.code_challenge.as_deref(), p.code_challenge_method.as_deref()) {
        (None, None) if client.public => return fail("invalid_request", "public clients must use PKCE (S256)"),
        (None, None) => None,
        (Some(c), Some("S256")) if super::pkce::is_valid_challenge(c) => Some(c.to_owned()),
        (Some(_), Some("S256")) => return fail("invalid_request", "code_challenge is not a valid S256 challenge"),
        _ => return fail("invalid_request", "code_challenge_method must be S256 (plain is refused)"),
    };
    let Some((prompt, select_account, consent)) = parse_prompt(p.prompt.as_deref()) else {
        return fail("invalid_request", "prompt=none cannot be combined with other values");
    };
    let max_age = match p.max_age.as_deref().map(str::parse::<u64>) {
        None => None,
        Some(Ok(n)) => Some(n),
        Some(Err(_)) => return fail("invalid_request", "max_age must be a number of seconds"),
    };
    Ok(AuthRequest {
        client,
        redirect_uri,
        scope,
        state: p.state.clone(),
        nonce: p.nonce.clone(),
        code_challenge,
        prompt,
        max_age,
        login_hint: p.login_hint.clone(),
        ui_locales: p.ui_locales.clone(),
        acr_values: p.acr_values.as_deref().unwrap_or_default().split_whitespace().map(str::to_owned).collect(),
        form_post,
        select_account,
        consent,
        pushed,
    })
}

/// The values of `prompt` (OIDC Core §3.1.2.1): whether to ask for the password, and whether `select_account`
/// and `consent` are asked for. `none` with anything else is an error (`None`). Unknown values are ignored.
fn parse_prompt(prompt: Option<&str>) -> Option<(Prompt, bool, bool)> {
    let values: Vec<&str> = prompt.unwrap_or("").split_whitespace().collect();
    if values.contains(&"none") {
        return (values.len() == 1).then_some((Prompt::None, false, false));
    }
    let login = if values.contains(&"login") { Prompt::Login } else { Prompt::Default };
    Some((login, values.contains(&"select_account"), values.contains(&"consent")))
}
