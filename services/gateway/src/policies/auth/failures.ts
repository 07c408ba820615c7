/**
 * Failed authentication, metered per client address: token guessing and signature-check
 * load are not free. A bad token, a malformed Authorization header or a token that fails
 * verification each count one failure in a sliding window (the rate limiter's store, so
 * every gateway sharing Redis shares the count). Once `limit` failures are counted the
 * address is blocked for the rest of the window: every request from it that would verify
 * a token answers 429 with `Retry-After` before any signature is checked.
 * Verifications in flight per address are capped, in each process, at what is left of the
 * address's allowance (`limit` less the failures counted in the window), so a burst of
 * parallel guesses cannot slip past the count before it is recorded.
 * The store unreachable: the meter fails open, as the rate limiter does.
 */

import type { KvStore } from '@portico/store/kv';
import { LRUCache } from 'lru-cache';
import { errors } from '../../errors.ts';
import type { FailureMeter } from '../../policy.ts';
import { slots } from '../../slots.ts';

export function failureMeter(
  kv: KvStore,
  options: { limit: number; windowMs: number },
  hooks: { storeFailed(operation: string, err: unknown): void },
): FailureMeter {
  const { limit, windowMs } = options;
  const inFlight = slots();
  /** What the store said was left of each address's allowance after its last failure, until when. */
  const left = new LRUCache<string, { remaining: number; until: number }>({ max: 10_000 });

  function refuse(retryAfter: number): never {
    throw errors.TOO_MANY_AUTH_FAILURES(
      `Too many failed authentications from this address; retry in ${retryAfter} s`,
      {
        headers: { 'retry-after': String(retryAfter) },
        extensions: { limit, window_seconds: windowMs / 1000, retry_after: retryAfter },
      },
    );
  }

  return {
    async admit(address) {
      let blocked: Buffer | undefined;
      try {
        blocked = await kv.get(`authfail-block:${address}`);
      } catch (err) {
        hooks.storeFailed('auth-failures', err);
      }
      if (blocked) refuse(Math.max(1, Math.ceil((Number(blocked.toString()) - Date.now()) / 1000)));
      const known = left.get(address);
      if (known && known.until <= Date.now()) left.delete(address);
      const allowance = known && known.until > Date.now() ? known.remaining : limit;
      const release = inFlight.take(address, allowance);
      if (!release) refuse(1);
      return release;
    },

    async failed(address) {
      try {
        const decision = await kv.hit(`authfail:${address}`, limit, windowMs);
        left.set(address, {
          remaining: decision.allowed ? decision.remaining : 0,
          until: Date.now() + decision.resetMs,
        });
        if (!decision.allowed || decision.remaining === 0) {
          const until = Date.now() + Math.max(1000, decision.resetMs);
          await kv.set(`authfail-block:${address}`, Buffer.from(String(until)), until - Date.now());
        }
      } catch (err) {
        hooks.storeFailed('auth-failures', err);
      }
    },
  };
}
