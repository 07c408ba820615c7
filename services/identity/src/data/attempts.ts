/**
 * Login-attempt counters, one fixed window per key, incremented atomically: a single
 * statement that counts and answers (SQL `INSERT … ON CONFLICT DO UPDATE … RETURNING`,
 * a Redis script), never a read followed by a write another request can slip between.
 */
import { type Database, sql } from '@portico/store/sql';
import type { Redis } from 'ioredis';
import type { IdentityDatabase } from './schema.ts';

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
  const { db } = database;
  let adds = 0;
  return {
    async add(key, now, windowMs) {
      // One statement: PostgreSQL locks the row for the upsert; node:sqlite runs it whole.
      const { rows } = await sql<{ count: number | string; reset_at: number | string }>`
        insert into login_attempts (attempt_key, count, reset_at) values (${key}, 1, ${now + windowMs})
        on conflict (attempt_key) do update set
          count = case when login_attempts.reset_at <= ${now} then 1 else login_attempts.count + 1 end,
          reset_at = case when login_attempts.reset_at <= ${now} then ${now + windowMs} else login_attempts.reset_at end
        returning count, reset_at`.execute(db);
      if (++adds % 1000 === 0) await db.deleteFrom('login_attempts').where('reset_at', '<', now).execute();
      return { count: Number(rows[0]!.count), resetAt: Number(rows[0]!.reset_at) };
    },
    async remove(key) {
      await db
        .updateTable('login_attempts')
        .set({ count: sql`count - 1` })
        .where('attempt_key', '=', key)
        .where('count', '>', 0)
        .execute();
    },
    async clear(key) {
      await db.deleteFrom('login_attempts').where('attempt_key', '=', key).execute();
    },
  };
}
