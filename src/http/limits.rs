//! The request header limit: more than [`HEADER_LIMIT`] bytes of headers get `431 Request Header Fields Too
//! Large` before any handler runs. hyper alone accepts about 400 KiB, which lets a client make every request
//! cost the server far more memory than any real browser or app needs (ours are a few hundred bytes).

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The most header bytes (names and values) a request may carry.
pub const HEADER_LIMIT: usize = 32 * 1024;

/// Refuses a request whose headers add up to more than [`HEADER_LIMIT`].
pub async fn header_limit(request: Request, next: Next) -> Response {
    let size: usize = request.headers().iter().map(|(name, value)| name.as_str().len() + value.len() + 4).sum();
    if size > HEADER_LIMIT {
        return (StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "request headers too large").into_response();
    }
    next.run(request).await
}
