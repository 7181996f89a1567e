-- Leaky bucket (meter). Parameters: limit, unit, per_ns, cap (scaled units). State:
-- "<level> <last>" (scaled level, decimal ns of the last update).
ALGORITHMS[3] = function(v, a, b, c, d, cost)
  local unit, per, cap = b, c, d
  local level, last = 0, nil
  if v then
    local a, b = string.match(v, '^(%d+) (%d+)$')
    if a then level = tonumber(a); last = rel(b) end
  end
  if last == nil then
    level = 0
  elseif last < 0 then
    local acc = cap
    if -last < cdiv(cap, per) then acc = -last * per end
    level = math.max(level - acc, 0)
  end
  local next_last = 0
  if last and last > 0 then next_last = last end
  local after = level + cost * unit
  if after <= cap then
    local reset = cdiv(after, per)
    return true, fdiv(cap - after, unit), reset, 0, fmt(after) .. ' ' .. abs(next_last), next_last + reset
  end
  return false, fdiv(math.max(cap - level, 0), unit), cdiv(level, per), cdiv(after - cap, per), '', 0
end
