/**
 * Whether a Redis connection's server still answers, told apart from this client's own queue.
 *
 * One connection pipelines every command, so under a burst the last of 1,800 commands waits
 * for the 1,799 before it: a timeout per command, started when it is queued, calls a busy
 * server "down" exactly when it matters. What says a server stopped answering is silence:
 * commands outstanding and no reply for `silenceMs`, measured from the later of the last reply
 * and the oldest outstanding command's write. A server working through a burst replies all
 * the time, so it is never silent.
 *
 * Once silent, the server is unresponsive: every outstanding command is rejected, and new ones
 * are rejected at once (callers fail open) instead of each waiting its own budget. A PING is
 * sent every `probeMs` (half-open); its reply makes the server responsive again. In-flight
 * commands are bounded (`maxInFlight`): past it a command is refused at once, the client's
 * own overload, not the server's.
 */
import type { Redis } from 'ioredis';

export class StoreUnresponsiveError extends Error {
  code = 'STORE_UNRESPONSIVE';
}

export class StoreBusyError extends Error {
  code = 'STORE_BUSY';
}

export interface LivenessOptions {
  /** Longest silence with commands outstanding before the server counts as unresponsive. */
  silenceMs: number;
  /** Commands outstanding at once; more are refused at once. @default 10_000 */
  maxInFlight?: number;
  /** Between PINGs while unresponsive. @default 4 × silenceMs */
  probeMs?: number;
  onChange?: (responsive: boolean, error?: Error) => void;
}

export interface Liveness {
  readonly responsive: boolean;
  run<T>(command: () => Promise<T>): Promise<T>;
  close(): void;
}

interface Pending {
  written: number;
  reject(err: Error): void;
}

export function watchLiveness(redis: Redis, options: LivenessOptions): Liveness {
  const { silenceMs } = options;
  const maxInFlight = options.maxInFlight ?? 10_000;
  const probeMs = options.probeMs ?? 4 * silenceMs;
  const outstanding = new Set<Pending>();
  let responsive = true;
  let lastReply = performance.now();
  let probing = false;
  let lastProbe = 0;
  let closed = false;

  const set = (next: boolean, error?: Error) => {
    if (next === responsive) return;
    responsive = next;
    options.onChange?.(next, error);
  };

  function probe() {
    const now = performance.now();
    if (probing || closed || now - lastProbe < probeMs) return;
    probing = true;
    lastProbe = now;
    const timer = setTimeout(() => {
      probing = false;
    }, probeMs);
    redis.ping().then(
      () => {
        clearTimeout(timer);
        probing = false;
        lastReply = performance.now();
        set(true);
      },
      () => {
        clearTimeout(timer);
        probing = false;
      },
    );
  }

  const tickMs = Math.max(10, Math.floor(silenceMs / 5));
  let lastTick = performance.now();
  const watchdog = setInterval(() => {
    // A late tick means this process was busy: replies may be waiting, unread, in the socket.
    // Let one poll phase read them before judging the server.
    const tick = performance.now();
    const late = tick - lastTick > 2 * tickMs;
    lastTick = tick;
    if (late) return;
    if (!responsive) {
      probe();
      return;
    }
    if (outstanding.size === 0) return;
    let oldest = Number.POSITIVE_INFINITY;
    for (const pending of outstanding) if (pending.written < oldest) oldest = pending.written;
    const since = Math.max(oldest, lastReply);
    if (performance.now() - since < silenceMs) return;
    const err = new StoreUnresponsiveError(
      `redis sent nothing for ${silenceMs} ms with commands outstanding`,
    );
    lastProbe = performance.now();
    set(false, err);
    for (const pending of [...outstanding]) pending.reject(err);
    outstanding.clear();
  }, tickMs);
  watchdog.unref();

  return {
    get responsive() {
      return responsive;
    },
    run(command) {
      if (!responsive) {
        probe();
        return Promise.reject(
          new StoreUnresponsiveError('redis is not answering; skipped until a probe passes'),
        );
      }
      if (outstanding.size >= maxInFlight) {
        return Promise.reject(new StoreBusyError(`${maxInFlight} redis commands already in flight`));
      }
      return new Promise((resolve, reject) => {
        const pending: Pending = { written: performance.now(), reject };
        outstanding.add(pending);
        command().then(
          (value) => {
            lastReply = performance.now();
            if (outstanding.delete(pending)) resolve(value);
          },
          (err: Error) => {
            // A reply error is a reply; a closed connection settles the command too.
            lastReply = performance.now();
            if (outstanding.delete(pending)) reject(err);
          },
        );
      });
    },
    close() {
      closed = true;
      clearInterval(watchdog);
    },
  };
}
