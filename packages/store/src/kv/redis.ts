/**
 * The Redis store. Each operation is one Lua script, so it is atomic and costs one
 * round trip whatever the number of gateways; the rate-limit hits and cache reads of one
 * event-loop turn share one call (DataLoader), so a busy gateway pays one round trip for many
 * requests. Time comes from the Redis server
 * (`TIME`), so instances with skewed clocks still share one window. Commands fail
 * fast while Redis is unreachable (no offline queue) or has stopped answering (liveness.ts:
 * detected once, by silence, then skipped until a probe passes): callers decide to fail open.
 */
import { randomBytes } from 'node:crypto';
import DataLoader from 'dataloader';
import { Redis } from 'ioredis';
import { watchLiveness } from '../liveness.ts';
import type { KvStore, WindowDecision } from './index.ts';
import { EXACT_LIMIT } from './window.ts';

export interface RedisStoreOptions {
  url: string;
  /** Prefix of every key, so several deployments or tests share one Redis. @default 'portico:' */
  keyPrefix?: string;
  /**
   * Longest silence from Redis, with commands outstanding, before it counts as not answering
   * (measured from the last reply or the oldest command's write, so a burst queued on the
   * connection is not mistaken for an outage). @default 250 ms
   */
  commandTimeoutMs?: number;
  /** Commands in flight at once; past it a command fails at once. @default 10,000 */
  maxInFlight?: number;
  /** Shown in `CLIENT LIST`, so operators (and tests) can tell this connection apart. */
  connectionName?: string;
  /** Told when the connection goes down or comes back. */
  onAvailabilityChange?: (available: boolean, error?: Error) => void;
}

// KEYS: one key per hit; ARGV: limit, windowMs, member per hit (member '' for the counter).
// Every hit of one event-loop turn in one call, decided in order, on one clock reading.
const HITS = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local function log(key, limit, window, member)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local count = redis.call('ZCARD', key)
  if count < limit then
    redis.call('ZADD', key, now, member)
    redis.call('PEXPIRE', key, window)
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    return 1, limit - count - 1, tonumber(oldest[2]) + window - now
  end
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return 0, 0, tonumber(oldest[2]) + window - now
end

local function counter(key, limit, window)
  local start = now - (now % window)
  local state = redis.call('HMGET', key, 'start', 'current', 'previous')
  local current = tonumber(state[2]) or 0
  local previous = tonumber(state[3]) or 0
  local was = tonumber(state[1])
  if was ~= start then
    if was == start - window then previous = current else previous = 0 end
    current = 0
  end
  local estimate = previous * (1 - (now - start) / window) + current
  local reset = start + window - now
  local allowed = 0
  local remaining = 0
  if estimate + 1 <= limit then
    current = current + 1
    allowed = 1
    remaining = math.max(0, math.floor(limit - estimate - 1))
  end
  redis.call('HSET', key, 'start', start, 'current', current, 'previous', previous)
  redis.call('PEXPIRE', key, window * 2)
  return allowed, remaining, reset
end

local out = {}
for i = 1, #KEYS do
  local limit = tonumber(ARGV[i * 3 - 2])
  local window = tonumber(ARGV[i * 3 - 1])
  local member = ARGV[i * 3]
  local a, r, reset
  if member == '' then a, r, reset = counter(KEYS[i], limit, window)
  else a, r, reset = log(KEYS[i], limit, window, member) end
  out[i * 3 - 2] = a
  out[i * 3 - 1] = r
  out[i * 3] = reset
end
return out
`;

// KEYS[1] value key, KEYS[2..] tag sets; ARGV value, ttlMs
const SET_TAGGED = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local ttl = tonumber(ARGV[2])
for i = 2, #KEYS do
  redis.call('SADD', KEYS[i], KEYS[1])
  if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
end
return 1
`;

// KEYS tag sets
const PURGE_TAGS = `
local n = 0
for i = 1, #KEYS do
  local members = redis.call('SMEMBERS', KEYS[i])
  for j = 1, #members, 500 do
    n = n + redis.call('DEL', unpack(members, j, math.min(j + 499, #members)))
  end
  redis.call('DEL', KEYS[i])
end
return n
`;

interface Hit {
  key: string;
  limit: number;
  windowMs: number;
}

type ScriptRedis = Redis & {
  hits(n: number, ...args: Array<string | number>): Promise<number[]>;
  setTagged(n: number, ...args: Array<string | Buffer | number>): Promise<number>;
  purgeTags(n: number, ...keys: string[]): Promise<number>;
};

export function createRedisStore(options: RedisStoreOptions): KvStore {
  const prefix = options.keyPrefix ?? 'portico:';
  const redis = new Redis(options.url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(100 * times, 2000),
    lazyConnect: false,
    ...(options.connectionName ? { connectionName: options.connectionName } : {}),
  }) as ScriptRedis;
  redis.defineCommand('hits', { lua: HITS });
  redis.defineCommand('setTagged', { lua: SET_TAGGED });
  redis.defineCommand('purgeTags', { lua: PURGE_TAGS });

  let connected = false;
  let available = false;
  const update = (error?: Error) => {
    const next = connected && live.responsive;
    if (next === available) return;
    available = next;
    options.onAvailabilityChange?.(next, error);
  };
  const setConnected = (next: boolean, error?: Error) => {
    connected = next;
    update(error);
  };
  const live = watchLiveness(redis, {
    silenceMs: options.commandTimeoutMs ?? 250,
    maxInFlight: options.maxInFlight,
    onChange: (_responsive, error) => update(error),
  });
  redis.on('ready', () => setConnected(true));
  // ioredis keeps reconnecting on its own; an unhandled 'error' event would crash the process.
  redis.on('error', (err: Error) => setConnected(false, err));
  redis.on('end', () => setConnected(false));
  redis.on('close', () => setConnected(false, new Error('connection closed')));

  const instance = randomBytes(6).toString('hex');
  let sequence = 0;

  // Calls made in one event-loop turn (every request read in one poll phase) leave together:
  // one script call for the hits, one MGET for the cache reads, each one round trip and one
  // socket write however many requests share it. Batches stay small enough that Redis answers
  // each within a few milliseconds: liveness.ts reads a long silence as an outage.
  const batchOptions = {
    cache: false,
    maxBatchSize: 64,
    batchScheduleFn: (run: () => void) => setImmediate(run),
  };
  const hits = new DataLoader<Hit, WindowDecision>(async (batch) => {
    const keys: string[] = [];
    const args: Array<string | number> = [];
    for (const { key, limit, windowMs } of batch) {
      if (limit > EXACT_LIMIT) {
        keys.push(`${prefix}rc:${key}`);
        args.push(limit, windowMs, '');
      } else {
        keys.push(`${prefix}rl:${key}`);
        args.push(limit, windowMs, `${instance}:${sequence++}`);
      }
    }
    const out = await live.run(() => redis.hits(keys.length, ...keys, ...args));
    return batch.map((_, i) => ({
      allowed: out[i * 3] === 1,
      remaining: out[i * 3 + 1]!,
      resetMs: Math.max(0, out[i * 3 + 2]!),
    }));
  }, batchOptions);
  const reads = new DataLoader<string, Buffer | undefined>(async (keys) => {
    const values = await live.run(() => redis.mgetBuffer(...keys.map((key) => `${prefix}c:${key}`)));
    return values.map((value) => value ?? undefined);
  }, batchOptions);

  return {
    kind: 'redis',
    get available() {
      return available;
    },

    hit(key, limit, windowMs) {
      return hits.load({ key, limit, windowMs });
    },

    get(key) {
      return reads.load(key);
    },

    async set(key, value, ttlMs, tags = []) {
      const keys = [`${prefix}c:${key}`, ...tags.map((tag) => `${prefix}t:${tag}`)];
      await live.run(() => redis.setTagged(keys.length, ...keys, value, Math.max(1, Math.round(ttlMs))));
    },

    async purge(tags) {
      if (tags.length === 0) return 0;
      return live.run(() => redis.purgeTags(tags.length, ...tags.map((tag) => `${prefix}t:${tag}`)));
    },

    async ping() {
      await live.run(() => redis.ping());
    },

    ready(timeoutMs) {
      if (available) return Promise.resolve(true);
      return new Promise((resolve) => {
        const settle = (value: boolean) => {
          clearTimeout(timer);
          redis.off('ready', onReady);
          redis.off('error', onError);
          resolve(value);
        };
        const onReady = () => settle(true);
        const onError = () => settle(false);
        const timer = setTimeout(() => settle(false), timeoutMs);
        redis.once('ready', onReady);
        redis.once('error', onError);
      });
    },

    async close() {
      live.close();
      redis.disconnect();
    },
  };
}
