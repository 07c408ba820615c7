/**
 * Publish/subscribe for events that must reach every instance of a service: in process
 * for the embedded default, Redis for scaled-out deployments, one contract for both.
 * Messages are JSON values; delivery is at most once, in publish order per publisher,
 * to subscribers that were subscribed when the message was published.
 */
import { createMemoryPubSub } from './memory.ts';
import { createRedisPubSub, type RedisPubSubOptions } from './redis.ts';

export type Listener = (message: unknown) => void;

export interface PubSub {
  readonly kind: 'memory' | 'redis';
  publish(channel: string, message: unknown): Promise<void>;
  /**
   * Resolves once the subscription is live (for Redis: once the server confirmed it), so a
   * message published after it resolves is delivered. The result unsubscribes.
   */
  subscribe(channel: string, listener: Listener): Promise<() => Promise<void>>;
  /** How many listeners this instance has on `channel` (tests wait for it; metrics report it). */
  listenerCount(channel: string): number;
  close(): Promise<void>;
}

export interface PubSubOptions extends Omit<RedisPubSubOptions, 'url'> {
  /** redis:// or rediss:// URL; absent means in-process. */
  url?: string;
}

export function createPubSub(options: PubSubOptions = {}): PubSub {
  return options.url ? createRedisPubSub({ ...options, url: options.url }) : createMemoryPubSub();
}

export interface IterateOptions<T> {
  /** Only messages that pass reach the iterator. */
  filter?: (message: T) => boolean;
  /** Messages kept for a slow consumer; past it the oldest are dropped. @default 256 */
  bufferSize?: number;
}

/**
 * An async iterator over one channel, live when the promise resolves; `return()` (what
 * `for await … break` and GraphQL servers call on unsubscribe) ends it and unsubscribes.
 */
export async function iterate<T>(
  pubsub: PubSub,
  channel: string,
  options: IterateOptions<T> = {},
): Promise<AsyncIterableIterator<T>> {
  const bufferSize = options.bufferSize ?? 256;
  const queue: T[] = [];
  const waiting: Array<(result: IteratorResult<T>) => void> = [];
  let done = false;
  const unsubscribe = await pubsub.subscribe(channel, (raw) => {
    const message = raw as T;
    if (done || (options.filter && !options.filter(message))) return;
    const next = waiting.shift();
    if (next) next({ value: message, done: false });
    else {
      queue.push(message);
      if (queue.length > bufferSize) queue.shift();
    }
  });

  async function finish(): Promise<IteratorResult<T>> {
    if (!done) {
      done = true;
      queue.length = 0;
      for (const next of waiting.splice(0)) next({ value: undefined, done: true });
      await unsubscribe();
    }
    return { value: undefined, done: true };
  }

  const iterator: AsyncIterableIterator<T> = {
    next() {
      if (queue.length > 0) return Promise.resolve({ value: queue.shift()!, done: false });
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => waiting.push(resolve));
    },
    return: finish,
    async throw(error: unknown) {
      await finish();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

export { type DurableSubscription, subscribeDurably } from './durable.ts';
export { createMemoryPubSub } from './memory.ts';
export { createRedisPubSub, type RedisPubSubOptions } from './redis.ts';
