//! `POST /par`: pushed authorization requests (RFC 9126). The client authenticates as at `/token`; the
//! parameters are checked as `/authorize` would check them; the answer is `201 {request_uri, expires_in}` or an
//! RFC 9126 §2.3 JSON error.

use std::sync::Arc;

use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use serde::Deserialize;

use super::token::basic_auth;
use crate::App;
use crate::error::Error;
use crate::oidc::clients::Credentials;
use crate::oidc::request::AuthorizeParams;

/// The pushed authorization request, with the client's authentication.
#[derive(Deserialize)]
pub struct PushForm {
    client_secret: Option<String>,
    client_assertion_type: Option<String>,
    client_assertion: Option<String>,
    #[serde(flatten)]
    params: AuthorizeParams,
}

#[derive(serde::Serialize)]
struct Refusal<'a> {
    error: &'a str,
    error_description: &'a str,
}

pub async fn push(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    form: Result<Form<PushForm>, FormRejection>,
) -> Result<Response, Error> {
    let Form(form) = form.map_err(|e| Error::InvalidRequest(e.body_text()))?;
    let creds = Credentials {
        basic: basic_auth(&headers)?,
        form_id: form.params.client_id.clone(),
        form_secret: form.client_secret,
        assertion_type: form.client_assertion_type,
        assertion: form.client_assertion,
    };
    let client = app.provider.authenticate_client(creds).await?;
    let no_store = [(header::CACHE_CONTROL, "no-store")];
    Ok(match app.provider.push(&client, form.params).await? {
        Ok(pushed) => {
            tracing::debug!(client = %client.id, "authorization request pushed");
            (StatusCode::CREATED, no_store, Json(pushed)).into_response()
        }
        Err(e) => {
            tracing::info!(client = %client.id, error = e.error, "pushed authorization request refused");
            let body = Refusal { error: e.error, error_description: &e.description };
            (StatusCode::BAD_REQUEST, no_store, Json(body)).into_response()
        }
    })
}
