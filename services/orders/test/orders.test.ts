import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ADMIN_SCOPES, createTestIssuer, type TestIssuer, USER_SCOPES } from '@portico/auth/testing';
import { ORDER_EVENTS_CHANNEL, OrderEvent } from '@portico/events';
import type { Server } from '@portico/http';
import { JSON_API_SECURITY_HEADERS, securityHeadersOf } from '@portico/http/testing';
import { createMemoryPubSub, type PubSub } from '@portico/store/pubsub';
import { databaseTargets } from '@portico/store/testing';
import { Compile } from 'typebox/compile';
import { type FakeCatalog, PRODUCTS, startFakeCatalog } from './support/fake-catalog.ts';
import { bearer, buildOrders } from './support/harness.ts';

const BOOK = '01900000-0000-7000-8000-00000000b00c';
const PEN = '01900000-0000-7000-8000-0000000000e2';

for (const makeTarget of databaseTargets()) {
  const target = makeTarget();
  describe(`orders service (${target.name})`, () => {
    let issuer: TestIssuer;
    let catalog: FakeCatalog;
    let server: Server;
    let pubsub: PubSub;
    const events: unknown[] = [];
    let n = 0;
    /** A fresh customer per test, so tests share one server without sharing state. */
    async function customer() {
      const sub = `user-${++n}-${Math.random().toString(36).slice(2, 8)}`;
      const token = await issuer.sign({ sub, roles: ['customer'], scope: USER_SCOPES });
      const call = (method: string, url: string, payload?: unknown) =>
        server.inject({
          method: method as 'GET',
          url,
          headers: bearer(token),
          ...(payload === undefined ? {} : { payload: payload as object }),
        });
      /** Puts `quantity` of a product in the cart; a refusal fails the test here. */
      const add = async (product_id: string, quantity: number) => {
        const res = await call('POST', '/api/v1/cart/items', { product_id, quantity });
        assert.ok(res.statusCode < 300, `add to cart: ${res.statusCode} ${res.body}`);
      };
      return { sub, token, call, add };
    }

    before(async () => {
      issuer = await createTestIssuer();
      catalog = await startFakeCatalog(PRODUCTS);
      pubsub = createMemoryPubSub();
      await pubsub.subscribe(ORDER_EVENTS_CHANNEL, (message) => events.push(message));
      server = await buildOrders(target, catalog.url, issuer, 5000, { pubsub });
    });
    after(async () => {
      await server.close();
      await pubsub.close();
      await catalog.close();
      await target.cleanup();
    });

    test('no token is a 401 with WWW-Authenticate', async () => {
      const res = await server.inject({ url: '/api/v1/cart' });
      assert.equal(res.statusCode, 401);
      assert.match(String(res.headers['www-authenticate']), /^Bearer/);
    });

    test('answers and problems carry the JSON-API security headers', async () => {
      const alice = await customer();
      const answers = {
        cart: await alice.call('GET', '/api/v1/cart'),
        problem: await server.inject({ url: '/api/v1/cart' }),
        orders: await alice.call('GET', '/api/v1/orders'),
      };
      assert.equal(answers.cart.statusCode, 200);
      for (const [answer, res] of Object.entries(answers))
        assert.deepEqual(securityHeadersOf(res.headers), JSON_API_SECURITY_HEADERS, answer);
    });

    test('cart: add, add again, change, remove; unknown and out-of-stock products refused', async () => {
      const alice = await customer();
      const added = await alice.call('POST', '/api/v1/cart/items', {
        product_id: '01900000-0000-7000-8000-00000000b00c',
        quantity: 1,
      });
      assert.equal(added.statusCode, 201);
      const item = added.json().data;
      assert.equal(added.headers.location, `/api/v1/cart/items/${item.id}`);
      assert.equal(item.unit_price, 19.99);
      assert.equal(item.unit_price_minor, 1999);

      const again = await alice.call('POST', '/api/v1/cart/items', {
        product_id: '01900000-0000-7000-8000-00000000b00c',
        quantity: 2,
      });
      assert.equal(again.statusCode, 200);
      assert.equal(again.json().data.quantity, 3);
      assert.equal(again.json().data.line_total_minor, 5997);

      const unknown = await alice.call('POST', '/api/v1/cart/items', {
        product_id: '01900000-0000-7000-8000-0000000000ff',
        quantity: 1,
      });
      assert.equal(unknown.statusCode, 422);
      assert.equal(unknown.json().code, 'PRODUCT_NOT_FOUND');
      // Not an id at all (a lone surrogate used to throw inside the catalog client and read as
      // "catalog unavailable"): the schema refuses it before any call.
      for (const product_id of ['nope', '\ud800', '../health']) {
        const malformed = await alice.call('POST', '/api/v1/cart/items', { product_id, quantity: 1 });
        assert.equal(malformed.statusCode, 400, product_id);
        assert.equal(malformed.json().code, 'VALIDATION_ERROR');
      }
      const sold = await alice.call('POST', '/api/v1/cart/items', {
        product_id: '01900000-0000-7000-8000-00000000a3b0',
        quantity: 1,
      });
      assert.equal(sold.statusCode, 409);
      assert.equal(sold.json().code, 'PRODUCT_OUT_OF_STOCK');
      const bad = await alice.call('POST', '/api/v1/cart/items', {
        product_id: '01900000-0000-7000-8000-0000000000e2',
        quantity: 0,
      });
      assert.equal(bad.statusCode, 400);
      const extra = await alice.call('POST', '/api/v1/cart/items', {
        product_id: '01900000-0000-7000-8000-0000000000e2',
        price: 0,
      });
      assert.equal(extra.json().code, 'UNKNOWN_FIELD');

      await alice.add(PEN, 5);
      const cart = await alice.call('GET', '/api/v1/cart');
      assert.equal(cart.statusCode, 200);
      assert.deepEqual(
        cart
          .json()
          .data.items.map((i: { product_id: string; quantity: number }) => [i.product_id, i.quantity]),
        [
          ['01900000-0000-7000-8000-00000000b00c', 3],
          ['01900000-0000-7000-8000-0000000000e2', 5],
        ],
      );
      assert.equal(cart.json().data.subtotal_minor, 5997 + 50);
      assert.equal(cart.json().data.subtotal, 60.47);

      const cached = await server.inject({
        url: '/api/v1/cart',
        headers: { ...bearer(alice.token), 'if-none-match': String(cart.headers.etag) },
      });
      assert.equal(cached.statusCode, 304);

      const patched = await alice.call('PATCH', `/api/v1/cart/items/${item.id}`, { quantity: 1 });
      assert.equal(patched.json().data.quantity, 1);

      const bob = await customer();
      assert.equal((await bob.call('DELETE', `/api/v1/cart/items/${item.id}`)).statusCode, 404);
      assert.equal(
        (await bob.call('PATCH', `/api/v1/cart/items/${item.id}`, { quantity: 9 })).statusCode,
        404,
      );
      assert.equal((await alice.call('DELETE', `/api/v1/cart/items/${item.id}`)).statusCode, 204);
      const after = (await alice.call('GET', '/api/v1/cart')).json().data;
      assert.deepEqual(
        after.items.map((i: { product_id: string }) => i.product_id),
        ['01900000-0000-7000-8000-0000000000e2'],
      );
      assert.ok(after.version > cart.json().data.version);
    });

    test('checkout: prices and names from the catalog at that moment, exact totals, cart emptied', async () => {
      const alice = await customer();
      await alice.add(PEN, 3);
      await alice.add(BOOK, 1);
      catalog.products.get('01900000-0000-7000-8000-00000000b00c')!.price = 17.5;
      catalog.products.get('01900000-0000-7000-8000-00000000b00c')!.name = 'Book (2nd edition)';
      try {
        const res = await alice.call('POST', '/api/v1/orders');
        assert.equal(res.statusCode, 201);
        const order = res.json().data;
        assert.equal(res.headers.location, `/api/v1/orders/${order.id}`);
        assert.equal(order.status, 'pending');
        assert.equal(order.user_id, alice.sub);
        assert.equal(order.total_minor, 30 + 1750);
        assert.equal(order.total, 17.8);
        assert.deepEqual(
          order.items.map((i: { name: string; unit_price: number; quantity: number }) => [
            i.name,
            i.unit_price,
            i.quantity,
          ]),
          [
            ['Pen', 0.1, 3],
            ['Book (2nd edition)', 17.5, 1],
          ],
        );
        assert.equal(order.links.cancel, `/api/v1/orders/${order.id}/cancel`);
        const cart = (await alice.call('GET', '/api/v1/cart')).json().data;
        assert.equal(cart.items.length, 0);

        const read = await alice.call('GET', `/api/v1/orders/${order.id}`);
        assert.equal(read.statusCode, 200);
        assert.deepEqual(read.json().data, order);

        const empty = await alice.call('POST', '/api/v1/orders');
        assert.equal(empty.statusCode, 422);
        assert.equal(empty.json().code, 'CART_EMPTY');
      } finally {
        catalog.products.get('01900000-0000-7000-8000-00000000b00c')!.price = 19.99;
        catalog.products.get('01900000-0000-7000-8000-00000000b00c')!.name = 'Book';
      }
    });

    test('checkout with If-Match orders exactly the cart the client saw', async () => {
      const alice = await customer();
      await alice.add(PEN, 1);
      const seen = await alice.call('GET', '/api/v1/cart');
      await alice.add(BOOK, 1);
      const stale = await server.inject({
        method: 'POST',
        url: '/api/v1/orders',
        headers: { ...bearer(alice.token), 'if-match': String(seen.headers.etag) },
      });
      assert.equal(stale.statusCode, 412);
      assert.equal(stale.json().code, 'PRECONDITION_FAILED');
      assert.equal((await alice.call('GET', '/api/v1/orders')).json().pagination.total, 0);
      const current = await alice.call('GET', '/api/v1/cart');
      const ok = await server.inject({
        method: 'POST',
        url: '/api/v1/orders',
        headers: { ...bearer(alice.token), 'if-match': String(current.headers.etag) },
      });
      assert.equal(ok.statusCode, 201);
      assert.equal(ok.json().data.items.length, 2);
    });

    test('checkout refuses a product that went out of stock; nothing is written', async () => {
      const alice = await customer();
      await alice.add(PEN, 1);
      catalog.products.get('01900000-0000-7000-8000-0000000000e2')!.in_stock = false;
      try {
        const res = await alice.call('POST', '/api/v1/orders');
        assert.equal(res.statusCode, 409);
        assert.equal(res.json().code, 'PRODUCT_OUT_OF_STOCK');
      } finally {
        catalog.products.get('01900000-0000-7000-8000-0000000000e2')!.in_stock = true;
      }
      assert.equal((await alice.call('GET', '/api/v1/cart')).json().data.items.length, 1);
      assert.equal((await alice.call('GET', '/api/v1/orders')).json().pagination.total, 0);
    });

    test("ownership: someone else's order is a 404; another user's list is a 403 unless admin", async () => {
      const alice = await customer();
      const bob = await customer();
      await alice.add(PEN, 1);
      const order = (await alice.call('POST', '/api/v1/orders')).json().data;

      const peek = await bob.call('GET', `/api/v1/orders/${order.id}`);
      assert.equal(peek.statusCode, 404);
      assert.equal(peek.json().code, 'ORDER_NOT_FOUND');
      assert.doesNotMatch(peek.body, new RegExp(alice.sub));
      assert.equal((await bob.call('POST', `/api/v1/orders/${order.id}/cancel`)).statusCode, 404);
      const missing = await bob.call('GET', '/api/v1/orders/does-not-exist');
      assert.deepEqual(
        { status: missing.statusCode, code: missing.json().code },
        { status: peek.statusCode, code: peek.json().code },
      );

      const list = await bob.call('GET', `/api/v1/orders?user_id=${alice.sub}`);
      assert.equal(list.statusCode, 403);
      assert.equal((await bob.call('GET', `/api/v1/orders?user_id=${bob.sub}`)).json().pagination.total, 0);

      const admin = await issuer.sign({ sub: 'admin-1', roles: ['admin'], scope: ADMIN_SCOPES });
      const asAdmin = await server.inject({
        url: `/api/v1/orders/${order.id}`,
        headers: bearer(admin),
      });
      assert.equal(asAdmin.statusCode, 200);
      const adminList = await server.inject({
        url: `/api/v1/orders?user_id=${alice.sub}`,
        headers: bearer(admin),
      });
      assert.deepEqual(
        adminList.json().data.map((o: { id: string }) => o.id),
        [order.id],
      );
    });

    test('list: newest first, paginated with links, filtered by status', async () => {
      const alice = await customer();
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        await alice.add(PEN, i + 1);
        ids.push((await alice.call('POST', '/api/v1/orders')).json().data.id);
      }
      const first = (await alice.call('GET', '/api/v1/orders?limit=2')).json();
      assert.deepEqual(
        first.data.map((o: { id: string }) => o.id),
        [ids[2], ids[1]],
      );
      assert.deepEqual(first.pagination, {
        page: 1,
        per_page: 2,
        total: 3,
        has_next: true,
        has_previous: false,
      });
      assert.equal(first.links.next, '/api/v1/orders?page=2&limit=2');
      const second = (await alice.call('GET', first.links.next)).json();
      assert.deepEqual(
        second.data.map((o: { id: string }) => o.id),
        [ids[0]],
      );
      assert.equal(second.links.next, null);
      await alice.call('POST', `/api/v1/orders/${ids[1]}/cancel`);
      const cancelled = (await alice.call('GET', '/api/v1/orders?status=cancelled')).json();
      assert.deepEqual(
        cancelled.data.map((o: { id: string }) => o.id),
        [ids[1]],
      );
      assert.equal((await alice.call('GET', '/api/v1/orders?limit=0')).statusCode, 400);
      assert.equal((await alice.call('GET', '/api/v1/orders?limit=101')).statusCode, 400);
    });

    test('state machine: cancel while pending; paid only via orders:pay, idempotently; fulfil by admins', async () => {
      const alice = await customer();
      const payments = await issuer.sign({ sub: 'payments-service', roles: [], scope: 'orders:pay' });
      const admin = await issuer.sign({ sub: 'admin-1', roles: ['admin'], scope: ADMIN_SCOPES });
      const as = (token: string, url: string, payload?: object) =>
        server.inject({ method: 'POST', url, headers: bearer(token), ...(payload ? { payload } : {}) });

      await alice.add(BOOK, 2);
      const order = (await alice.call('POST', '/api/v1/orders')).json().data;
      const paid = { payment_id: 'pi_1', amount_minor: 3998, currency: 'USD' };

      const self = await alice.call('POST', `/api/v1/orders/${order.id}/mark-paid`, paid);
      assert.equal(self.statusCode, 403, 'a customer cannot mark their own order paid');
      const wrong = await as(payments, `/api/v1/orders/${order.id}/mark-paid`, {
        ...paid,
        amount_minor: 3997,
      });
      assert.equal(wrong.statusCode, 422);
      assert.equal(wrong.json().code, 'AMOUNT_MISMATCH');
      assert.equal((await as(admin, `/api/v1/orders/${order.id}/fulfil`)).statusCode, 409);

      const ok = await as(payments, `/api/v1/orders/${order.id}/mark-paid`, paid);
      assert.equal(ok.statusCode, 200);
      assert.equal(ok.json().data.status, 'paid');
      const repeat = await as(payments, `/api/v1/orders/${order.id}/mark-paid`, paid);
      assert.equal(repeat.statusCode, 200);
      assert.equal(repeat.json().data.paid_at, ok.json().data.paid_at);
      const other = await as(payments, `/api/v1/orders/${order.id}/mark-paid`, {
        ...paid,
        payment_id: 'pi_2',
      });
      assert.equal(other.statusCode, 409);

      const cancel = await alice.call('POST', `/api/v1/orders/${order.id}/cancel`);
      assert.equal(cancel.statusCode, 409);
      assert.equal(cancel.json().code, 'INVALID_STATE_TRANSITION');
      assert.equal(cancel.json().current_status, 'paid');

      assert.equal((await alice.call('POST', `/api/v1/orders/${order.id}/fulfil`)).statusCode, 403);
      const fulfilled = await as(admin, `/api/v1/orders/${order.id}/fulfil`);
      assert.equal(fulfilled.json().data.status, 'fulfilled');

      await alice.add(PEN, 1);
      const second = (await alice.call('POST', '/api/v1/orders')).json().data;
      assert.equal(
        (await alice.call('POST', `/api/v1/orders/${second.id}/cancel`)).json().data.status,
        'cancelled',
      );
      const late = await as(payments, `/api/v1/orders/${second.id}/mark-paid`, {
        payment_id: 'pi_3',
        amount_minor: 10,
        currency: 'USD',
      });
      assert.equal(late.statusCode, 409);
      assert.equal(late.json().code, 'INVALID_STATE_TRANSITION');
    });

    test('a placed and a cancelled order are announced on orders.events, in the shape the schema gives', async () => {
      const alice = await customer();
      await alice.add(BOOK, 2);
      const order = (await alice.call('POST', '/api/v1/orders')).json().data;
      await alice.call('POST', `/api/v1/orders/${order.id}/cancel`);
      const mine = events.filter((e) => (e as { order_id?: string }).order_id === order.id);
      const valid = Compile(OrderEvent);
      assert.ok(
        mine.every((e) => valid.Check(e)),
        JSON.stringify(mine),
      );
      assert.deepEqual(
        mine.map((e) => {
          const { at, ...rest } = e as { at: string };
          assert.ok(!Number.isNaN(Date.parse(at)));
          return rest;
        }),
        ['order.placed', 'order.cancelled'].map((type) => ({
          type,
          order_id: order.id,
          user_id: alice.sub,
          items: [
            { product_id: '01900000-0000-7000-8000-00000000b00c', category_id: 'c-books', quantity: 2 },
          ],
        })),
      );
      const refused = await alice.call('POST', `/api/v1/orders/${order.id}/cancel`);
      assert.equal(refused.statusCode, 409);
      assert.equal(
        events.filter((e) => (e as { order_id?: string }).order_id === order.id).length,
        2,
        'no event for a refused change',
      );
    });

    test('concurrent checkouts of one cart yield exactly one order', async () => {
      const alice = await customer();
      await alice.add(BOOK, 1);
      await alice.add(PEN, 2);
      const results = await Promise.all(
        Array.from({ length: 8 }, () => alice.call('POST', '/api/v1/orders')),
      );
      const statuses = results.map((r) => r.statusCode);
      assert.equal(statuses.filter((s) => s === 201).length, 1, `statuses: ${statuses}`);
      for (const r of results.filter((r) => r.statusCode !== 201)) {
        assert.ok(['CART_CHANGED', 'CART_EMPTY'].includes(r.json().code), r.body);
      }
      const list = (await alice.call('GET', '/api/v1/orders')).json();
      assert.equal(list.pagination.total, 1);
      assert.equal(list.data[0].total_minor, 1999 + 20);
      assert.equal((await alice.call('GET', '/api/v1/cart')).json().data.items.length, 0);
    });

    test('catalog down during checkout: 503, cart intact, no order', async () => {
      const alice = await customer();
      const own = await startFakeCatalog(PRODUCTS);
      const local = await buildOrders(target, own.url, issuer, 300);
      try {
        const call = (method: 'GET' | 'POST', url: string, payload?: object) =>
          local.inject({ method, url, headers: bearer(alice.token), ...(payload ? { payload } : {}) });
        await call('POST', '/api/v1/cart/items', {
          product_id: '01900000-0000-7000-8000-00000000b00c',
          quantity: 2,
        });
        const before = (await call('GET', '/api/v1/cart')).json().data;

        await own.down();
        const res = await call('POST', '/api/v1/orders');
        assert.equal(res.statusCode, 503);
        assert.equal(res.json().code, 'CATALOG_UNAVAILABLE');
        assert.equal(res.headers['retry-after'], '5');
        const add = await call('POST', '/api/v1/cart/items', {
          product_id: '01900000-0000-7000-8000-0000000000e2',
          quantity: 1,
        });
        assert.equal(add.statusCode, 503);

        assert.deepEqual((await call('GET', '/api/v1/cart')).json().data, before);
        assert.equal((await call('GET', '/api/v1/orders')).json().pagination.total, 0);
      } finally {
        await local.close();
      }
    });

    test('catalog hanging: the checkout gives up within its budget with a 503', async () => {
      const alice = await customer();
      const own = await startFakeCatalog(PRODUCTS);
      const local = await buildOrders(target, own.url, issuer, 200);
      try {
        const headers = bearer(alice.token);
        await local.inject({
          method: 'POST',
          url: '/api/v1/cart/items',
          headers,
          payload: { product_id: '01900000-0000-7000-8000-0000000000e2', quantity: 1 },
        });
        own.hang();
        const t0 = performance.now();
        const res = await local.inject({ method: 'POST', url: '/api/v1/orders', headers });
        const ms = performance.now() - t0;
        assert.equal(res.statusCode, 503);
        assert.equal(res.json().code, 'CATALOG_UNAVAILABLE');
        assert.ok(ms < 2000, `took ${ms} ms`);
        const cart = await local.inject({ url: '/api/v1/cart', headers });
        assert.equal(cart.json().data.items.length, 1);
      } finally {
        await local.close();
        await own.close();
      }
    });
  });
}
