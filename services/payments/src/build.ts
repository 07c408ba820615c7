/**
 * The payments service (port 8004, the seed's `payment-service`): payment intents for
 * orders, a card processor behind an interface, Idempotency-Key on every POST, and a
 * sync loop that keeps telling the orders service about successful payments until it listens
 * (one replica at a time runs it, holding a lease in the database).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { enforceAccess, serviceTokenVerifier, type TokenVerifier } from '@portico/auth';
import { createServer, type Server } from '@portico/http';
import { openDatabase, sql } from '@portico/store/sql';
import { Gauge } from 'prom-client';
import { registerIntentRoutes } from './api/intents.ts';
import { type Config, ConfigSchema } from './config.ts';
import { sqlLease } from './data/lease.ts';
import { createOrdersClient, type OrdersClient } from './data/orders-client.ts';
import { migrations, type PaymentsDb } from './data/schema.ts';
import { clientCredentialsToken, type TokenSource } from './data/service-token.ts';
import { type PaymentsContext, syncDueOrders } from './domain/intents.ts';
import { type CardProcessor, createFakeProcessor } from './domain/processor.ts';

export { ConfigSchema };

export interface Deps {
  verifier?: TokenVerifier;
  /** The card processor; the embedded default is the fake one with test cards. */
  processor?: CardProcessor;
  /** This service's own access token (scope orders:pay); default: client credentials at identity. */
  serviceToken?: TokenSource;
  orders?: OrdersClient;
}

export async function build(config: Config, deps: Deps = {}): Promise<Server> {
  // A request (or an intent being charged) is never taken over before its charge could have finished.
  if (config.idempotency.leaseMs <= config.processor.timeoutMs) {
    throw new TypeError('idempotency.leaseMs must be longer than processor.timeoutMs');
  }
  if (config.orderSync.leaseMs <= config.orderSync.intervalMs) {
    throw new TypeError(
      'orderSync.leaseMs must be longer than orderSync.intervalMs (the holder renews every interval)',
    );
  }
  const database = openDatabase<PaymentsDb>({
    url: config.databaseUrl,
    schema: config.databaseSchema,
    queryTimeoutMs: config.databaseQueryTimeoutMs,
    acquireTimeoutMs: config.databaseAcquireTimeoutMs,
  });
  await database.migrate(migrations);
  const { db } = database;
  const orders = deps.orders ?? createOrdersClient(config.orders);

  const server = await createServer({
    name: 'payments',
    description: 'Payment intents with idempotent POSTs and a fake card processor.',
    tags: { payments: 'Payment intents: idempotent creation, card confirmation, the order told once paid' },
    logLevel: config.logLevel === 'silent' ? false : config.logLevel,
    healthTimeoutMs: config.healthCheckTimeoutMs,
    health: { database: () => sql`select 1`.execute(db) },
  });

  const ctx: PaymentsContext = {
    db,
    orders,
    processor: deps.processor ?? createFakeProcessor(),
    serviceToken: deps.serviceToken ?? clientCredentialsToken(config.serviceClient),
    processorTimeoutMs: config.processor.timeoutMs,
    processingLeaseMs: config.idempotency.leaseMs,
    sync: config.orderSync,
    log: server.log,
  };
  const verifier = deps.verifier ?? (await serviceTokenVerifier(server, config.auth, { name: 'payments' }));
  enforceAccess(server, verifier);
  registerIntentRoutes(server, ctx, config.idempotency.leaseMs);

  // Marking orders paid is idempotent, so two loops at once would be wasteful, not wrong:
  // the lease keeps the work (and the calls to orders) on one replica.
  const lease = sqlLease(db, database.dialect, {
    name: 'order-sync',
    holder: `${hostname()}/${process.pid}/${randomBytes(4).toString('hex')}`,
    ttlMs: config.orderSync.leaseMs,
  });
  const leaseHeld = new Gauge({
    name: 'payments_order_sync_lease_held',
    help: '1 while this replica holds the lease that runs the order sync loop',
    registers: [server.metrics],
  });
  const tick = async () => {
    const held = await lease.take().catch((err) => {
      server.log.warn({ err }, 'payments sync lease: could not reach the database');
      return false;
    });
    leaseHeld.set(held ? 1 : 0);
    if (held) await Promise.all([syncDueOrders(ctx), purge()]);
  };

  let running: Promise<unknown> | undefined;
  let purgedAt = 0;
  // Completed keys are forgotten after the retention period; checked once a minute.
  const purge = async () => {
    if (Date.now() - purgedAt < 60_000) return;
    purgedAt = Date.now();
    const retention = new Date(Date.now() - config.idempotency.retentionHours * 3_600_000).toISOString();
    await db
      .deleteFrom('idempotency_keys')
      .where('state', '=', 'completed')
      .where('created_at', '<', retention)
      .execute();
  };
  const timer = setInterval(() => {
    if (running) return;
    running = tick()
      .catch((err) => server.log.error({ err }, 'payments sync loop failed'))
      .finally(() => {
        running = undefined;
      });
  }, config.orderSync.intervalMs);
  timer.unref();

  server.addHook('onClose', async () => {
    clearInterval(timer);
    await running;
    await lease.release().catch(() => {});
    await orders.close();
    await database.close();
  });
  return server;
}
