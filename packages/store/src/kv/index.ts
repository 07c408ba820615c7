/**
 * Shared state for stateless services: sliding-window rate limits and a tagged
 * response cache, in process (the embedded default) or in Redis (scaled out).
 * Both implementations keep the same contract, so N gateways sharing one Redis
 * enforce one limit and see one cache.
 */
import { createMemoryStore, type MemoryStoreOptions } from './memory.ts';
import { createRedisStore, type RedisStoreOptions } from './redis.ts';

export interface WindowDecision {
  allowed: boolean;
  /** Hits still allowed in the current window after this one. */
  remaining: number;
  /** Milliseconds until the oldest hit in the window leaves it (when a slot frees). */
  resetMs: number;
}

export interface KvStore {
  readonly kind: 'memory' | 'redis';
  /**
   * Sliding window, checked and recorded atomically; refused hits are not recorded.
   * Up to `EXACT_LIMIT` hits per window it is a log: a hit is admitted only when fewer than
   * `limit` were admitted in the last `windowMs`, exactly. Above that a log would cost memory
   * in proportion to the limit, so it is a sliding-window counter (the previous fixed window's
   * count weighted by how much of it the sliding window still covers, plus the current one's),
   * O(1) and within a fraction of a percent of the log for steady traffic.
   */
  hit(key: string, limit: number, windowMs: number): Promise<WindowDecision>;
  /**
   * The same hit answered at once, without a promise: only a store whose state is in this
   * process has it (the memory store), so a caller on a hot path can skip the promise's turn.
   */
  hitNow?(key: string, limit: number, windowMs: number): WindowDecision;
  get(key: string): Promise<Buffer | undefined>;
  /** Stores a value for `ttlMs`; `tags` let one `purge` drop every value that carries a tag. */
  set(key: string, value: Buffer, ttlMs: number, tags?: string[]): Promise<void>;
  /** Drops every value stored with any of these tags; returns how many went. */
  purge(tags: string[]): Promise<number>;
  /** Resolves when the store answers; rejects with the reason when it does not. */
  ping(): Promise<void>;
  /** False while the store is known to be unreachable. */
  readonly available: boolean;
  /** Resolves true once connected, false at the first failure or after `timeoutMs`: never throws. */
  ready(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

export interface KvOptions extends MemoryStoreOptions, Omit<RedisStoreOptions, 'url'> {
  /** redis:// or rediss:// URL; absent means in-process. */
  url?: string;
}

export function createKvStore(options: KvOptions = {}): KvStore {
  return options.url ? createRedisStore({ ...options, url: options.url }) : createMemoryStore(options);
}

export { createMemoryStore, type MemoryStoreOptions } from './memory.ts';
export { createRedisStore, type RedisStoreOptions } from './redis.ts';
export { EXACT_LIMIT } from './window.ts';
