// rate-limiter-flexible's RateLimiterRedis, driven like palisade's store in
// crates/redis/benches/throughput.rs: CONCURRENCY requests in flight on one ioredis connection
// (which pipelines them, as redis-rs's multiplexed connection does), keys drawn round-robin from
// KEYS distinct keys, for DURATION_MS. Prints one JSON line: {"decisions": n, "secs": s,
// "admitted": a}.
'use strict';
const Redis = require('ioredis');
const { RateLimiterRedis } = require('rate-limiter-flexible');

const url = process.env.REDIS_URL || 'redis://127.0.0.1:6379/';
const concurrency = Number(process.env.CONCURRENCY || 50);
const durationMs = Number(process.env.DURATION_MS || 5000);
const keys = Number(process.env.KEYS || 10000);
const prefix = process.env.PREFIX || 'palisade-bench-rlf';

async function main() {
  const client = new Redis(url, { enableOfflineQueue: true, maxRetriesPerRequest: 1 });
  // A fixed window (rate-limiter-flexible's algorithm) far above what the run reaches.
  const limiter = new RateLimiterRedis({
    storeClient: client,
    keyPrefix: prefix,
    points: 1000000000,
    duration: 3600,
  });
  // Warm up: the Lua script loaded, the connection open.
  await limiter.consume('warm-up');
  let decisions = 0;
  let admitted = 0;
  let next = 0;
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(durationMs) * 1000000n;
  async function worker() {
    while (process.hrtime.bigint() < deadline) {
      const key = 'k' + (next++ % keys);
      try {
        await limiter.consume(key, 1);
        admitted++;
      } catch (e) {
        if (e instanceof Error) throw e; // a store failure, not a refusal
      }
      decisions++;
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  const secs = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(JSON.stringify({ decisions, secs, admitted }));
  client.disconnect();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
