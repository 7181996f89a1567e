-- Token bucket. Parameters: limit, unit, per_ns, cap (scaled units). State:
-- "<tokens> <last>" (scaled tokens, decimal ns of the last update).
ALGORITHMS[2] = function(v, a, b, c, d, cost)
  local unit, per, cap = b, c, d
  local tokens, last = cap, nil
  if v then
    local a, b = string.match(v, '^(%d+) (%d+)$')
    if a then tokens = tonumber(a); last = rel(b) end
  end
  if last == nil then
    tokens = cap
  elseif last < 0 then
    local acc = cap
    if -last < cdiv(cap, per) then acc = -last * per end
    tokens = math.min(cap, tokens + acc)
  end
  local next_last = 0
  if last and last > 0 then next_last = last end
  local need = cost * unit
  if tokens >= need then
    local left = tokens - need
    local reset = cdiv(cap - left, per)
    return true, fdiv(left, unit), reset, 0, fmt(left) .. ' ' .. abs(next_last), next_last + reset
  end
  return false, fdiv(tokens, unit), cdiv(cap - tokens, per), cdiv(need - tokens, per), '', 0
end
