-- KEYS[1]: the block key; ARGV[1]: the block's duration, decimal ns.
-- Reply: {now seconds, now microseconds} (Redis TIME).
set_block(KEYS[1], ARGV[1])
return {now_s, now_us}
