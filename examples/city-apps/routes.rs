//! The app's endpoints: `/` (home), `/login` (start a sign-in), `/callback` (finish it), `/logout` (sign out
//! everywhere), `/backchannel-logout` (the provider says a session ended), and the stylesheet.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::HeaderMap;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, SET_COOKIE};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::provider::Callback;
use super::{App, Failure, backchannel, pages};

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login))
        .route("/callback", get(callback))
        .route("/logout", post(logout))
        .route("/backchannel-logout", post(backchannel::receive))
        .route("/static/app.css", get(stylesheet))
        .with_state(app)
}

/// The home page: the person when signed in; "signed out" after a sign-out; otherwise straight to sign-in.
async fn home(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let key = app.sessions.key(&headers);
    let seen = key.and_then(|key| {
        app.sessions.with(&key, |browser| (browser.user.clone(), browser.signed_out, browser.form_token.clone()))
    });
    match seen {
        Some((Some(user), _, form_token)) => pages::home(&app, &user, &form_token),
        Some((None, true, _)) => pages::signed_out(&app),
        _ => Redirect::to("/login").into_response(),
    }
}

/// Starts a sign-in: remembers PKCE verifier, nonce and state for this browser, and sends it to the provider.
async fn login(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let (url, pending) = match app.provider.begin().await {
        Ok(started) => started,
        Err(failure) => return failure.page(&app),
    };
    let key = app.sessions.key(&headers);
    let redirect = Redirect::to(url.as_str());
    match app.sessions.begin(key.as_deref(), pending) {
        Some(new_key) => ([(SET_COOKIE, app.sessions.cookie(&new_key))], redirect).into_response(),
        None => redirect.into_response(),
    }
}

/// The provider sends the browser back here with `code` and `state` (or an `error`).
async fn callback(State(app): State<Arc<App>>, headers: HeaderMap, Query(reply): Query<Callback>) -> Response {
    let Some(key) = app.sessions.key(&headers) else {
        return Failure::sign_in("no session cookie at the callback").page(&app);
    };
    let Some(pending) = app.sessions.with(&key, |browser| browser.pending.take()).flatten() else {
        return Failure::sign_in("no sign-in in progress for this browser").page(&app);
    };
    match app.provider.finish(pending, reply).await {
        Ok(user) => {
            tracing::info!(app = app.spec.client_id, sub = %user.sub, "signed in");
            let key = app.sessions.sign_in(&key, user);
            ([(SET_COOKIE, app.sessions.cookie(&key))], Redirect::to("/")).into_response()
        }
        Err(failure) => failure.page(&app),
    }
}

#[derive(Deserialize)]
struct LogoutForm {
    form_token: String,
}

/// "Đăng xuất": ends the local session, then sends the browser to the provider to end the SSO session; the
/// provider tells the other apps (back-channel logout) and sends the browser back to `/`.
async fn logout(State(app): State<Arc<App>>, headers: HeaderMap, Form(form): Form<LogoutForm>) -> Response {
    let key = app.sessions.key(&headers);
    let user = key
        .and_then(|key| {
            app.sessions.with(&key, |browser| {
                if browser.user.is_none() || browser.form_token != form.form_token {
                    return None;
                }
                browser.signed_out = true;
                browser.user.take()
            })
        })
        .flatten();
    let Some(user) = user else { return Redirect::to("/").into_response() };
    match app.provider.logout_url(&user).await {
        Ok(url) => Redirect::to(url.as_str()).into_response(),
        Err(failure) => failure.page(&app),
    }
}

async fn stylesheet() -> impl IntoResponse {
    ([(CONTENT_TYPE, "text/css; charset=utf-8"), (CACHE_CONTROL, "max-age=3600")], include_str!("style.css"))
}

impl Failure {
    /// Logs the details and shows the person a page with the short message and a way to try again.
    fn page(self, app: &App) -> Response {
        tracing::warn!(app = app.spec.client_id, status = %self.status, "{}", self.detail);
        pages::problem(app, self.status, self.message)
    }
}
