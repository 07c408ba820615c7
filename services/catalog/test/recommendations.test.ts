import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { USER_SCOPES } from '@portico/auth/testing';
import { databaseTargets } from '@portico/store/testing';
import type { Product } from '../src/domain/products.ts';
import { type Harness, startCatalog } from './helpers.ts';

/** A stand-in for the orders service's history endpoints: it can also go slow or down. */
async function startFakeOrders() {
  const state = {
    purchases: new Map<string, Array<{ product_id: string; category_id: string; quantity: number }>>(),
    popular: [] as string[],
    hang: false,
    seen: [] as Array<{ url: string; authorization?: string }>,
  };
  const server: Server = createServer((req: IncomingMessage, res) => {
    state.seen.push({ url: req.url ?? '', authorization: req.headers.authorization });
    if (state.hang) return;
    const url = new URL(req.url ?? '/', 'http://x');
    const data =
      url.pathname === '/api/v1/purchases'
        ? (state.purchases.get(url.searchParams.get('user_id') ?? '') ?? [])
        : url.pathname === '/api/v1/popular-products'
          ? state.popular.map((product_id) => ({ product_id }))
          : undefined;
    res.writeHead(data ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(data ? { data } : { code: 'NOT_FOUND' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    state,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

for (const makeTarget of databaseTargets()) {
  const target = makeTarget();
  describe(`catalog recommendations (${target.name})`, () => {
    let h: Harness;
    let orders: Awaited<ReturnType<typeof startFakeOrders>>;
    let all: Product[];
    const token = (sub: string, roles = ['customer']) => h.issuer.sign({ sub, roles, scope: USER_SCOPES });
    const ask = async (sub: string, query = '', roles?: string[]) =>
      h.server.inject({
        url: `/api/v1/recommendations${query}`,
        headers: { authorization: `Bearer ${await token(sub, roles)}` },
      });

    before(async () => {
      orders = await startFakeOrders();
      h = await startCatalog(target, { config: { orders: { url: orders.url, timeoutMs: 1500 } } });
      all = await h.server.products.list({ limit: 100 });
    });
    after(async () => {
      await h.close();
      await orders.close();
    });

    test('from the categories the user ordered from, most-ordered first, in stock, not already bought', async () => {
      const categories = [...new Set(all.map((p) => p.categoryId))];
      const [top, second] = categories as [string, string];
      const boughtTop = all.find((p) => p.categoryId === top && p.inStock)!;
      const boughtSecond = all.find((p) => p.categoryId === second && p.inStock)!;
      // One product of the top category goes out of stock: it must never be recommended.
      const soldOut = all.find((p) => p.categoryId === top && p.inStock && p.id !== boughtTop.id)!;
      const patched = await h.server.inject({
        method: 'PATCH',
        url: `/api/v1/products/${soldOut.id}`,
        headers: h.admin,
        payload: { in_stock: false },
      });
      assert.equal(patched.statusCode, 200);
      orders.state.purchases.set('alice', [
        { product_id: boughtTop.id, category_id: top, quantity: 3 },
        { product_id: boughtSecond.id, category_id: second, quantity: 1 },
      ]);

      const res = await ask('alice', '?user_id=alice&limit=6');
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json();
      assert.deepEqual(body.meta, { personalised: true, degraded: false });
      const ids = body.data.map((p: { id: string }) => p.id);
      assert.equal(ids.length, 6);
      assert.equal(body.data[0].category_id, top);
      for (const p of body.data) {
        assert.ok(p.in_stock, `${p.name} is out of stock`);
        assert.ok([top, second].includes(p.category_id));
        assert.equal(p.reason, 'ordered_category');
      }
      assert.ok(!ids.includes(soldOut.id));
      assert.ok(!ids.includes(boughtTop.id) && !ids.includes(boughtSecond.id));
      const call = orders.state.seen.find((s) => s.url.startsWith('/api/v1/purchases?user_id=alice'));
      assert.match(call?.authorization ?? '', /^Bearer /, "the caller's token is forwarded");
    });

    test('no history: popular in-stock products first, then any in-stock ones', async () => {
      const outOfStock = all.find((p) => !p.inStock)!;
      const [a, b] = all.filter((p) => p.inStock).slice(-2) as [Product, Product];
      orders.state.popular = [outOfStock.id, 'deleted-product', b.id, a.id];
      const res = await ask('newcomer', '?limit=5');
      assert.equal(res.statusCode, 200);
      const body = res.json();
      assert.deepEqual(body.meta, { personalised: false, degraded: false });
      assert.deepEqual(
        body.data.slice(0, 2).map((p: { id: string; reason: string }) => [p.id, p.reason]),
        [
          [b.id, 'popular'],
          [a.id, 'popular'],
        ],
      );
      assert.equal(body.data.length, 5);
      assert.ok(body.data.every((p: { in_stock: boolean }) => p.in_stock));
      assert.ok(!body.data.some((p: { id: string }) => p.id === outOfStock.id));
    });

    test("another user's recommendations: 403 unless admin; no token 401", async () => {
      assert.equal((await ask('mallory', '?user_id=alice')).statusCode, 403);
      const admin = await ask('root', '?user_id=alice', ['admin']);
      assert.equal(admin.statusCode, 200);
      assert.equal(admin.json().meta.personalised, true);
      assert.equal((await h.server.inject({ url: '/api/v1/recommendations' })).statusCode, 401);
      assert.equal((await ask('alice', '?limit=0')).statusCode, 400);
    });

    test('orders slow or down: in-stock fallback within the time budget, marked degraded', async () => {
      orders.state.hang = true;
      try {
        const t0 = performance.now();
        const res = await ask('alice', '?limit=4');
        assert.ok(performance.now() - t0 < 5000, 'the budget (1.5 s) bounds the wait');
        assert.equal(res.statusCode, 200);
        assert.deepEqual(res.json().meta, { personalised: false, degraded: true });
        assert.equal(res.json().data.length, 4);
        assert.ok(res.json().data.every((p: { in_stock: boolean }) => p.in_stock));
      } finally {
        orders.state.hang = false;
      }
    });
  });
}
