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
import { type Context, consumerOf } from '../../context.ts';
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
 * One hit against `consumer`'s bucket on the route: the decision, once the store has answered.
 * `apply` sets the RateLimit headers on `headers` (or throws the 429); `failOpen` turns a store
 * failure into a pass. WebSocket upgrades and every WebSocket message go through the same bucket.
 */
export interface Limiter {
  /** A store whose state is in this process (memory) answers at once, without a promise. */
  hit(consumer: string): WindowDecision | Promise<WindowDecision>;
  apply(decision: WindowDecision, headers: Record<string, string>): void;
  failOpen(err: unknown): void;
}

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
  const prefix = `${name}:`;

  const now = kv.hitNow?.bind(kv);
  return {
    hit: now
      ? (consumer) => now(prefix + consumer, limit, windowMs)
      : (consumer) => kv.hit(prefix + consumer, limit, windowMs),
    apply(decision, headers) {
      const reset = Math.max(1, Math.ceil(decision.resetMs / 1000));
      const state = `"${name}";r=${decision.remaining};t=${reset}`;
      if (!decision.allowed) {
        hooks.decided(name, 'rejected');
        throw errors.RATE_LIMIT_EXCEEDED(
          `Rate limit of ${limit} requests per ${Math.ceil(windowMs / 1000)} s exceeded on ${name}; retry in ${reset} s`,
          {
            headers: { 'ratelimit-policy': policy, ratelimit: state, 'retry-after': String(reset) },
            extensions: { limit, window_seconds: windowMs / 1000, retry_after: reset },
          },
        );
      }
      hooks.decided(name, 'allowed');
      headers['ratelimit-policy'] = policy;
      headers.ratelimit = state;
    },
    failOpen(err) {
      hooks.storeFailed('rate-limit', err);
      hooks.decided(name, 'failed_open');
    },
  };
}

/** On to `next`; every message of a WebSocket session is one more hit on the same bucket. */
function proceed(ctx: Context, limits: Limiter, consumer: string, next: () => Promise<void>): Promise<void> {
  ctx.upgrade?.messages.push(() => check(limits, consumer));
  return next();
}

/** One hit and its decision, for a WebSocket message (no headers to send). */
function check(limits: Limiter, consumer: string): Promise<void> {
  const ignored: Record<string, string> = {};
  return Promise.resolve(hitting(limits, consumer)).then(
    (decision) => limits.apply(decision, ignored),
    (err: unknown) => limits.failOpen(err),
  );
}

/** The store's answer or promise; a store that throws at once is a failure like one that rejects. */
function hitting(limits: Limiter, consumer: string): WindowDecision | Promise<WindowDecision> {
  try {
    return limits.hit(consumer);
  } catch (err) {
    return Promise.reject(err);
  }
}

export const rateLimit = definePolicy({
  name: 'rate-limit',
  priority: 1000,
  upgrades: true,
  route: { rateLimit: Type.Optional(RateLimit) },
  create(options, route, gateway) {
    const limits = limiter(route.name, options.rateLimit, gateway.kv, gateway.hooks);
    if (!limits) return undefined;
    // A decision made in process (memory) goes on to `next` at once, without a promise of its
    // own; a store's promise runs the decision and `next` in its callbacks.
    return (ctx, next) => {
      const consumer = consumerOf(ctx);
      const decided = hitting(limits, consumer);
      if (!(decided instanceof Promise)) {
        try {
          limits.apply(decided, ctx.replyHeaders);
        } catch (err) {
          return Promise.reject(err);
        }
        return proceed(ctx, limits, consumer, next);
      }
      return decided.then(
        (decision) => {
          limits.apply(decision, ctx.replyHeaders);
          return proceed(ctx, limits, consumer, next);
        },
        (err: unknown) => {
          limits.failOpen(err);
          return proceed(ctx, limits, consumer, next);
        },
      );
    };
  },
});
