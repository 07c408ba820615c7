import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { USER_SCOPES } from '@portico/auth/testing';
import { ORDER_EVENTS_CHANNEL } from '@portico/events';
import { databaseTargets } from '@portico/store/testing';
import type { Product } from '../src/domain/products.ts';
import type { GraphQLServer } from '../src/graphql/index.ts';
import { buildCatalog, type Harness } from './support/harness.ts';

/** Polls until `check` passes or `ms` run out: events are kept asynchronously. */
async function eventually(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await sleep(20);
  }
}

for (const makeTarget of databaseTargets()) {
  const target = makeTarget();
  describe(`catalog recommendations (${target.name})`, () => {
    let h: Harness;
    let all: Product[];
    const token = (sub: string, roles = ['customer']) => h.issuer.sign({ sub, roles, scope: USER_SCOPES });
    const ask = async (sub: string, query = '', roles?: string[]) =>
      h.server.inject({
        url: `/api/v1/recommendations${query}`,
        headers: { authorization: `Bearer ${await token(sub, roles)}` },
      });
    /** What the orders service announces when an order is placed or cancelled. */
    const announce = (
      type: 'order.placed' | 'order.cancelled',
      userId: string,
      items: Array<[Product, number]>,
      orderId: string = randomUUID(),
    ) =>
      (h.server as typeof h.server & GraphQLServer).pubsub
        .publish(ORDER_EVENTS_CHANNEL, {
          type,
          order_id: orderId,
          user_id: userId,
          at: new Date().toISOString(),
          items: items.map(([p, quantity]) => ({ product_id: p.id, category_id: p.categoryId, quantity })),
        })
        .then(() => orderId);
    const personalised = async (sub: string) => (await ask(sub)).json().meta.personalised as boolean;

    before(async () => {
      h = await buildCatalog(target);
      all = await h.server.products.list({ limit: 100 });
    });
    after(async () => {
      await h.close();
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
      assert.equal(await personalised('alice'), false, 'no purchases heard yet');
      await announce('order.placed', 'alice', [
        [boughtTop, 3],
        [boughtSecond, 1],
      ]);
      await eventually(() => personalised('alice'));

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
    });

    test('no history: popular in-stock products first, then any in-stock ones', async () => {
      const outOfStock = all.find((p) => !p.inStock)!;
      const [a, b] = all.filter((p) => p.inStock).slice(-2) as [Product, Product];
      // Bought by others: b most, then a; the out-of-stock one most of all, but never shown.
      await announce('order.placed', 'carol', [
        [outOfStock, 50],
        [b, 40],
        [a, 30],
      ]);
      const popular = async () => {
        const body = (await ask('newcomer', '?limit=5')).json();
        return body.data[0]?.reason === 'popular' && body.data[0].id === b.id;
      };
      await eventually(popular);
      const body = (await ask('newcomer', '?limit=5')).json();
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

    test('a cancelled order no longer counts, even when its cancellation is heard first', async () => {
      const product = all.find((p) => p.inStock)!;
      const order = await announce('order.placed', 'dave', [[product, 1]]);
      await eventually(() => personalised('dave'));
      await announce('order.cancelled', 'dave', [[product, 1]], order);
      await eventually(async () => !(await personalised('dave')));

      // Out of order (two orders instances): the cancellation first, then the placement.
      const late = randomUUID();
      await announce('order.cancelled', 'erin', [[product, 2]], late);
      await announce('order.placed', 'erin', [[product, 2]], late);
      // A placement of another order after both, to know the two before it were handled.
      const marker = all.find((p) => p.inStock && p.categoryId !== product.categoryId)!;
      await announce('order.placed', 'erin', [[marker, 1]]);
      await eventually(async () =>
        (await ask('erin', '?limit=50'))
          .json()
          .data.some(
            (p: { category_id: string; reason: string }) =>
              p.category_id === marker.categoryId && p.reason === 'ordered_category',
          ),
      );
      const erin = (await ask('erin', '?limit=50')).json().data;
      assert.ok(
        !erin.some(
          (p: { category_id: string; reason: string }) =>
            p.category_id === product.categoryId && p.reason === 'ordered_category',
        ),
        'the cancelled order is not counted',
      );
    });

    test('an event heard twice (one per catalog instance, or a redelivery) counts once', async () => {
      const [x, y] = [
        all.find((p) => p.inStock)!,
        all.find((p) => p.inStock && p.categoryId !== all.find((q) => q.inStock)!.categoryId)!,
      ];
      const first = await announce('order.placed', 'gina', [[x, 2]]);
      await announce('order.placed', 'gina', [[x, 2]], first);
      await announce('order.placed', 'gina', [[x, 2]], first);
      await announce('order.placed', 'gina', [[y, 3]]);
      const topCategory = async () => (await ask('gina', '?limit=3')).json().data[0]?.category_id;
      // Counted once, x's category weighs 2 and y's 3: y's comes first (counted thrice, x's would).
      await eventually(async () => (await topCategory()) === y.categoryId);
    });

    test('an event of another shape is dropped; the feed goes on', async () => {
      const { pubsub } = h.server as typeof h.server & GraphQLServer;
      await pubsub.publish(ORDER_EVENTS_CHANNEL, { type: 'order.placed', order_id: 'x' });
      await pubsub.publish(ORDER_EVENTS_CHANNEL, 'nonsense');
      const product = all.find((p) => p.inStock)!;
      await announce('order.placed', 'frank', [[product, 1]]);
      await eventually(() => personalised('frank'));
    });

    test("another user's recommendations: 403 unless admin; no token 401", async () => {
      assert.equal((await ask('mallory', '?user_id=alice')).statusCode, 403);
      const admin = await ask('root', '?user_id=alice', ['admin']);
      assert.equal(admin.statusCode, 200);
      assert.equal(admin.json().meta.personalised, true);
      assert.equal((await h.server.inject({ url: '/api/v1/recommendations' })).statusCode, 401);
      assert.equal((await ask('alice', '?limit=0')).statusCode, 400);
    });
  });
}

describe('catalog recommendations while the order events feed is down', () => {
  test('in-stock products from its own tables at once, marked degraded', async () => {
    const target = databaseTargets()[0]!();
    // Nothing listens there: pub/sub cannot subscribe, so orders placed now would not be heard.
    const h = await buildCatalog(target, { config: { pubsub: { redisUrl: 'redis://127.0.0.1:1' } } });
    try {
      const t0 = performance.now();
      const res = await h.server.inject({
        url: '/api/v1/recommendations?limit=4',
        headers: {
          authorization: `Bearer ${await h.issuer.sign({ sub: 'alice', roles: ['customer'], scope: USER_SCOPES })}`,
        },
      });
      assert.ok(performance.now() - t0 < 5000);
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json().meta, { personalised: false, degraded: true });
      assert.equal(res.json().data.length, 4);
      assert.ok(res.json().data.every((p: { in_stock: boolean }) => p.in_stock));
    } finally {
      await h.close();
    }
  });
});
