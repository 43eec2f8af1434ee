//! `POST /token` and `GET|POST /userinfo`: what programs call. Errors are RFC 6749 / 6750 JSON.

use std::sync::Arc;

use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use base64::Engine;
use percent_encoding::percent_decode_str;

use super::context::Ctx;
use crate::App;
use crate::error::Error;
use crate::oidc::clients::Credentials;
use crate::oidc::token::TokenParams;

pub async fn token(
    State(app): State<Arc<App>>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    form: Result<Form<TokenParams>, FormRejection>,
) -> Result<Response, Error> {
    let Form(mut params) = form.map_err(|e| Error::InvalidRequest(e.body_text()))?;
    let creds = Credentials {
        basic: basic_auth(&headers)?,
        form_id: params.client_id.take(),
        form_secret: params.client_secret.take(),
        assertion_type: params.client_assertion_type.take(),
        assertion: params.client_assertion.take(),
    };
    let client = app.provider.authenticate_client(creds).await?;
    let grant_type = params.grant_type.clone().unwrap_or_default();
    let response = app.provider.token(&client, params, &ctx).await?;
    app.metrics.token_issued(&grant_type, &client.id);
    Ok(([(header::CACHE_CONTROL, "no-store"), (header::PRAGMA, "no-cache")], Json(response)).into_response())
}

/// The body of introspection and revocation requests, with the caller's client authentication.
#[derive(serde::Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    client_assertion_type: Option<String>,
    client_assertion: Option<String>,
}

async fn caller_and_token(
    app: &App,
    headers: &HeaderMap,
    form: Result<Form<TokenQuery>, FormRejection>,
) -> Result<(Arc<crate::oidc::clients::Client>, String), Error> {
    let Form(q) = form.map_err(|e| Error::InvalidRequest(e.body_text()))?;
    let creds = Credentials {
        basic: basic_auth(headers)?,
        form_id: q.client_id,
        form_secret: q.client_secret,
        assertion_type: q.client_assertion_type,
        assertion: q.client_assertion,
    };
    let client = app.provider.authenticate_client(creds).await?;
    let token = q.token.filter(|t| !t.is_empty()).ok_or_else(|| Error::InvalidRequest("token is required".into()))?;
    Ok((client, token))
}

/// `POST /introspect` (RFC 7662).
pub async fn introspect(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    form: Result<Form<TokenQuery>, FormRejection>,
) -> Result<Response, Error> {
    let (client, token) = caller_and_token(&app, &headers, form).await?;
    let answer = app.provider.introspect(&client, &token).await?;
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(answer)).into_response())
}

/// `POST /revoke` (RFC 7009): 200 whether or not the token was known.
pub async fn revoke(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    form: Result<Form<TokenQuery>, FormRejection>,
) -> Result<Response, Error> {
    let (client, token) = caller_and_token(&app, &headers, form).await?;
    app.provider.revoke(&client, &token).await?;
    Ok(([(header::CACHE_CONTROL, "no-store")], "").into_response())
}

/// `Authorization: Basic` with form-urlencoded id and secret (RFC 6749 §2.3.1).
pub(super) fn basic_auth(headers: &HeaderMap) -> Result<Option<(String, String)>, Error> {
    let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else { return Ok(None) };
    let Some(encoded) = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic ")) else {
        return Ok(None);
    };
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).map_err(|_| Error::InvalidClient)?;
    let text = String::from_utf8(decoded).map_err(|_| Error::InvalidClient)?;
    let (id, secret) = text.split_once(':').ok_or(Error::InvalidClient)?;
    let decode = |s: &str| percent_decode_str(&s.replace('+', " ")).decode_utf8().map(|c| c.into_owned());
    Ok(Some((decode(id).map_err(|_| Error::InvalidClient)?, decode(secret).map_err(|_| Error::InvalidClient)?)))
}

/// `Authorization: Bearer <token>` (RFC 6750 §2.1).
pub fn bearer(headers: &HeaderMap) -> Result<&str, Error> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Error::InvalidToken("a Bearer access token is required".into()))
}

pub async fn userinfo(State(app): State<Arc<App>>, headers: HeaderMap) -> Result<Response, Error> {
    let claims = app.provider.userinfo(bearer(&headers)?).await?;
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(claims)).into_response())
}
