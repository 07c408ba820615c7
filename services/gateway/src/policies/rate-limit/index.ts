/**
 * Rate limits per consumer (user id, else client address) per route:
 * - sliding-window log: at most `limit` requests in any `window`, never the 2x a fixed
 *   window allows at its edge; in Redis one Lua script checks and records atomically,
 *   so the limit holds across every gateway sharing that Redis;
 * - `RateLimit-Policy` and `RateLimit` on every answer (draft-ietf-httpapi-ratelimit-headers),
 *   429 with `Retry-After` and problem+json when refused;
 * - the store unreachable: the request is let through (fail open), and logs, metrics and
 *   /health say the limiter is degraded.
 */
import { type Static, Type } from '@portico/config';
import type { KvStore, WindowDecision } from '@portico/store/kv';
import { consumerOf } from '../../context.ts';
import { errors } from '../../errors.ts';
import { definePolicy } from '../../policy.ts';
import { Duration, ms } from '../../schema.ts';

const RateLimit = Type.Object(
  { limit: Type.Integer({ minimum: 1 }), window: Duration() },
  { additionalProperties: false },
);

export interface RateLimitHooks {
  decided(route: string, decision: 'allowed' | 'rejected' | 'failed_open'): void;
  storeFailed(operation: string, err: unknown): void;
}

/**
 * One hit against `consumer`'s bucket on the route: the RateLimit headers to send, or a thrown
 * 429. WebSocket upgrades and every WebSocket message go through the same bucket as requests.
 */
export type Limiter = (consumer: string) => Promise<Record<string, string> | undefined>;

export function limiter(
  name: string,
  options: Static<typeof RateLimit> | undefined,
  kv: KvStore,
  hooks: RateLimitHooks,
): Limiter | undefined {
  if (!options) return undefined;
  const { limit } = options;
  const windowMs = ms(options.window, 60_000);
  const policy = `"${name}";q=${limit};w=${Math.ceil(windowMs / 1000)}`;

  const failOpen = (err: unknown) => {
    hooks.storeFailed('rate-limit', err);
    hooks.decided(name, 'failed_open');
    return undefined;
  };
  const decide = (decision: WindowDecision) => {
    const reset = Math.max(1, Math.ceil(decision.resetMs / 1000));
    const headers = { 'ratelimit-policy': policy, ratelimit: `"${name}";r=${decision.remaining};t=${reset}` };
    if (!decision.allowed) {
      hooks.decided(name, 'rejected');
      throw errors.RATE_LIMIT_EXCEEDED(
        `Rate limit of ${limit} requests per ${Math.ceil(windowMs / 1000)} s exceeded on ${name}; retry in ${reset} s`,
        {
          headers: { ...headers, 'retry-after': String(reset) },
          extensions: { limit, window_seconds: windowMs / 1000, retry_after: reset },
        },
      );
    }
    hooks.decided(name, 'allowed');
    return headers;
  };

  // One promise per hit (the store's): the decision is read in its callbacks.
  return (consumer) => {
    let decision: Promise<WindowDecision>;
    try {
      decision = kv.hit(`${name}:${consumer}`, limit, windowMs);
    } catch (err) {
      return Promise.resolve(failOpen(err));
    }
    return decision.then(decide, failOpen);
  };
}

export const rateLimit = definePolicy({
  name: 'rate-limit',
  priority: 1000,
  upgrades: true,
  route: { rateLimit: Type.Optional(RateLimit) },
  create(options, route, gateway) {
    const hit = limiter(route.name, options.rateLimit, gateway.kv, gateway.hooks);
    if (!hit) return undefined;
    return (ctx, next) => {
      const consumer = consumerOf(ctx);
      return hit(consumer).then((headers) => {
        if (headers) Object.assign(ctx.replyHeaders, headers);
        // Every message of a WebSocket session is one more hit on the same bucket.
        ctx.upgrade?.messages.push(() => hit(consumer));
        return next();
      });
    };
  },
});
