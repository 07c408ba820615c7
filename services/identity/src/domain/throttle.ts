/**
 * Login throttling against password guessing: failures are counted per account and
 * per client IP in a sliding window; past the limit, logins for that key are refused
 * until the oldest counted failure leaves the window (the caller answers 429 +
 * Retry-After). A successful login clears the account's count, not the IP's.
 *
 * The failure log is in process by default; with Redis configured it is shared, so
 * the limits hold across identity replicas.
 */
import type { Redis } from 'ioredis';

export interface ThrottleOptions {
  maxFailuresPerAccount: number;
  maxFailuresPerIp: number;
  windowSeconds: number;
  /** Where failures are kept. @default an in-process log */
  log?: FailureLog;
  now?: () => number;
}

export interface Throttle {
  /** Seconds until a login for this account/IP may be tried again; 0 when allowed. */
  retryAfter(username: string, ip: string): Promise<number>;
  fail(username: string, ip: string): Promise<void>;
  succeed(username: string): Promise<void>;
}

/** Failure times per key (milliseconds), pruned to the window. */
export interface FailureLog {
  /** Times newer than `since`, oldest first. */
  recent(key: string, since: number): Promise<number[]>;
  add(key: string, at: number, windowMs: number): Promise<void>;
  clear(key: string): Promise<void>;
}

export function memoryFailureLog(): FailureLog {
  const failures = new Map<string, number[]>();
  const prune = (key: string, since: number) => {
    const list = (failures.get(key) ?? []).filter((t) => t > since);
    if (list.length === 0) failures.delete(key);
    else failures.set(key, list);
    return list;
  };
  // Keys of one-off guessers must not pile up forever.
  const sweep = setInterval(() => {
    const since = Date.now() - 24 * 3600_000;
    for (const key of failures.keys()) prune(key, since);
  }, 3600_000);
  sweep.unref();
  return {
    async recent(key, since) {
      return prune(key, since);
    },
    async add(key, at, windowMs) {
      failures.set(key, [...prune(key, at - windowMs), at]);
    },
    async clear(key) {
      failures.delete(key);
    },
  };
}

/** A sorted set per key (score = time), expiring with the window. */
export function redisFailureLog(redis: Redis, prefix: string): FailureLog {
  return {
    async recent(key, since) {
      const k = `${prefix}${key}`;
      const [, members] = (await redis
        .multi()
        .zremrangebyscore(k, '-inf', String(since))
        .zrange(k, '0', '-1', 'WITHSCORES')
        .exec()) as [[Error | null, unknown], [Error | null, string[]]];
      const list = members[1] ?? [];
      const times: number[] = [];
      for (let i = 1; i < list.length; i += 2) times.push(Number(list[i]));
      return times;
    },
    async add(key, at, windowMs) {
      const k = `${prefix}${key}`;
      await redis.multi().zadd(k, at, `${at}:${Math.random()}`).pexpire(k, windowMs).exec();
    },
    async clear(key) {
      await redis.del(`${prefix}${key}`);
    },
  };
}

export function createThrottle(options: ThrottleOptions): Throttle {
  const now = options.now ?? Date.now;
  const windowMs = options.windowSeconds * 1000;
  const log = options.log ?? memoryFailureLog();

  async function wait(key: string, max: number): Promise<number> {
    const t = now();
    const list = await log.recent(key, t - windowMs);
    if (list.length < max) return 0;
    const oldest = list[list.length - max]!;
    return Math.max(1, Math.ceil((oldest + windowMs - t) / 1000));
  }

  const accountKey = (username: string) => `account:${username.toLowerCase()}`;
  const ipKey = (ip: string) => `ip:${ip}`;

  return {
    async retryAfter(username, ip) {
      const [account, address] = await Promise.all([
        wait(accountKey(username), options.maxFailuresPerAccount),
        wait(ipKey(ip), options.maxFailuresPerIp),
      ]);
      return Math.max(account, address);
    },
    async fail(username, ip) {
      const at = now();
      await Promise.all([log.add(accountKey(username), at, windowMs), log.add(ipKey(ip), at, windowMs)]);
    },
    async succeed(username) {
      await log.clear(accountKey(username));
    },
  };
}
