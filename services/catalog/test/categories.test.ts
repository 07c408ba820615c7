import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { databaseTargets } from '@portico/store/testing';
import { buildCatalog, type Harness } from './support/harness.ts';

for (const makeTarget of databaseTargets()) {
  const target = makeTarget();
  describe(`catalog categories REST (${target.name})`, () => {
    let h: Harness;
    before(async () => {
      h = await buildCatalog(target);
    });
    after(() => h.close());

    test('the demo categories are listed with pagination and links to their products', async () => {
      const res = await h.server.inject({ url: '/api/v1/categories' });
      assert.equal(res.statusCode, 200);
      const body = res.json();
      assert.deepEqual(
        body.data.map((c: { name: string }) => c.name),
        ['Books', 'Electronics', 'Kitchen', 'Office', 'Outdoors'],
      );
      assert.equal(body.pagination.total, 5);
      const one = await h.server.inject({ url: `/api/v1/categories/${body.data[0].id}` });
      assert.equal(one.json().links.products, `/api/v1/products?category_id=${body.data[0].id}`);
      const products = (await h.server.inject({ url: one.json().links.products })).json();
      assert.equal(products.pagination.total, 12);
    });

    test('create: 201 + Location; duplicate names (any case) 409; bad input 400; customers 403', async () => {
      const created = await h.server.inject({
        method: 'POST',
        url: '/api/v1/categories',
        payload: { name: 'Garden', description: 'Plants and tools' },
        headers: h.admin,
      });
      assert.equal(created.statusCode, 201);
      const { data } = created.json();
      assert.equal(created.headers.location, `/api/v1/categories/${data.id}`);
      assert.equal(
        (await h.server.inject({ url: String(created.headers.location) })).json().data.name,
        'Garden',
      );
      const dup = await h.server.inject({
        method: 'POST',
        url: '/api/v1/categories',
        payload: { name: 'garden' },
        headers: h.admin,
      });
      assert.equal(dup.statusCode, 409);
      assert.equal(dup.json().code, 'CATEGORY_EXISTS');
      const missing = await h.server.inject({
        method: 'POST',
        url: '/api/v1/categories',
        payload: {},
        headers: h.admin,
      });
      assert.equal(missing.json().code, 'MISSING_FIELD');
      const customer = await h.server.inject({
        method: 'POST',
        url: '/api/v1/categories',
        payload: { name: 'X' },
        headers: h.customer,
      });
      assert.equal(customer.statusCode, 403);
      const product = await h.server.inject({
        method: 'POST',
        url: '/api/v1/products',
        payload: { name: 'Rake', description: 'Steel', price: 12, category_id: data.id },
        headers: h.admin,
      });
      assert.equal(product.statusCode, 201);
    });

    test('an unknown category is a 404 with its own code', async () => {
      const res = await h.server.inject({ url: '/api/v1/categories/nope' });
      assert.equal(res.statusCode, 404);
      assert.equal(res.json().code, 'CATEGORY_NOT_FOUND');
    });
  });
}

describe('demo data', () => {
  test('loads once: a second start keeps what the first changed', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'portico-catalog-'));
    const target = {
      name: 'sqlite' as const,
      url: `sqlite:${join(dir, 'catalog.db')}`,
      cleanup: () => rm(dir, { recursive: true }),
    };
    const first = await buildCatalog({ ...target, cleanup: async () => {} });
    const id = (await first.server.inject({ url: '/api/v1/products' })).json().data[0].id;
    await first.server.inject({ method: 'DELETE', url: `/api/v1/products/${id}`, headers: first.admin });
    await first.close();
    const second = await buildCatalog(target);
    const total = (await second.server.inject({ url: '/api/v1/products' })).json().pagination.total;
    assert.equal(total, 59);
    await second.close();
  });
});

describe('demo data, two replicas starting at once on one PostgreSQL schema', {
  skip: !process.env.TEST_DATABASE_URL && 'TEST_DATABASE_URL is not set',
}, () => {
  test('both start, and the catalog holds the demo data once', async () => {
    const target = databaseTargets().at(-1)!();
    const shared = { ...target, cleanup: async () => {} };
    // Both may find the catalog empty; the one that loses the race must still start.
    const [a, b] = await Promise.all([buildCatalog(shared), buildCatalog(shared)]);
    try {
      const total = (await a.server.inject({ url: '/api/v1/products' })).json().pagination.total;
      assert.equal(total, 60);
      assert.equal((await b.server.inject({ url: '/api/v1/categories' })).json().pagination.total, 5);
    } finally {
      await a.server.close();
      await b.close();
      await target.cleanup();
    }
  });
});
