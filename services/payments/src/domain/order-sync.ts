/**
 * The loop that keeps telling the orders service about successful payments until it listens,
 * and forgets old idempotency keys. Marking orders paid is idempotent, so two loops at once
 * would be wasteful, not wrong: a lease in the database (domain/leases.ts) keeps the work (and
 * the calls to orders) on one replica at a time.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Database } from '@portico/store/sql';
import type { PaymentsDatabase } from '../data/schema.ts';
import type { IdempotencyKeyService } from './idempotency-keys.ts';
import type { IntentService } from './intents.ts';
import { createLeaseService } from './leases.ts';

/** Completed idempotency keys are purged at most this often. */
const PURGE_EVERY_MS = 60_000;

export interface OrderSyncDeps {
  intents: IntentService;
  idempotencyKeys: IdempotencyKeyService;
  /** A pass every `intervalMs`, by the replica holding the lease for `leaseMs` (renewed each pass). */
  intervalMs: number;
  leaseMs: number;
  /** Completed idempotency keys older than this are forgotten. */
  retentionHours: number;
  /** Whether this replica holds the lease, after each attempt to take it. */
  onLease(held: boolean): void;
  log: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

export interface OrderSync {
  stop(): Promise<void>;
}

export function startOrderSync(database: Database<PaymentsDatabase>, deps: OrderSyncDeps): OrderSync {
  const { intents, idempotencyKeys, log } = deps;
  const lease = createLeaseService(database, {
    name: 'order-sync',
    holder: `${hostname()}/${process.pid}/${randomBytes(4).toString('hex')}`,
    ttlMs: deps.leaseMs,
  });
  let purgedAt = 0;
  let running: Promise<unknown> | undefined;

  async function pass() {
    const purge = Date.now() - purgedAt >= PURGE_EVERY_MS;
    if (purge) purgedAt = Date.now();
    await Promise.all([
      intents.syncDueOrders(),
      purge ? idempotencyKeys.purge(deps.retentionHours) : undefined,
    ]);
  }

  async function tick() {
    const held = await lease.take().catch((err) => {
      log.warn({ err }, 'payments sync lease: could not reach the database');
      return false;
    });
    deps.onLease(held);
    if (held) await pass();
  }

  const timer = setInterval(() => {
    if (running) return;
    running = tick()
      .catch((err) => log.error({ err }, 'payments sync loop failed'))
      .finally(() => {
        running = undefined;
      });
  }, deps.intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
      await lease.release().catch(() => {});
    },
  };
}
