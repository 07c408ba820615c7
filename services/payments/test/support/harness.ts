/**
 * A whole commerce stack for a test: fake catalog → orders service (real, over HTTP on
 * port 0) → payments service, with a test issuer signing real tokens for both.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestIssuer, type TestIssuer, USER_SCOPES } from '@portico/auth/testing';
import { loadConfig } from '@portico/config';
import type { Server } from '@portico/http';
import { type Database, openDatabase } from '@portico/store/sql';
import type { DatabaseTarget } from '@portico/store/testing';
import { type FakeCatalog, PRODUCTS, startFakeCatalog } from '../../../orders/test/support/fake-catalog.ts';
import { buildOrders } from '../../../orders/test/support/harness.ts';
import { build, ConfigSchema, type PaymentsDeps } from '../../src/build.ts';
import { createFakeProcessor, type FakeProcessor } from '../../src/clients/processor.ts';
import type { PaymentsDatabase } from '../../src/data/schema.ts';

export interface Stack {
  issuer: TestIssuer;
  catalog: FakeCatalog;
  orders: Server;
  ordersUrl: string;
  payments: Server;
  processor: FakeProcessor;
  /** A second connection to the payments database, to look at (or stage) what a crash leaves. */
  paymentsDb: Database<PaymentsDatabase>;
  serviceTokenFailures: { remaining: number };
  /** Runs just before each charge reaches the processor: lets a test race something against it. */
  hooks: { beforeCharge?: () => Promise<void> };
  close(): Promise<void>;
}

export async function startStack(
  makeTarget: () => DatabaseTarget,
  deps: Partial<PaymentsDeps> = {},
): Promise<Stack> {
  const issuer = await createTestIssuer();
  const catalog = await startFakeCatalog(PRODUCTS);
  const ordersTarget = makeTarget();
  const orders = await buildOrders(ordersTarget, catalog.url, issuer);
  await orders.listen({ port: 0, host: '127.0.0.1' });
  const ordersUrl = `http://127.0.0.1:${(orders.server.address() as AddressInfo).port}`;

  // SQLite in a file (not in memory) so the test can open a second connection to it.
  const paymentsTarget = makeTarget();
  const file = join(tmpdir(), `portico-payments-${randomBytes(6).toString('hex')}.db`);
  const url = paymentsTarget.name === 'sqlite' ? `sqlite:${file}` : paymentsTarget.url;
  const processor = createFakeProcessor();
  const hooks: Stack['hooks'] = {};
  const serviceTokenFailures = { remaining: 0 };
  const config = loadConfig('payments', ConfigSchema, {
    env: {},
    overrides: {
      logLevel: 'silent',
      databaseUrl: url,
      ...(paymentsTarget.schema ? { databaseSchema: paymentsTarget.schema } : {}),
      orders: { url: ordersUrl, timeoutMs: 5000 },
      processor: { timeoutMs: 200 },
      idempotency: { leaseMs: 600 },
      orderSync: { intervalMs: 20, baseBackoffMs: 5, maxBackoffMs: 40, inlineAttempts: 2 },
    },
  });
  const payments = await build(config, {
    verifier: issuer.verifier,
    processor: {
      async charge(request, signal) {
        await hooks.beforeCharge?.();
        return processor.charge(request, signal);
      },
      refund: (chargeId, signal) => processor.refund(chargeId, signal),
    },
    serviceToken: async () => {
      if (serviceTokenFailures.remaining > 0) {
        serviceTokenFailures.remaining--;
        throw new Error('identity is down');
      }
      return issuer.sign({ sub: 'portico-service', roles: [], scope: 'orders:pay' });
    },
    ...deps,
  });
  const paymentsDb = openDatabase<PaymentsDatabase>({ url, schema: paymentsTarget.schema });

  return {
    issuer,
    catalog,
    orders,
    ordersUrl,
    payments,
    processor,
    paymentsDb,
    serviceTokenFailures,
    hooks,
    async close() {
      await payments.close();
      await paymentsDb.close();
      await orders.close();
      await catalog.close();
      await ordersTarget.cleanup();
      await paymentsTarget.cleanup();
      rmSync(file, { force: true });
      rmSync(`${file}-wal`, { force: true });
      rmSync(`${file}-shm`, { force: true });
    },
  };
}

let n = 0;

/** A customer with a real token, and helpers to call both services as them. */
export async function customer(stack: Stack, roles = ['customer']) {
  const sub = `user-${++n}-${randomBytes(3).toString('hex')}`;
  const token = await stack.issuer.sign({ sub, roles, scope: USER_SCOPES });
  const headers = { authorization: `Bearer ${token}` };
  return {
    sub,
    token,
    orders: (method: 'GET' | 'POST', url: string, payload?: object) =>
      stack.orders.inject({ method, url, headers, ...(payload ? { payload } : {}) }),
    payments: (method: 'GET' | 'POST', url: string, payload?: object, key?: string) =>
      stack.payments.inject({
        method,
        url,
        headers: { ...headers, ...(key ? { 'idempotency-key': key } : {}) },
        ...(payload ? { payload } : {}),
      }),
  };
}

export type Customer = Awaited<ReturnType<typeof customer>>;

/** Cart → order; returns the pending order. */
export async function placeOrder(
  who: Customer,
  items: Array<[string, number]> = [['01900000-0000-7000-8000-00000000b00c', 2]],
) {
  for (const [product_id, quantity] of items) {
    const res = await who.orders('POST', '/api/v1/cart/items', { product_id, quantity });
    if (res.statusCode >= 300) throw new Error(`add to cart: ${res.statusCode} ${res.body}`);
  }
  const res = await who.orders('POST', '/api/v1/orders');
  if (res.statusCode !== 201) throw new Error(`checkout: ${res.statusCode} ${res.body}`);
  return res.json().data as {
    id: string;
    total_minor: number;
    total: number;
    currency: string;
    status: string;
  };
}

/** A new customer with an order placed and a payment intent made for it. */
export async function orderWithIntent(stack: Stack) {
  const who = await customer(stack);
  const order = await placeOrder(who);
  const created = await who.payments('POST', '/api/v1/payments', { order_id: order.id }, randomUUID());
  if (created.statusCode !== 201) throw new Error(`payment intent: ${created.statusCode} ${created.body}`);
  return { who, order, intent: created.json().data };
}

export const card = (number: string) => ({ card: { number, exp_month: 12, exp_year: 2099, cvc: '123' } });

/** Polls until `check` is true or `ms` pass: waits for the sync loop without a fixed sleep. */
export async function eventually(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
