/**
 * The loop that keeps telling the orders service about successful payments until it listens,
 * and forgets old idempotency keys. Marking orders paid is idempotent, so two loops at once
 * would be wasteful, not wrong: a lease in the database keeps the work (and the calls to
 * orders) on one replica at a time.
 */
import type { Lease } from '../data/leases.ts';

export interface OrderSyncOptions {
  lease: Lease;
  intervalMs: number;
  /** One pass: what is due now. */
  run(): Promise<unknown>;
  /** Whether this replica holds the lease, after each attempt to take it. */
  onLease(held: boolean): void;
  log: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

export interface OrderSync {
  stop(): Promise<void>;
}

export function startOrderSync(options: OrderSyncOptions): OrderSync {
  const { lease, log } = options;
  let running: Promise<unknown> | undefined;
  const tick = async () => {
    const held = await lease.take().catch((err) => {
      log.warn({ err }, 'payments sync lease: could not reach the database');
      return false;
    });
    options.onLease(held);
    if (held) await options.run();
  };
  const timer = setInterval(() => {
    if (running) return;
    running = tick()
      .catch((err) => log.error({ err }, 'payments sync loop failed'))
      .finally(() => {
        running = undefined;
      });
  }, options.intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
      await lease.release().catch(() => {});
    },
  };
}
