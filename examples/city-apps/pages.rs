//! The apps' HTML: one askama template (escaping every value) for the home page, the signed-out page and the
//! error page. Vietnamese, `lang="vi"`, no script; landmarks and headings so a screen reader can find its way.

use askama::Template;
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, X_CONTENT_TYPE_OPTIONS};
use axum::response::{Html, IntoResponse, Response};

use super::App;
use super::provider::User;

/// A link to one of the three apps.
pub struct Peer {
    pub name: &'static str,
    pub url: String,
    /// This app: marked `aria-current="page"`.
    pub current: bool,
}

#[derive(Template)]
#[template(
    ext = "html",
    source = r#"<!DOCTYPE html>
<html lang="vi">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{{ title }} — {{ app_name }}</title>
  <link rel="stylesheet" href="/static/app.css">
</head>
<body class="{{ client_id }}">
  <header class="banner">
    <p class="app-name">{{ app_name }}</p>
    <p class="city">Thành phố Đà Nẵng</p>
  </header>
  <nav aria-label="Các ứng dụng của thành phố">
    <ul>
      {% for peer in peers %}
      <li><a href="{{ peer.url }}"{% if peer.current %} aria-current="page"{% endif %}>{{ peer.name }}</a></li>
      {% endfor %}
    </ul>
  </nav>
  <main>
    <section class="card" aria-labelledby="heading">
      {% if let Some(user) = user %}
      <h1 id="heading">Xin chào, {{ user.name }}</h1>
      <dl>
        <dt>Hộp thư</dt><dd>{{ user.email }}</dd>
        <dt>Đơn vị</dt><dd>{{ user.unit }}</dd>
      </dl>
      <form method="post" action="/logout">
        <input type="hidden" name="form_token" value="{{ form_token }}">
        <button type="submit">Đăng xuất</button>
      </form>
      {% else if let Some(problem) = problem %}
      <h1 id="heading">{{ title }}</h1>
      <p class="problem" role="alert">{{ problem }}</p>
      <p><a class="button" href="/login">Thử lại</a></p>
      {% else %}
      <h1 id="heading">{{ title }}</h1>
      <p>Bạn đã đăng xuất khỏi các ứng dụng của thành phố.</p>
      <p><a class="button" href="/login">Đăng nhập</a></p>
      {% endif %}
    </section>
  </main>
</body>
</html>
"#
)]
struct Page<'a> {
    title: &'a str,
    app_name: &'a str,
    client_id: &'a str,
    peers: &'a [Peer],
    user: Option<&'a User>,
    form_token: &'a str,
    problem: Option<&'a str>,
}

/// The signed-in person, links to the other apps, and "Đăng xuất".
pub fn home(app: &App, user: &User, form_token: &str) -> Response {
    render(StatusCode::OK, Page { title: "Trang chủ", user: Some(user), form_token, ..page(app) })
}

/// After signing out, here or in another app.
pub fn signed_out(app: &App) -> Response {
    render(StatusCode::OK, Page { title: "Bạn đã đăng xuất", ..page(app) })
}

/// Something went wrong; `message` is for the person, the details went to the log.
pub fn problem(app: &App, status: StatusCode, message: &str) -> Response {
    render(status, Page { title: "Không đăng nhập được", problem: Some(message), ..page(app) })
}

fn page(app: &App) -> Page<'_> {
    Page {
        title: "",
        app_name: app.spec.name,
        client_id: app.spec.client_id,
        peers: &app.peers,
        user: None,
        form_token: "",
        problem: None,
    }
}

/// Personal pages are never cached; the stylesheet is the only other resource a page may load.
fn render(status: StatusCode, page: Page<'_>) -> Response {
    match page.render() {
        Ok(html) => (
            status,
            [
                (CACHE_CONTROL, "no-store"),
                (CONTENT_SECURITY_POLICY, "default-src 'self'; frame-ancestors 'none'; base-uri 'none'"),
                (X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            Html(html),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "page not rendered");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
