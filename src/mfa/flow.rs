//! Second factors at work: reading and sealing an account's record, checking a typed code (throttled like a
//! password, a TOTP code accepted once), enrolling, renewing recovery codes, removing and resetting — each one
//! audited (`mfa_success`, `mfa_failure`, `mfa_enrolled`, `mfa_removed`, `mfa_reset`).

use super::factors::{Factors, TotpFactor};
use super::policy::{Step, amr_with, next_step};
use super::totp;
use crate::audit::{Event, RequestContext};
use crate::directory::User;
use crate::error::Error;
use crate::oidc::Provider;
use crate::policy::throttle::Gate;
use crate::store::Session;

/// How long a fresh sign-in allows sensitive changes on the account page (removing a factor).
pub const FRESH_SIGN_IN_SECS: u64 = 300;
/// How long a used TOTP step is remembered: past the ±1 step it could still be accepted in.
const USED_STEP_MEMORY_SECS: u64 = 4 * totp::STEP_SECS;

/// What a typed second-factor code led to.
#[derive(Debug)]
pub enum Verification {
    /// Right: the session now carries the second factor (stored).
    Passed(Session),
    /// Wrong (or reused); `throttled` when the next attempt must wait.
    Wrong,
    /// Too many wrong codes: no code is checked for this many seconds.
    Throttled(u64),
}

/// A TOTP enrolment in progress: shown to the person, confirmed by a code from their app.
pub struct PendingTotp {
    pub secret: String,
    /// The secret sealed for this account, carried in the confirmation form (so nothing is stored before the
    /// person proves their app has it, and nobody can swap in a secret of their own).
    pub sealed: String,
    pub uri: String,
    pub qr_svg: String,
}

pub(super) fn throttle_key(account: &str) -> String {
    format!("mfa:{account}")
}

fn pending_aad(account: &str) -> String {
    format!("pending-totp:{account}")
}

impl Provider {
    /// An account's second factors (none when it has no record).
    pub async fn factors(&self, account: &str) -> Result<Factors, Error> {
        let Some(sealed) = self.store.mfa_factors(account).await? else { return Ok(Factors::default()) };
        let plain = self.mfa.sealer.open(account, &sealed).map_err(|e| Error::Internal(e.to_string()))?;
        serde_json::from_slice(&plain).map_err(|e| Error::Internal(format!("second-factor record: {e}")))
    }

    pub(super) async fn save_factors(&self, account: &str, factors: &Factors) -> Result<(), Error> {
        if factors == &Factors::default() {
            self.store.delete_mfa_factors(account).await?;
            return Ok(());
        }
        let plain = serde_json::to_vec(factors).map_err(|e| Error::Internal(e.to_string()))?;
        Ok(self.store.put_mfa_factors(account, &self.mfa.sealer.seal(account, &plain)).await?)
    }

    /// What a session must still do for an app (`app_requires`: its `require_mfa`; `requested`: `acr_values` or
    /// SAML class references). The factor record is read only when two factors are needed and missing.
    pub async fn mfa_step(
        &self,
        session: &Session,
        user: &User,
        app_requires: bool,
        requested: &[&str],
    ) -> Result<Step, Error> {
        let required = self.mfa.policy.requires(&user.groups, app_requires, requested);
        if !required || session.has_second_factor() {
            return Ok(Step::Continue);
        }
        let enrolled = self.factors(&session.account).await?.is_enrolled();
        Ok(next_step(required, session, enrolled))
    }

    /// Checks a typed code (TOTP or recovery code) for the session's account. Wrong codes count against the
    /// account like wrong passwords (a counter of their own, so a right password does not clear them).
    pub async fn verify_second_factor(
        &self,
        session: &Session,
        typed: &str,
        client: &str,
        ctx: &RequestContext,
    ) -> Result<Verification, Error> {
        let account = session.account.as_str();
        let key = throttle_key(account);
        // Reserved before the code is checked, like a password: parallel guesses cannot pass one check together.
        let ticket = match self.throttle.admit(self.store.as_ref(), Some(&key), ctx.ip).await? {
            Gate::Admitted(ticket) => ticket,
            Gate::Wait(wait) => {
                self.audit.record(ctx, Event::new("mfa_failure").account(account).client(client).reason("throttled"));
                return Ok(Verification::Throttled(wait));
            }
        };
        let mut factors = self.factors(account).await?;
        let now = self.clock.now();
        let method = if Factors::looks_like_recovery_code(typed) {
            if factors.take_recovery_code(typed) {
                self.save_factors(account, &factors).await?;
                Some(("otp", "recovery_code"))
            } else {
                None
            }
        } else {
            match factors.totp.as_ref().and_then(|t| totp::matching_step(&t.secret, typed, now)) {
                // Accepted once: a second use of the same step (on any instance) is refused.
                Some(step) => {
                    let uses = self.store.hit(&format!("mfa:used:{account}:{step}"), USED_STEP_MEMORY_SECS).await?;
                    (uses == 1).then_some(("otp", "totp"))
                }
                None => None,
            }
        };
        let Some((amr, reason)) = method else {
            self.audit.record(ctx, Event::new("mfa_failure").account(account).client(client).reason("wrong_code"));
            if let Some(secs) = ticket.lockout {
                tracing::warn!(secs, "second factor locked out after too many wrong codes");
                return Ok(Verification::Throttled(secs));
            }
            return Ok(Verification::Wrong);
        };
        self.throttle.succeeded(self.store.as_ref(), &ticket).await?;
        let session = self.with_second_factor(session, amr).await?;
        self.audit
            .record(ctx, Event::new("mfa_success").account(account).client(client).sid(&session.id).reason(reason));
        Ok(Verification::Passed(session))
    }

    /// The session, stored again with `method` added to its `amr`.
    pub(super) async fn with_second_factor(&self, session: &Session, method: &str) -> Result<Session, Error> {
        let now = self.clock.now();
        let session = Session { amr: amr_with(&session.amr, method), last_used: now, ..session.clone() };
        self.store.put_session(&session).await?;
        Ok(session)
    }

    /// A new TOTP secret for `account`, not yet stored.
    pub fn start_totp(&self, account: &str) -> PendingTotp {
        let secret = totp::new_secret();
        let sealed = self.mfa.sealer.seal(&pending_aad(account), secret.as_bytes());
        let uri = totp::otpauth_uri(&self.mfa.issuer_label, account, &secret);
        let qr_svg = totp::qr_svg(&uri);
        PendingTotp { secret, sealed, uri, qr_svg }
    }

    /// The pending enrolment carried by a confirmation form, if it is this account's.
    pub fn pending_totp(&self, account: &str, sealed: &str) -> Option<PendingTotp> {
        let secret = String::from_utf8(self.mfa.sealer.open(&pending_aad(account), sealed).ok()?).ok()?;
        let uri = totp::otpauth_uri(&self.mfa.issuer_label, account, &secret);
        let qr_svg = totp::qr_svg(&uri);
        Some(PendingTotp { secret, sealed: sealed.to_owned(), uri, qr_svg })
    }

    /// Confirms a TOTP enrolment with a code from the app. On success the factor is stored, the session counts
    /// as two-factor, and new recovery codes are returned when the account had none (shown once).
    pub async fn confirm_totp(
        &self,
        session: &Session,
        pending: &PendingTotp,
        typed: &str,
        ctx: &RequestContext,
    ) -> Result<Option<(Session, Vec<String>)>, Error> {
        let account = session.account.as_str();
        let now = self.clock.now();
        let Some(step) = totp::matching_step(&pending.secret, typed, now) else {
            self.audit.record(ctx, Event::new("mfa_failure").account(account).reason("enrolment_code_wrong"));
            return Ok(None);
        };
        // The confirming code is spent: it cannot also sign in.
        self.store.hit(&format!("mfa:used:{account}:{step}"), USED_STEP_MEMORY_SECS).await?;
        let mut factors = self.factors(account).await?;
        factors.totp = Some(TotpFactor { secret: pending.secret.clone(), created: now });
        let codes = if factors.recovery.is_empty() { factors.new_recovery_codes() } else { Vec::new() };
        self.save_factors(account, &factors).await?;
        self.audit.record(ctx, Event::new("mfa_enrolled").account(account).sid(&session.id).reason("totp"));
        let session = self.with_second_factor(session, "otp").await?;
        Ok(Some((session, codes)))
    }

    /// Ten new recovery codes replace the old ones; returned to be shown once.
    pub async fn renew_recovery_codes(&self, session: &Session, ctx: &RequestContext) -> Result<Vec<String>, Error> {
        let account = session.account.as_str();
        let mut factors = self.factors(account).await?;
        let codes = factors.new_recovery_codes();
        self.save_factors(account, &factors).await?;
        self.audit.record(ctx, Event::new("mfa_enrolled").account(account).sid(&session.id).reason("recovery_codes"));
        Ok(codes)
    }

    /// Removes one factor (`totp`, `passkey:<credential id>`, `recovery_codes`); with the last factor gone, its
    /// recovery codes go too.
    pub async fn remove_factor(&self, session: &Session, kind: &str, ctx: &RequestContext) -> Result<bool, Error> {
        let account = session.account.as_str();
        let mut factors = self.factors(account).await?;
        let (removed, reason) = match kind {
            "totp" => (factors.totp.take().is_some(), "totp"),
            "recovery_codes" => (!std::mem::take(&mut factors.recovery).is_empty(), "recovery_codes"),
            _ => match kind.strip_prefix("passkey:") {
                Some(id) => (factors.remove_passkey(id), "passkey"),
                None => (false, "unknown"),
            },
        };
        if !factors.is_enrolled() {
            factors.recovery.clear();
        }
        if removed {
            self.save_factors(account, &factors).await?;
            self.audit.record(ctx, Event::new("mfa_removed").account(account).sid(&session.id).reason(reason));
        }
        Ok(removed)
    }

    /// Whether a session may make sensitive changes now: a password typed in the last five minutes, and the
    /// second factor too when the account has one.
    pub fn is_fresh(&self, session: &Session, enrolled: bool) -> bool {
        self.clock.now().saturating_sub(session.auth_time) <= FRESH_SIGN_IN_SECS
            && (!enrolled || session.has_second_factor())
    }

    /// The IT centre's reset for a lost phone: every factor of the account goes; its next sign-in enrols again
    /// where two factors are required. Returns what there was.
    pub async fn reset_mfa(
        &self,
        account: &str,
        operator: &str,
        ctx: &RequestContext,
    ) -> Result<Vec<&'static str>, Error> {
        self.reset_mfa_noted(account, operator, None, ctx).await
    }

    /// [`Self::reset_mfa`] with the reason the staff member typed in the console, kept as the audit line's `note`.
    pub async fn reset_mfa_noted(
        &self,
        account: &str,
        operator: &str,
        note: Option<&str>,
        ctx: &RequestContext,
    ) -> Result<Vec<&'static str>, Error> {
        let mail = self.policy.normalize_login(account).unwrap_or_else(|_| account.trim().to_lowercase());
        let had = self.factors(&mail).await?.kinds();
        self.store.delete_mfa_factors(&mail).await?;
        self.audit.record(ctx, Event::new("mfa_reset").by(operator, note).account(&mail).reason("operator_reset"));
        Ok(had)
    }

    /// The demo directory's `anhvn@danang.gov.vn` has an authenticator app from the start (secret
    /// [`super::DEMO_TOTP_SECRET`], printed in the README), so a newcomer can try the second factor at once.
    pub async fn enrol_demo_factor(&self) -> Result<(), Error> {
        let account = super::DEMO_TOTP_ACCOUNT;
        if self.factors(account).await?.totp.is_none() {
            let totp = TotpFactor { secret: super::DEMO_TOTP_SECRET.into(), created: self.clock.now() };
            self.save_factors(account, &Factors { totp: Some(totp), ..Factors::default() }).await?;
        }
        Ok(())
    }

    /// The IT centre's view of an account's factors (names only, never secrets).
    pub async fn list_mfa(&self, account: &str) -> Result<(String, Vec<&'static str>), Error> {
        let mail = self.policy.normalize_login(account).unwrap_or_else(|_| account.trim().to_lowercase());
        let kinds = self.factors(&mail).await?.kinds();
        Ok((mail, kinds))
    }
}
