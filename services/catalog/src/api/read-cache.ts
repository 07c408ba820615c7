/**
 * A short-lived cache of serialised product reads (one point read or list page per key),
 * so a hot catalog answers most reads without a query. Any product write on this
 * instance clears it at once; writes on other instances are seen within `ttlMs`
 * (or at once, when they reach us through pub/sub and call `clear`). The TTL stays
 * well below the `max-age` the responses already advertise, so no client sees older
 * data than HTTP caching would show it anyway. `ttlMs: 0` turns it off.
 */
export interface CachedRead {
  etag: string;
  /** Encoded once: re-encoding the same text for every hit costs more than the lookup. */
  body: Buffer;
  expires: number;
}

export interface ReadCache {
  get(key: string): CachedRead | undefined;
  set(key: string, etag: string, body: Buffer): void;
  clear(): void;
}

export function createReadCache(options: { ttlMs: number; maxEntries?: number }): ReadCache {
  const maxEntries = options.maxEntries ?? 10_000;
  const entries = new Map<string, CachedRead>();
  if (options.ttlMs <= 0) return { get: () => undefined, set: () => {}, clear: () => {} };
  return {
    get(key) {
      const entry = entries.get(key);
      if (entry && entry.expires > performance.now()) return entry;
      if (entry) entries.delete(key);
      return undefined;
    },
    set(key, etag, body) {
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
      entries.set(key, { etag, body, expires: performance.now() + options.ttlMs });
    },
    clear: () => entries.clear(),
  };
}
