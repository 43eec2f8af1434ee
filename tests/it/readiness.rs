//! `/healthz` and `/readyz` with the embedded directory and the memory store. The same probes against real
//! slapd and redis-server going down and coming back are in `readiness_backends.rs`.

use crate::app::{TestApp, http};

/// GET `url`: the status and the JSON body.
pub async fn get_json(url: &str) -> (u16, serde_json::Value) {
    let response = http().get(url).send().await.expect("GET");
    (response.status().as_u16(), response.json().await.expect("a JSON body"))
}

#[tokio::test]
async fn healthz_and_readyz_answer_with_the_embedded_directory_and_memory_store() {
    let app = TestApp::start().await;
    assert_eq!(get_json(&format!("{}/healthz", app.url)).await, (200, serde_json::json!({ "status": "ok" })));
    let (status, body) = get_json(&format!("{}/readyz", app.url)).await;
    assert_eq!(status, 200, "{body}");
    let expected = serde_json::json!({ "status": "ok", "checks": { "directory": "ok", "store": "ok", "keys": "ok" } });
    assert_eq!(body, expected);
    let head = http().get(format!("{}/readyz", app.url)).send().await.unwrap();
    assert_eq!(head.headers()["cache-control"], "no-store", "probes never see a cached answer");
}
