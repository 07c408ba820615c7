/**
 * The in-process pub/sub. Messages are copied through JSON like Redis would, so a
 * subscriber can never mutate what the publisher (or another subscriber) holds, and
 * code that works here works unchanged on Redis.
 */
import type { Listener, PubSub } from './index.ts';

export function createMemoryPubSub(): PubSub {
  const channels = new Map<string, Set<Listener>>();
  let closed = false;

  return {
    kind: 'memory',

    async publish(channel, message) {
      if (closed) throw new Error('pub/sub is closed');
      const listeners = channels.get(channel);
      if (!listeners || listeners.size === 0) return;
      const text = JSON.stringify(message);
      for (const listener of [...listeners]) {
        try {
          listener(JSON.parse(text));
        } catch {
          // one failing subscriber must not stop the others, nor the publisher
        }
      }
    },

    async subscribe(channel, listener) {
      if (closed) throw new Error('pub/sub is closed');
      let listeners = channels.get(channel);
      if (!listeners) {
        listeners = new Set();
        channels.set(channel, listeners);
      }
      // A wrapper per call, so subscribing one function twice needs two unsubscribes.
      const entry: Listener = (message) => listener(message);
      listeners.add(entry);
      return async () => {
        listeners.delete(entry);
        if (listeners.size === 0 && channels.get(channel) === listeners) channels.delete(channel);
      };
    },

    listenerCount: (channel) => channels.get(channel)?.size ?? 0,

    async close() {
      closed = true;
      channels.clear();
    },
  };
}
