//! The memory store's expiry-ordered indexes (an account's sessions, a session's grants, an account's
//! grants), like the Redis store's sorted sets: a write drops the expired entries at their front and inserts in
//! O(log n), however long the account's history. Ids are the `Arc<str>` the records' maps are keyed by, so an
//! index entry costs a pointer, not another copy of the id.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// Ids ordered by (expires_at, id): the expired ones are at the front.
pub(super) type ExpiryIndex = BTreeSet<(u64, Arc<str>)>;

/// Indexes by the key they are kept under (an account, a session id).
pub(super) type Indexes = HashMap<Arc<str>, ExpiryIndex>;

/// Drops the entries of `index` that expired by `now`: O(k log n) for the k dropped.
pub(super) fn prune(index: &mut ExpiryIndex, now: u64) {
    while index.first().is_some_and(|(e, _)| *e <= now) {
        index.pop_first();
    }
}

/// Adds `(expires_at, id)` to the index under `key`, after dropping its expired entries.
pub(super) fn index(map: &mut Indexes, key: &Arc<str>, expires_at: u64, id: &Arc<str>, now: u64) {
    let index = match map.get_mut(&**key) {
        Some(index) => index,
        None => map.entry(key.clone()).or_default(),
    };
    prune(index, now);
    index.insert((expires_at, id.clone()));
}

/// Removes `(expires_at, id)` from the index under `key`, and the index when it is left empty.
pub(super) fn unindex(map: &mut Indexes, key: &str, expires_at: u64, id: &Arc<str>) {
    if let Some(index) = map.get_mut(key) {
        index.remove(&(expires_at, id.clone()));
        if index.is_empty() {
            map.remove(key);
        }
    }
}

/// The ids in `index` that are still live at `now`, soonest-expiring first.
/// O(log n) to the first live one.
pub(super) fn live(index: &ExpiryIndex, now: u64) -> impl Iterator<Item = &Arc<str>> {
    index.range((now + 1, Arc::<str>::from(""))..).map(|(_, id)| id)
}
