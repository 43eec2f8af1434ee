//! Calls this service makes to apps: back-channel logout deliveries, with a bounded timeout and a few retries,
//! in the background, so a slow or unreachable app never holds up the person signing out.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinSet;

use crate::oidc::logout::Notifier;

const ATTEMPTS: u32 = 3;
const TIMEOUT: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

pub struct HttpNotifier {
    http: reqwest::Client,
    /// Deliveries under way; finished ones are reaped at each new delivery.
    tasks: Mutex<JoinSet<()>>,
}

impl HttpNotifier {
    /// A client over rustls with the aws-lc-rs provider and the system's trusted roots.
    pub fn new() -> Result<HttpNotifier, String> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(cert);
        }
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .timeout(TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("danang-sso/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(HttpNotifier { http, tasks: Mutex::default() })
    }
}

#[async_trait::async_trait]
impl Notifier for HttpNotifier {
    async fn drain(&self) {
        let mut tasks = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(|e| e.into_inner()));
        while tasks.join_next().await.is_some() {}
    }

    fn deliver(&self, client_id: &str, uri: &str, logout_token: String) {
        let (http, client_id, uri) = (self.http.clone(), client_id.to_owned(), uri.to_owned());
        let mut tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
        while tasks.try_join_next().is_some() {}
        tasks.spawn(async move {
            for attempt in 1..=ATTEMPTS {
                match http.post(&uri).form(&[("logout_token", logout_token.as_str())]).send().await {
                    Ok(r) if r.status().is_success() => {
                        tracing::debug!(client = %client_id, "back-channel logout delivered");
                        return;
                    }
                    Ok(r) => {
                        tracing::warn!(client = %client_id, status = %r.status(), attempt, "back-channel logout refused")
                    }
                    Err(e) => tracing::warn!(client = %client_id, error = %e, attempt, "back-channel logout failed"),
                }
                if attempt < ATTEMPTS {
                    tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt))).await;
                }
            }
            tracing::error!(client = %client_id, "back-channel logout given up after {ATTEMPTS} attempts");
        });
    }
}
