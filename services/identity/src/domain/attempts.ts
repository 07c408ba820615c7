/**
 * Login-attempt counters, one fixed window per key, incremented atomically: a single
 * statement that counts and answers (SQL `INSERT … ON CONFLICT DO UPDATE … RETURNING`,
 * a Redis script), never a read followed by a write another request can slip between.
 */
import type { Database } from '@portico/store/sql';
import type { Redis } from 'ioredis';
import { loginAttemptsTable } from '../data/login-attempts.ts';
import type { IdentityDatabase } from '../data/schema.ts';

export interface Counted {
  /** Attempts in the key's current window, this one included. */
  count: number;
  /** When the window closes (ms since the epoch). */
  resetAt: number;
}

export interface AttemptCounter {
  /** Counts one attempt; a key whose window has closed starts a new one at `now`. */
  add(key: string, now: number, windowMs: number): Promise<Counted>;
  /** Takes one attempt back (never below zero). */
  remove(key: string): Promise<void>;
  clear(key: string): Promise<void>;
}

/** In process: JavaScript runs each call to its end, so a Map update is already atomic. */
export function memoryAttempts(): AttemptCounter {
  const windows = new Map<string, Counted>();
  // Keys of one-off guessers must not pile up forever.
  const sweep = setInterval(() => {
    const t = Date.now();
    for (const [key, counted] of windows) if (counted.resetAt <= t) windows.delete(key);
  }, 3600_000);
  sweep.unref();
  return {
    async add(key, now, windowMs) {
      const current = windows.get(key);
      const next =
        current && current.resetAt > now
          ? { count: current.count + 1, resetAt: current.resetAt }
          : { count: 1, resetAt: now + windowMs };
      windows.set(key, next);
      return { ...next };
    },
    async remove(key) {
      const current = windows.get(key);
      if (current && current.count > 0) current.count -= 1;
    },
    async clear(key) {
      windows.delete(key);
    },
  };
}

// INCR and the expiry of a new window in one script: Redis runs a script atomically.
const ADD = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {count, redis.call('PTTL', KEYS[1])}`;
const REMOVE = `
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count > 0 then redis.call('DECR', KEYS[1]) end
return 0`;

/** Shared by every identity replica; the window is the key's TTL. */
export function redisAttempts(redis: Redis, prefix: string): AttemptCounter {
  return {
    async add(key, now, windowMs) {
      const [count, ttl] = (await redis.eval(ADD, 1, `${prefix}${key}`, String(windowMs))) as [
        number,
        number,
      ];
      return { count, resetAt: now + (ttl > 0 ? ttl : windowMs) };
    },
    async remove(key) {
      await redis.eval(REMOVE, 1, `${prefix}${key}`);
    },
    async clear(key) {
      await redis.del(`${prefix}${key}`);
    },
  };
}

/** In identity's database, so replicas on one PostgreSQL share the limits without Redis. */
export function sqlAttempts(database: Database<IdentityDatabase>): AttemptCounter {
  const attempts = loginAttemptsTable(database.db);
  let adds = 0;
  return {
    async add(key, now, windowMs) {
      const counted = await attempts.add(key, now, now + windowMs);
      if (++adds % 1000 === 0) await attempts.deleteClosedBefore(now);
      return { count: counted.count, resetAt: counted.reset_at };
    },
    remove: (key) => attempts.takeBack(key),
    clear: (key) => attempts.delete(key),
  };
}
