//! Talking to the provider with the `openidconnect` crate: discovery, the authorization request, the code
//! exchange with its ID token checks, and the RP-initiated logout URL.
//!
//! Nothing here is specific to danang-sso except the two extra claims in [`CityClaims`]: point it at any
//! OpenID Connect provider's issuer URL and it works.

use std::sync::{Arc, Mutex, PoisonError};

use jsonwebtoken::jwk::{Jwk, JwkSet};
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AccessToken, AccessTokenHash, AdditionalClaims, AuthorizationCode, ClaimsVerificationError, Client, ClientId,
    ClientSecret, CsrfToken, EmptyExtraTokenFields, EndSessionUrl, EndpointMaybeSet, EndpointNotSet, EndpointSet,
    IdToken, IdTokenFields, IssuerUrl, LogoutRequest, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier,
    PostLogoutRedirectUrl, ProviderMetadataWithLogout, RedirectUrl, Scope, SignatureVerificationError,
    StandardErrorResponse, StandardTokenResponse, TokenResponse,
};
use serde::{Deserialize, Serialize};

use super::Failure;

/// The claims danang-sso adds to the standard ones: `unit` (the person's agency) and `sid`, the SSO session
/// id that back-channel logout tokens name. Declaring them is how the `openidconnect` crate reads extra claims.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct CityClaims {
    sid: Option<String>,
    unit: Option<String>,
}
impl AdditionalClaims for CityClaims {}

// The crate's `Core*` aliases with `CityClaims` in place of no extra claims. Verbose, but written once.
type CityIdTokenFields = IdTokenFields<
    CityClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type CityTokenResponse = StandardTokenResponse<CityIdTokenFields, CoreTokenType>;
pub type CityIdToken = IdToken<CityClaims, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>;
/// A client made from discovery: authorization URL set, token and userinfo URLs "maybe set".
type CityClient = Client<
    CityClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    CityTokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// A sign-in this browser started: what `/callback` must check (`state`, `nonce`) and prove (the PKCE verifier).
/// It never leaves the server.
pub struct Pending {
    state: CsrfToken,
    nonce: Nonce,
    verifier: PkceCodeVerifier,
}

/// The signed-in person, from the verified ID token.
#[derive(Clone)]
pub struct User {
    pub name: String,
    pub email: String,
    pub unit: String,
    /// The stable id of the person at the provider: key your own data on this, never on the mailbox.
    pub sub: String,
    /// The provider's SSO session; back-channel logout names it.
    pub sid: Option<String>,
    /// Kept as the `id_token_hint` of the RP-initiated logout.
    id_token: CityIdToken,
}

/// The query of the redirect back to `/callback`.
#[derive(Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    /// RFC 9207: which provider answered, so an app with several providers cannot be mixed up.
    iss: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// What discovery found, cached until the provider's keys change.
struct Discovered {
    client: CityClient,
    end_session: Option<EndSessionUrl>,
    /// The provider's public keys in `jsonwebtoken`'s form, for logout tokens (the `openidconnect` crate
    /// verifies ID tokens only).
    jwks: JwkSet,
}

/// One app's view of the provider.
pub struct Provider {
    issuer: IssuerUrl,
    client_id: ClientId,
    secret: ClientSecret,
    redirect: RedirectUrl,
    after_logout: PostLogoutRedirectUrl,
    http: reqwest::Client,
    cache: Mutex<Option<Arc<Discovered>>>,
}

impl Provider {
    /// `base_url` is the app's own, e.g. `http://127.0.0.1:8081`: the redirect URI is `{base_url}/callback` and
    /// the post-logout redirect URI `{base_url}/`, exactly as registered at the provider.
    pub fn new(
        issuer: &str,
        client_id: &str,
        secret: &str,
        base_url: &str,
        http: reqwest::Client,
    ) -> Result<Provider, url::ParseError> {
        Ok(Provider {
            issuer: IssuerUrl::new(issuer.into())?,
            client_id: ClientId::new(client_id.into()),
            secret: ClientSecret::new(secret.into()),
            redirect: RedirectUrl::new(format!("{base_url}/callback"))?,
            after_logout: PostLogoutRedirectUrl::new(format!("{base_url}/"))?,
            http,
            cache: Mutex::new(None),
        })
    }

    pub fn issuer(&self) -> &str {
        self.issuer.as_str()
    }

    pub fn client_id(&self) -> &str {
        self.client_id.as_str()
    }

    /// The authorization URL to send the browser to, and what to remember for its callback.
    pub async fn begin(&self) -> Result<(url::Url, Pending), Failure> {
        let discovered = self.discovered().await?;
        // PKCE (RFC 7636) binds the code to this browser's sign-in; the nonce binds the ID token to it; the
        // state protects /callback against forged requests.
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = discovered
            .client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .add_scope(Scope::new("profile".into()))
            .add_scope(Scope::new("email".into()))
            .set_pkce_challenge(challenge)
            .url();
        Ok((url, Pending { state, nonce, verifier }))
    }

    /// Completes a sign-in: checks the callback against `pending`, exchanges the code, verifies the ID token.
    pub async fn finish(&self, pending: Pending, reply: Callback) -> Result<User, Failure> {
        if reply.state.as_deref() != Some(pending.state.secret().as_str()) {
            return Err(Failure::sign_in("the callback's state is not the one this browser was given"));
        }
        if let Some(iss) = &reply.iss
            && iss != self.issuer.as_str()
        {
            return Err(Failure::sign_in(format!("the callback comes from another issuer: {iss}")));
        }
        if let Some(error) = &reply.error {
            let description = reply.error_description.as_deref().unwrap_or("");
            return Err(Failure::sign_in(format!("the provider answered {error}: {description}")));
        }
        let code = reply.code.ok_or_else(|| Failure::sign_in("the callback has no code"))?;

        let discovered = self.discovered().await?;
        // The code exchange authenticates the app (client_secret_basic) and proves the PKCE verifier.
        let tokens = discovered
            .client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| Failure::unreachable(format!("no token endpoint: {e}")))?
            .set_pkce_verifier(pending.verifier)
            .request_async(&self.http)
            .await
            .map_err(|e| Failure::sign_in(format!("code exchange: {}", causes(&e))))?;
        let id_token = tokens.id_token().ok_or_else(|| Failure::sign_in("no ID token in the token response"))?;

        match person(&discovered.client, id_token, &pending.nonce, tokens.access_token()) {
            // A key we have not seen: the provider rotated its keys since discovery. Discover again, once.
            Err(Checks::Claims(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            ))) => {
                let fresh = self.rediscover().await?;
                person(&fresh.client, id_token, &pending.nonce, tokens.access_token())
            }
            other => other,
        }
        .map_err(|e| Failure::sign_in(format!("ID token: {e}")))
    }

    /// The provider's end-session URL (RP-Initiated Logout 1.0) that ends the person's SSO session and sends
    /// the browser back to this app's `/`. The ID token hint lets the provider do it without asking.
    pub async fn logout_url(&self, user: &User) -> Result<url::Url, Failure> {
        let discovered = self.discovered().await?;
        let endpoint = discovered.end_session.clone().ok_or_else(|| Failure::unreachable("no end_session_endpoint"))?;
        Ok(LogoutRequest::from(endpoint)
            .set_id_token_hint(&user.id_token)
            .set_client_id(self.client_id.clone())
            .set_post_logout_redirect_uri(self.after_logout.clone())
            .http_get_url())
    }

    /// The provider's public key `kid`, discovering again if it is new (keys rotate).
    pub async fn signing_key(&self, kid: &str) -> Result<Jwk, Failure> {
        if let Some(jwk) = self.discovered().await?.jwks.find(kid) {
            return Ok(jwk.clone());
        }
        let fresh = self.rediscover().await?;
        fresh.jwks.find(kid).cloned().ok_or_else(|| Failure::sign_in(format!("no key {kid} in the provider's JWKS")))
    }

    /// Discovery's answer, fetched on first use and kept.
    async fn discovered(&self) -> Result<Arc<Discovered>, Failure> {
        let cached = self.cache.lock().unwrap_or_else(PoisonError::into_inner).clone();
        match cached {
            Some(discovered) => Ok(discovered),
            None => self.rediscover().await,
        }
    }

    /// Fetches `{issuer}/.well-known/openid-configuration` and the JWKS it points to.
    async fn rediscover(&self) -> Result<Arc<Discovered>, Failure> {
        let metadata = ProviderMetadataWithLogout::discover_async(self.issuer.clone(), &self.http)
            .await
            .map_err(|e| Failure::unreachable(format!("discovery at {}: {}", self.issuer.as_str(), causes(&e))))?;
        let end_session = metadata.additional_metadata().end_session_endpoint.clone();
        let jwks = serde_json::to_value(metadata.jwks())
            .and_then(serde_json::from_value)
            .map_err(|e| Failure::unreachable(format!("the provider's JWKS: {e}")))?;
        let client = CityClient::from_provider_metadata(metadata, self.client_id.clone(), Some(self.secret.clone()))
            .set_redirect_uri(self.redirect.clone());
        let discovered = Arc::new(Discovered { client, end_session, jwks });
        *self.cache.lock().unwrap_or_else(PoisonError::into_inner) = Some(discovered.clone());
        Ok(discovered)
    }
}

/// Why an ID token was refused.
#[derive(Debug, thiserror::Error)]
enum Checks {
    #[error(transparent)]
    Claims(#[from] ClaimsVerificationError),
    #[error("the access token does not match at_hash")]
    AccessTokenHash,
    #[error("at_hash: {0}")]
    Hash(String),
}

/// Verifies the ID token (signature against the JWKS, `iss`, `aud`, `azp`, `exp`, `iat`, `nonce`) and that the
/// access token is the one it was issued with (`at_hash`), then reads the person from it.
fn person(client: &CityClient, id_token: &CityIdToken, nonce: &Nonce, access: &AccessToken) -> Result<User, Checks> {
    let verifier = client.id_token_verifier();
    let claims = id_token.claims(&verifier, nonce)?;
    if let Some(expected) = claims.access_token_hash() {
        let alg = id_token.signing_alg().map_err(|e| Checks::Hash(e.to_string()))?;
        let key = id_token.signing_key(&verifier).map_err(|e| Checks::Hash(e.to_string()))?;
        let actual = AccessTokenHash::from_token(access, alg, key).map_err(|e| Checks::Hash(e.to_string()))?;
        if actual != *expected {
            return Err(Checks::AccessTokenHash);
        }
    }
    let extra = claims.additional_claims();
    Ok(User {
        // `name` may come in several languages (`name#vi`); `None` asks for the default one.
        name: claims.name().and_then(|n| n.get(None)).map_or_else(|| claims.subject().to_string(), |n| n.to_string()),
        email: claims.email().map_or_else(String::new, |e| e.to_string()),
        unit: extra.unit.clone().unwrap_or_default(),
        sub: claims.subject().to_string(),
        sid: extra.sid.clone(),
        id_token: id_token.clone(),
    })
}

/// An error with its causes, for the log: "Request failed: … : Connection refused".
fn causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
