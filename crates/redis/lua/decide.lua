-- One decision for a policy on a key, as a function, shared by the single-call driver
-- (driver.lua) and the coalesced batch (batch.lua).
--
-- decide(kstate, kblock, a, out, o): kstate is the key's state for the policy, a string: the
-- states of its limits in order, separated by '|'; kblock is the key's block (decimal ns since
-- the epoch of its end). The decision's arguments are ARGV[a + 1 …]: cost; penalty block,
-- decimal ns ('0' for none); number of limits n; then per limit 5 values: algorithm code
-- (1 gcra, 2 token bucket, 3 leaky bucket, 4 fixed window, 5 sliding log, 6 sliding counter)
-- and 4 integer parameters. The reply is written to out[o + 1 …]: {1, block left s, block left
-- ns} when the key is blocked, else {0, then per limit: allowed (1/0), remaining, reset_after
-- ns, retry_after ns}. Returns the index of the decision's last argument (a + 3 + 5n), or nil
-- and an error message for bad arguments.
--
-- The state is written only when every limit admits (all charged; one SET with PX = when the
-- newest state becomes new again); a refusal writes nothing but the penalty block.
--
-- Redis commands per decision: MGET (block and state: one slot), and SET … PX when admitted
-- (TIME is read once per script, by the prelude).
local function decide(kstate, kblock, a, out, o)
  local cost = tonumber(ARGV[a + 1])
  local n = tonumber(ARGV[a + 3])
  if cost == nil or n == nil or n < 1 then
    return nil, 'script: bad arguments'
  end
  local got = redis.call('MGET', kblock, kstate)
  local until_s, until_n = split(got[1])
  if until_s and (until_s > now_s or (until_s == now_s and until_n > now_n)) then
    local ds, dn = until_s - now_s, until_n - now_n
    if dn < 0 then dn = dn + E9; ds = ds - 1 end
    out[o + 1] = 1
    out[o + 2] = ds
    out[o + 3] = dn
    return a + 3 + 5 * n
  end

  local stored = got[2]
  local raw = {}
  if stored then
    if n == 1 then
      raw[1] = stored
    else
      local i = 1
      for part in string.gmatch(stored .. '|', '([^|]*)|') do
        if i > n then break end
        raw[i] = part
        i = i + 1
      end
    end
  end
  -- Each algorithm is `function(state or nil, 4 parameters, cost)` returning admitted,
  -- remaining, reset after (ns), retry after (ns), the new state (text) and when it expires
  -- (ns from now).
  out[o + 1] = 0
  local states = {}
  local ttl_ns = 0
  local all = true
  for i = 1, n do
    local base = a + 3 + (i - 1) * 5
    local alg = ALGORITHMS[tonumber(ARGV[base + 1])]
    if alg == nil then return nil, 'script: unknown algorithm' end
    local v = raw[i]
    if v == '' then v = nil end
    local ok, remaining, reset, retry, state, expires = alg(v, tonumber(ARGV[base + 2]),
      tonumber(ARGV[base + 3]), tonumber(ARGV[base + 4]), tonumber(ARGV[base + 5]), cost)
    local p = o + 1 + (i - 1) * 4
    out[p + 1] = ok and 1 or 0
    out[p + 2] = remaining
    out[p + 3] = reset
    out[p + 4] = retry
    if ok then
      states[i] = state
      if expires > ttl_ns then ttl_ns = expires end
    else
      all = false
    end
  end

  if all then
    local ttl = cdiv(ttl_ns, 1000000)
    if ttl < 1 then ttl = 1 end
    if n == 1 then
      redis.call('SET', kstate, states[1], 'PX', fmt(ttl))
    else
      redis.call('SET', kstate, table.concat(states, '|'), 'PX', fmt(ttl))
    end
  elseif ARGV[a + 2] ~= '0' then
    set_block(kblock, ARGV[a + 2])
  end
  return a + 3 + 5 * n
end
