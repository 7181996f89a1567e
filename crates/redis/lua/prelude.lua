-- palisade-redis rate limiting: the shared prelude (helpers and the server's clock).
--
-- Lua numbers are doubles, exact for integers below 2^53. Absolute instants are kept at rest
-- as decimal strings of nanoseconds since the Unix epoch (the numbers of the Rust `State`
-- fields) and every computation is done relative to `now`, in nanoseconds, where values stay
-- below 2^53 (the Rust side refuses quotas whose parameters reach 2^52).
local E9 = 1000000000
local EXACT = 9007199254740992 -- 2^53
local U64_MAX_S, U64_MAX_N = 18446744073, 709551615
local MAX_TTL_MS = 3153600000000 -- 100 years

local clock = redis.call('TIME')
local now_s = tonumber(clock[1])
local now_us = tonumber(clock[2])
local now_n = now_us * 1000

local ALGORITHMS = {}

-- floor(a / b) for integers 0 <= a, 0 < b, a + b < 2^53.
local function fdiv(a, b)
  local q = math.floor(a / b)
  if q * b > a then
    q = q - 1
  elseif (q + 1) * b <= a then
    q = q + 1
  end
  return q
end

-- ceil(a / b), same bounds.
local function cdiv(a, b)
  local q = fdiv(a, b)
  if q * b < a then q = q + 1 end
  return q
end

-- The highest power of two <= b (b >= 1).
local function top_bit(b)
  local t = 1
  while t * 2 <= b do t = t * 2 end
  return t
end

-- (a * b) mod p for 0 <= a, b < p < 2^52, exactly (double-and-add past 2^53).
local function mulmod(a, b, p)
  local prod = a * b
  if prod < EXACT then return math.fmod(prod, p) end
  local r = 0
  local t = top_bit(b)
  while t >= 1 do
    r = r * 2
    if r >= p then r = r - p end
    if b >= t then
      b = b - t
      r = r + a
      if r >= p then r = r - p end
    end
    t = t / 2
  end
  return r
end

-- floor(a * b / d) and (a * b) mod d for 0 <= a < d < 2^52, 0 <= b < 2^53, exactly.
local function muldiv(a, b, d)
  local prod = a * b
  if prod < EXACT then
    local q = fdiv(prod, d)
    return q, prod - q * d
  end
  local q, r = 0, 0
  local t = top_bit(b)
  while t >= 1 do
    q = q * 2
    r = r * 2
    if r >= d then r = r - d; q = q + 1 end
    if b >= t then
      b = b - t
      r = r + a
      if r >= d then r = r - d; q = q + 1 end
    end
    t = t / 2
  end
  return q, r
end

-- A decimal string of ns since the epoch as (seconds, nanoseconds), or nil.
local function split(str)
  if type(str) ~= 'string' or not string.match(str, '^%d+$') then return nil end
  local len = #str
  if len <= 9 then return 0, tonumber(str) end
  return tonumber(string.sub(str, 1, len - 9)), tonumber(string.sub(str, len - 8))
end

-- An absolute instant (decimal ns string) relative to now, in ns (exact within 2^53 ns).
local function rel(str)
  local s, n = split(str)
  if s == nil then return nil end
  return (s - now_s) * E9 + (n - now_n)
end

-- now + r (an exact integer of ns) as a decimal ns string.
local function abs(r)
  local n = now_n + r
  local c = math.floor(n / E9)
  local m = n - c * E9
  if m < 0 then
    c = c - 1; m = m + E9
  elseif m >= E9 then
    c = c + 1; m = m - E9
  end
  local s = now_s + c
  if s <= 0 then return string.format('%.0f', math.max(m + s * E9, 0)) end
  return string.format('%.0f%09.0f', s, m)
end

-- An integer as a decimal string.
local function fmt(x)
  return string.format('%.0f', x)
end

-- now mod p, ns since the epoch, exactly (p < 2^52).
local function now_mod(p)
  local x = mulmod(math.fmod(now_s, p), math.fmod(E9, p), p)
  return math.fmod(x + math.fmod(now_n, p), p)
end

-- Blocks `key` until now + `ns_str` (a decimal ns string), saturating at 2^64 - 1 ns since
-- the epoch, extending and never shortening a block in place. The value is the end of the
-- block (decimal ns since the epoch); the key expires then (PX, ms rounded up, >= 1).
local function set_block(key, ns_str)
  local bs, bn = split(ns_str)
  if bs == nil then return end
  local us, un = now_s + bs, now_n + bn
  if un >= E9 then un = un - E9; us = us + 1 end
  if us > U64_MAX_S or (us == U64_MAX_S and un > U64_MAX_N) then
    us, un = U64_MAX_S, U64_MAX_N
  end
  if us < now_s or (us == now_s and un <= now_n) then return end
  local old = redis.call('GET', key)
  if old then
    local os, on = split(old)
    if os and (os > us or (os == us and on >= un)) then return end
  end
  local ds, dn = us - now_s, un - now_n
  if dn < 0 then dn = dn + E9; ds = ds - 1 end
  local ms = ds * 1000 + cdiv(dn, 1000000)
  if ms > MAX_TTL_MS then ms = MAX_TTL_MS end
  if ms < 1 then ms = 1 end
  redis.call('SET', key, string.format('%.0f%09.0f', us, un), 'PX', fmt(ms))
end
