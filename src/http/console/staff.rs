//! `/quan-tri/can-bo-moi`: mailbox names for new staff — one name or one unit from a form, or the annex CSV a unit
//! sends, uploaded and answered with the proposals (a table, or the CSV `mailbox-name --csv` writes). Proposals
//! check the configured directory, as the CLI does; the rules are [`crate::policy::mailbox`] and
//! [`crate::report::annex`].

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{Operator, operator};
use crate::App;
use crate::http::context::Ctx;
use crate::http::csrf;
use crate::policy::mailbox::{first_free, personal_name, unit_name};
use crate::report::annex::{self, Proposal};

#[derive(Template, WebTemplate)]
#[template(path = "console/staff.html")]
struct Page<'a> {
    op: &'a Operator,
    name: &'a str,
    unit: &'a str,
    single: Option<String>,
    proposals: Vec<Proposal>,
    error: Option<String>,
}

fn blank(op: &Operator) -> Page<'_> {
    Page { op, name: "", unit: "", single: None, proposals: Vec::new(), error: None }
}

fn with_status(mut response: Response, status: StatusCode) -> Response {
    *response.status_mut() = status;
    response
}

pub async fn page(State(app): State<Arc<App>>, Ctx(ctx): Ctx, headers: HeaderMap, uri: Uri) -> Response {
    match operator(&app, &headers, &uri, &ctx).await {
        Ok(op) => op.render(blank(&op)),
        Err(response) => response,
    }
}

#[derive(Deserialize)]
pub struct OneForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /quan-tri/can-bo-moi`: the mailbox for one person's name or one unit's name.
pub async fn propose(
    State(app): State<Arc<App>>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    uri: Uri,
    form: Result<Form<OneForm>, FormRejection>,
) -> Response {
    let op = match operator(&app, &headers, &uri, &ctx).await {
        Ok(op) => op,
        Err(response) => return response,
    };
    let Ok(Form(f)) = form else { return (StatusCode::BAD_REQUEST, "biểu mẫu không hợp lệ").into_response() };
    let mut page = Page { name: &f.name, unit: &f.unit, ..blank(&op) };
    if !csrf::matches(&app, &headers, &f.csrf) {
        page.error = Some("Biểu mẫu đã hết hạn hoặc không hợp lệ. Vui lòng gửi lại.".into());
        return with_status(op.render(page), StatusCode::FORBIDDEN);
    }
    let (base, what) = match (f.name.trim(), f.unit.trim()) {
        ("", "") => {
            page.error = Some("Vui lòng nhập họ tên hoặc tên đơn vị.".into());
            return with_status(op.render(page), StatusCode::BAD_REQUEST);
        }
        ("", unit) => (unit_name(unit), unit),
        (name, _) => (personal_name(name), name),
    };
    let Some(base) = base else {
        page.error = Some(format!("\"{what}\" không có chữ cái để đặt tên hộp thư."));
        return with_status(op.render(page), StatusCode::BAD_REQUEST);
    };
    let domain = domain(&app);
    match first_free(app.provider.directory.as_ref(), &base, &domain, &Default::default()).await {
        Ok(name) if name == base => page.single = Some(format!("{name}@{domain}")),
        Ok(name) => page.single = Some(format!("{name}@{domain} (trùng tên {base}@{domain})")),
        Err(e) => page.error = Some(format!("Danh bạ không trả lời: {e}")),
    }
    op.render(page)
}

/// `POST /quan-tri/can-bo-moi/csv` (multipart): the annex list, answered as a table or, with `format=csv`, as
/// the CSV the CLI writes.
pub async fn upload(
    State(app): State<Arc<App>>,
    Ctx(ctx): Ctx,
    headers: HeaderMap,
    uri: Uri,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let op = match operator(&app, &headers, &uri, &ctx).await {
        Ok(op) => op,
        Err(response) => return response,
    };
    let mut page = blank(&op);
    let fields = match multipart {
        Ok(multipart) => read_fields(multipart).await,
        Err(e) => Err(e.body_text()),
    };
    let fields = match fields {
        Ok(fields) => fields,
        Err(e) => {
            page.error = Some(format!("Không đọc được tệp gửi lên: {e}"));
            return with_status(op.render(page), StatusCode::BAD_REQUEST);
        }
    };
    if !csrf::matches(&app, &headers, &fields.csrf) {
        page.error = Some("Biểu mẫu đã hết hạn hoặc không hợp lệ. Vui lòng gửi lại.".into());
        return with_status(op.render(page), StatusCode::FORBIDDEN);
    }
    let staff = match String::from_utf8(fields.file).map_err(|_| "tệp không phải UTF-8".to_owned()) {
        Ok(text) => annex::read(&text).map_err(|e| e.to_string()),
        Err(e) => Err(e),
    };
    let staff = match staff {
        Ok(staff) => staff,
        Err(e) => {
            page.error = Some(format!("Danh sách không hợp lệ: {e}"));
            return with_status(op.render(page), StatusCode::BAD_REQUEST);
        }
    };
    match annex::propose(Some(app.provider.directory.as_ref()), &domain(&app), staff).await {
        Ok(proposals) if fields.format == "csv" => csv_download(annex::to_csv(&proposals)),
        Ok(proposals) => {
            page.proposals = proposals;
            op.render(page)
        }
        Err(e) => {
            page.error = Some(format!("Danh bạ không trả lời: {e}"));
            with_status(op.render(page), StatusCode::SERVICE_UNAVAILABLE)
        }
    }
}

/// What the upload form posts.
#[derive(Default)]
struct Uploaded {
    csrf: String,
    format: String,
    file: Vec<u8>,
}

async fn read_fields(mut multipart: Multipart) -> Result<Uploaded, String> {
    let mut out = Uploaded::default();
    while let Some(field) = multipart.next_field().await.map_err(|e| e.body_text())? {
        let name = field.name().unwrap_or_default().to_owned();
        let bytes = field.bytes().await.map_err(|e| e.body_text())?;
        match name.as_str() {
            "csrf" => out.csrf = String::from_utf8_lossy(&bytes).into_owned(),
            "format" => out.format = String::from_utf8_lossy(&bytes).into_owned(),
            "annex" => out.file = bytes.to_vec(),
            _ => {}
        }
    }
    Ok(out)
}

fn domain(app: &App) -> String {
    app.provider.policy.allowed_domains().first().cloned().unwrap_or_default()
}

fn csv_download(body: String) -> Response {
    let mut response = ([(header::CONTENT_TYPE, "text/csv; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], body)
        .into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"proposed.csv\""));
    response
}
