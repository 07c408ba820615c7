/**
 * The payments service (port 8004, the seed's `payment-service`): payment intents for
 * orders, a card processor behind an interface, Idempotency-Key on every POST, and a
 * sync loop that keeps telling the orders service about successful payments until it listens
 * (one replica at a time runs it, holding a lease in the database).
 */
import { enforceAccess, serviceTokenVerifier, type TokenVerifier } from '@portico/auth';
import { createServer, RESOURCE_HEADERS, type Server, securityHeaders } from '@portico/http';
import { openServiceDatabase, sql } from '@portico/store/sql';
import { Gauge } from 'prom-client';
import { migrations } from '../migrations/index.ts';
import { intentRoutes } from './api/intents.ts';
import { createOrdersClient, type OrdersClient } from './clients/orders.ts';
import { type CardProcessor, createFakeProcessor } from './clients/processor.ts';
import { clientCredentialsToken, type TokenSource } from './clients/service-token.ts';
import { ConfigSchema, type PaymentsConfig } from './config.ts';
import type { PaymentsDatabase } from './data/schema.ts';
import { createIdempotencyKeyService, type IdempotencyKeyService } from './domain/idempotency-keys.ts';
import { createIntentService, type IntentService } from './domain/intents.ts';
import { startOrderSync } from './domain/order-sync.ts';

export type { PaymentsConfig };
export { ConfigSchema };

export interface PaymentsDeps {
  /** Token verifier override (tests pass a test issuer's). */
  verifier?: TokenVerifier;
  /** The card processor; the embedded default is the fake one with test cards. */
  processor?: CardProcessor;
  /** This service's own access token (scope orders:pay); default: client credentials at identity. */
  serviceToken?: TokenSource;
  /** Orders client to use instead of HTTP to `config.orders.url`. */
  orders?: OrdersClient;
}

export type PaymentsServer = Server & { intents: IntentService; idempotencyKeys: IdempotencyKeyService };

export async function build(config: PaymentsConfig, deps: PaymentsDeps = {}): Promise<PaymentsServer> {
  // A request (or an intent being charged) is never taken over before its charge could have finished.
  if (config.idempotency.leaseMs <= config.processor.timeoutMs) {
    throw new TypeError('idempotency.leaseMs must be longer than processor.timeoutMs');
  }
  if (config.orderSync.leaseMs <= config.orderSync.intervalMs) {
    throw new TypeError(
      'orderSync.leaseMs must be longer than orderSync.intervalMs (the holder renews every interval)',
    );
  }
  const database = await openServiceDatabase<PaymentsDatabase>(config, migrations);
  const orders = deps.orders ?? createOrdersClient(config.orders);

  const server = (await createServer({
    name: 'payments',
    description: 'Payment intents with idempotent POSTs and a fake card processor.',
    tags: { payments: 'Payment intents: idempotent creation, card confirmation, the order told once paid' },
    logLevel: config.logLevel === 'silent' ? false : config.logLevel,
    healthTimeoutMs: config.healthCheckTimeoutMs,
    health: { database: () => sql`select 1`.execute(database.db) },
  })) as PaymentsServer;
  await securityHeaders(server, RESOURCE_HEADERS);

  const intents = createIntentService(database, {
    orders,
    processor: deps.processor ?? createFakeProcessor(),
    serviceToken:
      deps.serviceToken ?? clientCredentialsToken({ issuer: config.auth.issuer, ...config.serviceClient }),
    processorTimeoutMs: config.processor.timeoutMs,
    processingLeaseMs: config.idempotency.leaseMs,
    sync: config.orderSync,
    log: server.log,
  });
  const idempotencyKeys = createIdempotencyKeyService(database, config.idempotency.leaseMs);
  server.decorate('intents', intents);
  server.decorate('idempotencyKeys', idempotencyKeys);
  const verifier = deps.verifier ?? (await serviceTokenVerifier(server, config.auth, { name: 'payments' }));
  enforceAccess(server, verifier);
  intentRoutes(server, intents, idempotencyKeys);

  const leaseHeld = new Gauge({
    name: 'payments_order_sync_lease_held',
    help: '1 while this replica holds the lease that runs the order sync loop',
    registers: [server.metrics],
  });
  const sync = startOrderSync(database, {
    intents,
    idempotencyKeys,
    intervalMs: config.orderSync.intervalMs,
    leaseMs: config.orderSync.leaseMs,
    retentionHours: config.idempotency.retentionHours,
    onLease: (held) => leaseHeld.set(held ? 1 : 0),
    log: server.log,
  });

  server.addHook('onClose', async () => {
    await sync.stop();
    await orders.close();
    await database.close();
  });
  return server;
}
