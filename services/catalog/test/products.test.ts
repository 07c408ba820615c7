import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { JSON_API_SECURITY_HEADERS, securityHeadersOf } from '@portico/http/testing';
import { databaseTargets } from '@portico/store/testing';
import { buildCatalog, type Harness } from './support/harness.ts';

for (const makeTarget of databaseTargets()) {
  const target = makeTarget();
  describe(`catalog products REST (${target.name})`, () => {
    let h: Harness;
    let categoryId: string;
    before(async () => {
      h = await buildCatalog(target);
      categoryId = (await h.server.inject({ url: '/api/v1/categories' })).json().data[0].id;
    });
    after(() => h.close());

    const get = (url: string, headers: Record<string, string> = {}) =>
      h.server.inject({ method: 'GET', url, headers });
    const send = (
      method: 'POST' | 'PUT' | 'PATCH' | 'DELETE',
      url: string,
      payload?: unknown,
      headers = h.admin,
    ) => h.server.inject({ method, url, payload: payload as object, headers });
    const validProduct = () => ({
      name: 'Test lamp',
      description: 'Bright',
      price: 19.99,
      category_id: categoryId,
    });

    test('answers, problems and 304s carry the JSON-API security headers', async () => {
      const list = await get('/api/v1/products');
      const answers = {
        list,
        cached: await get('/api/v1/products'),
        notModified: await get('/api/v1/products', { 'if-none-match': String(list.headers.etag) }),
        category: await get(`/api/v1/categories/${categoryId}`),
        problem: await send('POST', '/api/v1/products', validProduct(), {}),
        missing: await get('/api/v1/nowhere'),
      };
      assert.equal(answers.notModified.statusCode, 304);
      assert.equal(answers.problem.statusCode, 401);
      for (const [answer, res] of Object.entries(answers))
        assert.deepEqual(securityHeadersOf(res.headers), JSON_API_SECURITY_HEADERS, answer);
    });

    describe('list', () => {
      test('demo data is paged with the seed pagination object and links', async () => {
        const res = await get('/api/v1/products');
        assert.equal(res.statusCode, 200);
        const body = res.json();
        assert.equal(body.data.length, 20);
        assert.deepEqual(body.pagination, {
          page: 1,
          per_page: 20,
          total: 60,
          total_is_exact: true,
          has_next: true,
          has_previous: false,
        });
        assert.equal(body.links.self, '/api/v1/products?page=1&per_page=20');
        assert.equal(body.links.next, '/api/v1/products?page=2&per_page=20');
        assert.equal(body.links.previous, null);
        const last = (await get('/api/v1/products?page=3&per_page=20')).json();
        assert.equal(last.pagination.has_next, false);
        assert.equal(last.pagination.has_previous, true);
        assert.equal(last.links.next, null);
      });

      test('filters combine and links keep them', async () => {
        const byCategory = (await get(`/api/v1/products?category_id=${categoryId}&per_page=5`)).json();
        assert.equal(byCategory.pagination.total, 12);
        assert.ok(byCategory.data.every((p: { category_id: string }) => p.category_id === categoryId));
        assert.equal(byCategory.links.next, `/api/v1/products?category_id=${categoryId}&page=2&per_page=5`);
        const outOfStock = (await get('/api/v1/products?in_stock=false')).json();
        assert.equal(outOfStock.pagination.total, 5);
        assert.ok(outOfStock.data.every((p: { in_stock: boolean }) => p.in_stock === false));
        const search = (await get('/api/v1/products?q=KEYBOARD')).json();
        assert.deepEqual(
          search.data.map((p: { name: string }) => p.name),
          ['Mechanical keyboard'],
        );
        const byDescription = (await get('/api/v1/products?q=usb-c&in_stock=true')).json();
        assert.ok(byDescription.pagination.total >= 2);
        // Search text is words, never syntax: `%` is punctuation, so "100%" searches for "100".
        assert.equal((await get('/api/v1/products?q=%25')).json().pagination.total, 0);
        assert.deepEqual(
          (await get('/api/v1/products?q=100%25')).json().data,
          (await get('/api/v1/products?q=100')).json().data,
        );
        const keep = (await get('/api/v1/products?q=usb&in_stock=true&per_page=1')).json();
        assert.match(keep.links.next, /q=usb&in_stock=true|in_stock=true&q=usb/);
      });

      test('bad paging input is a 400, huge pages are capped', async () => {
        for (const query of [
          'per_page=abc',
          'page=0',
          'page=-1',
          'per_page=0',
          'in_stock=maybe',
          'page=1.5',
        ]) {
          const res = await get(`/api/v1/products?${query}`);
          assert.equal(res.statusCode, 400, query);
          assert.equal(res.json().code, 'VALIDATION_ERROR', query);
        }
        const capped = (await get('/api/v1/products?per_page=100000')).json();
        assert.equal(capped.pagination.per_page, 100);
        assert.equal(capped.data.length, 60);
        for (const query of ['page=2&cursor=', 'cursor=&page=1']) {
          const both = await get(`/api/v1/products?${query}`);
          assert.equal(both.statusCode, 400, query);
          assert.equal(both.json().code, 'PAGINATION_CONFLICT', query);
        }
        const deep = await get('/api/v1/products?page=99999999&per_page=100');
        assert.equal(deep.statusCode, 400);
        assert.equal(deep.json().code, 'PAGE_TOO_DEEP');
        const past = (await get('/api/v1/products?page=4')).json();
        assert.equal(past.data.length, 0);
        assert.equal(past.pagination.total, 60, 'the total holds past the last page');
        assert.equal(
          (await get(`/api/v1/products?category_id=${categoryId}&page=2&per_page=5`)).json().pagination.total,
          12,
        );
        assert.equal(
          (await get('/api/v1/products?utm_source=x')).statusCode,
          200,
          'unknown query parameters are ignored',
        );
      });

      test('cursor mode walks every product once, forwards and back', async () => {
        const seen: string[] = [];
        let url: string | null = '/api/v1/products?cursor=&per_page=7';
        let pages = 0;
        while (url) {
          const body: {
            data: Array<{ id: string }>;
            pagination: { total: number };
            links: { next: string | null };
          } = (await get(url)).json();
          seen.push(...body.data.map((p: { id: string }) => p.id));
          assert.equal(body.pagination.total, 60);
          url = body.links.next;
          pages++;
        }
        assert.equal(pages, 9);
        assert.equal(new Set(seen).size, 60);
        assert.deepEqual(seen, [...seen].sort());
        const second = (await get('/api/v1/products?cursor=&per_page=7')).json().links.next;
        const back = (await get((await get(second)).json().links.previous)).json();
        assert.deepEqual(
          back.data.map((p: { id: string }) => p.id),
          seen.slice(0, 7),
        );
        assert.equal(back.pagination.has_previous, false);
        const bad = await get('/api/v1/products?cursor=not-a-cursor');
        assert.equal(bad.statusCode, 400);
        assert.equal(bad.json().code, 'INVALID_CURSOR');
      });
    });

    describe('create', () => {
      test('201 with Location, ETag and the stored product', async () => {
        const res = await send('POST', '/api/v1/products', validProduct());
        assert.equal(res.statusCode, 201);
        const body = res.json();
        assert.equal(res.headers.location, `/api/v1/products/${body.data.id}`);
        assert.ok(res.headers.etag);
        assert.equal(body.data.price, 19.99);
        assert.equal(body.data.currency, 'USD');
        assert.equal(body.data.in_stock, true);
        assert.equal(body.links.self, res.headers.location);
        const fetched = (await get(String(res.headers.location))).json();
        assert.deepEqual(fetched.data, body.data);
        assert.equal(fetched.links.category, `/api/v1/categories/${categoryId}`);
      });

      test('prices are exact decimals', async () => {
        const asString = (
          await send('POST', '/api/v1/products', { ...validProduct(), price: '1234567.89' })
        ).json();
        assert.equal(asString.data.price, 1234567.89);
        const tenCents = (await send('POST', '/api/v1/products', { ...validProduct(), price: 0.1 })).json();
        assert.equal(tenCents.data.price, 0.1);
        const trailing = (
          await send('POST', '/api/v1/products', { ...validProduct(), price: '5.50' })
        ).json();
        assert.equal(trailing.data.price, 5.5);
        const drift = await send('POST', '/api/v1/products', { ...validProduct(), price: 0.1 + 0.2 });
        assert.equal(drift.statusCode, 400);
        assert.equal(drift.json().code, 'INVALID_PRICE');
      });

      test('every bad body is a clear 400/415/413/422 and nothing is stored', async () => {
        const before = (await get('/api/v1/products?per_page=1')).json().pagination.total;
        const { description: _d, ...noDescription } = validProduct();
        const cases: Array<[unknown, number, string]> = [
          [noDescription, 400, 'MISSING_FIELD'],
          [{ ...validProduct(), price: 0 }, 400, 'INVALID_PRICE'],
          [{ ...validProduct(), price: -5 }, 400, 'INVALID_PRICE'],
          [{ ...validProduct(), price: 'abc' }, 400, 'INVALID_PRICE'],
          [{ ...validProduct(), price: 19.999 }, 400, 'INVALID_PRICE'],
          [{ ...validProduct(), price: 1e12 }, 400, 'INVALID_PRICE'],
          [{ ...validProduct(), price: null }, 400, 'VALIDATION_ERROR'],
          [{ ...validProduct(), name: 42 }, 400, 'VALIDATION_ERROR'],
          [{ ...validProduct(), name: '   ' }, 400, 'VALIDATION_ERROR'],
          [{ ...validProduct(), name: 'x'.repeat(201) }, 400, 'VALIDATION_ERROR'],
          [{ ...validProduct(), in_stock: 'true' }, 400, 'VALIDATION_ERROR'],
          [{ ...validProduct(), is_admin: true }, 400, 'UNKNOWN_FIELD'],
          [{ ...validProduct(), category_id: 'no-such-category' }, 422, 'UNKNOWN_CATEGORY'],
          [[validProduct()], 400, 'VALIDATION_ERROR'],
        ];
        for (const [payload, status, code] of cases) {
          const res = await send('POST', '/api/v1/products', payload);
          assert.equal(res.statusCode, status, JSON.stringify(payload));
          assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
          assert.equal(res.json().code, code, JSON.stringify(payload));
          assert.ok(res.json().request_id);
        }
        const missing = await send('POST', '/api/v1/products', noDescription);
        assert.equal(missing.json().detail, 'Missing required field: description');
        // The domain names the field categoryId; a REST problem names it as the body does.
        const unknown = { ...validProduct(), category_id: 'no-such-category' };
        const existing = `/api/v1/products/${(await send('POST', '/api/v1/products', validProduct())).json().data.id}`;
        for (const [method, url] of [
          ['POST', '/api/v1/products'],
          ['PUT', existing],
          ['PATCH', existing],
        ] as const) {
          const refused = (await send(method, url, unknown)).json();
          assert.deepEqual(
            refused.errors.map((e: { field: string; code: string }) => [e.field, e.code]),
            [['category_id', 'UNKNOWN_CATEGORY']],
            `${method} ${url}`,
          );
        }
        assert.equal((await send('DELETE', existing)).statusCode, 204);
        const malformed = await h.server.inject({
          method: 'POST',
          url: '/api/v1/products',
          payload: '{"name": "x",',
          headers: { ...h.admin, 'content-type': 'application/json' },
        });
        assert.equal(malformed.statusCode, 400);
        assert.equal(malformed.json().code, 'MALFORMED_JSON');
        const form = await h.server.inject({
          method: 'POST',
          url: '/api/v1/products',
          payload: 'name=x',
          headers: { ...h.admin, 'content-type': 'application/x-www-form-urlencoded' },
        });
        assert.equal(form.statusCode, 415);
        const huge = await send('POST', '/api/v1/products', {
          ...validProduct(),
          description: 'x'.repeat(2 * 1024 * 1024),
        });
        assert.equal(huge.statusCode, 413);
        assert.equal((await get('/api/v1/products?per_page=1')).json().pagination.total, before);
      });

      test('fields a client must not set are never written', async () => {
        const res = await send('POST', '/api/v1/products', {
          ...validProduct(),
          id: 'my-own-id',
          created_at: '1999-01-01T00:00:00Z',
          updated_at: '1999-01-01T00:00:00Z',
          currency: 'BTC',
        });
        assert.equal(res.statusCode, 201);
        const { data } = res.json();
        assert.notEqual(data.id, 'my-own-id');
        assert.notEqual(data.created_at, '1999-01-01T00:00:00Z');
        assert.equal(data.currency, 'USD');
        assert.equal((await get('/api/v1/products/my-own-id')).statusCode, 404);
      });

      test('writes need catalog:write (an admin token without it is refused); reads are public', async () => {
        const anonymous = await h.server.inject({
          method: 'POST',
          url: '/api/v1/products',
          payload: validProduct(),
        });
        assert.equal(anonymous.statusCode, 401);
        assert.match(String(anonymous.headers['www-authenticate']), /^Bearer/);
        const customer = await send('POST', '/api/v1/products', validProduct(), h.customer);
        assert.equal(customer.statusCode, 403);
        assert.match(String(customer.headers['www-authenticate']), /insufficient_scope/);
        const service = {
          authorization: `Bearer ${await h.issuer.sign({ sub: 'svc', scope: 'catalog:write' })}`,
        };
        assert.equal((await send('POST', '/api/v1/products', validProduct(), service)).statusCode, 201);
        const adminWithoutScope = {
          authorization: `Bearer ${await h.issuer.sign({ sub: 'a', roles: ['admin'], scope: 'openid catalog:read' })}`,
        };
        assert.equal(
          (await send('POST', '/api/v1/products', validProduct(), adminWithoutScope)).statusCode,
          403,
        );
        // Authentication answers before the body is looked at: no field errors for strangers.
        const probe = await h.server.inject({
          method: 'POST',
          url: '/api/v1/products',
          payload: { nope: 1 },
        });
        assert.deepEqual([probe.statusCode, probe.json().errors], [401, undefined]);
        const forged = {
          authorization: `Bearer ${await h.issuer.sign({ sub: 'x', roles: ['admin'] }, { issuer: 'https://evil' })}`,
        };
        assert.equal((await send('POST', '/api/v1/products', validProduct(), forged)).statusCode, 401);
      });
    });

    describe('read, replace, patch, delete', () => {
      let id: string;
      let etag: string;
      before(async () => {
        const res = await send('POST', '/api/v1/products', validProduct());
        id = res.json().data.id;
        etag = String(res.headers.etag);
      });

      test('GET: ETag, Cache-Control, 304 on If-None-Match, HEAD, 404 with the seed code', async () => {
        const res = await get(`/api/v1/products/${id}`);
        assert.equal(res.headers.etag, etag);
        assert.match(String(res.headers['cache-control']), /max-age/);
        const cached = await get(`/api/v1/products/${id}`, { 'if-none-match': etag });
        assert.equal(cached.statusCode, 304);
        assert.equal(cached.body, '');
        assert.ok(
          !cached.headers['content-length'] || cached.headers['content-length'] === '0',
          'a 304 claims no body',
        );
        assert.equal(cached.headers.etag, etag);
        const hit = await get(`/api/v1/products/${id}`, { 'if-none-match': etag });
        assert.ok(
          !hit.headers['content-length'] || hit.headers['content-length'] === '0',
          'nor from the read cache',
        );
        const head = await h.server.inject({ method: 'HEAD', url: `/api/v1/products/${id}` });
        assert.equal(head.statusCode, 200);
        assert.equal(head.body, '');
        const missing = await get('/api/v1/products/00000000-0000-7000-8000-000000000000');
        assert.equal(missing.statusCode, 404);
        assert.equal(missing.json().code, 'PRODUCT_NOT_FOUND');
        assert.equal(missing.json().detail, 'Product with id 00000000-0000-7000-8000-000000000000 not found');
        const list = await get('/api/v1/products?per_page=3');
        assert.equal(
          (await get('/api/v1/products?per_page=3', { 'if-none-match': String(list.headers.etag) }))
            .statusCode,
          304,
        );
      });

      test('PUT replaces every writable field, accepting the update action body', async () => {
        const actions = (await get(`/api/v1/products/${id}/actions`, h.admin)).json().actions;
        const update = actions.find((a: { name: string }) => a.name === 'update');
        const res = await send('PUT', update.href, { ...update.body, name: 'Renamed lamp', price: 25 });
        assert.equal(res.statusCode, 200);
        assert.equal(res.json().data.name, 'Renamed lamp');
        assert.equal(res.json().data.price, 25);
        assert.notEqual(res.headers.etag, etag);
        const { name: _n, ...partial } = validProduct();
        const incomplete = await send('PUT', `/api/v1/products/${id}`, partial);
        assert.equal(incomplete.statusCode, 400);
        assert.equal(incomplete.json().code, 'MISSING_FIELD');
        const bad = await send('PUT', `/api/v1/products/${id}`, { ...validProduct(), price: -1 });
        assert.equal(bad.json().code, 'INVALID_PRICE');
        assert.equal((await get(`/api/v1/products/${id}`)).json().data.name, 'Renamed lamp');
        assert.equal((await send('PUT', '/api/v1/products/missing', validProduct())).statusCode, 404);
      });

      test('PATCH changes only what it names; If-Match guards against lost updates', async () => {
        const current = await get(`/api/v1/products/${id}`);
        const tag = String(current.headers.etag);
        const res = await h.server.inject({
          method: 'PATCH',
          url: `/api/v1/products/${id}`,
          payload: JSON.stringify({ in_stock: false }),
          headers: { ...h.admin, 'content-type': 'application/merge-patch+json', 'if-match': tag },
        });
        assert.equal(res.statusCode, 200);
        assert.equal(res.json().data.in_stock, false);
        assert.equal(res.json().data.name, current.json().data.name);
        assert.ok(res.json().data.updated_at >= current.json().data.updated_at);
        const stale = await send(
          'PATCH',
          `/api/v1/products/${id}`,
          { price: 1 },
          { ...h.admin, 'if-match': tag },
        );
        assert.equal(stale.statusCode, 412);
        assert.equal(stale.json().code, 'PRECONDITION_FAILED');
        assert.equal((await get(`/api/v1/products/${id}`)).json().data.price, current.json().data.price);
        const fresh = await send(
          'PATCH',
          `/api/v1/products/${id}`,
          { price: '2.50' },
          { ...h.admin, 'if-match': String(res.headers.etag) },
        );
        assert.equal(fresh.statusCode, 200);
        assert.equal(fresh.json().data.price, 2.5);
        assert.equal(
          (await send('PATCH', `/api/v1/products/${id}`, { id: 'x', price: 3 })).json().data.id,
          id,
        );
        assert.equal(
          (await send('PATCH', `/api/v1/products/${id}`, { colour: 'red' })).json().code,
          'UNKNOWN_FIELD',
        );
        assert.equal(
          (await send('PATCH', `/api/v1/products/${id}`, { category_id: 'nope' })).statusCode,
          422,
        );
        assert.equal((await send('PATCH', `/api/v1/products/${id}`, { description: null })).statusCode, 400);
      });

      test('actions follow the seed: derived from in_stock, write actions for writers only', async () => {
        await send('PATCH', `/api/v1/products/${id}`, { in_stock: true });
        const names = async (headers: Record<string, string>) =>
          (await get(`/api/v1/products/${id}/actions`, headers))
            .json()
            .actions.map((a: { name: string }) => a.name);
        assert.deepEqual(await names(h.admin), ['add_to_cart', 'mark_out_of_stock', 'update', 'delete']);
        assert.deepEqual(await names({}), ['add_to_cart']);
        assert.deepEqual(await names(h.customer), ['add_to_cart']);
        const actions = (await get(`/api/v1/products/${id}/actions`, h.admin)).json();
        assert.deepEqual(actions.actions[0], {
          name: 'add_to_cart',
          method: 'POST',
          href: '/api/v1/cart/items',
          body: { product_id: id, quantity: 1 },
        });
        const markOut = actions.actions[1];
        assert.equal((await send(markOut.method, markOut.href, markOut.body)).json().data.in_stock, false);
        assert.deepEqual(await names(h.admin), ['mark_in_stock', 'update', 'delete']);
        assert.deepEqual(await names({}), []);
        assert.equal((await get('/api/v1/products/missing/actions')).statusCode, 404);
      });

      test('405 with Allow for a method the resource does not have', async () => {
        const res = await h.server.inject({ method: 'POST', url: `/api/v1/products/${id}` });
        assert.equal(res.statusCode, 405);
        assert.equal(res.headers.allow, 'GET, HEAD, PUT, PATCH, DELETE, OPTIONS');
        assert.equal(res.json().code, 'METHOD_NOT_ALLOWED');
      });

      test('DELETE: 412 when stale, 204, then 404', async () => {
        const stale = await send('DELETE', `/api/v1/products/${id}`, undefined, {
          ...h.admin,
          'if-match': '"old"',
        });
        assert.equal(stale.statusCode, 412);
        assert.equal((await send('DELETE', `/api/v1/products/${id}`, undefined, h.customer)).statusCode, 403);
        const res = await send('DELETE', `/api/v1/products/${id}`);
        assert.equal(res.statusCode, 204);
        assert.equal(res.body, '');
        assert.equal((await get(`/api/v1/products/${id}`)).statusCode, 404);
        assert.equal((await send('DELETE', `/api/v1/products/${id}`)).json().code, 'PRODUCT_NOT_FOUND');
      });
    });
  });
}
