/**
 * This gateway's own copies of cached answers, in front of the shared store: a hit found here
 * makes no store call at all (with Redis, no round trip). A route that also has a rate limit
 * still makes the limiter's call; a route without one answers a hit from memory alone.
 *
 * Copies stay consistent with the store through purges: a write through any gateway purges
 * the store and then publishes the purged tags (`cache-purge` on the pub/sub beside the store),
 * and every gateway drops its copies that carry one of them. Pub/sub delivers at most once, so
 * a copy of a Redis entry is kept at most `maxAgeMs` (a purge whose message was lost is seen
 * that much later at worst); in memory mode the store and its purges are this process's own,
 * so a copy lives as long as its entry. Copies are bounded by bytes, least recently used first.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import { createMemoryPubSub, type PubSub } from '@portico/store/pubsub';
import { LRUCache } from 'lru-cache';

/** A stored answer, decoded. */
export interface Entry {
  headers: OutgoingHttpHeaders;
  body: Buffer;
  storedAt: number;
  age: number;
  /** When it stops being fresh (epoch ms); undefined for an entry written without it. */
  expires: number | undefined;
}

export interface Copies {
  /** The fresh copy under `key`, if this gateway holds one. */
  get(key: string): Entry | undefined;
  /** Keeps a copy of an entry read from or written to the store. */
  keep(key: string, entry: Entry, tags: string[]): void;
  /** Drops copies with any of `tags`, here and (through pub/sub) on every gateway. */
  purge(tags: string[]): Promise<void>;
  close(): Promise<void>;
}

const CHANNEL = 'cache-purge';

/** Gateways of one process sharing one memory store hear each other's purges through this. */
const memoryBuses = new WeakMap<object, PubSub>();

export function busFor(store: object): PubSub {
  let bus = memoryBuses.get(store);
  if (!bus) {
    bus = createMemoryPubSub();
    memoryBuses.set(store, bus);
  }
  return bus;
}

interface Copy {
  entry: Entry;
  until: number;
  tags: string[];
}

/**
 * Starts listening for purges; resolves once the subscription is live. Without it (the bus
 * unreachable at start) copies are never kept, so every lookup goes to the store as before.
 */
export async function createCopies(options: {
  bus: PubSub;
  maxBytes: number;
  maxAgeMs: number;
  onError?: (err: unknown) => void;
}): Promise<Copies> {
  const { bus, maxAgeMs } = options;
  const byTag = new Map<string, Set<string>>();
  const copies = new LRUCache<string, Copy>({
    maxSize: Math.max(1, options.maxBytes),
    sizeCalculation: (copy, key) => copy.entry.body.length + key.length * 2 + 256,
    dispose: (copy, key) => {
      for (const tag of copy.tags) {
        const keys = byTag.get(tag);
        keys?.delete(key);
        if (keys?.size === 0) byTag.delete(tag);
      }
    },
  });
  const drop = (tags: unknown) => {
    if (!Array.isArray(tags)) return;
    for (const tag of tags) {
      const keys = byTag.get(String(tag));
      if (keys) for (const key of [...keys]) copies.delete(key);
    }
  };
  let unsubscribe: (() => Promise<void>) | undefined;
  try {
    unsubscribe = await bus.subscribe(CHANNEL, drop);
  } catch (err) {
    options.onError?.(err);
  }
  const listening = unsubscribe !== undefined;

  return {
    get(key) {
      const copy = copies.get(key);
      if (!copy) return undefined;
      if (copy.until > Date.now()) return copy.entry;
      copies.delete(key);
      return undefined;
    },
    keep(key, entry, tags) {
      if (!listening || entry.expires === undefined || options.maxBytes <= 0) return;
      const until = Math.min(entry.expires, Date.now() + maxAgeMs);
      if (until <= Date.now()) return;
      copies.set(key, { entry, until, tags });
      for (const tag of tags) {
        let keys = byTag.get(tag);
        if (!keys) {
          keys = new Set();
          byTag.set(tag, keys);
        }
        keys.add(key);
      }
    },
    async purge(tags) {
      drop(tags);
      try {
        await bus.publish(CHANNEL, tags);
      } catch (err) {
        options.onError?.(err);
      }
    },
    async close() {
      copies.clear();
      await unsubscribe?.();
    },
  };
}
