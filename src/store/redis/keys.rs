//! Where the Redis store keeps what (all under `[store] key_prefix`, each with a TTL except the last-sign-in hash
//! and the second factors). Everything of one account shares a Redis Cluster hash tag `{T}`, its locality tag
//! (`store::account_tag`): session ids and grant ids start with `T~`, so a key is found from the id alone, and every
//! script that touches a session, its grants and the account's indexes stays in one hash slot.
//!
//! | key | type | holds | lives until |
//! |---|---|---|---|
//! | `{T}s:{sid}` | string | a session | its `expires_at` |
//! | `{T}a:{account}` | sorted set | sid scored by expires_at: the account's sessions | its last session ends |
//! | `{T}g:{grant_id}` | string | a grant, see `codec` | its `expires_at` |
//! | `{T}sg:{sid}` | sorted set | grant id scored by expires_at: the grants made in a session | its last grant ends |
//! | `{T}ag:{account}` | sorted set | grant id scored by expires_at: an account's grants (incident response) | its last grant ends |
//! | `c:{code_hash}` | hash | `g` grant id, `e` expires_at, `d` details (dropped when spent) | `e` + spent-code grace |
//! | `n:{key}` | integer | a throttling counter | the end of its window |
//! | `par:{request_uri_hash}` | string | `expires_at`, newline, a pushed authorization request | its `expires_at` |
//! | `cs:{account}:{client_id}` | string | `expires_at`, newline, a consent record | its `expires_at` |
//! | `d:{account}` | string | the directory's last good answer (JSON `DirectoryCheck`) | `[directory] outage_grace_secs` |
//! | `wa:{key}` | string | a passkey ceremony's challenge, single use (`GETDEL`) | its `expires_at` |
//! | `t:{key}` | hash | throttled attempts: `c` count, `w` window end, `l` wait end, `b` who started the wait | the later of `w`, `l` |
//! | `last-sign-in` | hash | account → time | never |
//! | `mfa:{account}` | string | the account's second factors, sealed (`crate::mfa`) | never (removed by a reset) |

use crate::store::{account_tag, tag_of};

/// Key names, see the module header.
pub(super) struct Keys {
    pub(super) prefix: String,
}

impl Keys {
    /// `prefix{tag}kind:name`: the braces make Redis Cluster place every key of one tag in one slot.
    pub(super) fn tagged(&self, tag: &str, kind: &str, name: &str) -> String {
        format!("{}{{{tag}}}{kind}:{name}", self.prefix)
    }
    pub(super) fn session(&self, id: &str) -> String {
        self.tagged(tag_of(id), "s", id)
    }
    pub(super) fn account(&self, account: &str) -> String {
        self.tagged(&account_tag(account), "a", account)
    }
    pub(super) fn code(&self, hash: &str) -> String {
        format!("{}c:{hash}", self.prefix)
    }
    pub(super) fn grant(&self, id: &str) -> String {
        self.tagged(tag_of(id), "g", id)
    }
    pub(super) fn grants_of(&self, sid: &str) -> String {
        self.tagged(tag_of(sid), "sg", sid)
    }
    pub(super) fn grants_of_account(&self, account: &str) -> String {
        self.tagged(&account_tag(account), "ag", account)
    }
    pub(super) fn counter(&self, key: &str) -> String {
        format!("{}n:{key}", self.prefix)
    }
    pub(super) fn pushed(&self, hash: &str) -> String {
        format!("{}par:{hash}", self.prefix)
    }
    pub(super) fn challenge(&self, key: &str) -> String {
        format!("{}wa:{key}", self.prefix)
    }
    pub(super) fn consent(&self, account: &str, client_id: &str) -> String {
        format!("{}cs:{account}:{client_id}", self.prefix)
    }
    pub(super) fn directory_check(&self, account: &str) -> String {
        format!("{}d:{account}", self.prefix)
    }
    pub(super) fn attempts(&self, key: &str) -> String {
        format!("{}t:{key}", self.prefix)
    }
    pub(super) fn last_sign_in(&self) -> String {
        format!("{}last-sign-in", self.prefix)
    }
    pub(super) fn mfa(&self, account: &str) -> String {
        format!("{}mfa:{account}", self.prefix)
    }
}
