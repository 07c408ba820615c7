/**
 * A short-lived cache of serialised product reads (one point read or list page per key),
 * so a hot catalog answers most reads without a query. Any product write on this
 * instance clears it at once; writes on other instances are seen within `ttlMs`
 * (or at once, when they reach us through pub/sub and call `clear`). The TTL stays
 * well below the `max-age` the responses already advertise, so no client sees older
 * data than HTTP caching would show it anyway. `ttlMs: 0` turns it off.
 */
import { LRUCache } from 'lru-cache';

export interface CachedRead {
  etag: string;
  /** Encoded once: re-encoding the same text for every hit costs more than the lookup. */
  body: Buffer;
}

export interface ReadCache {
  get(key: string): CachedRead | undefined;
  set(key: string, etag: string, body: Buffer): void;
  clear(): void;
}

export function createReadCache(options: { ttlMs: number; maxEntries?: number }): ReadCache {
  if (options.ttlMs <= 0) return { get: () => undefined, set: () => {}, clear: () => {} };
  const entries = new LRUCache<string, CachedRead>({ max: options.maxEntries ?? 10_000, ttl: options.ttlMs });
  return {
    get: (key) => entries.get(key),
    set: (key, etag, body) => void entries.set(key, { etag, body }),
    clear: () => entries.clear(),
  };
}
