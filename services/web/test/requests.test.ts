/**
 * The console's Requests data on real sockets (identity, catalog, gateway and console each on
 * a port of their own, one process keeping its recent traces as `npm start` does): only an
 * admin reads it (401 signed out, 403 without the role); a request made through the console
 * is listed with its status, route, user and duration, the filters keep what they say, a
 * filter that is not one is a 400 problem; one trace's spans cross console, gateway and
 * catalog; an error the console passes on says its trace (`traceresponse`).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTelemetry, stopTelemetry } from '@portico/telemetry';
import type { RequestRow as Row } from '../src/traces/requests.ts';

// Before Fastify and undici load, so their instrumentations patch them (as `npm start` does).
await startTelemetry('portico', { recentTraces: 100 });
const { approveAtProvider, CookieJar } = await import('./support/harness.ts');
const { startPlatform } = await import('./support/platform.ts');
type Platform = Awaited<ReturnType<typeof startPlatform>>;

const sqlite = { name: 'sqlite' as const, url: 'sqlite::memory:', cleanup: async () => {} };

describe('the console’s recent requests', () => {
  let platform: Platform;
  const jars: Record<string, InstanceType<typeof CookieJar>> = {};
  let adminSub = '';

  async function signIn(username: string) {
    const jar = new CookieJar();
    const start = await fetch(`${platform.consoleUrl}/login?return_to=/`, { redirect: 'manual' });
    jar.take(start.headers.getSetCookie());
    const callback = await approveAtProvider(
      start.headers.get('location')!,
      username,
      platform.idp.password(username),
      platform.consoleUrl,
    );
    const done = await fetch(callback, { headers: { cookie: jar.header() }, redirect: 'manual' });
    assert.equal(done.status, 303, await done.text());
    jar.take(done.headers.getSetCookie());
    return jar;
  }

  const get = (path: string, as?: string) =>
    fetch(`${platform.consoleUrl}${path}`, {
      headers: { accept: 'application/json', ...(as ? { cookie: jars[as]!.header() } : {}) },
    });

  async function rows(query = ''): Promise<Row[]> {
    const res = await get(`/api/console/requests${query}`, 'admin');
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const body = (await res.json()) as { limit: number; requests: Row[] };
    assert.equal(body.limit, 100);
    return body.requests;
  }

  /** Spans end as the answer goes out: wait for the trace's request row. */
  async function rowOf(traceId: string): Promise<Row> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const row = (await rows()).find((r) => r.trace_id === traceId && r.status !== null);
      if (row) return row;
      if (Date.now() > deadline) throw new Error(`trace ${traceId} never listed`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const traceOf = (res: Response) =>
    /^00-([0-9a-f]{32})-[0-9a-f]{16}-0[01]$/.exec(res.headers.get('traceresponse') ?? '')?.[1];

  before(async () => {
    platform = await startPlatform(sqlite, { upstreams: ['catalog'] });
    jars.admin = await signIn('admin');
    jars.alice = await signIn('alice');
    const session = (await (await get('/api/session', 'admin')).json()) as { user: { sub: string } };
    adminSub = session.user.sub;
  });
  after(async () => {
    await platform?.close();
    await stopTelemetry();
  });

  test('signed out is a 401, signed in without the admin role a 403, both problem+json', async () => {
    for (const [as, status, code] of [
      [undefined, 401, 'LOGIN_REQUIRED'],
      ['alice', 403, 'FORBIDDEN'],
    ] as const) {
      for (const path of [
        '/api/console/requests',
        `/api/console/requests/${'a'.repeat(32)}`,
        '/api/console/requests?status=9xx',
      ]) {
        const res = await get(path, as);
        assert.equal(res.status, status, path);
        assert.match(String(res.headers.get('content-type')), /application\/problem\+json/);
        assert.equal(((await res.json()) as { code: string }).code, code);
      }
    }
  });

  test('a request through the console is listed with its status, route, user and duration; its trace spans console, gateway and catalog', async () => {
    const list = await get('/api/v1/products', 'admin');
    assert.equal(list.status, 200);
    const listTrace = traceOf(list);
    assert.ok(listTrace, 'the answer says its trace');
    const missing = await get('/api/v1/products/no-such-product', 'admin');
    assert.equal(missing.status, 404);
    const missingTrace = traceOf(missing);
    assert.ok(missingTrace, 'a problem says its trace too');

    const ok = await rowOf(listTrace);
    assert.equal(ok.method, 'GET');
    assert.equal(ok.path, '/api/v1/products');
    assert.equal(ok.status, 200);
    assert.equal(ok.user, adminSub);
    assert.ok(ok.duration_ms > 0);
    const notFound = await rowOf(missingTrace);
    assert.equal(notFound.status, 404);

    const trace = await get(`/api/console/requests/${missingTrace}`, 'admin');
    assert.equal(trace.status, 200);
    const { spans } = (await trace.json()) as {
      spans: Array<{ name: string; kind: string; service: string; attributes: Record<string, unknown> }>;
    };
    const servers = spans.filter((s) => s.kind === 'server');
    assert.deepEqual(
      servers.map((s) => s.name),
      ['GET /api/*', 'GET /api/v1/products', 'GET /api/v1/products/:id'],
      'the console, the gateway (its route) and the catalog answered',
    );
    // One process, one service.name: each span says which service served it.
    assert.deepEqual(
      servers.map((s) => s.service),
      ['web', 'gateway', 'catalog'],
    );
    assert.ok(
      spans.some((s) => s.kind !== 'server' && s.service === 'catalog'),
      'the catalog’s own spans under its server span are the catalog’s',
    );
    assert.equal(servers[1]!.attributes['user.id'], adminSub, 'the gateway says whose token it verified');

    // The gateway's duration histogram points at the trace, for a scraper asking for OpenMetrics.
    const operator = await platform.gateway.operator.listen({ port: 0, host: '127.0.0.1' });
    const metrics = await fetch(`${operator}/metrics`, {
      headers: { accept: 'application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3' },
    });
    assert.match(metrics.headers.get('content-type')!, /^application\/openmetrics-text/);
    const exemplar = (await metrics.text())
      .split('\n')
      .find((l) => l.startsWith('gateway_request_duration_seconds_bucket{') && l.includes(missingTrace));
    assert.match(
      String(exemplar),
      new RegExp(`status="404".* # \\{trace_id="${missingTrace}"\\} [\\d.e-]+ [\\d.]+$`),
    );
    assert.match(
      notFound.route,
      /^\/api\/v1\/products\/[:{]/,
      'the catalog’s route, not the console’s /api/*',
    );
  });

  test('the filters keep what they say', async () => {
    const missing = await get('/api/v1/products/still-missing', 'admin');
    const traceId = traceOf(missing)!;
    await rowOf(traceId);

    const errors = await rows('?status=4xx');
    assert.ok(errors.some((r) => r.trace_id === traceId));
    assert.ok(errors.every((r) => r.status !== null && r.status >= 400 && r.status < 500));
    assert.ok(!(await rows('?status=2xx')).some((r) => r.trace_id === traceId));

    const route = await rows('?route=%2Fapi%2Fv1%2Fproducts%2F');
    assert.ok(route.some((r) => r.trace_id === traceId));
    assert.ok(
      route.every((r) => r.route.includes('/api/v1/products/') || r.path.includes('/api/v1/products/')),
    );
    assert.deepEqual(await rows('?route=no-route-like-this'), []);

    const mine = await rows(`?user=${encodeURIComponent(adminSub)}`);
    assert.ok(mine.some((r) => r.trace_id === traceId));
    assert.ok(mine.every((r) => r.user === adminSub));
    assert.deepEqual(await rows('?user=nobody'), []);

    const slow = await rows('?min_ms=60000');
    assert.ok(slow.every((r) => r.duration_ms >= 60000));
    assert.ok(!slow.some((r) => r.trace_id === traceId));
    assert.equal((await rows('?status=4xx&limit=1')).length, 1);
  });

  test('a filter that is not one is a 400 problem naming it; an unknown trace a 404', async () => {
    for (const [query, field] of [
      ['?status=6xx', 'status'],
      ['?status=404', 'status'],
      ['?min_ms=-1', 'min_ms'],
      ['?min_ms=soon', 'min_ms'],
      ['?limit=0', 'limit'],
      ['?route=', 'route'],
      ['?slower=5', 'slower'],
    ] as const) {
      const res = await get(`/api/console/requests${query}`, 'admin');
      assert.equal(res.status, 400, query);
      assert.match(String(res.headers.get('content-type')), /application\/problem\+json/);
      const body = (await res.json()) as { code: string; detail: string; errors?: Array<{ field: string }> };
      assert.match(body.code, /^(VALIDATION_ERROR|UNKNOWN_FIELD)$/, query);
      assert.ok(
        body.errors?.some((e) => e.field.includes(field)) || body.detail.includes(field),
        `${query}: ${JSON.stringify(body)}`,
      );
    }
    const bad = await get('/api/console/requests/not-a-trace-id', 'admin');
    assert.equal(bad.status, 400);
    const unknown = await get(`/api/console/requests/${'0'.repeat(31)}1`, 'admin');
    assert.equal(unknown.status, 404);
    assert.match(String(unknown.headers.get('content-type')), /application\/problem\+json/);
  });
});
