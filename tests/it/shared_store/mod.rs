//! The Redis store seen from outside: several danang-sso instances on one real redis-server, restarts,
//! Redis outages, what lands in Redis and how big it is. (The contract itself is `store_suite`.)

mod instances;
mod keys;
mod outage;
mod restart;
mod security;

use danang_sso::config::Config;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::app::test_config;
use crate::harness::{Redis, Reply};
use crate::store_suite::redis_config;

/// The test app's config with the Redis store under `prefix`.
pub fn app_config(redis: &Redis, prefix: &str) -> Config {
    let mut config = test_config();
    config.store = redis_config(redis, prefix);
    config
}

/// What the token endpoint answered.
pub struct TokenReply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub json: Value,
}

/// `POST {issuer}/token` as the demo client `client_id` (secret `{client_id}-secret`, HTTP Basic).
pub async fn token(issuer: &str, client_id: &str, form: &[(&str, &str)]) -> TokenReply {
    let response = crate::app::http()
        .post(format!("{issuer}/token"))
        .basic_auth(client_id, Some(format!("{client_id}-secret")))
        .form(form)
        .send()
        .await
        .expect("the token endpoint answers");
    let (status, headers) = (response.status(), response.headers().clone());
    let json = response.json().await.unwrap_or(Value::Null);
    TokenReply { status, headers, json }
}

/// A refresh grant at `issuer` for the demo client.
pub async fn refresh(issuer: &str, client_id: &str, refresh_token: &str) -> TokenReply {
    token(issuer, client_id, &[("grant_type", "refresh_token"), ("refresh_token", refresh_token)]).await
}

/// Every key in `redis` (the test servers are small, so `KEYS` is fine here).
pub fn all_keys(redis: &Redis) -> Vec<String> {
    let Reply::Array(Some(keys)) = redis.command(&["KEYS", "*"]) else { panic!("KEYS answers an array") };
    keys.into_iter()
        .map(|k| match k {
            Reply::Bulk(Some(k)) => k,
            other => panic!("a key name, not {other:?}"),
        })
        .collect()
}

pub fn integer(reply: Reply) -> i64 {
    match reply {
        Reply::Integer(n) => n,
        other => panic!("an integer reply, not {other:?}"),
    }
}
