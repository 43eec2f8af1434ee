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
/// With ARGV[6] = `guarded`, the last key is a guard (a grant's SSO session): when it no longer exists nothing
/// is written and the script returns 0, so a logout cannot slip between a session check and a grant write.
///
/// ARGV: value, ttl (seconds), member, expires_at, now, [`guarded`].
const PUT_INDEXED: &str = r"
local last = #KEYS
if ARGV[6] == 'guarded' then
  if redis.call('EXISTS', KEYS[last]) == 0 then return 0 end
  last = last - 1
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
local ttl = tonumber(ARGV[2])
for k = 2, last do
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

/// Stores a new session and ends the account's oldest live ones past a ceiling, in one step: `SET KEYS[1]` (the
/// session) for its lifetime and index it in the account's sorted set KEYS[2] (expired members dropped, as
/// `PUT_INDEXED`); then, while more than `max` members are live, the soonest-expiring *settled* ones end: a
/// session is settled once an app has received tokens in it (its grant index exists) or once it is older than a
/// code's lifetime (`pending` seconds: its sign-in can no longer finish). A sign-in still under way is never ended
/// under it, however many concurrent ones share its second; never the new session either. Ending one is
/// `END_SESSION`'s work (its value, the grants its index names, and the index deleted), here also its member in
/// KEYS[2] and its grants' members in the account's grant index KEYS[3], so the account's indexes hold only what
/// lives. Keys are built from the prefix and each id's tag, the tag of KEYS[1..3]. At most `beyond + 64`
/// members are looked at: O(log n) plus the sessions ended (one per sign-in at the ceiling) and their grants.
///
/// Returns `{{sid, session or '', grant_id, grant, …}, …}`: one entry per session ended.
///
/// ARGV: value, ttl (seconds), sid, expires_at, now, max, the store's key prefix, pending (seconds).
const PUT_SESSION_CAPPED: &str = r"
local ttl = tonumber(ARGV[2])
redis.call('SET', KEYS[1], ARGV[1], 'EX', ttl)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3])
if redis.call('TTL', KEYS[2]) < ttl then redis.call('EXPIRE', KEYS[2], ttl) end
local out = {}
local beyond = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[6])
if beyond <= 0 then return out end
local settled_before = tonumber(ARGV[4]) - tonumber(ARGV[8])
local oldest = redis.call('ZRANGE', KEYS[2], 0, beyond + 63, 'WITHSCORES')
for i = 1, #oldest, 2 do
  if #out >= beyond then break end
  local sid = oldest[i]
  local tag = string.match(sid, '^([^~]*)~') or sid
  local base = ARGV[7] .. '{' .. tag .. '}'
  local gindex = base .. 'sg:' .. sid
  if sid ~= ARGV[3] and (tonumber(oldest[i + 1]) <= settled_before or redis.call('EXISTS', gindex) == 1) then
    local skey = base .. 's:' .. sid
    local ended = {sid, redis.call('GET', skey) or ''}
    for _, id in ipairs(redis.call('ZRANGE', gindex, 0, -1)) do
      local gtag = string.match(id, '^([^~]*)~') or id
      local gkey = ARGV[7] .. '{' .. gtag .. '}g:' .. id
      local g = redis.call('GET', gkey)
      if g then
        redis.call('DEL', gkey)
        table.insert(ended, id)
        table.insert(ended, g)
      end
      redis.call('ZREM', KEYS[3], id)
    end
    redis.call('DEL', skey, gindex)
    redis.call('ZREM', KEYS[2], sid)
    table.insert(out, ended)
  end
end
return out
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

/// Reserves a throttled attempt (see `Store::reserve`) in the hash KEYS[1]: `c` count, `w` window end, `l` wait
/// end, `b` the count whose reservation started the wait. Refused while `l` is ahead: `{0, seconds left}`;
/// otherwise counted, the wait for the new count started (the same schedule as `Limit::wait_after`), and
/// `{1, count, wait}`. The hash lives until its window or wait ends, whichever is later.
///
/// ARGV: now, window, free, max, base delay, lockout (seconds).
const RESERVE: &str = r"
local now = tonumber(ARGV[1])
local f = redis.call('HMGET', KEYS[1], 'c', 'w', 'l', 'b')
local l = tonumber(f[3]) or 0
if l > now then return {0, l - now} end
local c = tonumber(f[1]) or 0
local w = tonumber(f[2]) or 0
local b = tonumber(f[4]) or 0
if w <= now then c = 0; w = now + tonumber(ARGV[2]); l = 0; b = 0 end
c = c + 1
local free, max, base, lockout = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local wait = 0
if c >= max then wait = lockout
elseif c >= free then wait = math.min(base * 2 ^ math.min(c - free, 30), lockout) end
if wait > 0 then l = now + wait; b = c end
redis.call('HSET', KEYS[1], 'c', c, 'w', w, 'l', l, 'b', b)
redis.call('EXPIRE', KEYS[1], math.max(w, l) - now + 1)
return {1, c, wait}
";

/// Takes back a reserved attempt: with ARGV[2] = '1' deletes KEYS[1]; otherwise one count less, and the wait
/// lifted when the attempt ARGV[1] started it.
const RELEASE: &str = r"
if ARGV[2] == '1' then return redis.call('DEL', KEYS[1]) end
local f = redis.call('HMGET', KEYS[1], 'c', 'b')
if not f[1] then return 0 end
if tonumber(f[1]) > 0 then redis.call('HINCRBY', KEYS[1], 'c', -1) end
if tonumber(f[2]) == tonumber(ARGV[1]) then redis.call('HSET', KEYS[1], 'l', 0, 'b', 0) end
return 1
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
    /// [`PUT_SESSION_CAPPED`]: a new session, and the oldest past `[session] max_per_account` ended.
    pub put_session_capped: Script,
    /// [`RESERVE`]: a throttled attempt, counted before it is made.
    pub reserve: Script,
    /// [`RELEASE`]: an attempt taken back.
    pub release: Script,
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
            put_session_capped: Script::new(PUT_SESSION_CAPPED),
            reserve: Script::new(RESERVE),
            release: Script::new(RELEASE),
        }
    }
}
