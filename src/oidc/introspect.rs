//! Token introspection (RFC 7662) and revocation (RFC 7009), for the back ends that receive tokens.
//!
//! A token is active only while its grant lives: revoked, expired, or ended with its SSO session, it reads
//! inactive. A client sees and revokes only its own tokens, unless `introspect_for` names the other client.

use serde_json::{Value, json};

use super::Provider;
use super::claims::AccessToken;
use super::clients::Client;
use super::secret_hash;
use crate::error::Error;
use crate::store::Grant;

/// What a presented token turned out to be.
enum Found {
    Access(AccessToken, Grant),
    Refresh(Grant),
}

impl Provider {
    /// Finds the live grant behind an access or refresh token; `None` for anything unknown, expired or revoked.
    async fn find(&self, token: &str) -> Result<Option<Found>, Error> {
        // A refresh token is `<grant>.<generation>.<mac>` (see token.rs); a JWT's middle part is never all digits.
        let generation = token.split('.').nth(1).unwrap_or("");
        let is_refresh = !generation.is_empty() && generation.bytes().all(|b| b.is_ascii_digit());
        if !is_refresh && token.matches('.').count() == 2 {
            return match self.check_access_token(token).await {
                Ok((claims, grant)) => Ok(Some(Found::Access(claims, grant))),
                Err(Error::InvalidToken(_)) => Ok(None),
                Err(e) => Err(e),
            };
        }
        let Some((grant_id, secret)) = token.split_once('.') else { return Ok(None) };
        let grant = self.store.grant(grant_id).await?;
        Ok(grant.filter(|g| g.refresh_hash.as_deref() == Some(secret_hash(secret).as_str())).map(Found::Refresh))
    }

    /// The RFC 7662 answer for `token`, as seen by `caller`.
    pub async fn introspect(&self, caller: &Client, token: &str) -> Result<Value, Error> {
        let inactive = json!({ "active": false });
        let Some(found) = self.find(token).await? else { return Ok(inactive) };
        let grant = match &found {
            Found::Access(_, g) | Found::Refresh(g) => g,
        };
        if !caller.may_manage_tokens_of(&grant.client_id) {
            return Ok(inactive);
        }
        let username = grant.user.as_ref().map(|u| u.mail.clone());
        Ok(match found {
            Found::Access(claims, _) => json!({
                "active": true,
                "token_type": "Bearer",
                "scope": claims.scope,
                "client_id": claims.client_id,
                "sub": claims.sub,
                "username": username,
                "aud": claims.aud,
                "iss": claims.iss,
                "exp": claims.exp,
                "iat": claims.iat,
                "jti": claims.jti,
                "sid": claims.sid,
            }),
            Found::Refresh(grant) => json!({
                "active": true,
                "token_type": "refresh_token",
                "scope": grant.scope,
                "client_id": grant.client_id,
                "sub": grant.user.as_ref().map(|u| u.id.clone()).unwrap_or_else(|| grant.client_id.clone()),
                "username": username,
                "iss": self.issuer,
                "exp": grant.expires_at,
                "sid": grant.sid,
            }),
        })
    }

    /// Revokes the grant behind `token` (its refresh family and every access token it gave). Unknown tokens and
    /// other clients' tokens are ignored: the answer is the same either way (RFC 7009 §2.2).
    pub async fn revoke(&self, caller: &Client, token: &str) -> Result<(), Error> {
        let grant = match self.find(token).await? {
            Some(Found::Access(_, g) | Found::Refresh(g)) => g,
            None => return Ok(()),
        };
        if caller.may_manage_tokens_of(&grant.client_id) {
            self.store.revoke_grant(&grant.id).await?;
            tracing::info!(client = %caller.id, grant = %grant.id, "grant revoked by the client");
        }
        Ok(())
    }
}
