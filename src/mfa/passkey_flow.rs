//! Passkeys at work: the two WebAuthn ceremonies tied to the store, the throttle and the audit trail.
//!
//! Each ceremony starts with a challenge kept in the store under the SSO session's id (so any instance sharing
//! the store can finish it), for [`CHALLENGE_SECS`], and spent by the first answer that names it: an answer
//! replayed later, or carried to another session, finds no challenge. Passkey answers count against the same
//! per-account throttle as wrong codes; a passkey proves `hwk` (RFC 8176: proof of possession of a
//! hardware-secured key) and with the password earns `mfa`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;

use super::Factors;
use super::flow::{Verification, throttle_key};
use super::passkey::{self, Assertion, Refusal, RelyingParty};
use super::passkey_factor::{PasskeyFactor, clean_name};
use crate::audit::{Event, RequestContext};
use crate::error::Error;
use crate::oidc::Provider;
use crate::policy::throttle::Gate;
use crate::store::Session;

/// How long a ceremony may take, from the page to the answer.
pub const CHALLENGE_SECS: u64 = 300;
/// The `amr` value a passkey earns.
pub const PASSKEY_AMR: &str = "hwk";

/// What the passkey pages hand the browser for `navigator.credentials.create` / `get`.
#[derive(Debug, Clone)]
pub struct CeremonyOptions {
    pub challenge: String,
    pub rp_id: String,
    /// Registration: the account's user handle (not the mailbox); empty for authentication.
    pub user_id: String,
    /// Registration: credentials to exclude; authentication: the credentials allowed.
    pub credentials: Vec<String>,
}

/// What a registration answer led to.
#[derive(Debug)]
pub enum Registered {
    /// Stored; the session now counts as two-factor. New recovery codes when the account had none.
    Added(Session, Vec<String>),
    Refused(Refusal),
}

fn challenge_key(purpose: &str, session: &Session, challenge: &str) -> String {
    format!("{purpose}:{}:{challenge}", session.id)
}

impl Provider {
    /// The relying party this service is: the issuer's host and origin.
    pub fn relying_party(&self) -> Result<RelyingParty, Error> {
        RelyingParty::from_issuer(&self.issuer).ok_or_else(|| Error::Internal("the issuer has no host".into()))
    }

    async fn new_ceremony(&self, purpose: &str, session: &Session) -> Result<String, Error> {
        let challenge = passkey::new_challenge();
        let expires_at = self.clock.now() + CHALLENGE_SECS;
        self.store.put_challenge(&challenge_key(purpose, session, &challenge), expires_at).await?;
        Ok(challenge)
    }

    /// Starts adding a passkey to the session's account.
    pub async fn start_passkey_registration(&self, session: &Session) -> Result<CeremonyOptions, Error> {
        let factors = self.factors(&session.account).await?;
        let challenge = self.new_ceremony("reg", session).await?;
        // The user handle must not be personal data: a hash of the directory id stands for the person.
        let handle = crate::oidc::sha256(format!("danang-sso passkey user\n{}", session.subject).as_bytes());
        Ok(CeremonyOptions {
            challenge,
            rp_id: self.relying_party()?.id,
            user_id: B64.encode(&handle[..16]),
            credentials: factors.passkeys.iter().map(|p| p.id.clone()).collect(),
        })
    }

    /// Finishes adding a passkey: the challenge must be this session's and unspent, the answer must pass every
    /// registration check, and the credential must be new.
    #[allow(clippy::too_many_arguments)]
    pub async fn finish_passkey_registration(
        &self,
        session: &Session,
        challenge: &str,
        client_data_json: &str,
        attestation_object: &str,
        name: &str,
        fallback_name: &str,
        ctx: &RequestContext,
    ) -> Result<Registered, Error> {
        let account = session.account.as_str();
        let refused = |r: Refusal| {
            self.audit.record(ctx, Event::new("mfa_failure").account(account).sid(&session.id).reason(r.as_str()));
            Ok(Registered::Refused(r))
        };
        if !self.store.take_challenge(&challenge_key("reg", session, challenge)).await? {
            return refused(Refusal::WrongChallenge);
        }
        let rp = self.relying_party()?;
        let credential = match passkey::verify_registration(&rp, challenge, client_data_json, attestation_object) {
            Ok(c) => c,
            Err(r) => return refused(r),
        };
        let mut factors = self.factors(account).await?;
        if factors.passkey(&credential.id).is_some() {
            return refused(Refusal::UnknownCredential);
        }
        let now = self.clock.now();
        factors.passkeys.push(PasskeyFactor {
            id: credential.id,
            public_key: credential.public_key,
            sign_count: credential.sign_count,
            name: clean_name(name, fallback_name),
            created: now,
            last_used: None,
        });
        let codes = if factors.recovery.is_empty() { factors.new_recovery_codes() } else { Vec::new() };
        self.save_factors(account, &factors).await?;
        self.audit.record(ctx, Event::new("mfa_enrolled").account(account).sid(&session.id).reason("passkey"));
        let session = self.with_second_factor(session, PASSKEY_AMR).await?;
        Ok(Registered::Added(session, codes))
    }

    /// Starts the second-factor ceremony when the account has passkeys (`None` otherwise).
    pub async fn start_passkey_assertion(
        &self,
        session: &Session,
        factors: &Factors,
    ) -> Result<Option<CeremonyOptions>, Error> {
        if factors.passkeys.is_empty() {
            return Ok(None);
        }
        let challenge = self.new_ceremony("auth", session).await?;
        Ok(Some(CeremonyOptions {
            challenge,
            rp_id: self.relying_party()?.id,
            user_id: String::new(),
            credentials: factors.passkeys.iter().map(|p| p.id.clone()).collect(),
        }))
    }

    /// The IT centre's view of an account's passkeys: name, added, last used (never a key).
    pub async fn list_passkeys(&self, mail: &str) -> Result<Vec<(String, u64, Option<u64>)>, Error> {
        let factors = self.factors(mail).await?;
        Ok(factors.passkeys.iter().map(|k| (k.name.clone(), k.created, k.last_used)).collect())
    }

    /// Checks a passkey answer on the second-factor page. Throttled and audited like a typed code (the refusal's
    /// name is the audit line's reason).
    pub async fn verify_passkey(
        &self,
        session: &Session,
        challenge: &str,
        assertion: &Assertion,
        client: &str,
        ctx: &RequestContext,
    ) -> Result<Verification, Error> {
        let account = session.account.as_str();
        let ticket = match self.throttle.admit(self.store.as_ref(), Some(&throttle_key(account)), ctx.ip).await? {
            Gate::Admitted(ticket) => ticket,
            Gate::Wait(wait) => {
                self.audit.record(ctx, Event::new("mfa_failure").account(account).client(client).reason("throttled"));
                return Ok(Verification::Throttled(wait));
            }
        };
        let checked = if self.store.take_challenge(&challenge_key("auth", session, challenge)).await? {
            let mut factors = self.factors(account).await?;
            let rp = self.relying_party()?;
            match factors.check_passkey(&rp, challenge, assertion, self.clock.now()) {
                Ok(_) => self.save_factors(account, &factors).await.map(|()| Ok(())),
                Err(r) => Ok(Err(r)),
            }?
        } else {
            Err(Refusal::WrongChallenge)
        };
        if let Err(refusal) = checked {
            self.audit.record(ctx, Event::new("mfa_failure").account(account).client(client).reason(refusal.as_str()));
            if let Some(secs) = ticket.lockout {
                tracing::warn!(secs, "second factor locked out after too many refused answers");
                return Ok(Verification::Throttled(secs));
            }
            return Ok(Verification::Wrong);
        }
        self.throttle.succeeded(self.store.as_ref(), &ticket).await?;
        let session = self.with_second_factor(session, PASSKEY_AMR).await?;
        self.audit
            .record(ctx, Event::new("mfa_success").account(account).client(client).sid(&session.id).reason("passkey"));
        Ok(Verification::Passed(session))
    }
}
