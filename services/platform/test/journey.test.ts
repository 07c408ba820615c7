/**
 * Whole journeys through the gateway with real tokens from the real identity provider,
 * every service built from its own module on its own port, on SQLite and on PostgreSQL:
 * browse, add to cart, order, pay, see the order paid on the dashboard; another customer
 * trying that order; concurrent checkouts of one cart; a payment retried with the same key;
 * the catalog down during checkout.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type DeepPartial, loadConfig, type TSchema } from '@portico/config';
import type { ServiceModule } from '@portico/http';
import { freePort } from '@portico/http/testing';
import { createMemoryPubSub } from '@portico/store/pubsub';
import { openDatabase } from '@portico/store/sql';
import { databaseTargets } from '@portico/store/testing';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { obtainToken } from '../../identity/src/cli/token-flow.ts';
import type { IdentityDatabase } from '../../identity/src/data/schema.ts';
import { createAccountService } from '../../identity/src/domain/accounts.ts';
import { hashPassword } from '../../identity/src/domain/passwords.ts';
import { services } from '../src/services.ts';

const NAMES = ['identity', 'users', 'catalog', 'orders', 'payments', 'gateway'] as const;
type Name = (typeof NAMES)[number];
const API_SCOPES =
  'openid catalog:read orders:read orders:write payments:read payments:write users:read users:write';

for (const makeTarget of databaseTargets()) {
  const target = makeTarget();
  describe(`journeys through the gateway (${target.name})`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'portico-journey-'));
    const running = new Map<Name, FastifyInstance>();
    const ports = {} as Record<Name, number>;
    const url = (name: Name) => `http://127.0.0.1:${ports[name]}`;
    const database = (name: Name) =>
      target.name === 'sqlite'
        ? { databaseUrl: `sqlite:${join(dir, `${name}.db`)}` }
        : { databaseUrl: target.url, databaseSchema: `${target.schema}_${name}` };
    const tokens: Record<'alice' | 'bob' | 'admin', string> = { alice: '', bob: '', admin: '' };
    const serviceSecret = randomUUID();
    // Orders announce what was bought on pub/sub, the catalog keeps it: one bus, as `npm start` has.
    const bus = createMemoryPubSub();

    async function start(name: Name, overrides: DeepPartial<Record<string, unknown>>) {
      const module = services.find((s) => s.name === name)!.module as ServiceModule<TSchema>;
      const config = loadConfig(name, module.ConfigSchema, {
        env: {},
        overrides: { port: ports[name], logLevel: 'silent', ...overrides } as never,
      });
      const build = module.build as (config: unknown, deps: object) => Promise<FastifyInstance>;
      const server = await build(config, { pubsub: bus });
      await server.listen({ port: ports[name], host: '127.0.0.1' });
      running.set(name, server);
    }

    const api = async (
      method: string,
      path: string,
      who?: keyof typeof tokens,
      body?: unknown,
      headers = {},
    ) => {
      const res = await fetch(`${url('gateway')}${path}`, {
        method,
        headers: {
          ...(who ? { authorization: `Bearer ${tokens[who]}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
    };

    before(async () => {
      for (const name of NAMES) ports[name] = await freePort();
      const issuer = url('identity');
      const auth = { issuer, audience: 'http://localhost:8000', jwksUri: `${issuer}/jwks` };
      await start('identity', {
        ...database('identity'),
        issuer,
        keysFile: '',
        demoLoginsFile: '',
        clientSecrets: { web: randomUUID(), service: serviceSecret },
      });
      const identity = running.get('identity') as FastifyInstance & {
        demoLogins: Array<{ username: string; password: string }>;
      };
      // A second customer, made the way an operator would: straight into the account store.
      const accounts = openDatabase<IdentityDatabase>({
        url: database('identity').databaseUrl,
        schema: database('identity').databaseSchema,
      });
      const bobPassword = randomUUID();
      await createAccountService(accounts).create({
        username: 'bob',
        passwordHash: await hashPassword(bobPassword),
        roles: ['customer'],
        name: 'Bob',
      });
      await accounts.close();

      await start('users', { ...database('users'), auth });
      await start('catalog', {
        ...database('catalog'),
        auth,
        readCacheTtlMs: 0,
      });
      await start('orders', {
        ...database('orders'),
        auth,
        catalog: { url: url('catalog'), timeoutMs: 5000 },
      });
      await start('payments', {
        ...database('payments'),
        auth,
        orders: { url: url('orders') },
        serviceClient: { tokenUrl: `${issuer}/token`, clientSecret: serviceSecret },
        orderSync: { intervalMs: 50 },
      });
      const embedded = readFileSync(join(import.meta.dirname, '../../gateway/gateway.yaml'), 'utf8');
      const file = join(dir, 'gateway.yaml');
      writeFileSync(
        file,
        embedded.replace(/http:\/\/127\.0\.0\.1:(800[1-4])/g, (_, port: string) => {
          const name = (
            { '8001': 'users', '8002': 'catalog', '8003': 'orders', '8004': 'payments' } as const
          )[port as '8001'];
          return url(name);
        }),
      );
      await start('gateway', { file, watch: false, auth });

      const credentials = {
        alice: identity.demoLogins.find((l) => l.username === 'alice')!,
        admin: identity.demoLogins.find((l) => l.username === 'admin')!,
        bob: { username: 'bob', password: bobPassword },
      };
      for (const who of ['alice', 'bob', 'admin'] as const) {
        const response = await obtainToken({
          issuer,
          clientId: 'portico-cli',
          redirectUri: 'http://127.0.0.1/callback',
          scope: API_SCOPES,
          credentials: credentials[who],
        });
        tokens[who] = response.access_token;
      }
    });

    after(async () => {
      for (const name of [...NAMES].reverse()) await running.get(name)?.close();
      rmSync(dir, { recursive: true, force: true });
      if (target.name === 'postgres') {
        const client = new pg.Client({ connectionString: target.url });
        await client.connect();
        for (const name of NAMES)
          await client.query(`drop schema if exists ${target.schema}_${name} cascade`);
        await client.end();
      }
    });

    let productId: string;
    let price: number;
    let orderId: string;

    test('browse, add to cart, order, pay, and see the order paid on the dashboard', async () => {
      const search = await api('GET', '/api/v1/products?q=keyboard');
      assert.equal(search.status, 200);
      ({ id: productId, price } = search.body.data[0]);

      const added = await api('POST', '/api/v1/cart/items', 'alice', { product_id: productId, quantity: 2 });
      assert.equal(added.status, 201, JSON.stringify(added.body));
      const order = await api('POST', '/api/v1/orders', 'alice');
      assert.equal(order.status, 201, JSON.stringify(order.body));
      orderId = order.body.data.id;
      assert.equal(order.body.data.status, 'pending');
      assert.equal(order.body.data.total, Math.round(price * 200) / 100);
      assert.equal(
        (await api('GET', '/api/v1/cart', 'alice')).body.data.items.length,
        0,
        'the cart is emptied',
      );

      const intent = await api(
        'POST',
        '/api/v1/payments',
        'alice',
        { order_id: orderId },
        { 'idempotency-key': randomUUID() },
      );
      assert.equal(intent.status, 201, JSON.stringify(intent.body));
      const key = randomUUID();
      const card = { card: { number: '4242424242424242', exp_month: 12, exp_year: 2030, cvc: '123' } };
      const paid = await api('POST', `/api/v1/payments/${intent.body.data.id}/confirm`, 'alice', card, {
        'idempotency-key': key,
      });
      assert.equal(paid.status, 200, JSON.stringify(paid.body));
      assert.equal(paid.body.data.status, 'succeeded');

      const again = await api('POST', `/api/v1/payments/${intent.body.data.id}/confirm`, 'alice', card, {
        'idempotency-key': key,
      });
      assert.equal(again.status, 200);
      assert.equal(
        again.headers.get('idempotent-replayed'),
        'true',
        'a retry with the same key replays, never charges again',
      );
      assert.deepEqual(again.body, paid.body);

      // The payments service marks the order paid with its own orders:pay credential from identity.
      let status = '';
      for (let i = 0; i < 100 && status !== 'paid'; i++) {
        status = (await api('GET', `/api/v1/orders/${orderId}`, 'alice')).body.data.status;
        if (status !== 'paid') await sleep(50);
      }
      assert.equal(status, 'paid');

      const dashboard = await api('GET', '/api/v1/dashboard', 'alice');
      assert.equal(dashboard.status, 200, JSON.stringify(dashboard.body));
      const text = JSON.stringify(dashboard.body);
      assert.ok(text.includes(orderId), 'the dashboard lists the order');
      assert.match(text, /"status":"paid"/);
      // The catalog heard of the order: alice's recommendations now come from what she bought.
      const recommendations = await api('GET', '/api/v1/recommendations', 'alice');
      assert.equal(recommendations.status, 200);
      assert.deepEqual(recommendations.body.meta, { personalised: true, degraded: false });
    });

    test('another customer cannot see, pay or cancel that order', async () => {
      assert.equal((await api('GET', `/api/v1/orders/${orderId}`, 'bob')).status, 404);
      assert.equal(
        (
          await api(
            'GET',
            `/api/v1/orders?user_id=${(await api('GET', '/api/v1/users/me', 'alice')).body.data.id}`,
            'bob',
          )
        ).status,
        403,
      );
      const pay = await api(
        'POST',
        '/api/v1/payments',
        'bob',
        { order_id: orderId },
        { 'idempotency-key': randomUUID() },
      );
      assert.equal(pay.status, 404);
      assert.equal((await api('POST', `/api/v1/orders/${orderId}/cancel`, 'bob')).status, 404);
      assert.equal(
        (await api('GET', `/api/v1/orders/${orderId}`, 'admin')).status,
        200,
        'admins see every order',
      );
      assert.equal((await api('GET', `/api/v1/orders/${orderId}`)).status, 401, 'no token, no orders');
    });

    test('concurrent checkouts of one cart make exactly one order', async () => {
      assert.equal(
        (await api('POST', '/api/v1/cart/items', 'bob', { product_id: productId, quantity: 1 })).status,
        201,
      );
      const attempts = await Promise.all(
        Array.from({ length: 6 }, () => api('POST', '/api/v1/orders', 'bob')),
      );
      assert.equal(
        attempts.filter((r) => r.status === 201).length,
        1,
        JSON.stringify(attempts.map((r) => r.status)),
      );
      for (const r of attempts.filter((a) => a.status !== 201))
        assert.ok([409, 422].includes(r.status), String(r.status));
      assert.equal((await api('GET', '/api/v1/orders', 'bob')).body.data.length, 1);
    });

    test('the catalog down during checkout: a clear 503, the cart kept, no order', async () => {
      assert.equal(
        (await api('POST', '/api/v1/cart/items', 'alice', { product_id: productId, quantity: 1 })).status,
        201,
      );
      const before = (await api('GET', '/api/v1/orders', 'alice')).body.data.length;
      await running.get('catalog')!.close();
      const checkout = await api('POST', '/api/v1/orders', 'alice');
      assert.equal(checkout.status, 503);
      assert.equal(checkout.body.code, 'CATALOG_UNAVAILABLE');
      assert.match(String(checkout.headers.get('content-type')), /problem\+json/);
      assert.equal(
        (await api('GET', '/api/v1/cart', 'alice')).body.data.items.length,
        1,
        'the cart is intact',
      );
      assert.equal(
        (await api('GET', '/api/v1/orders', 'alice')).body.data.length,
        before,
        'no order was written',
      );
    });
  });
}
