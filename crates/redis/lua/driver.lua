-- The driver of one decision per script call: KEYS[1] the key's state for the policy, KEYS[2]
-- its block, ARGV the decision's arguments (decide.lua).
--
-- Reply: {now s, now us, then decide's reply}: {now s, now us, 1, block left s, block left ns}
-- when the key is blocked, else {now s, now us, 0, then per limit: allowed (1/0), remaining,
-- reset_after ns, retry_after ns}.
--
-- Redis commands per decision: TIME, MGET (block and state: one slot), and SET … PX when
-- admitted.
local out = {now_s, now_us}
local last, err = decide(KEYS[1], KEYS[2], 0, out, 2)
if last == nil then return redis.error_reply(err) end
return out
