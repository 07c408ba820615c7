/**
 * Login throttling against password guessing, per account and per client IP. Each login
 * attempt is counted BEFORE its password is checked, in one atomic step of the store
 * (AttemptCounter.add), so parallel guesses cannot all pass a check that each read before
 * any of them was counted: with a limit of 5, the 6th of any number of concurrent attempts
 * is refused. A window opens at a key's first counted attempt and lasts `windowSeconds`;
 * past the limit, logins for that key are refused until it closes (429 + Retry-After).
 * A correct password clears the account's count and gives the IP its attempt back.
 */
import type { AttemptCounter } from './attempts.ts';
import { memoryAttempts } from './attempts.ts';

export interface ThrottleOptions {
  maxFailuresPerAccount: number;
  maxFailuresPerIp: number;
  windowSeconds: number;
  /** Where attempts are counted. @default in process (tests; identity uses its database or Redis) */
  counter?: AttemptCounter;
  now?: () => number;
}

export interface Throttle {
  /** Counts an attempt for this account and IP; seconds to wait when over a limit, else 0. */
  attempt(username: string, ip: string): Promise<number>;
  /**
   * The sign-in succeeded: the account's count is cleared and the IP's attempts given back
   * (`attempts`: 2 after a password and a code).
   */
  succeed(username: string, ip: string, attempts?: number): Promise<void>;
}

export function createThrottle(options: ThrottleOptions): Throttle {
  const now = options.now ?? Date.now;
  const windowMs = options.windowSeconds * 1000;
  const counter = options.counter ?? memoryAttempts();
  const accountKey = (username: string) => `account:${username.toLowerCase()}`;
  const ipKey = (ip: string) => `ip:${ip}`;

  return {
    async attempt(username, ip) {
      const t = now();
      const [account, address] = await Promise.all([
        counter.add(accountKey(username), t, windowMs),
        counter.add(ipKey(ip), t, windowMs),
      ]);
      // Capped at the window: concurrent attempts read the clock in one order and reach the store
      // in another, so the window may have opened a few ms after this attempt's `t`.
      const wait = (counted: { count: number; resetAt: number }, max: number) =>
        counted.count > max
          ? Math.min(options.windowSeconds, Math.max(1, Math.ceil((counted.resetAt - t) / 1000)))
          : 0;
      return Math.max(wait(account, options.maxFailuresPerAccount), wait(address, options.maxFailuresPerIp));
    },
    async succeed(username, ip, attempts = 1) {
      await counter.clear(accountKey(username));
      for (let i = 0; i < attempts; i++) await counter.remove(ipKey(ip));
    },
  };
}
