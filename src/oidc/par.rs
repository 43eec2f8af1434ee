//! Pushed authorization requests (RFC 9126): a client POSTs its authorization request to `/par`, authenticated
//! as at `/token`; it is validated there, exactly as `/authorize` would, and kept in the store under a
//! single-use `request_uri` that lives `[oidc] request_uri_ttl_secs`. The browser then brings only `client_id`
//! and `request_uri` to `/authorize`, on whichever instance.
//!
//! Once taken, the request is carried through the pages that follow (sign-in, account choice, consent) sealed:
//! signed with our own key as a short-lived JWT in a hidden field, so the person may take their time at the
//! form, nobody can alter it in between, and the spent `request_uri` is never accepted again.

use serde::{Deserialize, Serialize};

use super::clients::{Client, Clients};
use super::request::{AuthRequest, AuthorizeError, AuthorizeParams, validate_as};
use super::{Provider, random_token, secret_hash};
use crate::error::Error;

/// The form of every `request_uri` we hand out (RFC 9126 §2.2).
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";
/// The `typ` of a sealed pushed request carried by the pages.
const SEALED_TYP: &str = "oidc-pushed-request+jwt";
/// Long enough to type a password, short enough that a stale form is refused.
const SEALED_TTL_SECS: u64 = 1800;

/// What the store keeps under a `request_uri`.
#[derive(Serialize, Deserialize)]
struct Record {
    client_id: String,
    params: AuthorizeParams,
}

/// A sealed request, as signed into the pages' hidden field.
#[derive(Serialize, Deserialize)]
struct Sealed {
    iss: String,
    exp: u64,
    params: AuthorizeParams,
}

/// The answer to a successful push (RFC 9126 §2.2): 201 with these.
#[derive(Debug, Serialize)]
pub struct Pushed {
    pub request_uri: String,
    pub expires_in: u64,
}

/// A refused push (RFC 9126 §2.3): 400 with `{error, error_description}`.
#[derive(Debug, PartialEq, Eq)]
pub struct PushError {
    pub error: &'static str,
    pub description: String,
}

impl PushError {
    fn invalid(description: &str) -> PushError {
        PushError { error: "invalid_request", description: description.into() }
    }
}

/// Checks pushed parameters for the authenticated `client` exactly as `/authorize` would (pure).
pub fn check_push(params: &mut AuthorizeParams, client: &Client, clients: &Clients) -> Result<AuthRequest, PushError> {
    if params.request_uri.is_some() {
        return Err(PushError::invalid("request_uri must not be pushed"));
    }
    if params.pushed_request.is_some() {
        return Err(PushError::invalid("pushed_request must not be pushed"));
    }
    match params.client_id.as_deref() {
        Some(id) if id != client.id => {
            return Err(PushError::invalid("client_id does not match the authenticated client"));
        }
        _ => params.client_id = Some(client.id.clone()),
    }
    validate_as(params, clients, true).map_err(|e| match e {
        AuthorizeError::Page(e) => PushError { error: e.code(), description: e.description() },
        AuthorizeError::Redirect(r) => PushError { error: r.error, description: r.description },
    })
}

impl Provider {
    /// Validates and stores a pushed request of the authenticated `client`; the outer error is the store's.
    pub async fn push(&self, client: &Client, mut params: AuthorizeParams) -> Result<Result<Pushed, PushError>, Error> {
        if let Err(e) = check_push(&mut params, client, &self.clients) {
            return Ok(Err(e));
        }
        let request_uri = format!("{REQUEST_URI_PREFIX}{}", random_token());
        let ttl = self.oidc.request_uri_ttl_secs;
        let record = serde_json::to_string(&Record { client_id: client.id.clone(), params })
            .map_err(|e| Error::Internal(e.to_string()))?;
        self.store.put_pushed_request(&secret_hash(&request_uri), &record, self.clock.now() + ttl).await?;
        Ok(Ok(Pushed { request_uri, expires_in: ttl }))
    }

    /// A fresh single-use `request_uri` for an already checked pushed request, and the `/authorize` address that
    /// uses it: how a browser comes back to a pushed request after the second factor (which may include enrolling
    /// one, so it lives as long as a sealed form). `prompt=login` is dropped, since the password was just checked.
    pub async fn repush(&self, params: &AuthorizeParams) -> Result<String, Error> {
        let mut params = params.clone();
        params.prompt = params
            .prompt
            .as_deref()
            .map(|p| p.split_whitespace().filter(|v| *v != "login").collect::<Vec<_>>().join(" "))
            .filter(|p| !p.is_empty());
        self.repush_for(params, SEALED_TTL_SECS).await
    }

    async fn repush_for(&self, params: AuthorizeParams, ttl: u64) -> Result<String, Error> {
        let client_id = params.client_id.clone().unwrap_or_default();
        let request_uri = format!("{REQUEST_URI_PREFIX}{}", random_token());
        let record = serde_json::to_string(&Record { client_id: client_id.clone(), params })
            .map_err(|e| Error::Internal(e.to_string()))?;
        self.store.put_pushed_request(&secret_hash(&request_uri), &record, self.clock.now() + ttl).await?;
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", &client_id)
            .append_pair("request_uri", &request_uri)
            .finish();
        Ok(format!("{}?{query}", super::discovery::AUTHORIZE_PATH))
    }

    /// [`Provider::repush`] for a request our pages carried sealed (the language link, which anyone may follow:
    /// the browser uses it at once, so it lives only `[oidc] request_uri_ttl_secs`); `None` when the seal is not
    /// ours or expired. `prompt=login` stays: the page was a sign-in form and shows it again.
    pub async fn repush_sealed(&self, carried: &AuthorizeParams) -> Result<Option<String>, Error> {
        match self.open_pushed(carried) {
            Some(params) => self.repush_for(params, self.oidc.request_uri_ttl_secs).await.map(Some),
            None => Ok(None),
        }
    }

    /// Takes the pushed request `params.request_uri` names, once: its parameters when it is known, unexpired,
    /// unused and was pushed by `params.client_id`; `None` otherwise (it is spent either way).
    pub async fn take_pushed(&self, params: &AuthorizeParams) -> Result<Option<AuthorizeParams>, Error> {
        let Some(request_uri) = params.request_uri.as_deref().filter(|u| u.starts_with(REQUEST_URI_PREFIX)) else {
            return Ok(None);
        };
        let Some(text) = self.store.take_pushed_request(&secret_hash(request_uri)).await? else { return Ok(None) };
        let record: Record =
            serde_json::from_str(&text).map_err(|e| Error::Internal(format!("pushed request: {e}")))?;
        Ok((params.client_id.as_deref() == Some(record.client_id.as_str())).then_some(record.params))
    }

    /// What the pages carry in hidden fields for a pushed request: `client_id`, `ui_locales` and the request
    /// sealed with our key.
    pub fn seal_pushed(&self, params: &AuthorizeParams) -> Result<AuthorizeParams, Error> {
        let sealed =
            Sealed { iss: self.issuer.clone(), exp: self.clock.now() + SEALED_TTL_SECS, params: params.clone() };
        let token = self.keys.current().sign(SEALED_TYP, &sealed, None)?;
        Ok(AuthorizeParams {
            client_id: params.client_id.clone(),
            ui_locales: params.ui_locales.clone(),
            pushed_request: Some(token),
            ..AuthorizeParams::default()
        })
    }

    /// Opens what [`Provider::seal_pushed`] made: the pushed parameters when the seal is ours, unexpired,
    /// unaltered and for the same client; `None` otherwise.
    pub fn open_pushed(&self, params: &AuthorizeParams) -> Option<AuthorizeParams> {
        let token = params.pushed_request.as_deref()?;
        let sealed: Sealed = self
            .keys
            .current()
            .verify(token, SEALED_TYP, |v| {
                v.validate_aud = false;
                v.set_issuer(&[&self.issuer]);
                v.set_required_spec_claims(&["exp", "iss"]);
            })
            .ok()?;
        (sealed.params.client_id == params.client_id).then_some(sealed.params)
    }
}

#[cfg(test)]
mod tests;
