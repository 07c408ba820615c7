/**
 * The Redis pub/sub: one connection publishes, one is in subscriber mode and carries
 * every channel this instance listens to, whatever the number of listeners (a channel
 * is SUBSCRIBEd on its first listener and UNSUBSCRIBEd after its last). Channels carry
 * `keyPrefix`, so deployments and tests can share one Redis. A Redis that stops answering is
 * found by silence (liveness.ts) and skipped: publish and subscribe fail at once instead of
 * hanging, until a probe passes.
 */
import { Redis } from 'ioredis';
import { watchLiveness } from '../liveness.ts';
import type { Listener, PubSub } from './index.ts';

export interface RedisPubSubOptions {
  url: string;
  /** Prefix of every channel. @default 'portico:' */
  keyPrefix?: string;
  /** Told when a message cannot be parsed or a listener throws, or Redis stops answering. */
  onError?: (error: Error) => void;
  /** Longest silence from Redis with commands outstanding. @default 1000 ms */
  silenceMs?: number;
}

export function createRedisPubSub(options: RedisPubSubOptions): PubSub {
  const prefix = options.keyPrefix ?? 'portico:';
  const connect = () =>
    new Redis(options.url, {
      connectTimeout: 2000,
      maxRetriesPerRequest: 1,
      retryStrategy: (times) => Math.min(100 * times, 2000),
    });
  const publisher = connect();
  const subscriber = connect();
  const report = (error: Error) => options.onError?.(error);
  // ioredis reconnects (and re-subscribes) on its own; an unhandled 'error' would crash the process.
  publisher.on('error', report);
  subscriber.on('error', report);
  const watch = (redis: Redis) =>
    watchLiveness(redis, {
      silenceMs: options.silenceMs ?? 1000,
      onChange: (responsive, error) => {
        if (!responsive && error) report(error);
      },
    });
  const publishing = watch(publisher);
  const subscribing = watch(subscriber);

  const channels = new Map<string, Set<Listener>>();
  /** Pending SUBSCRIBE/UNSUBSCRIBE per channel, so they reach Redis in call order. */
  const pending = new Map<string, Promise<unknown>>();
  let closed = false;

  subscriber.on('message', (fullChannel: string, text: string) => {
    const listeners = channels.get(fullChannel.slice(prefix.length));
    if (!listeners || !fullChannel.startsWith(prefix)) return;
    // Each listener gets its own copy, as in memory: no listener can change what another sees.
    for (const listener of [...listeners]) {
      try {
        listener(JSON.parse(text));
      } catch (err) {
        report(err as Error);
      }
    }
  });

  function serially(channel: string, step: () => Promise<unknown>): Promise<unknown> {
    const run = (pending.get(channel) ?? Promise.resolve()).catch(() => {}).then(step);
    pending.set(channel, run);
    return run.finally(() => {
      if (pending.get(channel) === run) pending.delete(channel);
    });
  }

  return {
    kind: 'redis',

    async publish(channel, message) {
      if (closed) throw new Error('pub/sub is closed');
      await publishing.run(() => publisher.publish(prefix + channel, JSON.stringify(message)));
    },

    async subscribe(channel, listener) {
      if (closed) throw new Error('pub/sub is closed');
      const entry: Listener = (message) => listener(message);
      let listeners = channels.get(channel);
      if (!listeners) {
        listeners = new Set();
        channels.set(channel, listeners);
        void serially(channel, () => subscribing.run(() => subscriber.subscribe(prefix + channel))).catch(
          () => {},
        );
      }
      // Counted (and fed) only once Redis confirmed the SUBSCRIBE.
      try {
        await pending.get(channel);
      } catch (err) {
        if (listeners.size === 0 && channels.get(channel) === listeners) channels.delete(channel);
        throw err;
      }
      listeners.add(entry);
      return async () => {
        if (!listeners.delete(entry) || listeners.size > 0 || closed) return;
        if (channels.get(channel) === listeners) channels.delete(channel);
        await serially(channel, () =>
          channels.has(channel)
            ? Promise.resolve()
            : subscribing.run(() => subscriber.unsubscribe(prefix + channel)),
        );
      };
    },

    listenerCount: (channel) => channels.get(channel)?.size ?? 0,

    async close() {
      closed = true;
      channels.clear();
      publishing.close();
      subscribing.close();
      publisher.disconnect();
      subscriber.disconnect();
    },
  };
}
