/**
 * One customer's bad request, or one dependency's outage, must not open the gateway's
 * circuit on a service for everyone: real catalog, orders and gateway processes.
 * Before: `{"product_id":"\ud800"}` made orders answer 503 CATALOG_UNAVAILABLE, five of them
 * opened the breaker on orders, and every other user's cart read got 503 CIRCUIT_OPEN; with
 * the catalog down, add-to-cart 503s did the same.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { freePort, type Proc, scratch, startJwks, startService, stopAll } from './procs.ts';

let jwks: Awaited<ReturnType<typeof startJwks>>;
let dir: Awaited<ReturnType<typeof scratch>>;
let catalog: Proc;
let gateway: Proc;

before(async () => {
  jwks = await startJwks();
  dir = await scratch();
  const auth = {
    AUTH_ISSUER: jwks.issuer.issuer,
    AUTH_AUDIENCE: jwks.issuer.audience,
    AUTH_JWKS_URI: jwks.jwksUri,
  };
  const [catalogPort, ordersPort] = [await freePort(), await freePort()];
  const file = await dir.file('gateway.json', {
    upstreams: {
      orders: { instances: [`http://127.0.0.1:${ordersPort}`], breaker: { failures: 3, cooldown: '5s' } },
      catalog: { instances: [`http://127.0.0.1:${catalogPort}`] },
    },
    routes: [
      { name: 'cart', path: '/api/v1/cart', upstream: 'orders', retries: 0, auth: { default: 'public' } },
      { name: 'products', path: '/api/v1/products', upstream: 'catalog', auth: { default: 'public' } },
    ],
  });
  // Started together: on a busy two-core machine each takes seconds to boot.
  [catalog, , gateway] = await Promise.all([
    startService('catalog', { ...auth, DATABASE_URL: `sqlite:${dir.dir}/catalog.db` }, { port: catalogPort }),
    startService(
      'orders',
      {
        ...auth,
        DATABASE_URL: `sqlite:${dir.dir}/orders.db`,
        CATALOG_URL: `http://127.0.0.1:${catalogPort}`,
        ORDERS_CATALOG_TIMEOUT_MS: '1000',
      },
      { port: ordersPort },
    ),
    startService('gateway', { ...auth, GATEWAY_FILE: file, GATEWAY_WATCH: 'false' }),
  ]);
});

after(async () => {
  await stopAll();
  await jwks.close();
  await dir.remove();
});

async function customer() {
  const token = await jwks.issuer.sign({
    sub: `u-${Math.random().toString(36).slice(2)}`,
    roles: ['customer'],
    scope: 'catalog:read orders:read orders:write payments:read payments:write',
  });
  return (method: string, path: string, body?: unknown) =>
    fetch(`${gateway.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
}

async function ordersBreaker(): Promise<string> {
  const health = (await (await fetch(`${gateway.operatorUrl}/health`)).json()) as {
    services: { orders: { instances: Array<{ breaker: string }> } };
  };
  return health.services.orders.instances[0]!.breaker;
}

test('malformed ids are 400s, and a dependency outage does not open the breaker on the service that reports it', async () => {
  const mallory = await customer();
  const bob = await customer();
  const products = (await (await fetch(`${gateway.url}/api/v1/products?limit=1`)).json()) as {
    data: Array<{ id: string }>;
  };
  const productId = products.data[0]!.id;

  const statuses: number[] = [];
  for (const product_id of ['\ud800', '\udfff', 'nope', '../../health', `${productId}/x`]) {
    for (let i = 0; i < 4; i++) {
      const res = await mallory('POST', '/api/v1/cart/items', { product_id, quantity: 1 });
      await res.body?.cancel();
      statuses.push(res.status);
    }
  }
  assert.deepEqual(new Set(statuses), new Set([400]), `malformed ids: ${statuses}`);
  assert.equal(await ordersBreaker(), 'closed');
  assert.equal((await bob('GET', '/api/v1/cart')).status, 200);

  const added = await bob('POST', '/api/v1/cart/items', { product_id: productId, quantity: 1 });
  assert.equal(added.status, 201, await added.text());

  // The catalog dies: adding to a cart is a marked 503; the cart itself is still served.
  await catalog.kill9();
  const outage: number[] = [];
  for (let i = 0; i < 10; i++) {
    const res = await mallory('POST', '/api/v1/cart/items', { product_id: productId, quantity: 1 });
    const body = (await res.json()) as { code?: string };
    assert.equal(body.code, 'CATALOG_UNAVAILABLE');
    assert.equal(res.headers.get('portico-dependency-failure'), 'catalog');
    outage.push(res.status);
  }
  assert.deepEqual(new Set(outage), new Set([503]));
  assert.equal(await ordersBreaker(), 'closed', 'a reported dependency outage is not the instance failing');
  const cart = await bob('GET', '/api/v1/cart');
  assert.equal(cart.status, 200);
  assert.equal(((await cart.json()) as { data: { items: unknown[] } }).data.items.length, 1);
});
