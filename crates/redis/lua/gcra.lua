-- GCRA. Parameters: limit, emission interval T (ns), tolerance tau (ns). State: the TAT,
-- a decimal ns string.
ALGORITHMS[1] = function(v, a, b, c, d, cost)
  local T, tau = b, c
  local t = 0
  local r = rel(v)
  if r and r > 0 then t = r end
  local new = t + cost * T
  if new - tau <= 0 then
    return true, fdiv(math.max(tau - new, 0), T), new, 0, abs(new), new
  end
  return false, fdiv(math.max(tau - t, 0), T), t, new - tau, '', 0
end
