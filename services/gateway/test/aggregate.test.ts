import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestIssuer, type TestIssuer } from '@portico/auth/testing';
import { json, startGateway, startUpstream, type TestUpstream } from './support/harness.ts';

describe('aggregation: GET /api/v1/dashboard', () => {
  let issuer: TestIssuer;
  let users: TestUpstream;
  let orders: TestUpstream;
  let catalog: TestUpstream;
  let slowCatalog = false;

  const send = (res: import('node:http').ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  before(async () => {
    issuer = await createTestIssuer();
    users = await startUpstream((req, res, seen) =>
      req.url === '/api/v1/users/me'
        ? send(res, 200, {
            id: seen.headers['x-gateway-user-id'],
            name: 'Ada',
            auth: seen.headers.authorization,
          })
        : send(res, 404, { code: 'USER_NOT_FOUND', detail: 'no such user' }),
    );
    orders = await startUpstream((req, res) => send(res, 200, { data: [{ id: 1 }], url: req.url }));
    catalog = await startUpstream((req, res) => {
      const answer = () => send(res, 200, { data: [{ id: 'p1' }], url: req.url });
      if (slowCatalog) setTimeout(answer, 3000).unref();
      else answer();
    });
  });
  after(async () => {
    await Promise.all([users.close(), orders.close(), catalog.close()]);
  });

  const dashboard = () =>
    ({
      upstreams: {
        users: { instances: [users.url] },
        orders: { instances: [orders.url] },
        catalog: { instances: [catalog.url] },
      },
      routes: [
        {
          name: 'dashboard',
          path: '/api/v1/dashboard',
          exact: true,
          methods: ['GET'],
          auth: { default: 'token' },
          aggregate: {
            branches: {
              user_profile: { upstream: 'users', path: '/api/v1/users/me', timeout: '500ms' },
              recent_orders: {
                upstream: 'orders',
                path: '/api/v1/orders?user_id={sub}&limit=5',
                timeout: '500ms',
              },
              recommendations: {
                upstream: 'catalog',
                path: '/api/v1/recommendations?user_id={sub}',
                timeout: '200ms',
              },
            },
          },
        },
      ],
    }) as never;

  test('fans out in parallel with the caller identity; each branch under its name', async () => {
    slowCatalog = false;
    const gw = await startGateway(dashboard(), { verifier: issuer.verifier });
    try {
      const token = await issuer.sign({ sub: 'user 9', roles: ['customer'] });
      const res = await fetch(`${gw.url}/api/v1/dashboard`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(res.status, 200);
      const body = (await json(res)) as Record<string, Record<string, unknown>>;
      assert.equal(body.user_profile!.id, 'user 9');
      assert.equal(body.user_profile!.auth, `Bearer ${token}`);
      assert.equal(body.recent_orders!.url, '/api/v1/orders?user_id=user%209&limit=5');
      assert.equal(body.recommendations!.url, '/api/v1/recommendations?user_id=user%209');
      assert.equal(body.errors, undefined);
      assert.equal(body.request_id as unknown, res.headers.get('x-request-id'));
      assert.equal((await fetch(`${gw.url}/api/v1/dashboard`)).status, 401);
    } finally {
      await gw.close();
    }
  });

  test('a slow branch times out on its own: partial result with an explicit branch error', async () => {
    slowCatalog = true;
    const gw = await startGateway(dashboard(), { verifier: issuer.verifier });
    try {
      const token = await issuer.sign({ sub: 'u1' });
      const t0 = performance.now();
      const res = await fetch(`${gw.url}/api/v1/dashboard`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const elapsed = performance.now() - t0;
      assert.equal(res.status, 200);
      const body = (await json(res)) as Record<string, unknown>;
      assert.ok(elapsed < 2500, `answered at the branch timeout, not the slow upstream (${elapsed} ms)`);
      assert.equal(body.recommendations, null);
      assert.deepEqual((body.errors as Record<string, { status: number; code: string }>).recommendations, {
        status: 504,
        code: 'UPSTREAM_TIMEOUT',
        detail: 'catalog did not answer within 200 ms',
      });
      assert.ok(body.user_profile && body.recent_orders);
    } finally {
      await gw.close();
      slowCatalog = false;
    }
  });

  test('every branch failing is a 502 problem naming each failure', async () => {
    const gw = await startGateway({
      upstreams: { gone: { instances: ['http://127.0.0.1:1'] } },
      routes: [
        {
          name: 'agg',
          path: '/agg',
          auth: { default: 'public' },
          aggregate: {
            branches: { a: { upstream: 'gone', path: '/a' }, b: { upstream: 'gone', path: '/b' } },
          },
        },
      ],
    } as never);
    try {
      const res = await fetch(`${gw.url}/agg`);
      assert.equal(res.status, 502);
      const problem = await json(res);
      assert.equal(problem.code, 'AGGREGATE_FAILED');
      assert.deepEqual(Object.keys(problem.errors as object).sort(), ['a', 'b']);
    } finally {
      await gw.close();
    }
  });
});
