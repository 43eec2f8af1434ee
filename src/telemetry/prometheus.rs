//! Prometheus metrics without a process-wide recorder: each [`Metrics`] owns its own recorder, so two services
//! in one process (the integration tests) never mix their numbers, and nothing is a global static.
//!
//! Recording goes through the `metrics` macros inside [`metrics::with_local_recorder`], which points them at
//! this recorder for the duration of one call. `/metrics` renders the recorder's handle.

use std::sync::Arc;

use metrics::{Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

/// Latency buckets (seconds) for every histogram: from a cached page (1 ms) to a hung backend (10 s).
const BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

const SIGN_INS: &str = "danang_sso_sign_ins_total";
const TOKENS: &str = "danang_sso_tokens_issued_total";
const REQUESTS: &str = "danang_sso_http_request_duration_seconds";
const DIRECTORY: &str = "danang_sso_directory_operation_duration_seconds";
const DIRECTORY_ERRORS: &str = "danang_sso_directory_errors_total";
const STORE: &str = "danang_sso_store_operation_duration_seconds";
const STORE_ERRORS: &str = "danang_sso_store_errors_total";
const OUTAGE_GRACE: &str = "danang_sso_directory_outage_grace_total";
const BACKCHANNEL: &str = "danang_sso_backchannel_logout_total";
const BUILD_INFO: &str = "danang_sso_build_info";

/// The service's metrics: cheap to clone, shared by the HTTP layer and the metered adapters.
#[derive(Clone)]
pub struct Metrics {
    recorder: Arc<PrometheusRecorder>,
    handle: PrometheusHandle,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    /// A fresh recorder with every metric described (so `# HELP` lines appear before the first event).
    pub fn new() -> Metrics {
        let recorder =
            PrometheusBuilder::new().set_buckets(BUCKETS).expect("the bucket list is not empty").build_recorder();
        let handle = recorder.handle();
        let metrics = Metrics { recorder: Arc::new(recorder), handle };
        metrics.record(|| {
            describe_counter!(SIGN_INS, "Posted sign-in forms by result (success, refused, unavailable, error).");
            describe_counter!(TOKENS, "Tokens issued at the token endpoint by grant type and client.");
            describe_histogram!(REQUESTS, Unit::Seconds, "HTTP request latency by route, method and status.");
            describe_histogram!(DIRECTORY, Unit::Seconds, "Directory operation latency by operation and outcome.");
            describe_counter!(DIRECTORY_ERRORS, "Directory operations that failed (server unreachable, timeout).");
            describe_histogram!(STORE, Unit::Seconds, "Store operation latency by operation and outcome.");
            describe_counter!(STORE_ERRORS, "Store operations that failed (server unreachable, timeout).");
            describe_counter!(
                OUTAGE_GRACE,
                "Requests served on the directory outage grace (SSO reuse, refresh) while the directory was down."
            );
            describe_counter!(
                BACKCHANNEL,
                "Back-channel logout tokens by client and outcome: delivered, or dropped (expired, queue_full, given_up)."
            );
            describe_gauge!(BUILD_INFO, "Always 1; the version label says which build runs.");
            gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
        });
        metrics
    }

    fn record<T>(&self, f: impl FnOnce() -> T) -> T {
        metrics::with_local_recorder(&*self.recorder, f)
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        self.handle.render()
    }

    /// Folds recent histogram samples into their buckets; run periodically so memory stays bounded between
    /// scrapes.
    pub fn run_upkeep(&self) {
        self.handle.run_upkeep();
    }

    /// A posted sign-in form: `result` is success, refused, unavailable or error; `reason` says why a refusal
    /// happened (`bad_credentials`, `throttled`, `domain_not_allowed`, …) and is `none` otherwise.
    /// An unknown mailbox, a wrong or empty password and a disabled account are all `bad_credentials`: `/metrics`
    /// must not tell which mailboxes exist (the audit trail keeps the detail).
    pub fn sign_in(&self, result: &'static str, reason: &'static str) {
        let reason = public_reason(reason);
        self.record(|| counter!(SIGN_INS, "result" => result, "reason" => reason).increment(1));
    }

    /// A successful token response.
    pub fn token_issued(&self, grant_type: &str, client_id: &str) {
        let (grant, client) = (grant_type.to_owned(), client_id.to_owned());
        self.record(|| counter!(TOKENS, "grant_type" => grant, "client" => client).increment(1));
    }

    /// A request served on the directory outage grace: `kind` is `sso` (a session reused) or `refresh`.
    pub fn directory_outage_grace(&self, kind: &'static str) {
        self.record(|| counter!(OUTAGE_GRACE, "kind" => kind).increment(1));
    }

    /// `n` back-channel logout tokens for `client` ended as `outcome`: `delivered`, or never received by the app
    /// (`expired`, `queue_full`, `given_up`). Client ids are the registered ones: bounded label values.
    pub fn backchannel_logout(&self, client: &str, outcome: &'static str, n: u64) {
        if n > 0 {
            let client = client.to_owned();
            self.record(|| counter!(BACKCHANNEL, "client" => client, "outcome" => outcome).increment(n));
        }
    }

    /// One HTTP request; `route` is the matched route pattern, never the raw path (bounded label values).
    pub fn http_request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let labels = [("route", route.to_owned()), ("method", method.to_owned()), ("status", status.to_string())];
        self.record(|| histogram!(REQUESTS, &labels).record(seconds));
    }

    /// One directory operation (`authenticate`, `lookup`, `list`, `ping`).
    pub fn directory_op(&self, op: &'static str, seconds: f64, ok: bool) {
        self.backend_op(DIRECTORY, DIRECTORY_ERRORS, op, seconds, ok);
    }

    /// One store operation (named after the `Store` method).
    pub fn store_op(&self, op: &'static str, seconds: f64, ok: bool) {
        self.backend_op(STORE, STORE_ERRORS, op, seconds, ok);
    }

    fn backend_op(&self, latency: &'static str, errors: &'static str, op: &'static str, seconds: f64, ok: bool) {
        let outcome = if ok { "ok" } else { "error" };
        self.record(|| {
            histogram!(latency, "op" => op, "outcome" => outcome).record(seconds);
            if !ok {
                counter!(errors, "op" => op).increment(1);
            }
        });
    }
}

/// A sign-in refusal's reason as a metric label: the reasons that would tell an existing mailbox from an unknown
/// one are folded into `bad_credentials`.
fn public_reason(reason: &'static str) -> &'static str {
    match reason {
        "unknown_account" | "wrong_password" | "account_disabled" | "empty_password" => "bad_credentials",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_instance_counts_alone() {
        let (a, b) = (Metrics::new(), Metrics::new());
        a.sign_in("success", "none");
        a.token_issued("authorization_code", "portal");
        a.http_request("/token", "POST", 200, 0.003);
        a.store_op("put_grant", 0.0001, false);
        let text = a.render();
        assert!(text.contains(r#"danang_sso_sign_ins_total{result="success",reason="none"} 1"#), "{text}");
        assert!(text.contains(r#"danang_sso_tokens_issued_total{grant_type="authorization_code",client="portal"} 1"#));
        assert!(text.contains(
            r#"danang_sso_http_request_duration_seconds_bucket{route="/token",method="POST",status="200",le="0.005"} 1"#
        ));
        assert!(text.contains(r#"danang_sso_store_errors_total{op="put_grant"} 1"#));
        assert!(text.contains("# HELP danang_sso_sign_ins_total"));
        assert!(!b.render().contains("danang_sso_sign_ins_total{"), "another instance saw nothing");
    }
}
