-- palisade-redis rate limiting: exact modular arithmetic past 2^53, for the algorithms that
-- need it (the windows aligned to the epoch, the sliding window counter's weighting). Kept out
-- of the prelude so that the other scripts do not create these functions on every call.
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

-- now mod p, ns since the epoch, exactly (p < 2^52).
local function now_mod(p)
  -- Whole seconds (1 s, 1 min, 1 h, 1 day…) and divisors of a second: no big products.
  if math.fmod(p, E9) == 0 then
    return math.fmod(now_s, p / E9) * E9 + now_n
  end
  if math.fmod(E9, p) == 0 then
    return math.fmod(now_n, p)
  end
  local x = mulmod(math.fmod(now_s, p), math.fmod(E9, p), p)
  return math.fmod(x + math.fmod(now_n, p), p)
end

