/**
 * The Redis broker's Lua scripts. Keys (all after the prefix, kombu's `global_keyprefix`):
 *
 * | key | type | what |
 * |---|---|---|
 * | `<queue>`, `<queue>\x06\x16{3,6,9}` | list | kombu's queue lists: LPUSH to publish, RPOP/BRPOP to take |
 * | `unacked` | hash | kombu's: lease tag → `[envelope, exchange, routing_key]` |
 * | `unacked_index` | zset | kombu's: lease tag → score (see below) |
 * | `laminar.delayed` | zset | id → due time (epoch ms) of an ETA/backoff message |
 * | `laminar.delayed.messages` | hash | id → `list \0 queue \0 envelope` |
 * | `laminar.deliveries` | hash | envelope delivery_tag → deliveries so far |
 * | `laminar.queues` | set | queue names published to (for `stats`) |
 * | `laminar.revoked` | set | revoked task ids; `laminar.revocations` zset seq → `seq:terminate:id`; `laminar.revoke.seq`; `laminar.revoked.seq` hash id → its newest seq |
 * | `laminar.dead` | list | dead letters (JSON), newest first; `laminar.dead.count` hash queue → n |
 * | `laminar.workers` | hash | worker id → WorkerInfo JSON |
 * | `laminar.lock.<name>`, `laminar.once.<key>` | string | locks and claims |
 *
 * The `unacked_index` score is kombu's: the time (seconds) the message was taken. kombu restores an
 * entry once `score < now - visibility_timeout` (`restore_visible`); laminar's leases have their own
 * length, so laminar writes `score = lease end - kombuVisibilityTimeout`: a Python worker with the same
 * `visibility_timeout` restores a laminar lease exactly when it lapses, and laminar restores Python's
 * entries when Python would. Times come from the caller's clock (kombu uses the client's `time()` too).
 *
 * @module
 */
import { LuaScript } from "./lua-script.js";

const PRELUDE = `
local P = ARGV[1]
local function split3(s)
  local a = string.find(s, "\\0", 1, true)
  local b = string.find(s, "\\0", a + 1, true)
  return string.sub(s, 1, a - 1), string.sub(s, a + 1, b - 1), string.sub(s, b + 1)
end
local function list_for(queue, d)
  local pri = 0
  if type(d) == 'table' and type(d.properties) == 'table' then pri = tonumber(d.properties.priority) or 0 end
  local step = 0
  for _, s in ipairs({3, 6, 9}) do if pri >= s then step = s end end
  if step == 0 then return queue end
  return queue .. '\\6\\22' .. step
end
-- Removes lease tag from the unacked hash and its index; returns its value, or nil when the lease is gone.
local function take_unacked(tag)
  local v = redis.call('HGET', P .. 'unacked', tag)
  if not v then return nil end
  redis.call('HDEL', P .. 'unacked', tag)
  redis.call('ZREM', P .. 'unacked_index', tag)
  return v
end
local function etag_of(d)
  if type(d) == 'table' and type(d.properties) == 'table' and type(d.properties.delivery_tag) == 'string' then return d.properties.delivery_tag end
  return nil
end
-- The envelope text inside an unacked value, byte for byte when laminar wrote it ('[' .. env .. ',"",' .. rk .. ']');
-- re-encoded for one a Python worker wrote (its json.dumps puts spaces after commas).
local function unpack_unacked(v)
  local ok, d = pcall(cjson.decode, v)
  if not ok or type(d) ~= 'table' then return nil end
  local rk = d[3]
  if type(rk) ~= 'string' then rk = '' end
  local ex = d[2]
  if type(ex) ~= 'string' then ex = '' end
  for _, sep in ipairs({',', ', '}) do
    local tail = sep .. cjson.encode(ex) .. sep .. cjson.encode(rk) .. ']'
    if string.sub(v, 1, 1) == '[' and #v > #tail and string.sub(v, -#tail) == tail then
      return string.sub(v, 2, #v - #tail), d[1], rk
    end
  end
  return cjson.encode(d[1]), d[1], rk
end
local function restore(ceil, limit)
  local tags = redis.call('ZRANGEBYSCORE', P .. 'unacked_index', '-inf', ceil, 'LIMIT', 0, limit)
  for _, tag in ipairs(tags) do
    local v = redis.call('HGET', P .. 'unacked', tag)
    redis.call('HDEL', P .. 'unacked', tag)
    redis.call('ZREM', P .. 'unacked_index', tag)
    if v then
      local env, d, rk = unpack_unacked(v)
      -- RPUSH: taken next, as kombu's _do_restore_message does.
      if env then redis.call('RPUSH', P .. list_for(rk, d), env) end
    end
  end
end
local function promote(now, limit)
  local due = redis.call('ZRANGEBYSCORE', P .. 'laminar.delayed', '-inf', now, 'LIMIT', 0, limit)
  for _, id in ipairs(due) do
    local v = redis.call('HGET', P .. 'laminar.delayed.messages', id)
    redis.call('ZREM', P .. 'laminar.delayed', id)
    redis.call('HDEL', P .. 'laminar.delayed.messages', id)
    if v then
      local list, queue, env = split3(v)
      redis.call('LPUSH', P .. list, env)
    end
  end
end
-- Records a popped envelope as leased under tag; nil when its task id is revoked (then it is dropped).
local function claim(env, queue, tag, score)
  local ok, d = pcall(cjson.decode, env)
  if ok and type(d) == 'table' and type(d.headers) == 'table' and type(d.headers.id) == 'string' then
    if redis.call('SISMEMBER', P .. 'laminar.revoked', d.headers.id) == 1 then
      local et = etag_of(d)
      if et then redis.call('HDEL', P .. 'laminar.deliveries', et) end
      return nil
    end
  end
  -- A queue a Python producer filled is listed by stats() from its first delivery on.
  redis.call('SADD', P .. 'laminar.queues', queue)
  redis.call('HSET', P .. 'unacked', tag, '[' .. env .. ',"",' .. cjson.encode(queue) .. ']')
  redis.call('ZADD', P .. 'unacked_index', score, tag)
  local et = etag_of(ok and d or nil) or tag
  return redis.call('HINCRBY', P .. 'laminar.deliveries', et, 1)
end
`;

/** ARGV: prefix, now ms, count, then per message: id, queue, list, due ms ('' = now), envelope, delayed id. */
export const PUBLISH = new LuaScript(`${PRELUDE}
local now = tonumber(ARGV[2])
promote(now, 1000)
local n = tonumber(ARGV[3])
for i = 0, n - 1 do
  local b = 4 + i * 6
  local id, queue, list, due, env, did = ARGV[b], ARGV[b + 1], ARGV[b + 2], ARGV[b + 3], ARGV[b + 4], ARGV[b + 5]
  if redis.call('SISMEMBER', P .. 'laminar.revoked', id) == 0 then
    redis.call('SADD', P .. 'laminar.queues', queue)
    if due ~= '' and tonumber(due) > now then
      redis.call('ZADD', P .. 'laminar.delayed', due, did)
      redis.call('HSET', P .. 'laminar.delayed.messages', did, list .. '\\0' .. queue .. '\\0' .. env)
    else
      redis.call('LPUSH', P .. list, env)
    end
  end
end
return n
`);

/**
 * ARGV: prefix, now ms, restore ceil (s), lease score (s), max, queue count, queues…, tags… (max of them).
 * Returns a flat list: envelope, tag, queue, deliveries, … .
 */
export const RESERVE = new LuaScript(`${PRELUDE}
restore(ARGV[3], 1000)
promote(tonumber(ARGV[2]), 1000)
local score = ARGV[4]
local max = tonumber(ARGV[5])
local nq = tonumber(ARGV[6])
local out = {}
local n = 0
for _, step in ipairs({0, 3, 6, 9}) do
  for i = 1, nq do
    local q = ARGV[6 + i]
    local key = P .. q
    if step > 0 then key = key .. '\\6\\22' .. step end
    while n < max do
      local env = redis.call('RPOP', key)
      if not env then break end
      local tag = ARGV[6 + nq + n + 1]
      local c = claim(env, q, tag, score)
      if c then
        n = n + 1
        table.insert(out, env); table.insert(out, tag); table.insert(out, q); table.insert(out, c)
      end
    end
  end
end
return out
`);

/** ARGV: prefix, envelope, queue, tag, lease score. Claims what a BRPOP returned: deliveries, or nil when revoked. */
export const CLAIM = new LuaScript(`${PRELUDE}
return claim(ARGV[2], ARGV[3], ARGV[4], ARGV[5])
`);

/** ARGV: prefix, tag, lease score. 1 when the lease is held (and now extended). */
export const EXTEND = new LuaScript(`${PRELUDE}
if redis.call('HEXISTS', P .. 'unacked', ARGV[2]) == 1 then
  redis.call('ZADD', P .. 'unacked_index', ARGV[3], ARGV[2])
  return 1
end
return 0
`);

/** ARGV: prefix, tag. 1 when the lease was held (the message is now gone). */
export const ACK = new LuaScript(`${PRELUDE}
local v = take_unacked(ARGV[2])
if not v then return 0 end
local env, d = unpack_unacked(v)
local et = etag_of(d)
if et then redis.call('HDEL', P .. 'laminar.deliveries', et) end
return 1
`);

/**
 * ARGV: prefix, tag, now ms, delay ms, delayed id, replacement envelope ('' = none), its list, its queue, its task id.
 * Puts the message back (RPUSH: next in line, or into the delayed set), replaced when given.
 */
export const RELEASE = new LuaScript(`${PRELUDE}
local v = take_unacked(ARGV[2])
if not v then return 0 end
local env, d, rk = unpack_unacked(v)
local list, queue = list_for(rk, d), rk
if ARGV[6] ~= '' then
  local et = etag_of(d)
  if et then redis.call('HDEL', P .. 'laminar.deliveries', et) end
  env, list, queue = ARGV[6], ARGV[7], ARGV[8]
  if redis.call('SISMEMBER', P .. 'laminar.revoked', ARGV[9]) == 1 then return 1 end
end
if not env then return 1 end
local delay = tonumber(ARGV[4])
if delay > 0 then
  redis.call('ZADD', P .. 'laminar.delayed', tonumber(ARGV[3]) + delay, ARGV[5])
  redis.call('HSET', P .. 'laminar.delayed.messages', ARGV[5], list .. '\\0' .. queue .. '\\0' .. env)
else
  redis.call('RPUSH', P .. list, env)
end
return 1
`);

/**
 * ARGV: prefix, tag, due ms, delayed id. Moves a leased message whose ETA is still ahead (a Python
 * producer pushes ETA tasks straight onto the list) into the delayed set, uncounting the delivery.
 */
export const DEFER = new LuaScript(`${PRELUDE}
local v = take_unacked(ARGV[2])
if not v then return 0 end
local env, d, rk = unpack_unacked(v)
if not env then return 0 end
local et = etag_of(d)
if et then redis.call('HINCRBY', P .. 'laminar.deliveries', et, -1) end
redis.call('ZADD', P .. 'laminar.delayed', ARGV[3], ARGV[4])
redis.call('HSET', P .. 'laminar.delayed.messages', ARGV[4], list_for(rk, d) .. '\\0' .. rk .. '\\0' .. env)
return 1
`);

/** ARGV: prefix, tag, dead letter JSON, queue, list to keep the raw value in when undecodable ('' = the dead list). */
export const DEAD_LETTER = new LuaScript(`${PRELUDE}
local v = take_unacked(ARGV[2])
if not v then return 0 end
local env, d = unpack_unacked(v)
local et = etag_of(d)
if et then redis.call('HDEL', P .. 'laminar.deliveries', et) end
if ARGV[5] ~= '' then
  redis.call('LPUSH', P .. ARGV[5], v)
else
  redis.call('LPUSH', P .. 'laminar.dead', ARGV[3])
  redis.call('HINCRBY', P .. 'laminar.dead.count', ARGV[4], 1)
end
return 1
`);

/** ARGV: prefix, now ms, restore ceil (s). Returns flat: queue, ready, delayed, leased, dead, … */
export const STATS = new LuaScript(`${PRELUDE}
restore(ARGV[3], 1000)
promote(tonumber(ARGV[2]), 1000)
local queues = redis.call('SMEMBERS', P .. 'laminar.queues')
local rows = {}
for _, q in ipairs(queues) do rows[q] = {0, 0, 0, 0} end
for q, row in pairs(rows) do
  row[1] = redis.call('LLEN', P .. q)
  for _, s in ipairs({3, 6, 9}) do row[1] = row[1] + redis.call('LLEN', P .. q .. '\\6\\22' .. s) end
  row[4] = tonumber(redis.call('HGET', P .. 'laminar.dead.count', q) or '0')
end
for _, v in ipairs(redis.call('HVALS', P .. 'laminar.delayed.messages')) do
  local list, q = split3(v)
  if rows[q] then rows[q][2] = rows[q][2] + 1 end
end
for _, v in ipairs(redis.call('HVALS', P .. 'unacked')) do
  local ok, d = pcall(cjson.decode, v)
  if ok and type(d) == 'table' and rows[d[3]] then rows[d[3]][3] = rows[d[3]][3] + 1 end
end
local out = {}
for _, q in ipairs(queues) do
  local row = rows[q]
  table.insert(out, q); table.insert(out, row[1]); table.insert(out, row[2]); table.insert(out, row[3]); table.insert(out, row[4])
end
return out
`);

/**
 * ARGV: prefix, task id, terminate (0/1), only if new (0/1), max revocations kept. Returns the
 * revocation's seq (0: already revoked, not recorded again). Past the maximum the oldest revocations
 * are forgotten; an id revoked again since keeps its newer one (`laminar.revoked.seq`).
 */
export const REVOKE = new LuaScript(`${PRELUDE}
if ARGV[4] == '1' and redis.call('SISMEMBER', P .. 'laminar.revoked', ARGV[2]) == 1 then return 0 end
local seq = redis.call('INCR', P .. 'laminar.revoke.seq')
local revs = P .. 'laminar.revocations'
redis.call('SADD', P .. 'laminar.revoked', ARGV[2])
redis.call('HSET', P .. 'laminar.revoked.seq', ARGV[2], seq)
redis.call('ZADD', revs, seq, seq .. ':' .. ARGV[3] .. ':' .. ARGV[2])
local over = redis.call('ZCARD', revs) - tonumber(ARGV[5])
if over > 0 then
  local old = redis.call('ZPOPMIN', revs, over)
  for i = 1, #old, 2 do
    local s, id = string.match(old[i], '^(%d+):%d:(.*)$')
    if id and redis.call('HGET', P .. 'laminar.revoked.seq', id) == s then
      redis.call('SREM', P .. 'laminar.revoked', id)
      redis.call('HDEL', P .. 'laminar.revoked.seq', id)
    end
  end
end
return seq
`);

/** ARGV: prefix, name, owner, now ms, ttl ms. 1 when owner holds the lock afterwards. */
export const ACQUIRE_LOCK = new LuaScript(`${PRELUDE}
local key = P .. 'laminar.lock.' .. ARGV[2]
local now = tonumber(ARGV[4])
local v = redis.call('GET', key)
if v then
  local at = string.find(v, "\\0", 1, true)
  local owner, untilms = string.sub(v, 1, at - 1), tonumber(string.sub(v, at + 1))
  if owner ~= ARGV[3] and untilms > now then return 0 end
end
-- The lock's end is checked on the caller's clock; the key's own expiry only collects garbage.
redis.call('SET', key, ARGV[3] .. '\\0' .. (now + tonumber(ARGV[5])), 'PX', tonumber(ARGV[5]) + 60000)
return 1
`);

/** ARGV: prefix, name, owner. */
export const RELEASE_LOCK = new LuaScript(`${PRELUDE}
local key = P .. 'laminar.lock.' .. ARGV[2]
local v = redis.call('GET', key)
if v and string.sub(v, 1, #ARGV[3] + 1) == ARGV[3] .. '\\0' then redis.call('DEL', key) end
return 0
`);
