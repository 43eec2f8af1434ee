//! `GET /quan-tri/ung-dung`: the registered apps as configured — OIDC clients and SAML service providers, read
//! only (the config file stays the source of truth): redirect URIs, grants, scopes, logout URIs, and for SAML the
//! IdP metadata URL the SP reads and when the SP's certificate expires.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;

use super::{Operator, operator, vn_time};
use crate::App;
use crate::config::saml::ServiceProviderConfig;
use crate::http::context::Ctx;
use crate::oidc::clients::Client;
use crate::saml::cert::pem_certificates;
use crate::saml::sp::ServiceProvider;

/// A SAML SP as the page shows it.
pub struct SpRow {
    pub sp: Arc<ServiceProvider>,
    /// When each of its certificates expires (or why that is unknown).
    pub expiry: Vec<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "console/apps.html")]
struct Page<'a> {
    op: &'a Operator,
    clients: Vec<Arc<Client>>,
    sps: Vec<SpRow>,
    metadata_url: Option<String>,
}

impl Page<'_> {
    fn list(&self, items: &[String]) -> String {
        if items.is_empty() { "—".into() } else { items.join(", ") }
    }
    fn opt(&self, item: Option<&String>) -> String {
        item.cloned().unwrap_or_else(|| "—".into())
    }
}

pub async fn page(State(app): State<Arc<App>>, Ctx(ctx): Ctx, headers: HeaderMap, uri: Uri) -> Response {
    let op = match operator(&app, &headers, &uri, &ctx).await {
        Ok(op) => op,
        Err(response) => return response,
    };
    let mut clients: Vec<Arc<Client>> = app.provider.clients.all().cloned().collect();
    clients.sort_by(|a, b| a.id.cmp(&b.id));
    let now = app.provider.clock.now();
    let (sps, metadata_url) = match &app.saml {
        Some(saml) => {
            let rows = saml
                .sps
                .all()
                .map(|sp| {
                    let config = saml.config.service_providers.iter().find(|c| configured_id(c) == sp.entity_id);
                    SpRow { sp: sp.clone(), expiry: config.map(|c| expiry(c, now)).unwrap_or_default() }
                })
                .collect();
            (rows, Some(format!("{}{}", app.provider.issuer, crate::saml::METADATA_PATH)))
        }
        None => (Vec::new(), None),
    };
    op.render(Page { op: &op, clients, sps, metadata_url })
}

/// The entity id a config entry registers (its own, or its metadata's).
fn configured_id(c: &ServiceProviderConfig) -> String {
    if !c.entity_id.is_empty() {
        return c.entity_id.clone();
    }
    c.metadata_file
        .as_ref()
        .and_then(|p| std::fs::read(p).ok())
        .and_then(|xml| crate::saml::metadata::parse_sp(&xml).ok())
        .map(|m| m.entity_id)
        .unwrap_or_default()
}

/// When each configured certificate of the SP expires, read from the same sources the SP was loaded from.
fn expiry(c: &ServiceProviderConfig, now: u64) -> Vec<String> {
    let pem = match (&c.certificate, &c.certificate_file, &c.metadata_file) {
        (Some(text), _, _) => text.clone(),
        (None, Some(path), _) => std::fs::read_to_string(path).unwrap_or_default(),
        (None, None, Some(path)) => std::fs::read(path)
            .ok()
            .and_then(|xml| crate::saml::metadata::parse_sp(&xml).ok())
            .map(|m| m.certificates.join(""))
            .unwrap_or_default(),
        (None, None, None) => String::new(),
    };
    pem_certificates(&pem).iter().map(|der| describe(not_after(der), now)).collect()
}

/// A certificate's `notAfter` as Unix seconds.
pub fn not_after(der: &[u8]) -> Option<u64> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    u64::try_from(cert.validity().not_after.timestamp()).ok()
}

fn describe(not_after: Option<u64>, now: u64) -> String {
    match not_after {
        None => "không đọc được chứng thư".into(),
        Some(at) if at <= now => format!("ĐÃ HẾT HẠN lúc {}", vn_time(at)),
        Some(at) => format!("{} (còn {} ngày)", vn_time(at), (at - now) / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_certificates_expiry() {
        let key = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let der = aws_lc_rs::encoding::AsDer::as_der(&key).unwrap();
        let pem = crate::saml::cert::to_pem(der.as_ref()).replace("CERTIFICATE", "PRIVATE KEY");
        let cert = crate::saml::cert::self_signed(&pem, "sp", 1_795_886_563).unwrap();
        let at = not_after(&cert).expect("a notAfter");
        assert!(at > 1_795_886_563, "valid after it starts");
        assert_eq!(describe(Some(at), at + 1), format!("ĐÃ HẾT HẠN lúc {}", vn_time(at)));
        assert!(describe(Some(at), at - 10 * 86_400).ends_with("(còn 10 ngày)"));
        assert_eq!(not_after(b"junk"), None);
    }
}
