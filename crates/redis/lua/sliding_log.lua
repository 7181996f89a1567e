-- Sliding window log. Parameters: limit, period (ns). State: "<at>:<cost>,..." oldest first
-- (decimal ns of each admission, its cost; admissions at one instant merged).
ALGORITHMS[5] = function(v, a, b, c, d, cost)
  local limit, p = a, b
  local ents, sum = {}, 0
  if v then
    for a, c in string.gmatch(v, '(%d+):(%d+)') do
      local r = rel(a)
      if r and r + p > 0 then
        local n = tonumber(c)
        ents[#ents + 1] = {a, r, n}
        sum = sum + n
      end
    end
  end
  local last = ents[#ents]
  if sum + cost <= limit then
    local newest = 0
    if last and last[2] > 0 then newest = last[2] end
    if last and last[2] >= 0 then
      last[3] = last[3] + cost
    else
      ents[#ents + 1] = {abs(0), 0, cost}
    end
    local parts = {}
    for i, e in ipairs(ents) do parts[i] = e[1] .. ':' .. fmt(e[3]) end
    return true, limit - sum - cost, newest + p, 0, table.concat(parts, ','), newest + p
  end
  local reset = 0
  if last then reset = math.max(last[2] + p, 0) end
  local need = sum + cost - limit
  local freed, retry = 0, reset
  for _, e in ipairs(ents) do
    freed = freed + e[3]
    if freed >= need then
      retry = math.max(e[2] + p, 0)
      break
    end
  end
  return false, math.max(limit - sum, 0), reset, retry, '', 0
end
