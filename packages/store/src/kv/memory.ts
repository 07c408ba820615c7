/**
 * The in-process store: rate-limit logs per key and an LRU response cache bounded by bytes.
 * Map iteration order is insertion order, so re-inserting on read makes the first key the
 * least recently used one.
 */
import type { KvStore, WindowDecision } from './index.ts';
import { EXACT_LIMIT } from './window.ts';

export interface MemoryStoreOptions {
  /** Upper bound on cached bytes (values plus keys); least recently used go first. @default 64 MiB */
  maxBytes?: number;
}

interface Entry {
  value: Buffer;
  expires: number;
  tags: string[] | undefined;
  size: number;
}

interface Counter {
  /** Start of the current fixed window. */
  start: number;
  current: number;
  previous: number;
}

interface Log {
  /** Admitted hit times, oldest first, from `start`. */
  times: number[];
  start: number;
  expires: number;
}

export function createMemoryStore(options: MemoryStoreOptions = {}): KvStore {
  const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  const entries = new Map<string, Entry>();
  const tagIndex = new Map<string, Set<string>>();
  const logs = new Map<string, Log>();
  const counters = new Map<string, Counter>();
  let bytes = 0;

  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [key, log] of logs) if (log.expires <= now) logs.delete(key);
    for (const [key, counter] of counters) if (counter.start < now - 3_600_000) counters.delete(key);
    for (const [key, entry] of entries) if (entry.expires <= now) remove(key, entry);
  }, 10_000);
  sweep.unref();

  function remove(key: string, entry: Entry) {
    entries.delete(key);
    bytes -= entry.size;
    for (const tag of entry.tags ?? []) {
      const keys = tagIndex.get(tag);
      keys?.delete(key);
      if (keys?.size === 0) tagIndex.delete(tag);
    }
  }

  /** One hit, decided and recorded now: the memory store's state is this process's own. */
  function decide(key: string, limit: number, windowMs: number): WindowDecision {
    const now = Date.now();
    if (limit > EXACT_LIMIT) {
      const start = now - (now % windowMs);
      let counter = counters.get(key);
      if (!counter) {
        counter = { start, current: 0, previous: 0 };
        counters.set(key, counter);
      }
      if (counter.start !== start) {
        counter.previous = counter.start === start - windowMs ? counter.current : 0;
        counter.current = 0;
        counter.start = start;
      }
      const estimate = counter.previous * (1 - (now - start) / windowMs) + counter.current;
      const resetMs = start + windowMs - now;
      if (estimate + 1 > limit) return { allowed: false, remaining: 0, resetMs };
      counter.current++;
      return { allowed: true, remaining: Math.max(0, Math.floor(limit - estimate - 1)), resetMs };
    }
    let log = logs.get(key);
    if (!log) {
      log = { times: [], start: 0, expires: 0 };
      logs.set(key, log);
    }
    const { times } = log;
    const floor = now - windowMs;
    while (log.start < times.length && times[log.start]! <= floor) log.start++;
    if (log.start > 1024 && log.start * 2 > times.length) {
      times.splice(0, log.start);
      log.start = 0;
    }
    const count = times.length - log.start;
    log.expires = now + windowMs;
    if (count < limit) {
      times.push(now);
      const oldest = times[log.start]!;
      return { allowed: true, remaining: limit - count - 1, resetMs: oldest + windowMs - now };
    }
    return { allowed: false, remaining: 0, resetMs: times[log.start]! + windowMs - now };
  }

  return {
    kind: 'memory',
    available: true,

    async hit(key, limit, windowMs): Promise<WindowDecision> {
      return decide(key, limit, windowMs);
    },

    hitNow: decide,

    async get(key) {
      const entry = entries.get(key);
      if (!entry) return undefined;
      if (entry.expires <= Date.now()) {
        remove(key, entry);
        return undefined;
      }
      entries.delete(key);
      entries.set(key, entry);
      return entry.value;
    },

    async set(key, value, ttlMs, tags) {
      const size = value.length + key.length * 2 + 64;
      if (size > maxBytes) return;
      const old = entries.get(key);
      if (old) remove(key, old);
      entries.set(key, { value, expires: Date.now() + ttlMs, tags, size });
      bytes += size;
      for (const tag of tags ?? []) {
        let keys = tagIndex.get(tag);
        if (!keys) {
          keys = new Set();
          tagIndex.set(tag, keys);
        }
        keys.add(key);
      }
      for (const [lruKey, lru] of entries) {
        if (bytes <= maxBytes) break;
        remove(lruKey, lru);
      }
    },

    async purge(tags) {
      let count = 0;
      for (const tag of tags) {
        for (const key of [...(tagIndex.get(tag) ?? [])]) {
          const entry = entries.get(key);
          if (entry) {
            remove(key, entry);
            count++;
          }
        }
      }
      return count;
    },

    async ping() {},

    async ready() {
      return true;
    },

    async close() {
      clearInterval(sweep);
      entries.clear();
      tagIndex.clear();
      logs.clear();
      counters.clear();
      bytes = 0;
    },
  };
}
