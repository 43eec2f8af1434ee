//! The Lua scripts that make the store's compound operations atomic in Redis.
//!
//! Redis runs a script alone, start to finish, so two instances redeeming one code or rotating one refresh token
//! cannot interleave. `redis::Script` sends `EVALSHA` and loads the script again after `NOSCRIPT` (a restarted,
//! empty Redis). Every key a script touches is in the hash slot of its first key (see the key layout in the
//! parent module): `END_SESSION` builds grant keys from a prefix carrying the session's hash tag.

use redis::Script;

/// Stores a value and indexes it: `SET KEYS[1]` for the record's lifetime, then in each index sorted set
/// `KEYS[2..]` drops the members already expired, adds `member` scored by `expires_at`, and makes the index live
/// as long as its longest-lived member. O(log n) per index, plus the expired members it drops (each once).
///
/// ARGV: value, ttl (seconds), member, expires_at, now.
const PUT_INDEXED: &str = r"
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
local ttl = tonumber(ARGV[2])
for k = 2, #KEYS do
  redis.call('ZREMRANGEBYSCORE', KEYS[k], '-inf', ARGV[5])
  redis.call('ZADD', KEYS[k], ARGV[4], ARGV[3])
  if redis.call('TTL', KEYS[k]) < ttl then redis.call('EXPIRE', KEYS[k], ttl) end
end
return 1
";

/// The ids of an account's live sessions (KEYS[1], its sorted set) beyond the `keep` that expire last,
/// soonest-expiring first. Read only; O(log n + k).
///
/// ARGV: now, keep.
const SESSIONS_BEYOND: &str = r"
local live = '(' .. ARGV[1]
local beyond = redis.call('ZCOUNT', KEYS[1], live, '+inf') - tonumber(ARGV[2])
if beyond <= 0 then return {} end
return redis.call('ZRANGEBYSCORE', KEYS[1], live, '+inf', 'LIMIT', 0, beyond)
";

/// Spends a code (a hash of `g` grant id, `e` expires_at, `d` details). The first caller gets
/// `{g, d, e}` and the details are dropped, leaving `{g, e}` as the spent marker until `e + grace`;
/// later callers get `{g}`; an unknown or expired code gives nil (not Lua `false`, whose conversion differs
/// between RESP2 and RESP3 in some Redis versions).
///
/// ARGV: now, grace (seconds).
const REDEEM_CODE: &str = r"
local f = redis.call('HMGET', KEYS[1], 'g', 'e', 'd')
if not f[1] or not f[2] then return nil end
local now = tonumber(ARGV[1])
local e = tonumber(f[2])
if not f[3] then
  if e + tonumber(ARGV[2]) <= now then return nil end
  return {f[1]}
end
if e <= now then return nil end
redis.call('HDEL', KEYS[1], 'd')
redis.call('EXPIRE', KEYS[1], e + tonumber(ARGV[2]) - now)
return {f[1], f[3], f[2]}
";

/// Rotates a grant's refresh token: compares the first line of the grant (see `codec`) with the presented hash.
/// Equal: writes `next` (and the new user snapshot when given), keeping the TTL, and returns
/// `{'rotated', value}`. Different: deletes the grant (reuse detected) and returns `{'reused', old value}`.
/// A missing grant gives nil.
///
/// ARGV: presented hash, next hash, user JSON ('' keeps the stored one).
const ROTATE_REFRESH: &str = r"
local v = redis.call('GET', KEYS[1])
if not v then return nil end
local a = string.find(v, '\n', 1, true)
local b = a and string.find(v, '\n', a + 1, true)
if not b then return redis.error_reply('malformed grant') end
if a > 1 and string.sub(v, 1, a - 1) == ARGV[1] then
  local user = ARGV[3]
  if user == '' then user = string.sub(v, a + 1, b - 1) end
  local next = ARGV[2] .. '\n' .. user .. '\n' .. string.sub(v, b + 1)
  redis.call('SET', KEYS[1], next, 'KEEPTTL')
  return {'rotated', next}
end
redis.call('DEL', KEYS[1])
return {'reused', v}
";

/// Ends a session: deletes it (KEYS[1]), every grant its index (KEYS[2]) names, and the index.
/// Returns `{session or '', grant_id, grant, grant_id, grant, …}` for the grants that still existed.
/// A grant's key is `prefix{tag}g:id`, its tag the part of its id before `~` (the whole id without one);
/// grants made in a session carry the session's tag, so they share its slot.
///
/// ARGV: the store's key prefix.
const END_SESSION: &str = r"
local out = {redis.call('GET', KEYS[1]) or ''}
for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local tag = string.match(id, '^([^~]*)~') or id
  local key = ARGV[1] .. '{' .. tag .. '}g:' .. id
  local g = redis.call('GET', key)
  if g then
    redis.call('DEL', key)
    table.insert(out, id)
    table.insert(out, g)
  end
end
redis.call('DEL', KEYS[1], KEYS[2])
return out
";

/// Counts an event; the first event of a window sets its expiry (a fixed window from the first event).
///
/// ARGV: window (seconds).
const HIT: &str = r"
local n = redis.call('INCR', KEYS[1])
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
";

/// The scripts, prepared once per store (their SHA-1 is computed here, not per call).
pub struct Scripts {
    /// [`PUT_INDEXED`]: a session or a grant with its index.
    pub put_indexed: Script,
    /// [`REDEEM_CODE`]: single use.
    pub redeem_code: Script,
    /// [`ROTATE_REFRESH`]: compare-and-swap, or revoke on reuse.
    pub rotate_refresh: Script,
    /// [`END_SESSION`]: the session and its grants together.
    pub end_session: Script,
    /// [`HIT`]: a fixed-window counter.
    pub hit: Script,
    /// [`SESSIONS_BEYOND`]: the sessions past `[session] max_per_account`.
    pub sessions_beyond: Script,
}

impl Scripts {
    /// Hashes every script once, at start.
    pub fn new() -> Self {
        Scripts {
            put_indexed: Script::new(PUT_INDEXED),
            redeem_code: Script::new(REDEEM_CODE),
            rotate_refresh: Script::new(ROTATE_REFRESH),
            end_session: Script::new(END_SESSION),
            hit: Script::new(HIT),
            sessions_beyond: Script::new(SESSIONS_BEYOND),
        }
    }
}
