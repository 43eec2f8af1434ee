//! What every person-facing page shares besides its own content: which language it speaks, the language link,
//! and the help line with "forgot password" (`[ui]`).
//!
//! **Language**, first that applies: the person's own pick (the `danang_sso_lang` cookie, set by the link on
//! the page), the app's `ui_locales`, the browser's `Accept-Language` when `[ui] follow_browser_language`, else
//! `[ui] default_language` (Vietnamese). The rule itself is [`Lang::choose`]; this module only reads the request.
//!
//! **The language link** is a plain `GET /ngon-ngu?lang=en&return=/path?query`: it sets the cookie and sends
//! the browser back to `return`, which must be a path on this service ([`local_return`]) — never an open
//! redirect. A pushed authorization request (RFC 9126) cannot be re-read from a URL, so its page links with the
//! sealed request instead, and the link continues through a fresh internal `request_uri`.
//!
//! **Error pages** are built by [`super::pages::error`] without the configuration at hand; they are rendered
//! here, in the [`chrome`] layer, with the help line.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::cookies;
use crate::App;
use crate::i18n::{Lang, LangRule, Texts};
use crate::oidc::request::AuthorizeParams;

pub const LANG_PATH: &str = "/ngon-ngu";
/// The cookie remembering the person's pick (`__Host-` prefixed under https).
pub const LANG_COOKIE: &str = "danang_sso_lang";
/// A year: a pick is a preference, not a session.
const LANG_COOKIE_SECS: u64 = 365 * 24 * 3600;

/// The page language for this request (see the module header for the order).
pub fn lang(app: &App, headers: &HeaderMap, ui_locales: Option<&str>) -> Lang {
    let rule = LangRule {
        default: Lang::parse(&app.ui.default_language).unwrap_or_default(),
        follow_browser: app.ui.follow_browser_language,
    };
    let picked = cookies::get(headers, &cookies::name(LANG_COOKIE, app.secure_cookies));
    let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    Lang::choose(rule, picked, ui_locales, accept)
}

/// The help line, the "forgot password" link and the language link, as the `help.html` partial shows them.
pub struct Help {
    pub t: &'static Texts,
    pub contact: String,
    /// `[ui] password_reset_url`; `None`: "forgot password" points at the help line.
    pub reset_url: Option<String>,
    /// The language link (`/ngon-ngu?…`), when the page can be asked for again.
    pub switch: Option<String>,
    /// The other language's code, for the link's `lang`/`hreflang`.
    pub other: &'static str,
}

/// Where a page lives, for its language link to come back to.
pub enum Here<'a> {
    /// A page the browser can ask for again at this path and query.
    Path(&'a str),
    /// A sign-in page for a pushed request: `client_id` and the seal our pages carry.
    Pushed { client_id: &'a str, seal: &'a str },
    /// A page answering a form (nothing to come back to): no language link.
    Nowhere,
}

pub fn help(app: &App, lang: Lang, here: Here<'_>) -> Help {
    let other = match lang {
        Lang::Vi => Lang::En,
        Lang::En => Lang::Vi,
    };
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("lang", other.code());
    let switch = match here {
        Here::Path(p) => Some(query.append_pair("return", p).finish()),
        Here::Pushed { client_id, seal } => {
            Some(query.append_pair("client_id", client_id).append_pair("pushed_request", seal).finish())
        }
        Here::Nowhere => None,
    };
    Help {
        t: lang.texts(),
        contact: app.ui.support_contact.clone(),
        reset_url: app.ui.password_reset_url.clone(),
        switch: switch.map(|q| format!("{LANG_PATH}?{q}")),
        other: other.code(),
    }
}

/// `target` when it is a path on this service: starts with one `/`, no `\`, no control character (a browser
/// would drop those and could read `/\evil` or `/\t/evil` as another host). Anything else is ignored.
pub fn local_return(target: Option<&str>) -> Option<&str> {
    target
        .filter(|p| p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') && !p.chars().any(char::is_control))
}

#[derive(Deserialize)]
pub struct SwitchQuery {
    lang: Option<String>,
    #[serde(rename = "return")]
    target: Option<String>,
    client_id: Option<String>,
    pushed_request: Option<String>,
}

/// `GET /ngon-ngu`: remembers the pick and goes back to the page (or to the account page when the return
/// target is missing or not a path here).
pub async fn switch(State(app): State<Arc<App>>, Query(q): Query<SwitchQuery>) -> Response {
    let picked = q.lang.as_deref().and_then(Lang::parse);
    let back = if q.pushed_request.is_some() {
        let params =
            AuthorizeParams { client_id: q.client_id, pushed_request: q.pushed_request, ..AuthorizeParams::default() };
        match app.provider.repush_sealed(&params).await {
            Ok(Some(to)) => to,
            Ok(None) => super::account::ACCOUNT_PATH.to_owned(),
            Err(e) => return super::pages::error(picked.unwrap_or_default(), e),
        }
    } else {
        local_return(q.target.as_deref()).unwrap_or(super::account::ACCOUNT_PATH).to_owned()
    };
    let mut response = Redirect::to(&back).into_response();
    if let Some(lang) = picked {
        let name = cookies::name(LANG_COOKIE, app.secure_cookies);
        let cookie = cookies::set(&name, lang.code(), LANG_COOKIE_SECS, app.secure_cookies);
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// An error page waiting for its frame: what [`super::pages::error`] leaves in the response for [`chrome`].
#[derive(Clone)]
pub struct PendingError {
    pub lang: Lang,
    pub message: &'static str,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    lang: &'static str,
    t: &'static Texts,
    message: &'static str,
    help: Help,
}

/// The layer that renders pending error pages with the help line. They carry no language link: the request
/// that failed is not echoed into a page (it may hold whatever an attacker put in a link), and asking it again
/// would fail the same way.
pub async fn chrome(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let Some(pending) = response.extensions_mut().remove::<PendingError>() else { return response };
    let page = ErrorPage {
        lang: pending.lang.code(),
        t: pending.lang.texts(),
        message: pending.message,
        help: help(&app, pending.lang, Here::Nowhere),
    };
    match page.render() {
        Ok(html) => {
            let (mut parts, _) = response.into_parts();
            parts.headers.remove(header::CONTENT_LENGTH);
            (parts, Html(html)).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "error page");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_here_come_back() {
        assert_eq!(local_return(Some("/authorize?client_id=a&x=%2F%2Fe")), Some("/authorize?client_id=a&x=%2F%2Fe"));
        for bad in ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", "/a\tb", ""]
        {
            assert_eq!(local_return(Some(bad)), None, "{bad}");
        }
        assert_eq!(local_return(None), None);
    }
}
