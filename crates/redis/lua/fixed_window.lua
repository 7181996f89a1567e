-- Fixed window aligned to the epoch. Parameters: limit, period (ns). State:
-- "<window start> <count>" (decimal ns, cost admitted in that window).
ALGORITHMS[4] = function(v, a, b, c, d, cost)
  local limit, p = a, b
  local m = now_mod(p)
  local w, count, wstr = -m, 0, nil
  if v then
    local a, b = string.match(v, '^(%d+) (%d+)$')
    if a then
      local r = rel(a)
      -- A clock that went back stays in the window already counted.
      if r and r >= -m then w = r; count = tonumber(b); wstr = a end
    end
  end
  local reset = math.max(w + p, 0)
  if count + cost <= limit then
    return true, limit - count - cost, reset, 0, (wstr or abs(w)) .. ' ' .. fmt(count + cost), w + p
  end
  return false, math.max(limit - count, 0), reset, reset, '', 0
end
