//! `GET /danh-ba`: the public mail directory of the city's units, with a search box that works without
//! JavaScript (a GET form). Public: no session, no cookie; the list comes from memory (see
//! [`crate::directory::public`]).

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::pages;
use crate::App;
use crate::directory::public::{Listing, search};
use crate::error::Error;
use crate::i18n::{Lang, Texts};

/// Where the page lives ("danh bạ": directory).
pub const PATH: &str = "/danh-ba";
/// A search longer than this is cut: nobody types a unit's name that long.
const MAX_QUERY_CHARS: usize = 100;

#[derive(Template, WebTemplate)]
#[template(path = "directory_page.html")]
struct DirectoryPage<'a> {
    lang: &'static str,
    t: &'static Texts,
    action: &'static str,
    query: &'a str,
    found: Vec<&'a Listing>,
    total: usize,
}

#[derive(Deserialize)]
pub struct SearchParams {
    #[serde(default)]
    q: String,
}

pub async fn page(State(app): State<Arc<App>>, params: Result<Query<SearchParams>, QueryRejection>) -> Response {
    let Some(directory) = &app.directory_page else {
        return pages::error(Lang::Vi, Error::InvalidRequest("the directory page is off".into()));
    };
    let query: String = params.map(|Query(p)| p.q).unwrap_or_default().trim().chars().take(MAX_QUERY_CHARS).collect();
    match directory.all().await {
        Ok(all) => {
            let found = search(&all, &query);
            let page =
                DirectoryPage { lang: "vi", t: Lang::Vi.texts(), action: PATH, query: &query, found, total: all.len() };
            ([(header::CACHE_CONTROL, "public, max-age=60")], page).into_response()
        }
        Err(e) => pages::error(Lang::Vi, e.into()),
    }
}
