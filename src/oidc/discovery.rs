//! Discovery (OpenID Connect Discovery 1.0, RFC 8414): the document certified client libraries read first.
//! It advertises exactly what is implemented, and is serialised once at start.

use serde::Serialize;

use super::assertion::ASSERTION_ALGS;
use super::request::SUPPORTED_SCOPES;

/// Endpoint paths, relative to the issuer. Fixed: apps and docs rely on them.
pub const AUTHORIZE_PATH: &str = "/authorize";
pub const TOKEN_PATH: &str = "/token";
pub const USERINFO_PATH: &str = "/userinfo";
pub const JWKS_PATH: &str = "/jwks";
pub const LOGIN_PATH: &str = "/login";
pub const LOGOUT_PATH: &str = "/logout";
pub const INTROSPECT_PATH: &str = "/introspect";
pub const REVOKE_PATH: &str = "/revoke";
/// Pushed authorization requests (RFC 9126).
pub const PAR_PATH: &str = "/par";
/// Where the account-choice and consent pages post (`prompt=select_account`, `prompt=consent`).
pub const SELECT_ACCOUNT_PATH: &str = "/authorize/select-account";
pub const CONSENT_PATH: &str = "/authorize/consent";

/// Every `prompt` value that does what OIDC Core §3.1.2.1 says (see [`super::request`]).
pub const PROMPT_VALUES: &[&str] = &["none", "login", "consent", "select_account"];

/// Every algorithm we sign ID tokens with: the key directory always holds one key of each.
pub const SIGNING_ALGS: &[&str] = &["RS256", "ES256", "EdDSA"];
const AUTH_METHODS: &[&str] = &["client_secret_basic", "client_secret_post", "private_key_jwt", "none"];
const SERVICE_AUTH_METHODS: &[&str] = &["client_secret_basic", "client_secret_post", "private_key_jwt"];

#[derive(Serialize)]
struct Metadata<'a> {
    issuer: &'a str,
    authorization_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: String,
    jwks_uri: String,
    end_session_endpoint: String,
    introspection_endpoint: String,
    revocation_endpoint: String,
    pushed_authorization_request_endpoint: String,
    require_pushed_authorization_requests: bool,
    scopes_supported: &'a [&'a str],
    response_types_supported: [&'a str; 1],
    response_modes_supported: [&'a str; 2],
    grant_types_supported: [&'a str; 3],
    subject_types_supported: [&'a str; 1],
    id_token_signing_alg_values_supported: &'a [&'a str],
    userinfo_signing_alg_values_supported: [&'a str; 1],
    token_endpoint_auth_methods_supported: &'a [&'a str],
    token_endpoint_auth_signing_alg_values_supported: &'a [&'a str],
    introspection_endpoint_auth_methods_supported: &'a [&'a str],
    introspection_endpoint_auth_signing_alg_values_supported: &'a [&'a str],
    revocation_endpoint_auth_methods_supported: &'a [&'a str],
    revocation_endpoint_auth_signing_alg_values_supported: &'a [&'a str],
    code_challenge_methods_supported: [&'a str; 1],
    claims_supported: &'a [&'a str],
    claims_parameter_supported: bool,
    request_parameter_supported: bool,
    request_uri_parameter_supported: bool,
    authorization_response_iss_parameter_supported: bool,
    backchannel_logout_supported: bool,
    backchannel_logout_session_supported: bool,
    frontchannel_logout_supported: bool,
    frontchannel_logout_session_supported: bool,
    ui_locales_supported: [&'a str; 2],
    prompt_values_supported: &'a [&'a str],
    /// The REFEDS profiles: two factors (`acr_values` asking for it requires them) or one.
    acr_values_supported: [&'a str; 2],
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
    "acr",
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

/// The discovery document for `issuer`, as JSON bytes. Also served as OAuth server metadata (RFC 8414).
/// `require_par`: `[oidc] require_pushed_authorization_requests`.
pub fn document(issuer: &str, require_par: bool) -> Vec<u8> {
    let url = |path: &str| format!("{issuer}{path}");
    let meta = Metadata {
        issuer,
        authorization_endpoint: url(AUTHORIZE_PATH),
        token_endpoint: url(TOKEN_PATH),
        userinfo_endpoint: url(USERINFO_PATH),
        jwks_uri: url(JWKS_PATH),
        end_session_endpoint: url(LOGOUT_PATH),
        introspection_endpoint: url(INTROSPECT_PATH),
        revocation_endpoint: url(REVOKE_PATH),
        pushed_authorization_request_endpoint: url(PAR_PATH),
        require_pushed_authorization_requests: require_par,
        scopes_supported: SUPPORTED_SCOPES,
        response_types_supported: ["code"],
        response_modes_supported: ["query", "form_post"],
        grant_types_supported: ["authorization_code", "refresh_token", "client_credentials"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: SIGNING_ALGS,
        userinfo_signing_alg_values_supported: ["none"],
        token_endpoint_auth_methods_supported: AUTH_METHODS,
        token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGS,
        introspection_endpoint_auth_methods_supported: SERVICE_AUTH_METHODS,
        introspection_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGS,
        revocation_endpoint_auth_methods_supported: AUTH_METHODS,
        revocation_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGS,
        code_challenge_methods_supported: ["S256"],
        claims_supported: CLAIMS,
        claims_parameter_supported: false,
        request_parameter_supported: false,
        // Only our own request_uri from /par; not request_uri values the client hosts (OIDC Core §6.2).
        request_uri_parameter_supported: false,
        authorization_response_iss_parameter_supported: true,
        backchannel_logout_supported: true,
        backchannel_logout_session_supported: true,
        frontchannel_logout_supported: true,
        frontchannel_logout_session_supported: true,
        ui_locales_supported: ["vi", "en"],
        prompt_values_supported: PROMPT_VALUES,
        acr_values_supported: [crate::mfa::ACR_MFA, crate::mfa::ACR_SFA],
    };
    serde_json::to_vec(&meta).expect("metadata serialises")
}
