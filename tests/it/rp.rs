//! An independent relying party built on the `openidconnect` crate, as a city app would integrate.

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreTokenResponse};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl,
    Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
};

use crate::browser::{Browser, PASSWORD, Page};

pub type Client =
    CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

pub struct Rp {
    pub client: Client,
    pub http: reqwest::Client,
    pub redirect: String,
}

/// An authorization request the RP has sent, with what it must remember.
pub struct Pending {
    pub url: String,
    pub state: CsrfToken,
    pub nonce: Nonce,
    pub verifier: PkceCodeVerifier,
}

impl Rp {
    /// Discovers the provider at `issuer` and registers as one of the demo apps.
    pub async fn demo(issuer: &str, client_id: &str) -> Rp {
        let port = match client_id {
            "portal" => 8081,
            "vanban" => 8082,
            "tiepdan" => 8083,
            other => panic!("no demo client {other}"),
        };
        Rp::new(issuer, client_id, Some(&format!("{client_id}-secret")), &format!("http://127.0.0.1:{port}/callback"))
            .await
    }

    pub async fn new(issuer: &str, client_id: &str, secret: Option<&str>, redirect: &str) -> Rp {
        Rp::with_http(issuer, client_id, secret, redirect, crate::app::http()).await
    }

    /// Like [`Rp::new`], with the RP's own HTTP client (one that trusts a test CA, for HTTPS).
    pub async fn with_http(
        issuer: &str,
        client_id: &str,
        secret: Option<&str>,
        redirect: &str,
        http: reqwest::Client,
    ) -> Rp {
        let meta = CoreProviderMetadata::discover_async(IssuerUrl::new(issuer.into()).unwrap(), &http)
            .await
            .expect("discovery");
        let client = CoreClient::from_provider_metadata(
            meta,
            ClientId::new(client_id.into()),
            secret.map(|s| ClientSecret::new(s.into())),
        )
        .set_redirect_uri(RedirectUrl::new(redirect.into()).unwrap());
        Rp { client, http, redirect: redirect.into() }
    }

    /// An authorization URL with PKCE, a nonce and the given extra scopes and parameters.
    pub fn start(&self, scopes: &[&str], extra: &[(&str, &str)]) -> Pending {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut req = self
            .client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .set_pkce_challenge(challenge);
        for s in scopes {
            req = req.add_scope(Scope::new((*s).into()));
        }
        for (k, v) in extra {
            req = req.add_extra_param(*k, *v);
        }
        let (url, state, nonce) = req.url();
        Pending { url: url.to_string(), state, nonce, verifier }
    }

    /// Exchanges the code in the redirect `page` for tokens.
    pub async fn exchange(&self, pending: Pending, page: &Page) -> CoreTokenResponse {
        assert_eq!(page.redirect_param("state").as_deref(), Some(pending.state.secret().as_str()), "state round-trips");
        let code = page.redirect_param("code").unwrap_or_else(|| panic!("no code in {:?}", page.location));
        self.client
            .exchange_code(AuthorizationCode::new(code))
            .unwrap()
            .set_pkce_verifier(pending.verifier)
            .request_async(&self.http)
            .await
            .expect("code exchange")
    }

    /// The whole sign-in: authorize, the form (when shown), and the code exchange.
    pub async fn sign_in(
        &self,
        issuer: &str,
        browser: &mut Browser,
        user: &str,
        scopes: &[&str],
    ) -> (CoreTokenResponse, Nonce) {
        let pending = self.start(scopes, &[]);
        let mut page = browser.get(&pending.url).await;
        if page.is_login_form() {
            page = browser.sign_in(issuer, &page, user, PASSWORD).await;
        }
        assert!(
            page.location.as_deref().is_some_and(|l| l.starts_with(&self.redirect)),
            "redirected to the app: {:?}",
            page.location
        );
        let nonce = pending.nonce.clone();
        (self.exchange(pending, &page).await, nonce)
    }
}

/// The JSON payload of a JWT, read without checking (the RP already verified it).
pub fn payload(jwt: &str) -> serde_json::Value {
    use base64::Engine;
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}
