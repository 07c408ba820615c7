/**
 * A subscription a process keeps for its whole life (cache invalidation, token revocations):
 * when Redis is unreachable or stops answering, `subscribe` fails at once; this tries again,
 * backing off to `maxDelayMs`, until it is live or stopped. Start-up never waits on it.
 */
import type { Listener, PubSub } from './index.ts';

export interface DurableSubscription {
  /** Settles once the subscription is live; never rejects. */
  readonly ready: Promise<void>;
  readonly live: boolean;
  /** Stops trying, or unsubscribes once live. */
  stop(): Promise<void>;
}

export function subscribeDurably(
  pubsub: PubSub,
  channel: string,
  listener: Listener,
  options: { onError?: (err: Error) => void; maxDelayMs?: number } = {},
): DurableSubscription {
  const maxDelayMs = options.maxDelayMs ?? 5000;
  let stopped = false;
  let live = false;
  let unsubscribe: (() => Promise<void>) | undefined;
  let wake: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;

  const ready = (async () => {
    for (let attempt = 0; !stopped; attempt++) {
      try {
        const done = await pubsub.subscribe(channel, listener);
        if (stopped) {
          await done();
          return;
        }
        unsubscribe = done;
        live = true;
        return;
      } catch (err) {
        if (stopped) return;
        if (attempt === 0) options.onError?.(err as Error);
        const delay = Math.min(maxDelayMs, 100 * 2 ** attempt);
        await new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, delay);
          timer.unref();
        });
      }
    }
  })();

  return {
    ready,
    get live() {
      return live;
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      wake?.();
      await ready;
      live = false;
      await unsubscribe?.();
    },
  };
}
