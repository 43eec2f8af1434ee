//! Discovery (OpenID Connect Discovery 1.0, RFC 8414): the document certified client libraries read first.
//! It advertises exactly what is implemented, and is serialised once at start.

use serde::Serialize;

use super::request::SUPPORTED_SCOPES;
use crate::keys::Alg;

/// Endpoint paths, relative to the issuer. Fixed: apps and docs rely on them.
pub const AUTHORIZE_PATH: &str = "/authorize";
pub const TOKEN_PATH: &str = "/token";
pub const USERINFO_PATH: &str = "/userinfo";
pub const JWKS_PATH: &str = "/jwks";
pub const LOGIN_PATH: &str = "/login";

#[derive(Serialize)]
struct Metadata<'a> {
    issuer: &'a str,
    authorization_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: String,
    jwks_uri: String,
    scopes_supported: &'a [&'a str],
    response_types_supported: [&'a str; 1],
    response_modes_supported: [&'a str; 1],
    grant_types_supported: [&'a str; 2],
    subject_types_supported: [&'a str; 1],
    id_token_signing_alg_values_supported: Vec<&'a str>,
    token_endpoint_auth_methods_supported: [&'a str; 3],
    code_challenge_methods_supported: [&'a str; 1],
    claims_supported: &'a [&'a str],
    claims_parameter_supported: bool,
    request_parameter_supported: bool,
    request_uri_parameter_supported: bool,
    authorization_response_iss_parameter_supported: bool,
    ui_locales_supported: [&'a str; 2],
    prompt_values_supported: [&'a str; 4],
}

/// Claims any token or userinfo response may carry.
pub const CLAIMS: &[&str] = &[
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "at_hash",
    "sid",
    "amr",
    "azp",
    "name",
    "given_name",
    "family_name",
    "preferred_username",
    "email",
    "email_verified",
    "groups",
    "unit",
    "mailbox_type",
];

/// The discovery document for `issuer`, as JSON bytes.
pub fn document(issuer: &str, algs: &[Alg]) -> Vec<u8> {
    let url = |path: &str| format!("{issuer}{path}");
    let meta = Metadata {
        issuer,
        authorization_endpoint: url(AUTHORIZE_PATH),
        token_endpoint: url(TOKEN_PATH),
        userinfo_endpoint: url(USERINFO_PATH),
        jwks_uri: url(JWKS_PATH),
        scopes_supported: SUPPORTED_SCOPES,
        response_types_supported: ["code"],
        response_modes_supported: ["query"],
        grant_types_supported: ["authorization_code", "refresh_token"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: algs.iter().map(|a| a.as_str()).collect(),
        token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "none"],
        code_challenge_methods_supported: ["S256"],
        claims_supported: CLAIMS,
        claims_parameter_supported: false,
        request_parameter_supported: false,
        request_uri_parameter_supported: false,
        authorization_response_iss_parameter_supported: true,
        ui_locales_supported: ["vi", "en"],
        prompt_values_supported: ["none", "login", "consent", "select_account"],
    };
    serde_json::to_vec(&meta).expect("metadata serialises")
}
