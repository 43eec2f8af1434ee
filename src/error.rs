//! One error type for the whole service. Endpoints for programs render it as an RFC 6749 JSON error;
//! browser-facing endpoints render it as a Vietnamese (or English) HTML page through [`crate::http::pages`].
//!
//! Internal details are logged, never shown: a response says what the caller can act on, nothing more.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::directory::Unavailable;
use crate::keys::KeyError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    InvalidRequest(String),
    /// Client authentication failed (RFC 6749 §5.2): 401 with a `WWW-Authenticate` challenge.
    #[error("client authentication failed")]
    InvalidClient,
    #[error("{0}")]
    InvalidGrant(String),
    #[error("{0}")]
    UnauthorizedClient(String),
    #[error("grant_type not supported")]
    UnsupportedGrantType,
    #[error("{0}")]
    InvalidScope(String),
    /// A bearer token that is missing, expired or revoked (RFC 6750 §3.1).
    #[error("{0}")]
    InvalidToken(String),
    /// The authorization request names no registered client: shown as a page, never redirected.
    #[error("unknown client")]
    UnknownClient,
    /// The redirect_uri is not one the client registered: shown as a page, never redirected.
    #[error("redirect_uri is not registered for this client")]
    UnregisteredRedirectUri,
    /// The directory or the store does not answer; the request may be retried.
    #[error("{0} unavailable")]
    Unavailable(&'static str),
    #[error("internal error")]
    Internal(String),
}

impl Error {
    /// The RFC 6749 / 6750 error code.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidRequest(_) | Error::UnknownClient | Error::UnregisteredRedirectUri => "invalid_request",
            Error::InvalidClient => "invalid_client",
            Error::InvalidGrant(_) => "invalid_grant",
            Error::UnauthorizedClient(_) => "unauthorized_client",
            Error::UnsupportedGrantType => "unsupported_grant_type",
            Error::InvalidScope(_) => "invalid_scope",
            Error::InvalidToken(_) => "invalid_token",
            Error::Unavailable(_) => "temporarily_unavailable",
            Error::Internal(_) => "server_error",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Error::InvalidClient | Error::InvalidToken(_) => StatusCode::UNAUTHORIZED,
            Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// Text safe to show to the caller.
    pub fn description(&self) -> String {
        match self {
            Error::Internal(_) => "internal error".into(),
            other => other.to_string(),
        }
    }

    /// Logs what the response will not show.
    pub fn log(&self) {
        match self {
            Error::Internal(detail) => tracing::error!(%detail, "internal error"),
            Error::Unavailable(what) => tracing::warn!(what, "backend unavailable"),
            _ => {}
        }
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        tracing::warn!(error = %e, "store error");
        Error::Unavailable("store")
    }
}

impl From<Unavailable> for Error {
    fn from(e: Unavailable) -> Self {
        tracing::warn!(error = %e, "directory error");
        Error::Unavailable("directory")
    }
}

impl From<KeyError> for Error {
    fn from(e: KeyError) -> Self {
        Error::Internal(e.to_string())
    }
}

#[derive(serde::Serialize)]
struct Body<'a> {
    error: &'a str,
    error_description: String,
}

/// The JSON rendering, for the token, userinfo and other endpoints that programs call.
impl IntoResponse for Error {
    fn into_response(self) -> Response {
        self.log();
        let mut response =
            (self.status(), Json(Body { error: self.code(), error_description: self.description() })).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        match self {
            Error::InvalidClient => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(r#"Basic realm="danang-sso""#));
            }
            Error::InvalidToken(_) => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(r#"Bearer error="invalid_token""#));
            }
            Error::Unavailable(_) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            }
            _ => {}
        }
        response
    }
}
