//! The store's part in pushed authorization requests and consent, run by the store suite on both adapters:
//! a pushed request is taken once (also under concurrency) and not after its expiry; a consent record is one
//! per account and app, replaced, and gone when its time is up.

use danang_sso::store::Store;
use futures_util::future::join_all;

use crate::store_suite::Time;

pub async fn pushed_requests_and_consents(store: &dyn Store, time: &Time) {
    let later = time.now() + 60;
    store.put_pushed_request("par-a", r#"{"client_id":"portal"}"#, later).await.unwrap();
    let takes = join_all((0..8).map(|_| store.take_pushed_request("par-a"))).await;
    let got: Vec<String> = takes.into_iter().filter_map(|t| t.unwrap()).collect();
    assert_eq!(got, [r#"{"client_id":"portal"}"#], "exactly one of eight concurrent takes gets it");
    assert_eq!(store.take_pushed_request("par-a").await.unwrap(), None, "a taken request is gone");
    assert_eq!(store.take_pushed_request("par-never").await.unwrap(), None);
    store.put_pushed_request("par-past", "x", time.now()).await.unwrap();
    assert_eq!(store.take_pushed_request("par-past").await.unwrap(), None, "already expired when put");

    store.put_consent("dungnv@danang.gov.vn", "portal", "first\nline", later).await.unwrap();
    store.put_consent("dungnv@danang.gov.vn", "portal", "second", later).await.unwrap();
    assert_eq!(store.consent("dungnv@danang.gov.vn", "portal").await.unwrap().as_deref(), Some("second"));
    assert_eq!(store.consent("dungnv@danang.gov.vn", "vanban").await.unwrap(), None, "per app");
    assert_eq!(store.consent("anhvn@danang.gov.vn", "portal").await.unwrap(), None, "per account");

    let soon = time.now() + 1;
    store.put_pushed_request("par-short", "y", soon).await.unwrap();
    store.put_consent("haltt@danang.gov.vn", "portal", "short", soon).await.unwrap();
    time.pass(1).await;
    assert_eq!(store.take_pushed_request("par-short").await.unwrap(), None, "an expired request_uri is refused");
    assert_eq!(store.consent("haltt@danang.gov.vn", "portal").await.unwrap(), None, "consent ends with its time");
    assert_eq!(store.consent("dungnv@danang.gov.vn", "portal").await.unwrap().as_deref(), Some("second"));
}

/// WebAuthn challenges (keyed by session and challenge): spent by exactly one of concurrent takes, never twice,
/// and not after their time.
pub async fn webauthn_challenges(store: &dyn Store, time: &Time) {
    store.put_challenge("auth:sid-1:abc", time.now() + 300).await.unwrap();
    let takes = join_all((0..8).map(|_| store.take_challenge("auth:sid-1:abc"))).await;
    assert_eq!(takes.into_iter().filter(|t| *t.as_ref().unwrap()).count(), 1, "one of eight concurrent takes");
    assert!(!store.take_challenge("auth:sid-1:abc").await.unwrap(), "a spent challenge is gone");
    assert!(!store.take_challenge("auth:sid-2:abc").await.unwrap(), "another session's key finds nothing");
    store.put_challenge("reg:sid-1:short", time.now() + 1).await.unwrap();
    time.pass(1).await;
    assert!(!store.take_challenge("reg:sid-1:short").await.unwrap(), "an expired challenge is refused");
}
