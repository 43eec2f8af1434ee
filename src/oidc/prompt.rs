//! The pages `prompt` can ask for, after the sign-in: the account choice (`prompt=select_account`: continue as
//! the session's person, or use another mailbox) and the consent page's answer (see [`super::consent`]).

use super::Provider;
use super::authorize::{Decision, Outcome, decide_prompt};
use super::request::{AuthRequest, Prompt, RedirectError};
use crate::audit::{Event, RequestContext};
use crate::error::Error;

impl Provider {
    /// The account-choice page's "continue as": answers in the browser's session when it is still live and
    /// fresh enough, else the sign-in form.
    pub async fn continue_as(
        &self,
        req: &AuthRequest,
        cookie: Option<&str>,
        ctx: &RequestContext,
    ) -> Result<Outcome, Error> {
        let session = self.session_for_cookie(cookie).await?;
        if decide_prompt(Prompt::Default, req.max_age, session.as_ref(), self.clock.now()) != Decision::Reuse {
            return Ok(Outcome::Login);
        }
        let session = session.expect("Reuse is only decided with a session");
        match self.recheck(&session, ctx).await? {
            Some(user) => self.answer_with_factors(req, &session, user).await,
            None => Ok(Outcome::Login),
        }
    }

    /// The consent page's answer. Agreeing (in a live session) is remembered and the app gets a code; declining
    /// sends it `access_denied`. Without a live session, the sign-in form.
    pub async fn consent(
        &self,
        req: &AuthRequest,
        agreed: bool,
        cookie: Option<&str>,
        ctx: &RequestContext,
    ) -> Result<Outcome, Error> {
        let Some(session) = self.session_for_cookie(cookie).await? else { return Ok(Outcome::Login) };
        let event = |name| Event::new(name).account(&session.account).client(&req.client.id).sid(&session.id);
        if !agreed {
            self.audit.record(ctx, event("consent_declined"));
            let e = RedirectError {
                redirect_uri: req.redirect_uri.clone(),
                error: "access_denied",
                description: "the person declined".into(),
                state: req.state.clone(),
                form_post: req.form_post,
            };
            return Ok(Outcome::Respond(self.error_response(&e)));
        }
        let Some(user) = self.recheck(&session, ctx).await? else { return Ok(Outcome::Login) };
        self.remember_consent(req, &session).await?;
        self.audit.record(ctx, event("consent_given"));
        Ok(Outcome::Respond(self.issue_code(req, &session, user).await?))
    }
}
