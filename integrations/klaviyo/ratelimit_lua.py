"""The limiter's Lua scripts (see `integrations.klaviyo.ratelimit` for the contract).

Each runs atomically in Redis with Redis' own clock (`TIME`), so every worker on every machine
agrees on window boundaries. Window keys are built from the prefix the caller passes
(`kl:rl:{<account>}:<operation>:<seconds>:<window index>`); ARGV carries, per window, its size,
its limit and its guard band.
"""

# Shared by ACQUIRE and PEEK: Redis' clock, the account's 429 cool-down (answer "wait" at once),
# and the walk over every window index the call would touch (its own and, inside the guard band,
# the next one). The caller's script body continues inside the innermost loop.
_COOLED_DOWN = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local until_ = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ > now then return {0, tostring(until_ - now)} end
local prefix = ARGV[1]
local n = tonumber(ARGV[2])
"""

_EACH_WINDOW = """for i = 0, n - 1 do
  local size = tonumber(ARGV[3 + i * 3])
  local limit = tonumber(ARGV[4 + i * 3])
  local guard = tonumber(ARGV[5 + i * 3])
  local first = math.floor(now / size)
  local last = math.floor((now + guard) / size)
  for idx = first, last do"""

ACQUIRE = _COOLED_DOWN + """\
local charge = {}
local wait = 0
""" + _EACH_WINDOW + """
    local key = prefix .. size .. ':' .. idx
    local used = tonumber(redis.call('GET', key) or '0')
    if used >= limit then
      local w = (idx + 1) * size - now
      if w > wait then wait = w end
    else
      charge[#charge + 1] = {key, size}
    end
  end
end
if wait > 0 then return {0, tostring(wait)} end
for _, item in ipairs(charge) do
  redis.call('INCR', item[1])
  redis.call('EXPIRE', item[1], item[2] * 2 + 2)
end
return {1, '0'}
"""

PEEK = _COOLED_DOWN + """\
local free = -1
local wait = 0
""" + _EACH_WINDOW + """
    local left = limit - tonumber(redis.call('GET', prefix .. size .. ':' .. idx) or '0')
    if left <= 0 then
      local w = (idx + 1) * size - now
      if w > wait then wait = w end
      left = 0
    end
    if free < 0 or left < free then free = left end
  end
end
return {math.max(free, 0), tostring(wait)}
"""

COOL_DOWN = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local target = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if target > current then
  redis.call('SET', KEYS[1], tostring(target), 'PX', math.ceil(tonumber(ARGV[1]) * 1000) + 1000)
  return tostring(target - now)
end
return tostring(current - now)
"""
