//! The token endpoint's grants (authorization code, refresh token) and the userinfo endpoint.
//!
//! A code is single use: a replay revokes the grant it produced; who presents it is checked before it is spent.
//! Refresh tokens rotate: each works once, and presenting a spent one (recognised by its MAC) revokes the whole
//! family, while a secret this server never issued changes nothing. Every refresh asks the directory whether the account is
//! still allowed in, so a locked or removed account loses access at its next refresh.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::claims::{AccessToken, IdToken, at_hash, user_claims};
use super::clients::{Client, GRANT_CLIENT_CREDENTIALS, GRANT_CODE, GRANT_REFRESH};
use super::{Provider, pkce, random_id, secret_hash};
use crate::audit::{Event, RequestContext};
use crate::directory::User;
use crate::error::Error;
use crate::store::{Grant, Redemption, Rotation};

#[derive(Debug, Default, Deserialize)]
pub struct TokenParams {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub client_assertion_type: Option<String>,
    pub client_assertion: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub scope: String,
}

/// Scopes about a person: never granted to a service client acting for itself.
const USER_SCOPES: &[&str] = &["openid", "profile", "email", "groups", "offline_access"];

/// The typ header of JWT access tokens (RFC 9068 §2.1).
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";

impl Provider {
    /// Runs a token request for an authenticated client.
    pub async fn token(&self, client: &Client, p: TokenParams, ctx: &RequestContext) -> Result<TokenResponse, Error> {
        let grant_type =
            p.grant_type.as_deref().ok_or_else(|| Error::InvalidRequest("grant_type is required".into()))?;
        if !client.allows_grant(grant_type) {
            return match grant_type {
                GRANT_CODE | GRANT_REFRESH | GRANT_CLIENT_CREDENTIALS => {
                    Err(Error::UnauthorizedClient(format!("{grant_type} is not allowed for this client")))
                }
                _ => Err(Error::UnsupportedGrantType),
            };
        }
        let (kind, result) = match grant_type {
            GRANT_CODE => (GRANT_CODE, self.code_grant(client, p, ctx).await),
            GRANT_REFRESH => (GRANT_REFRESH, self.refresh_grant(client, p, ctx).await),
            GRANT_CLIENT_CREDENTIALS => (GRANT_CLIENT_CREDENTIALS, self.client_credentials(client, p).await),
            _ => return Err(Error::UnsupportedGrantType),
        };
        let (response, account) = result?;
        let mut event = Event::new("token_issued").client(&client.id).grant_type(kind);
        event.account = account;
        self.audit.record(ctx, event);
        Ok(response)
    }

    /// Each grant returns the response and the account it was for (none for a service client).
    async fn code_grant(
        &self,
        client: &Client,
        p: TokenParams,
        ctx: &RequestContext,
    ) -> Result<(TokenResponse, Option<String>), Error> {
        let code = p.code.as_deref().ok_or_else(|| Error::InvalidRequest("code is required".into()))?;
        let code_hash = secret_hash(code);
        // Who presents the code is checked before it is spent, so a client holding another's leaked code (or a
        // wrong redirect_uri or verifier) cannot burn it; spending stays atomic below.
        let peeked = match self.store.peek_code(&code_hash).await? {
            Redemption::Fresh(record) => record,
            Redemption::Spent { grant_id } => return Err(self.code_replayed(client, &grant_id, ctx).await?),
            Redemption::Unknown => return Err(Error::InvalidGrant("code is invalid or expired".into())),
        };
        check_code(&peeked, client, &p)?;
        let record = match self.store.redeem_code(&code_hash).await? {
            Redemption::Fresh(record) => record,
            Redemption::Spent { grant_id } => return Err(self.code_replayed(client, &grant_id, ctx).await?),
            Redemption::Unknown => return Err(Error::InvalidGrant("code is invalid or expired".into())),
        };
        check_code(&record, client, &p)?;
        let now = self.clock.now();
        let scopes: Vec<&str> = record.scope.split(' ').collect();
        let refresh = self.wants_refresh(client, &scopes).then(|| self.refresh_secret(&record.grant_id, 0));
        let grant = Grant {
            id: record.grant_id,
            client_id: client.id.clone(),
            sid: Some(record.sid.clone()),
            scope: record.scope.clone(),
            auth_time: record.auth_time,
            user: Some(record.user),
            amr: record.amr,
            refresh_hash: refresh.as_deref().map(secret_hash),
            issued_at: now,
            expires_at: now
                + if refresh.is_some() {
                    self.tokens.refresh_token_ttl_secs
                } else {
                    self.tokens.access_token_ttl_secs
                },
        };
        // Written only while the session exists, atomically in the store: a logout cannot land between a
        // session check and the write and leave a live grant behind.
        if !self.store.put_session_grant(&grant).await? {
            return Err(Error::InvalidGrant("the sign-in session has ended".into()));
        }
        let account = grant.user.as_ref().map(|u| u.mail.clone());
        Ok((self.mint(client, &grant, &record.scope, record.nonce.as_deref(), refresh)?, account))
    }

    /// A spent code came back: the grant it produced is revoked (RFC 6749 §4.1.2).
    async fn code_replayed(&self, client: &Client, grant_id: &str, ctx: &RequestContext) -> Result<Error, Error> {
        let revoked = self.store.revoke_grant(grant_id).await?;
        let mut event = Event::new("code_replay_detected").client(&client.id);
        event.account = revoked.and_then(|g| g.user).map(|u| u.mail);
        self.audit.record(ctx, event);
        Ok(Error::InvalidGrant("code already used".into()))
    }

    /// The secret of generation `generation` of grant `grant_id`'s refresh tokens: `<generation>.<mac>`. Only
    /// this server can make one, so a presented secret with a good MAC is one the family really issued, and a
    /// spent one is recognised without keeping every old hash.
    fn refresh_secret(&self, grant_id: &str, generation: u64) -> String {
        let generation = generation.to_string();
        format!("{generation}.{}", self.secret.mac(REFRESH_MAC, &[grant_id, &generation]))
    }

    /// A service client acting for itself (RFC 6749 §4.4): only the scopes it is registered for, no user.
    async fn client_credentials(
        &self,
        client: &Client,
        p: TokenParams,
    ) -> Result<(TokenResponse, Option<String>), Error> {
        if client.public {
            return Err(Error::UnauthorizedClient("public clients cannot use client_credentials".into()));
        }
        let requested: Vec<&str> = match p.scope.as_deref() {
            Some(s) => s.split_whitespace().collect(),
            None => client.scopes.iter().map(String::as_str).collect(),
        };
        let mut scope: Vec<&str> = Vec::new();
        for s in requested {
            if !client.scopes.iter().any(|c| c == s) || USER_SCOPES.contains(&s) {
                return Err(Error::InvalidScope(format!("{s} is not allowed for this client")));
            }
            if !scope.contains(&s) {
                scope.push(s);
            }
        }
        let scope = scope.join(" ");
        let grant = Grant {
            id: random_id(),
            client_id: client.id.clone(),
            sid: None,
            scope: scope.clone(),
            auth_time: self.clock.now(),
            user: None,
            refresh_hash: None,
            expires_at: self.clock.now() + self.tokens.access_token_ttl_secs,
            amr: Vec::new(),
            issued_at: self.clock.now(),
        };
        self.store.put_grant(&grant).await?;
        Ok((self.mint(client, &grant, &scope, None, None)?, None))
    }

    fn wants_refresh(&self, client: &Client, scopes: &[&str]) -> bool {
        client.allows_grant(GRANT_REFRESH) && (client.offline_access_implied || scopes.contains(&"offline_access"))
    }

    async fn refresh_grant(
        &self,
        client: &Client,
        p: TokenParams,
        ctx: &RequestContext,
    ) -> Result<(TokenResponse, Option<String>), Error> {
        let presented = p.refresh_token.ok_or_else(|| Error::InvalidRequest("refresh_token is required".into()))?;
        let invalid = || Error::InvalidGrant("refresh token is invalid, expired or revoked".into());
        let (grant_id, secret) = presented.split_once('.').ok_or_else(invalid)?;
        let (generation_text, mac) = secret.split_once('.').ok_or_else(invalid)?;
        // A secret this server never issued changes nothing: only a genuine spent one is reuse.
        if !self.secret.verify(REFRESH_MAC, &[grant_id, generation_text], mac) {
            return Err(invalid());
        }
        let generation: u64 = generation_text.parse().map_err(|_| invalid())?;
        let grant = self.store.grant(grant_id).await?.ok_or_else(invalid)?;
        if grant.client_id != client.id {
            return Err(invalid());
        }
        let scope = narrow_scope(&grant.scope, p.scope.as_deref())?;
        let user = match &grant.user {
            Some(user) => Some(self.recheck_user(user, &grant, ctx).await?),
            None => None,
        };
        let next = self.refresh_secret(grant_id, generation.checked_add(1).ok_or_else(invalid)?);
        match self.store.rotate_refresh(grant_id, &secret_hash(secret), &secret_hash(&next), user.as_ref()).await? {
            Rotation::Rotated(grant) => {
                let account = grant.user.as_ref().map(|u| u.mail.clone());
                Ok((self.mint(client, &grant, &scope, None, Some(next))?, account))
            }
            Rotation::Reused(grant) => {
                let mut event = Event::new("refresh_reuse_detected").client(&client.id);
                event.account = grant.user.map(|u| u.mail);
                event.sid = grant.sid;
                self.audit.record(ctx, event);
                Err(Error::InvalidGrant("refresh token was already used; all tokens of this grant are revoked".into()))
            }
            Rotation::Unknown => Err(invalid()),
        }
    }

    /// The account as the directory sees it now; a disabled, removed or disallowed account revokes the grant.
    /// While the directory is down, the account's last good answer within the outage grace stands in for it.
    async fn recheck_user(&self, user: &User, grant: &Grant, ctx: &RequestContext) -> Result<User, Error> {
        let grant_id = grant.id.as_str();
        let mut grace = Event::new("directory_outage_grace").client(&grant.client_id);
        grace.sid = grant.sid.clone();
        match self.lookup_with_grace(&user.mail, "refresh", grace, ctx).await? {
            Ok(now) if now.id == user.id && self.policy.allows(&now.mail) => Ok(now),
            outcome => {
                self.store.revoke_grant(grant_id).await?;
                let reason = outcome.err().map(crate::directory::Refusal::as_str).unwrap_or("account_changed");
                self.audit.record(ctx, Event::new("grant_revoked").account(&user.mail).reason(reason));
                Err(Error::InvalidGrant("the account is no longer allowed to sign in".into()))
            }
        }
    }

    /// Signs the access token and, for user grants, the ID token.
    fn mint(
        &self,
        client: &Client,
        grant: &Grant,
        scope: &str,
        nonce: Option<&str>,
        refresh: Option<String>,
    ) -> Result<TokenResponse, Error> {
        let now = self.clock.now();
        let keys = self.keys.current();
        let subject = grant.user.as_ref().map(|u| u.id.clone()).unwrap_or_else(|| client.id.clone());
        let access = AccessToken {
            iss: self.issuer.clone(),
            sub: subject,
            aud: self.issuer.clone(),
            exp: now + self.tokens.access_token_ttl_secs,
            iat: now,
            jti: format!("{}.{}", grant.id, random_id()),
            client_id: client.id.clone(),
            scope: scope.to_owned(),
            auth_time: grant.user.as_ref().map(|_| grant.auth_time),
            sid: grant.sid.clone(),
        };
        let access_token = keys.sign(ACCESS_TOKEN_TYP, &access, None)?;
        let scopes: Vec<&str> = scope.split(' ').collect();
        let id_token = match &grant.user {
            Some(user) if scopes.contains(&"openid") => Some(keys.sign(
                "JWT",
                &IdToken {
                    iss: &self.issuer,
                    sub: &user.id,
                    aud: &client.id,
                    exp: now + self.tokens.id_token_ttl_secs,
                    iat: now,
                    auth_time: grant.auth_time,
                    nonce,
                    at_hash: at_hash(&access_token),
                    sid: grant.sid.as_deref(),
                    amr: crate::mfa::policy::amr_or_password(&grant.amr),
                    acr: crate::mfa::policy::acr_for(&grant.amr),
                    azp: &client.id,
                    user: user_claims(user, &scopes),
                },
                client.id_token_alg,
            )?),
            _ => None,
        };
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: self.tokens.access_token_ttl_secs,
            id_token,
            refresh_token: refresh.map(|r| format!("{}.{r}", grant.id)),
            scope: scope.to_owned(),
        })
    }

    /// Checks a bearer access token: our signature, not expired, and its grant not revoked.
    pub async fn check_access_token(&self, token: &str) -> Result<(AccessToken, Grant), Error> {
        let claims: AccessToken = self
            .keys
            .current()
            .verify(token, ACCESS_TOKEN_TYP, |v| {
                v.set_audience(&[&self.issuer]);
                v.set_issuer(&[&self.issuer]);
            })
            .map_err(|_| Error::InvalidToken("the access token is invalid or expired".into()))?;
        let grant = self
            .store
            .grant(claims.grant_id())
            .await?
            .ok_or_else(|| Error::InvalidToken("the access token has been revoked".into()))?;
        Ok((claims, grant))
    }

    /// The userinfo response (OIDC Core §5.3) for a bearer access token.
    pub async fn userinfo(&self, token: &str) -> Result<Map<String, Value>, Error> {
        let (claims, grant) = self.check_access_token(token).await?;
        let scopes: Vec<&str> = claims.scope.split(' ').collect();
        let user = grant.user.as_ref().filter(|_| scopes.contains(&"openid"));
        let user = user.ok_or_else(|| Error::InvalidToken("the access token carries no openid scope".into()))?;
        let mut out = Map::new();
        out.insert("sub".into(), user.id.clone().into());
        out.extend(user_claims(user, &scopes));
        Ok(out)
    }
}

/// The MAC purpose of refresh secrets.
const REFRESH_MAC: &str = "danang-sso refresh v1";

/// The code was issued to this client, for this redirect_uri, and the PKCE verifier matches its challenge.
fn check_code(record: &crate::store::AuthCode, client: &Client, p: &TokenParams) -> Result<(), Error> {
    if record.client_id != client.id {
        return Err(Error::InvalidGrant("code was issued to another client".into()));
    }
    if p.redirect_uri.as_deref() != Some(record.redirect_uri.as_str()) {
        return Err(Error::InvalidGrant("redirect_uri does not match the authorization request".into()));
    }
    match (&record.code_challenge, p.code_verifier.as_deref()) {
        (Some(challenge), Some(verifier)) if pkce::verify(challenge, verifier) => Ok(()),
        (None, None) => Ok(()),
        (None, Some(_)) => Err(Error::InvalidGrant("no code_challenge was sent for this code".into())),
        _ => Err(Error::InvalidGrant("PKCE verification failed".into())),
    }
}

/// A refresh may ask for fewer scopes than were granted, never more (RFC 6749 §6).
fn narrow_scope(granted: &str, requested: Option<&str>) -> Result<String, Error> {
    let Some(requested) = requested else { return Ok(granted.to_owned()) };
    let granted: Vec<&str> = granted.split(' ').collect();
    let mut out: Vec<&str> = Vec::new();
    for s in requested.split_whitespace() {
        if !granted.contains(&s) {
            return Err(Error::InvalidScope(format!("{s} was not granted")));
        }
        if !out.contains(&s) {
            out.push(s);
        }
    }
    Ok(out.join(" "))
}
