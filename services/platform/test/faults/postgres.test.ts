/**
 * A paused PostgreSQL must not hang requests past their budget. Real catalog, orders and
 * gateway processes reach PostgreSQL through a TCP proxy that freezes (forwards nothing, closes
 * nothing: what a SIGSTOPped or partitioned database looks like), each service in a schema of
 * this test's own. While frozen, every request through the gateway is answered within the
 * database budget (acquire + query timeout, well under the route timeout) with a 503
 * problem+json marked `Portico-Dependency-Failure: database`, so the gateway's breakers stay
 * closed; `/health` says the database is not ready within its own bound. Thawed, the services
 * recover with no restart, and every write that was acknowledged is there.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { type Freezer, startFreezer } from './freezer.ts';
import { freePort, type Proc, scratch, startJwks, startService, stopAll, waitFor } from './procs.ts';

const DATABASE_URL = process.env.TEST_DATABASE_URL;
if (!DATABASE_URL && process.env.CI) throw new Error('TEST_DATABASE_URL must be set in CI');

const ROUTE_TIMEOUT_MS = 8000;
const QUERY_TIMEOUT_MS = 2000;
const ACQUIRE_TIMEOUT_MS = 1000;
const HEALTH_TIMEOUT_MS = 500;
/** The longest a request may wait on the database: a connection, then a query and pg's 500 ms slack. */
const DATABASE_BUDGET_MS = ACQUIRE_TIMEOUT_MS + QUERY_TIMEOUT_MS + 500;
/** For a loaded two-core machine: scheduling, the gateway hop, JSON. */
const SLACK_MS = 2000;

const suffix = randomBytes(4).toString('hex');
const schemas = { catalog: `f_${suffix}_catalog`, orders: `f_${suffix}_orders` };

let jwks: Awaited<ReturnType<typeof startJwks>>;
let dir: Awaited<ReturnType<typeof scratch>>;
let freezer: Freezer;
let catalog: Proc;
let orders: Proc;
let gateway: Proc;

before(async () => {
  if (!DATABASE_URL) return;
  jwks = await startJwks();
  dir = await scratch();
  const target = new URL(DATABASE_URL);
  freezer = await startFreezer({ host: target.hostname, port: Number(target.port || 5432) });
  const proxied = new URL(DATABASE_URL);
  proxied.hostname = freezer.host;
  proxied.port = String(freezer.port);

  const env = {
    AUTH_ISSUER: jwks.issuer.issuer,
    AUTH_AUDIENCE: jwks.issuer.audience,
    AUTH_JWKS_URI: jwks.jwksUri,
    DATABASE_URL: proxied.toString(),
    DATABASE_QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS),
    DATABASE_ACQUIRE_TIMEOUT_MS: String(ACQUIRE_TIMEOUT_MS),
    HEALTH_CHECK_TIMEOUT_MS: String(HEALTH_TIMEOUT_MS),
  };
  const [catalogPort, ordersPort] = [await freePort(), await freePort()];
  const breaker = { failures: 3, cooldown: '5s' };
  const file = await dir.file('gateway.json', {
    upstreams: {
      catalog: { instances: [`http://127.0.0.1:${catalogPort}`], breaker },
      orders: { instances: [`http://127.0.0.1:${ordersPort}`], breaker },
    },
    routes: [
      {
        name: 'products',
        path: '/api/v1/products',
        upstream: 'catalog',
        timeout: ROUTE_TIMEOUT_MS,
        auth: { default: 'public' },
      },
      {
        name: 'cart',
        path: '/api/v1/cart',
        upstream: 'orders',
        timeout: ROUTE_TIMEOUT_MS,
        auth: { default: 'public' },
      },
    ],
  });
  [catalog, orders, gateway] = await Promise.all([
    startService('catalog', { ...env, CATALOG_DATABASE_SCHEMA: schemas.catalog }, { port: catalogPort }),
    startService(
      'orders',
      {
        ...env,
        ORDERS_DATABASE_SCHEMA: schemas.orders,
        CATALOG_URL: `http://127.0.0.1:${catalogPort}`,
      },
      { port: ordersPort },
    ),
    startService('gateway', { ...env, GATEWAY_FILE: file, GATEWAY_WATCH: 'false' }),
  ]);
});

after(async () => {
  if (!DATABASE_URL) return;
  freezer.thaw();
  await stopAll();
  await freezer.close();
  await jwks.close();
  await dir.remove();
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    for (const schema of Object.values(schemas))
      await client.query(`drop schema if exists ${schema} cascade`);
  } finally {
    await client.end();
  }
});

interface Outcome {
  what: string;
  at: number;
  ms: number;
  status: number;
  type?: string | null;
  marker?: string | null;
  body?: string;
  id?: string;
}

/** `workers` loops of `call` until `stop()`, every answer kept. */
function loop(what: string, workers: number, call: () => Promise<Response>) {
  const outcomes: Outcome[] = [];
  let running = true;
  const loops = Array.from({ length: workers }, async () => {
    while (running) {
      const at = Date.now();
      try {
        const res = await call();
        const body = await res.text();
        const outcome: Outcome = {
          what,
          at,
          ms: Date.now() - at,
          status: res.status,
          type: res.headers.get('content-type'),
          marker: res.headers.get('portico-dependency-failure'),
        };
        if (res.status === 201) outcome.id = (JSON.parse(body) as { data: { id: string } }).data.id;
        else if (res.status !== 200) outcome.body = body.slice(0, 300);
        outcomes.push(outcome);
      } catch (err) {
        outcomes.push({ what, at, ms: Date.now() - at, status: -1, body: String(err) });
      }
    }
  });
  return {
    outcomes,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

/**
 * What the gateway's breakers and stall detection did, from its metrics and log. (Not its
 * operator /health: that runs the upstreams' health checks, which would mark them down.)
 */
async function breakers(): Promise<{ open: string[]; events: string[] }> {
  const metrics = await (await fetch(`${gateway.operatorUrl}/metrics`)).text();
  const open = metrics
    .split('\n')
    .filter((line) => line.startsWith('gateway_upstream_breaker_state{') && !line.endsWith(' 0'));
  const events = gateway
    .output()
    .split('\n')
    .filter((line) => /circuit breaker|stalled|ejected/.test(line))
    .map((line) => line.slice(0, 300));
  return { open, events };
}

test('a frozen database: answers within budget, marked 503s, breakers closed, /health bounded; thawed: recovered, no acknowledged write lost', {
  skip: DATABASE_URL ? false : 'TEST_DATABASE_URL is not set',
}, async () => {
  const admin = await jwks.issuer.sign({
    sub: 'admin',
    roles: ['admin'],
    scope: 'catalog:read catalog:write',
  });
  const customer = await jwks.issuer.sign({
    sub: `u-${suffix}`,
    roles: ['customer'],
    scope: 'catalog:read orders:read orders:write',
  });
  const listed = await fetch(`${catalog.url}/api/v1/categories`);
  assert.equal(listed.status, 200, 'the catalog lists its categories before the freeze');
  const categories = (await listed.json()) as { data: Array<{ id: string }> };
  assert.ok(categories.data.length > 0, 'the demo data has categories');
  const category_id = categories.data[0]!.id;
  const pids = [catalog.child.pid, orders.child.pid];

  let n = 0;
  const writes = loop('write', 2, () =>
    fetch(`${gateway.url}/api/v1/products`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: `frozen-${suffix}-${n++}`, description: '', price: 9.99, category_id }),
    }),
  );
  const reads = loop('read', 2, () => fetch(`${gateway.url}/api/v1/products?limit=2`));
  const carts = loop('cart', 2, () =>
    fetch(`${gateway.url}/api/v1/cart`, { headers: { authorization: `Bearer ${customer}` } }),
  );
  const all = () => [...writes.outcomes, ...reads.outcomes, ...carts.outcomes];
  try {
    await run();
  } catch (err) {
    const failures = all()
      .filter((o) => o.status >= 300)
      .sort((a, b) => a.at - b.at);
    const first = (what: string) => failures.filter((o) => o.what === what).slice(0, 2);
    throw new Error(
      `${(err as Error).message}\nfirst failures: ${JSON.stringify([...first('write'), ...first('read'), ...first('cart')])}` +
        `\nlast: ${JSON.stringify(failures.slice(-1))}\ngateway: ${JSON.stringify(await breakers())}`,
      { cause: err },
    );
  } finally {
    freezer.thaw();
    await Promise.all([writes.stop(), reads.stop(), carts.stop()]);
  }

  async function run() {
    await waitFor(
      'warm traffic',
      () => [writes, reads, carts].every((l) => l.outcomes.filter((o) => o.status < 300).length >= 10),
      60_000,
    );

    const frozenAt = Date.now();
    freezer.freeze();
    // Long enough that every pooled connection is stuck and requests queue for one.
    await waitFor(
      'requests started well into the freeze to be answered',
      () => all().filter((o) => o.at > frozenAt + DATABASE_BUDGET_MS).length >= 12,
      60_000,
    );
    const t0 = Date.now();
    const health = await fetch(`${catalog.url}/health`);
    const healthMs = Date.now() - t0;
    const detail = (await (await fetch(`${catalog.operatorUrl}/health`)).json()) as {
      checks: { database: { status: string; error?: string } };
    };
    const breakersFrozen = await breakers();

    const thawedAt = Date.now();
    freezer.thaw();
    await waitFor(
      'writes, reads and cart reads to succeed again',
      () =>
        [writes, reads, carts].every(
          (l) => l.outcomes.filter((o) => o.at > thawedAt && o.status < 300).length >= 5,
        ),
      60_000,
    );
    await Promise.all([writes.stop(), reads.stop(), carts.stop()]);

    // Also those in flight when it froze: they waited longest.
    const during = all().filter((o) => o.at + o.ms >= frozenAt && o.at < thawedAt);
    const failed = during.filter((o) => o.status >= 300);
    const unmarked = failed.filter(
      (o) => o.status !== 503 || o.marker !== 'database' || !o.type?.startsWith('application/problem+json'),
    );
    const worst = Math.max(...during.map((o) => o.ms));
    const recovered = (l: { outcomes: Outcome[] }) =>
      Math.min(...l.outcomes.filter((o) => o.at > thawedAt && o.status < 300).map((o) => o.at + o.ms)) -
      thawedAt;
    const recovery = Math.max(recovered(writes), recovered(reads), recovered(carts));

    // Every acknowledged write is there, read back from the database (not the read cache).
    const acked = writes.outcomes.filter((o) => o.status === 201).map((o) => o.id!);
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    let stored: Set<string>;
    try {
      const { rows } = await client.query(`select id from ${schemas.catalog}.products where id = any($1)`, [
        acked,
      ]);
      stored = new Set(rows.map((r: { id: string }) => r.id));
    } finally {
      await client.end();
    }
    const lost = acked.filter((id) => !stored.has(id));

    // Orders writes after the thaw: add to cart and read it back.
    const added = await fetch(`${gateway.url}/api/v1/cart/items`, {
      method: 'POST',
      headers: { authorization: `Bearer ${customer}`, 'content-type': 'application/json' },
      body: JSON.stringify({ product_id: acked[0], quantity: 1 }),
    });
    const addedBody = await added.text();

    console.log(
      `[faults] postgres frozen ${thawedAt - frozenAt} ms: ${during.length} requests, ${failed.length} answered 503 (${unmarked.length} not marked), ` +
        `worst wait ${worst} ms (database budget ${DATABASE_BUDGET_MS} ms, route timeout ${ROUTE_TIMEOUT_MS} ms); ` +
        `/health ${health.status} in ${healthMs} ms (bound ${HEALTH_TIMEOUT_MS} ms); breakers open ${breakersFrozen.open.length}; ` +
        `recovered ${recovery} ms after thaw; ${acked.length} writes acknowledged, ${lost.length} lost`,
    );

    assert.ok(failed.length > 0, 'the freeze was felt');
    assert.deepEqual(unmarked.slice(0, 3), [], 'every failure is a 503 problem+json marked database');
    assert.ok(worst <= DATABASE_BUDGET_MS + SLACK_MS, `worst wait ${worst} ms`);
    assert.ok(worst < ROUTE_TIMEOUT_MS, `worst wait ${worst} ms is under the route timeout`);
    assert.equal(health.status, 503);
    assert.equal(health.headers.get('portico-dependency-failure'), 'database');
    assert.ok(healthMs <= HEALTH_TIMEOUT_MS + SLACK_MS, `/health took ${healthMs} ms`);
    assert.equal(detail.checks.database.status, 'unhealthy');
    assert.deepEqual(breakersFrozen.open, [], 'no breaker open during the freeze');
    assert.deepEqual((await breakers()).events, [], 'no breaker opened, no instance ejected');
    assert.deepEqual([catalog.child.pid, orders.child.pid], pids);
    assert.equal(catalog.child.exitCode, null, 'catalog was not restarted');
    assert.equal(orders.child.exitCode, null, 'orders was not restarted');
    assert.deepEqual(lost, [], 'no acknowledged write lost');
    assert.equal(added.status, 201, addedBody);
    const cart = (await (
      await fetch(`${gateway.url}/api/v1/cart`, { headers: { authorization: `Bearer ${customer}` } })
    ).json()) as { data: { items: Array<{ product_id: string }> } };
    assert.deepEqual(
      cart.data.items.map((i) => i.product_id),
      [acked[0]],
    );
  }
});
