//! The authorization endpoint's decisions: reuse the SSO session, ask for the password, or answer `login_required`;
//! check a posted password; hand out a single-use code.

use super::request::{AuthRequest, Prompt, RedirectError};
use super::{Provider, new_session_secret, random_id, random_token, secret_hash, session_id};
use crate::audit::{Event, RequestContext};
use crate::directory::{Refusal, User};
use crate::error::Error;
use crate::mfa::policy::Step;
use crate::policy::LoginRefusal;
use crate::policy::throttle::{Gate, Ticket};
use crate::store::{AuthCode, Session};

/// What the browser gets next.
#[derive(Debug)]
pub enum Outcome {
    /// Go back to the app (with a code, or with an error for it).
    Respond(AuthResponse),
    /// Show the sign-in form.
    Login,
    /// `prompt=select_account` with a live session: continue as this person, or use another mailbox.
    SelectAccount(Box<User>),
    /// Show this person the consent page (the scopes the app asks for) before the app gets a code.
    Consent(Box<User>),
    /// The session is good but the app needs a second factor it lacks: ask for it (or enrol one) — the step-up
    /// asks no password.
    SecondFactor(Step),
}

/// An authorization response for the client's registered redirect URI: a code or an error, with `state` and `iss`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthResponse {
    pub redirect_uri: String,
    pub params: Vec<(&'static str, String)>,
    /// Deliver as an auto-submitted form (OAuth 2.0 Form Post Response Mode) rather than in the query.
    pub form_post: bool,
}

impl AuthResponse {
    /// The redirect target with the parameters in its query (for the query response mode).
    pub fn location(&self) -> String {
        // Registered URIs were checked at start-up; fall back to the bare URI all the same.
        let Ok(mut url) = url::Url::parse(&self.redirect_uri) else { return self.redirect_uri.clone() };
        url.query_pairs_mut().extend_pairs(self.params.iter().map(|(k, v)| (*k, v.as_str())));
        url.into()
    }
}

/// What the sign-in form says when it comes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginMessage {
    /// Wrong password, unknown account, locked account, malformed mailbox: all read alike.
    BadCredentials,
    /// A mailbox outside the allowed domains.
    DomainRefused,
    /// Too many failures from this mailbox or address: wait this many seconds.
    Throttled(u64),
    /// The right password for a mailbox unused longer than this many days (`[policy] dormant_after_days`):
    /// the unit's chief of office must ask for its re-activation.
    Dormant(u64),
}

/// The result of checking a posted mailbox and password, whatever the protocol that asked.
// One value per sign-in, moved once: boxing the session would cost an allocation for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum SignIn {
    /// Signed in: the session (new or renewed) and the account as the directory gave it; set the session cookie
    /// to `cookie` when it changed.
    Success {
        session: Session,
        cookie: Option<String>,
        user: Box<User>,
        /// The OIDC authorization response, when the sign-in answered an OIDC request.
        response: Option<AuthResponse>,
    },
    Refused {
        message: LoginMessage,
        reason: &'static str,
    },
}

/// The result of a posted sign-in form for an OIDC request.
// One value per sign-in, moved once: the size of the success variant (the session's metadata) costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum LoginResult {
    /// Signed in: answer with `response`, and set the session cookie to `cookie` when it changed.
    Success {
        response: AuthResponse,
        cookie: Option<String>,
        session: Session,
    },
    /// Signed in, but the app needs the person's consent first: show it, setting the cookie to `cookie`.
    Consent {
        cookie: Option<String>,
        session: Session,
        user: Box<User>,
    },
    /// The password was right but the app needs a second factor: set the cookie, then ask for it (or enrol).
    SecondFactor {
        step: Step,
        cookie: Option<String>,
        session: Session,
    },
    Refused {
        message: LoginMessage,
        reason: &'static str,
    },
}

/// What an authorization request needs, given the browser's session (pure; OIDC Core §3.1.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Reuse,
    AskPassword,
    LoginRequired,
}

pub fn decide(req: &AuthRequest, session: Option<&Session>, now: u64) -> Decision {
    decide_prompt(req.prompt, req.max_age, session, now)
}

/// The same decision from its two inputs, for any protocol: SAML's `ForceAuthn` is `Prompt::Login`, its
/// `IsPassive` is `Prompt::None`.
pub fn decide_prompt(prompt: Prompt, max_age: Option<u64>, session: Option<&Session>, now: u64) -> Decision {
    let fresh_enough = |s: &Session| max_age.is_none_or(|max| now.saturating_sub(s.auth_time) <= max);
    match (session, prompt) {
        (Some(s), Prompt::Default | Prompt::None) if fresh_enough(s) => Decision::Reuse,
        (_, Prompt::None) => Decision::LoginRequired,
        _ => Decision::AskPassword,
    }
}

impl Provider {
    /// The live session a cookie points at.
    pub async fn session_for_cookie(&self, cookie: Option<&str>) -> Result<Option<Session>, Error> {
        match cookie {
            Some(secret) if !secret.is_empty() => Ok(self.store.session(&session_id(secret)).await?),
            _ => Ok(None),
        }
    }

    /// Handles a validated authorization request for a browser that may carry a session cookie.
    pub async fn authorize(
        &self,
        req: &AuthRequest,
        cookie: Option<&str>,
        ctx: &RequestContext,
    ) -> Result<Outcome, Error> {
        let session = self.session_for_cookie(cookie).await?;
        match decide(req, session.as_ref(), self.clock.now()) {
            Decision::Reuse => {
                let session = session.expect("Reuse is only decided with a session");
                self.touch_session(&session).await?;
                match self.recheck(&session, ctx).await? {
                    Some(user) if req.select_account => Ok(Outcome::SelectAccount(Box::new(user))),
                    Some(user) => self.answer_with_factors(req, &session, user).await,
                    None if req.prompt == Prompt::None => Ok(Outcome::Respond(self.login_required(req))),
                    None => Ok(Outcome::Login),
                }
            }
            Decision::LoginRequired => Ok(Outcome::Respond(self.login_required(req))),
            Decision::AskPassword => Ok(Outcome::Login),
        }
    }

    /// Answers a request in a live, rechecked session: a code, or the consent page first (`consent_required`
    /// for `prompt=none`).
    pub(super) async fn answer(&self, req: &AuthRequest, session: &Session, user: User) -> Result<Outcome, Error> {
        if !self.consent_needed(req, session).await? {
            return Ok(Outcome::Respond(self.issue_code(req, session, user).await?));
        }
        if req.prompt == Prompt::None {
            let e = RedirectError {
                redirect_uri: req.redirect_uri.clone(),
                error: "consent_required",
                description: "the person has not agreed to what this app asks for".into(),
                state: req.state.clone(),
                form_post: req.form_post,
            };
            return Ok(Outcome::Respond(self.error_response(&e)));
        }
        Ok(Outcome::Consent(Box::new(user)))
    }

    /// Answers in a live, rechecked session once it has the factors the app needs: else the second-factor step
    /// (`interaction_required` for `prompt=none`), never the password again.
    pub(super) async fn answer_with_factors(
        &self,
        req: &AuthRequest,
        session: &Session,
        user: User,
    ) -> Result<Outcome, Error> {
        match self.mfa_step_for(req, session, &user).await? {
            Step::Continue => self.answer(req, session, user).await,
            _ if req.prompt == Prompt::None => Ok(Outcome::Respond(self.interaction_required(req))),
            step => Ok(Outcome::SecondFactor(step)),
        }
    }

    /// What an OIDC request still needs of a session: its client's `require_mfa` and its `acr_values`.
    async fn mfa_step_for(&self, req: &AuthRequest, session: &Session, user: &User) -> Result<Step, Error> {
        let requested: Vec<&str> = req.acr_values.iter().map(String::as_str).collect();
        self.mfa_step(session, user, req.client.require_mfa, &requested).await
    }

    /// Notes that the browser used its session now, at most once a minute (see [`Session::touched`]).
    pub async fn touch_session(&self, session: &Session) -> Result<(), Error> {
        if let Some(touched) = session.touched(self.clock.now()) {
            self.store.put_session(&touched).await?;
        }
        Ok(())
    }

    /// Asks the directory about a session's account again; a removed, disabled or no longer allowed account ends it.
    pub(crate) async fn recheck(&self, session: &Session, ctx: &RequestContext) -> Result<Option<User>, Error> {
        let grace = Event::new("directory_outage_grace").sid(&session.id);
        match self.lookup_with_grace(&session.account, "sso", grace, ctx).await? {
            Ok(user) if user.id == session.subject && self.policy.allows(&user.mail) => Ok(Some(user)),
            outcome => {
                let reason = outcome.err().map(Refusal::as_str).unwrap_or("account_changed");
                self.end_session(&session.id, ctx, Event::new("session_ended").reason(reason)).await?;
                Ok(None)
            }
        }
    }

    /// Checks a posted mailbox and password for an OIDC request; on success starts (or refreshes) the SSO session
    /// and issues a code.
    pub async fn login(
        &self,
        req: &AuthRequest,
        username: &str,
        password: &str,
        cookie: Option<&str>,
        ctx: &RequestContext,
    ) -> Result<LoginResult, Error> {
        if req.consent || req.client.consent {
            // The code waits for the consent check (and maybe the page).
            return match self.sign_in(&req.client.id, username, password, cookie, ctx, None).await? {
                SignIn::Success { session, cookie, user, .. } => {
                    // Two factors first, when the app needs them; the consent page comes after the step-up.
                    let step = self.mfa_step_for(req, &session, &user).await?;
                    if !matches!(step, Step::Continue) {
                        return Ok(LoginResult::SecondFactor { step, cookie, session });
                    }
                    match self.answer(req, &session, *user).await? {
                        Outcome::Respond(response) => Ok(LoginResult::Success { response, cookie, session }),
                        Outcome::Consent(user) => Ok(LoginResult::Consent { cookie, session, user }),
                        _ => Err(Error::Internal("unexpected outcome after a sign-in".into())),
                    }
                }
                SignIn::Refused { message, reason } => Ok(LoginResult::Refused { message, reason }),
            };
        }
        match self.sign_in(&req.client.id, username, password, cookie, ctx, Some(req)).await? {
            SignIn::Success { session, cookie, response: Some(response), .. } => {
                Ok(LoginResult::Success { response, cookie, session })
            }
            SignIn::Success { response: None, session, cookie, user, .. } => {
                let step = self.mfa_step_for(req, &session, &user).await?;
                Ok(LoginResult::SecondFactor { step, cookie, session })
            }
            SignIn::Refused { message, reason } => Ok(LoginResult::Refused { message, reason }),
        }
    }

    /// Checks a posted mailbox and password for the app `client` (an OIDC client id or a SAML SP entity id, for
    /// the audit trail); on success starts (or refreshes) the SSO session. Throttled mailboxes and addresses are
    /// refused before the directory is asked, and a throttled account (whichever of its names was typed) before
    /// its password is checked. Every protocol's sign-in form comes through here.
    /// With `oidc`, the code for that request is issued together with the session.
    pub async fn sign_in(
        &self,
        client: &str,
        username: &str,
        password: &str,
        cookie: Option<&str>,
        ctx: &RequestContext,
        oidc: Option<&AuthRequest>,
    ) -> Result<SignIn, Error> {
        let normalized = self.policy.normalize_login(username);
        let account = normalized.as_ref().ok().map(String::as_str);
        // Reserved before the password goes anywhere, so parallel guesses cannot all pass (see policy::throttle).
        let ticket = match self.throttle.admit(self.store.as_ref(), account, ctx.ip).await? {
            Gate::Wait(wait) => {
                return Ok(self.refused(client, account, ctx, LoginMessage::Throttled(wait), "throttled"));
            }
            Gate::Admitted(ticket) => ticket,
        };
        let store = self.store.as_ref();
        let mail = match normalized {
            Ok(mail) => mail,
            Err(LoginRefusal::DomainNotAllowed) => {
                self.throttle.give_back(store, &ticket).await?;
                return Ok(self.refused(client, None, ctx, LoginMessage::DomainRefused, "domain_not_allowed"));
            }
            Err(LoginRefusal::Malformed) => return Ok(self.failed(client, None, ctx, "malformed_login", &ticket)),
        };
        if password.is_empty() {
            return Ok(self.failed(client, Some(&mail), ctx, "empty_password", &ticket));
        }
        // Found first (no password yet), so the account's own counter is reserved too whichever name was typed.
        let located = match self.directory.locate(&mail).await {
            Ok(located) => located,
            Err(unavailable) => {
                let _ = self.throttle.give_back(store, &ticket).await;
                return Err(unavailable.into());
            }
        };
        let ticket = match &located.account {
            Some(account) => match self.throttle.admit_account(store, ticket, account).await? {
                Gate::Wait(wait) => {
                    return Ok(self.refused(client, Some(&mail), ctx, LoginMessage::Throttled(wait), "throttled"));
                }
                Gate::Admitted(ticket) => ticket,
            },
            None => ticket,
        };
        let checked = match self.directory.check(located, password).await {
            Ok(checked) => checked,
            Err(unavailable) => {
                let _ = self.throttle.give_back(store, &ticket).await;
                return Err(unavailable.into());
            }
        };
        let user = match checked {
            Ok(user) if self.policy.allows(&user.mail) => user,
            Ok(_) => {
                self.throttle.give_back(store, &ticket).await?;
                return Ok(self.refused(client, Some(&mail), ctx, LoginMessage::DomainRefused, "domain_not_allowed"));
            }
            Err(refusal) => {
                if refusal != Refusal::WrongPassword {
                    self.forget_directory_check(&mail).await?;
                }
                return Ok(self.failed(client, Some(&mail), ctx, refusal.as_str(), &ticket));
            }
        };
        let now = self.clock.now();
        // Only now, with the password proved right: dormancy is nobody else's business.
        if let Some(days) = self.policy.dormancy.after_days
            && self.policy.dormancy.is_dormant(now, self.store.last_sign_in(&user.mail).await?)
        {
            self.throttle.give_back(store, &ticket).await?;
            return Ok(self.refused(client, Some(&mail), ctx, LoginMessage::Dormant(days), "dormant"));
        }
        let previous = self.session_for_cookie(cookie).await?;
        let (session, cookie) = match previous {
            // The same person signing in again (prompt=login, max_age): keep the session, renew auth_time.
            // A fresh password check: the factors proved earlier are proved again if the app needs them.
            Some(s) if s.subject == user.id => {
                (Session { auth_time: now, last_used: now, amr: vec!["pwd".into()], ..s }, None)
            }
            other => {
                if let Some(old) = other {
                    self.end_session(&old.id, ctx, Event::new("logout").reason("another_account_signed_in")).await?;
                }
                let secret = new_session_secret(&user.mail);
                let session = Session {
                    id: session_id(&secret),
                    account: user.mail.clone(),
                    subject: user.id.clone(),
                    auth_time: now,
                    expires_at: now + self.session.ttl_secs,
                    amr: vec!["pwd".into()],
                    ..Session::default()
                }
                .with_origin(ctx.ip, ctx.user_agent.as_deref(), now);
                (session, Some(secret))
            }
        };
        // Independent writes sent together: one round trip to a shared store instead of several. An OIDC code is
        // among them, so it reaches the browser only once the session it names is stored.
        // No code yet when the app needs a second factor: it is issued once the factor is proved.
        let oidc = match oidc {
            Some(req) if self.mfa_step_for(req, &session, &user).await? != Step::Continue => None,
            other => other,
        };
        let code = oidc.map(|req| self.new_code(req, &session, user.clone()));
        let (_, displaced, ..) = tokio::try_join!(
            self.throttle.succeeded(self.store.as_ref(), &ticket),
            self.store_session(&session, cookie.is_some()),
            self.store.record_sign_in(&session.account, now),
            self.remember_directory_check(&user.mail, &user),
            async {
                match &code {
                    Some((hash, record, _)) => self.store.put_code(hash, record).await,
                    None => Ok(()),
                }
            },
        )?;
        self.audit.record(ctx, Event::new("sign_in_success").account(&session.account).client(client).sid(&session.id));
        self.announce_displaced(displaced, ctx);
        let response = code.map(|(_, _, response)| response);
        Ok(SignIn::Success { session, cookie, user: Box::new(user), response })
    }

    /// A refusal that is not a password failure (throttled, domain): recorded, not counted.
    fn refused(
        &self,
        client: &str,
        account: Option<&str>,
        ctx: &RequestContext,
        message: LoginMessage,
        reason: &'static str,
    ) -> SignIn {
        let mut event = Event::new("sign_in_failure").client(client).reason(reason);
        event.account = account.map(str::to_owned);
        self.audit.record(ctx, event);
        SignIn::Refused { message, reason }
    }

    /// A failed password check: already counted against the mailbox and the address when it was admitted
    /// (`ticket`), recorded, and shown like all others.
    fn failed(
        &self,
        client: &str,
        account: Option<&str>,
        ctx: &RequestContext,
        reason: &'static str,
        ticket: &Ticket,
    ) -> SignIn {
        let result = self.refused(client, account, ctx, LoginMessage::BadCredentials, reason);
        if let Some(secs) = ticket.lockout {
            tracing::warn!(secs, "sign-in locked out after too many failures");
            let mut event = Event::new("lockout").client(client).reason("too_many_failures");
            event.account = account.map(str::to_owned);
            self.audit.record(ctx, event);
        }
        result
    }

    /// Stores a single-use code and returns the response that carries it (with `state` and RFC 9207 `iss`).
    pub(super) async fn issue_code(
        &self,
        req: &AuthRequest,
        session: &Session,
        user: User,
    ) -> Result<AuthResponse, Error> {
        let (code_hash, code, response) = self.new_code(req, session, user);
        self.store.put_code(&code_hash, &code).await?;
        Ok(response)
    }

    /// A new single-use code: the hash to store it under, what it will give, and the response carrying it.
    fn new_code(&self, req: &AuthRequest, session: &Session, user: User) -> (String, AuthCode, AuthResponse) {
        let code = random_token();
        let now = self.clock.now();
        let record = AuthCode {
            client_id: req.client.id.clone(),
            redirect_uri: req.redirect_uri.clone(),
            scope: req.scope_string(),
            nonce: req.nonce.clone(),
            code_challenge: req.code_challenge.clone(),
            sid: session.id.clone(),
            auth_time: session.auth_time,
            user,
            // The grant lives beside its session in a shared store: same locality tag.
            grant_id: crate::store::tagged(crate::store::tag_of(&session.id), &random_id()),
            expires_at: now + self.tokens.code_ttl_secs,
            amr: session.amr.clone(),
        };
        let code_hash = secret_hash(&code);
        let mut params = vec![("code", code)];
        params.extend(req.state.clone().map(|s| ("state", s)));
        params.push(("iss", self.issuer.clone()));
        (code_hash, record, AuthResponse { redirect_uri: req.redirect_uri.clone(), params, form_post: req.form_post })
    }

    /// `prompt=none` but a second factor is needed: the app must send the person through interactively.
    fn interaction_required(&self, req: &AuthRequest) -> AuthResponse {
        self.error_response(&RedirectError {
            redirect_uri: req.redirect_uri.clone(),
            error: "interaction_required",
            description: "a second factor is required".into(),
            state: req.state.clone(),
            form_post: req.form_post,
        })
    }

    fn login_required(&self, req: &AuthRequest) -> AuthResponse {
        self.error_response(&RedirectError {
            redirect_uri: req.redirect_uri.clone(),
            error: "login_required",
            description: "no active session".into(),
            state: req.state.clone(),
            form_post: req.form_post,
        })
    }

    /// The response that reports an error to the client's registered redirect URI.
    pub fn error_response(&self, e: &RedirectError) -> AuthResponse {
        let mut params = vec![("error", e.error.to_owned()), ("error_description", e.description.clone())];
        params.extend(e.state.clone().map(|s| ("state", s)));
        params.push(("iss", self.issuer.clone()));
        AuthResponse { redirect_uri: e.redirect_uri.clone(), params, form_post: e.form_post }
    }
}

#[cfg(test)]
mod tests;
