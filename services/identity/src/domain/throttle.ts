/**
 * Login throttling against password guessing: failures are counted per account and
 * per client IP in a sliding window; past the limit, logins for that key are refused
 * until the oldest failure leaves the window (the caller answers 429 + Retry-After).
 * A successful login clears the account's count, not the IP's.
 *
 * In-process: with several identity replicas each keeps its own counts, so the
 * effective limit is multiplied by the replica count (documented in docs/identity.md).
 */
export interface ThrottleOptions {
  maxFailuresPerAccount: number;
  maxFailuresPerIp: number;
  windowSeconds: number;
  now?: () => number;
}

export interface Throttle {
  /** Seconds until a login for this account/IP may be tried again; 0 when allowed. */
  retryAfter(username: string, ip: string): number;
  fail(username: string, ip: string): void;
  succeed(username: string): void;
}

export function createThrottle(options: ThrottleOptions): Throttle {
  const now = options.now ?? Date.now;
  const windowMs = options.windowSeconds * 1000;
  const failures = new Map<string, number[]>();

  function recent(key: string): number[] {
    const since = now() - windowMs;
    const list = (failures.get(key) ?? []).filter((t) => t > since);
    if (list.length === 0) failures.delete(key);
    else failures.set(key, list);
    return list;
  }

  function wait(key: string, max: number): number {
    const list = recent(key);
    if (list.length < max) return 0;
    const oldest = list[list.length - max]!;
    return Math.max(1, Math.ceil((oldest + windowMs - now()) / 1000));
  }

  const accountKey = (username: string) => `account:${username.toLowerCase()}`;
  const ipKey = (ip: string) => `ip:${ip}`;

  // Keys of one-off guessers must not pile up forever.
  const sweep = setInterval(() => {
    for (const key of failures.keys()) recent(key);
  }, windowMs);
  sweep.unref();

  return {
    retryAfter(username, ip) {
      return Math.max(
        wait(accountKey(username), options.maxFailuresPerAccount),
        wait(ipKey(ip), options.maxFailuresPerIp),
      );
    },
    fail(username, ip) {
      for (const key of [accountKey(username), ipKey(ip)]) failures.set(key, [...recent(key), now()]);
    },
    succeed(username) {
      failures.delete(accountKey(username));
    },
  };
}
