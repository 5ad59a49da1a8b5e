"""The cost limiter's Lua scripts (see `integrations.shopify.ratelimit` for the contract).

Each runs atomically in Redis with Redis' own clock (`TIME`), so every worker agrees on how
far the bucket has refilled. KEYS[1] is the shop's bucket hash (`max`, `avail`, `rate`, `t`:
the level `avail` as of instant `t`); KEYS[2] is the shop's sorted set of reservations in
flight (member `<id>:<cost>`, score = the instant the reservation lapses, so a worker that
died between reserving and hearing back cannot hold points for ever).
"""

# Redis' clock, lapsed reservations dropped, the bucket read and refilled up to `max`.
_BUCKET = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local b = redis.call('HMGET', KEYS[1], 'max', 'avail', 'rate', 't')
local max = tonumber(b[1]) or tonumber(ARGV[2])
local rate = tonumber(b[3]) or tonumber(ARGV[3])
local avail = tonumber(b[2]) or max
local at = tonumber(b[4]) or now
avail = math.min(max, avail + math.max(0, now - at) * rate)
local ttl = math.ceil(max / rate) * 2 + 60
"""

# ARGV: cost, default max, default restore rate, reservation id, lease seconds, clamp (1: the
# cost is a guess, so cap it at the bucket's size instead of refusing).
# -> {1, avail left, cost} reserved | {0, seconds to wait} | {-1, max} the cost can never fit.
RESERVE = _BUCKET + """
local cost = tonumber(ARGV[1])
if cost > max then
  if ARGV[6] == '1' then cost = max else return {-1, tostring(max)} end
end
if avail < cost then return {0, tostring((cost - avail) / rate)} end
avail = avail - cost
redis.call('HSET', KEYS[1], 'max', max, 'avail', avail, 'rate', rate, 't', now)
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[5]), ARGV[4] .. ':' .. cost)
redis.call('EXPIRE', KEYS[2], ttl)
return {1, tostring(avail), cost}
"""

# ARGV: reservation member ('' for none), max, currentlyAvailable, restoreRate (Shopify's own
# throttleStatus). The level becomes Shopify's figure minus what other workers still have in
# flight (their queries may not have reached Shopify yet).
LEARN = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
if ARGV[1] ~= '' then redis.call('ZREM', KEYS[2], ARGV[1]) end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local pending = 0
for _, member in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  pending = pending + tonumber(string.match(member, ':(%d+)$') or '0')
end
local max = tonumber(ARGV[2])
local rate = tonumber(ARGV[4])
local avail = math.max(0, math.min(max, tonumber(ARGV[3])) - pending)
redis.call('HSET', KEYS[1], 'max', max, 'avail', avail, 'rate', rate, 't', now)
redis.call('EXPIRE', KEYS[1], math.ceil(max / rate) * 2 + 60)
return tostring(avail)
"""

# ARGV: reservation member, default max, default rate, points to give back (0 when the query
# may have reached Shopify). For calls that never got a throttleStatus back.
RELEASE = _BUCKET + """
redis.call('ZREM', KEYS[2], ARGV[1])
avail = math.min(max, avail + tonumber(ARGV[4]))
redis.call('HSET', KEYS[1], 'max', max, 'avail', avail, 'rate', rate, 't', now)
redis.call('EXPIRE', KEYS[1], ttl)
return tostring(avail)
"""
