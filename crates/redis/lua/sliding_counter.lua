-- Sliding window counter. Parameters: limit, period (ns). State:
-- "<window start> <current> <previous>" (decimal ns, cost in that window and the one before).
local function weighted(prev, e, p)
  if prev == 0 then return 0 end
  local x = p - math.min(e, p)
  local qa = fdiv(prev, p)
  local q, r = muldiv(prev - qa * p, x, p)
  q = qa * x + q
  if r > 0 then q = q + 1 end
  return q
end

local function first_offset(prev, room, p)
  if prev == 0 or room >= prev then return 0 end
  local k = muldiv(room, p, prev)
  return math.max(p - k, 0)
end

ALGORITHMS[6] = function(v, a, b, c, d, cost)
  local limit, p = a, b
  local m = now_mod(p)
  local w, cur, prev, e, wstr = -m, 0, 0, m, nil
  if v then
    local a, b, c = string.match(v, '^(%d+) (%d+) (%d+)$')
    if a then
      local r = rel(a)
      if r == nil then
        -- unreadable: a new state
      elseif r == -m then
        cur = tonumber(b); prev = tonumber(c); wstr = a
      elseif r == -m - p then
        prev = tonumber(b)
      elseif r > -m then
        -- A clock that went back stays at the start of the window already counted.
        w = r; cur = tonumber(b); prev = tonumber(c); e = 0; wstr = a
      end
    end
  end
  local est = weighted(prev, e, p) + cur
  if est + cost <= limit then
    return true, limit - est - cost, math.max(w + 2 * p, 0), 0,
      (wstr or abs(w)) .. ' ' .. fmt(cur + cost) .. ' ' .. fmt(prev), w + 2 * p
  end
  local reset_at = w + p
  if cur > 0 then reset_at = w + 2 * p end
  local retry_at
  local room = limit - (cur + cost)
  if room >= 0 then
    retry_at = w + first_offset(prev, room, p)
  else
    retry_at = w + p + first_offset(cur, limit - cost, p)
  end
  return false, math.max(limit - est, 0), math.max(reset_at, 0), math.max(retry_at, 0), '', 0
end
