import assert from 'node:assert/strict';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { rawExchange } from '@portico/http/testing';
import type { TestGateway, TestUpstream } from './support/harness.ts';
import { definition, json, metric, startGateway, startUpstream } from './support/harness.ts';

/** Polls `check` until it holds (5 s at most). */
async function waitFor(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await check())) {
    assert.ok(Date.now() < deadline, 'the condition never held');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A raw HTTP/1.1 request, so hop-by-hop headers go out exactly as written. */
function raw(url: string, path: string, headers: Record<string, string>, method = 'GET', body?: string) {
  return new Promise<{
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: string;
  }>((resolve, reject) => {
    const { hostname, port } = new URL(url);
    const req = httpRequest({ hostname, port, path, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('routing and header hygiene', () => {
  let a: TestUpstream;
  let b: TestUpstream;
  let gw: TestGateway;

  before(async () => {
    a = await startUpstream((_req, res, seen) => {
      const body = JSON.stringify({ instance: 'a', ...seen });
      res.writeHead(200, {
        'content-type': 'application/json',
        connection: 'keep-alive, x-upstream-private',
        'x-upstream-private': 'secret',
        'keep-alive': 'timeout=5',
        'x-kept': 'yes',
      });
      res.end(body);
    });
    b = await startUpstream((_req, res, seen) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ instance: 'b', ...seen }));
    });
    gw = await startGateway(
      definition({ svc: [a.url, b.url] }, [
        { name: 'things', path: '/api/v1/things', upstream: 'svc', auth: { default: 'public' } },
        {
          name: 'exact',
          path: '/api/v1/only',
          exact: true,
          methods: ['GET'],
          upstream: 'svc',
          auth: { default: 'public' },
        },
      ] as never),
    );
  });
  after(async () => {
    await gw.close();
    await a.close();
    await b.close();
  });

  test('routes by path prefix at segment boundaries, round robin over instances', async () => {
    const seen = [];
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${gw.url}/api/v1/things/${i}?x=1`);
      assert.equal(res.status, 200);
      const body = await json(res);
      assert.equal(body.url, `/api/v1/things/${i}?x=1`);
      seen.push(body.instance);
    }
    assert.deepEqual(seen.sort(), ['a', 'a', 'b', 'b']);
    const metrics = await (await fetch(`${gw.operatorUrl}/metrics`)).text();
    assert.equal(
      metric(metrics, 'gateway_request_duration_seconds_count', {
        route: 'things',
        method: 'GET',
        status: '200',
        upstream: 'svc',
      }),
      4,
    );
    const outside = await fetch(`${gw.url}/api/v1/thingsandmore`);
    assert.equal(outside.status, 404);
    assert.equal(outside.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    const problem = await json(outside);
    assert.equal(problem.status, 404);
    assert.equal(problem.request_id, outside.headers.get('x-request-id'));
  });

  test('a Host or Authorization sent twice never reaches an upstream: 400, on requests and upgrades', async () => {
    const before = a.seen.length + b.seen.length;
    for (const request of [
      'GET /api/v1/things HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n',
      'GET /api/v1/things HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer x\r\nAuthorization: Bearer y\r\n\r\n',
      'GET /api/v1/things HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    ]) {
      const res = await rawExchange(gw.url, request);
      assert.equal(res.status, 400, request);
      assert.equal(JSON.parse(res.body).code, 'MALFORMED_REQUEST', request);
    }
    assert.equal(a.seen.length + b.seen.length, before);
    const once = await rawExchange(gw.url, 'GET /api/v1/things HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.equal(once.status, 200);
  });

  test('exact routes and methods: 405 with Allow for other methods, 404 below an exact path', async () => {
    assert.equal((await fetch(`${gw.url}/api/v1/only`)).status, 200);
    const below = await fetch(`${gw.url}/api/v1/only/more`);
    assert.equal(below.status, 404);
    const post = await fetch(`${gw.url}/api/v1/only`, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    assert.equal((await json(post)).code, 'METHOD_NOT_ALLOWED');
  });

  test('hop-by-hop and Connection-named headers are dropped both ways; identity headers from clients never pass', async () => {
    let res: Awaited<ReturnType<typeof raw>>;
    do {
      res = await raw(gw.url, '/api/v1/things/h', {
        connection: 'keep-alive, x-client-private',
        'x-client-private': 'drop me',
        'keep-alive': 'timeout=5',
        te: 'trailers',
        'proxy-authorization': 'Basic abc',
        'x-gateway-user-id': 'admin',
        'X-Gateway-User-Roles': 'admin',
        'x-custom': 'kept',
      });
    } while (JSON.parse(res.body).instance !== 'a');
    const seen = JSON.parse(res.body) as { headers: Record<string, string> };
    assert.equal(seen.headers['x-client-private'], undefined);
    assert.equal(seen.headers.te, undefined);
    assert.equal(seen.headers['proxy-authorization'], undefined);
    assert.equal(seen.headers['x-gateway-user-id'], undefined);
    assert.equal(seen.headers['x-gateway-user-roles'], undefined);
    assert.equal(seen.headers['x-custom'], 'kept');
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen.headers.via, '1.1 portico-gateway');
    // response side: the upstream's Connection-named header does not reach the client
    assert.equal(res.headers['x-upstream-private'], undefined);
    assert.equal(res.headers['x-kept'], 'yes');
  });

  test('X-Request-Id kept when well-formed, replaced otherwise; traceparent forwarded or started', async () => {
    const kept = await fetch(`${gw.url}/api/v1/things/r`, {
      headers: {
        'x-request-id': 'client-req-0001',
        traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      },
    });
    const keptBody = (await json(kept)) as { headers: Record<string, string> };
    assert.equal(kept.headers.get('x-request-id'), 'client-req-0001');
    assert.equal(keptBody.headers['x-request-id'], 'client-req-0001');
    assert.equal(keptBody.headers.traceparent, '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');

    const replaced = await fetch(`${gw.url}/api/v1/things/r`, {
      headers: { 'x-request-id': 'bad id <script>', traceparent: 'garbage' },
    });
    const replacedBody = (await json(replaced)) as { headers: Record<string, string> };
    assert.match(replaced.headers.get('x-request-id')!, /^[0-9a-f-]{36}$/);
    assert.equal(replacedBody.headers['x-request-id'], replaced.headers.get('x-request-id'));
    assert.match(replacedBody.headers.traceparent!, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  test('a chunked body is counted as it arrives and refused once past the limit', async () => {
    const { hostname, port } = new URL(gw.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        {
          hostname,
          port,
          path: '/api/v1/things',
          method: 'POST',
          agent: false,
          headers: { 'transfer-encoding': 'chunked' },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode!);
        },
      );
      req.on('error', (err) =>
        (err as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(err),
      );
      const chunk = Buffer.alloc(64 * 1024, 120);
      let sent = 0;
      const pump = () => {
        while (sent < 2 * 1024 * 1024) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    assert.equal(status, 413);
    assert.ok(
      [...a.seen, ...b.seen].every((seen) => seen.body.length <= 1024 * 1024),
      'never forwarded',
    );
  });

  test('dot segments and encoded slashes are refused, never forwarded, on a route or not', async () => {
    const before = a.seen.length + b.seen.length;
    // The last two match no route as written: the host answers them, in the same way.
    for (const path of ['/api/v1/things/%2e%2e/admin', '/api/v1/../v1/things', '/nowhere/%2F/x']) {
      const res = await raw(gw.url, path, {});
      assert.equal(res.status, 400, path);
      assert.equal(JSON.parse(res.body).code, 'BAD_PATH', path);
    }
    assert.equal(a.seen.length + b.seen.length, before);
  });

  test('request bodies are forwarded; a body over the limit is 413 problem+json', async () => {
    const small = await fetch(`${gw.url}/api/v1/things`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x' }),
    });
    assert.equal(((await json(small)) as { body: string }).body, '{"name":"x"}');
    const big = await fetch(`${gw.url}/api/v1/things`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: 'x'.repeat(1024 * 1024 + 1),
    });
    assert.equal(big.status, 413);
    assert.equal((await json(big)).code, 'PAYLOAD_TOO_LARGE');
  });
});

describe('timeouts, retries, breaker and health checks', () => {
  test('an upstream slower than the route timeout is a 504 problem', async () => {
    const slow = await startUpstream((_req, res) => {
      setTimeout(() => res.end('late'), 2000).unref();
    });
    const gw = await startGateway(
      definition({ slow: [slow.url] }, [
        { name: 'slow', path: '/slow', upstream: 'slow', timeout: '150ms', auth: { default: 'public' } },
      ] as never),
    );
    try {
      const t0 = performance.now();
      const res = await fetch(`${gw.url}/slow`);
      assert.equal(res.status, 504);
      assert.equal((await json(res)).code, 'UPSTREAM_TIMEOUT');
      assert.ok(performance.now() - t0 < 1500);
    } finally {
      await gw.close();
      await slow.close();
    }
  });

  test('a dead instance: refused connections are retried on the next one, for POST too (nothing was sent)', async () => {
    const live = await startUpstream();
    const gw = await startGateway(
      definition({ svc: ['http://127.0.0.1:1', live.url] }, [
        { name: 'r', path: '/r', upstream: 'svc', retries: 1, auth: { default: 'public' } },
      ] as never),
    );
    try {
      const gets = await Promise.all([1, 2, 3, 4].map(() => fetch(`${gw.url}/r`).then((r) => r.status)));
      assert.deepEqual(gets, [200, 200, 200, 200]);
      const posts = [];
      for (let i = 0; i < 4; i++)
        posts.push((await fetch(`${gw.url}/r`, { method: 'POST', body: 'x' })).status);
      assert.deepEqual(posts, [200, 200, 200, 200]);
      // Each POST reached the live instance exactly once.
      assert.equal(live.seen.filter((s) => s.method === 'POST').length, 4);
    } finally {
      await gw.close();
      await live.close();
    }
  });

  test('upstream killed mid-load: fast 503s from the open breaker, recovery when it returns', async () => {
    const up = await startUpstream();
    const port = up.port;
    const gw = await startGateway({
      upstreams: { svc: { instances: [up.url], breaker: { failures: 3, cooldown: '300ms' } } },
      routes: [{ name: 'b', path: '/b', upstream: 'svc', retries: 0, auth: { default: 'public' } }],
    } as never);
    let revived: Awaited<ReturnType<typeof startUpstream>> | undefined;
    try {
      let stop = false;
      const outcomes: Array<{ status: number; ms: number; end: number; code?: string; phase: string }> = [];
      let phase = 'up';
      const worker = async () => {
        while (!stop) {
          const started = phase;
          const t0 = performance.now();
          const res = await fetch(`${gw.url}/b`);
          const body = res.status === 200 ? await res.text() : ((await json(res)).code as string);
          const end = performance.now();
          outcomes.push({ status: res.status, ms: end - t0, end, code: body, phase: started });
        }
      };
      const workers = Array.from({ length: 8 }, worker);
      while (outcomes.filter((o) => o.status === 200).length < 50) await new Promise((r) => setImmediate(r));
      phase = 'down';
      await up.close();
      while (outcomes.filter((o) => o.phase === 'down' && o.code === 'CIRCUIT_OPEN').length < 50)
        await new Promise((r) => setImmediate(r));
      // A request begun while it was down may be answered by the revived one (a half-open probe).
      const reviving = performance.now();
      revived = await startUpstream(undefined, port);
      phase = 'back';
      const deadline = Date.now() + 10_000;
      while (outcomes.filter((o) => o.phase === 'back' && o.status === 200).length < 20) {
        assert.ok(Date.now() < deadline, 'the gateway did not recover');
        await new Promise((r) => setTimeout(r, 10));
      }
      stop = true;
      await Promise.all(workers);

      const down = outcomes.filter((o) => o.phase === 'down' && o.end < reviving);
      const open = down.filter((o) => o.code === 'CIRCUIT_OPEN');
      assert.ok(
        down.every((o) => o.status === 502 || o.status === 503),
        `only 502 (before it opens) and 503: ${[...new Set(down.map((o) => `${o.status} ${o.code}`))]}`,
      );
      // in flight when it died (8 workers), plus those that raced the breaker's count of 3 failures
      assert.ok(
        down.filter((o) => o.status === 502).length <= 2 * 8 + 3,
        'the breaker opened after a few failures',
      );
      const sorted = open.map((o) => o.ms).sort((x, y) => x - y);
      assert.ok(
        // Fast: no connection attempt (a loaded machine answers anything in a few hundred ms).
        sorted[Math.floor(sorted.length / 2)]! < 500,
        `503s are fast (median ${sorted[Math.floor(sorted.length / 2)]} ms)`,
      );
    } finally {
      await gw.close();
      await revived?.close();
    }
  });

  test('without active checks, the operator /health reports a failing check but ejects no one', async () => {
    const up = createServer((req, res) => {
      if (req.url === '/health') return void res.writeHead(503).end();
      res.writeHead(200).end('ok');
    });
    await new Promise<void>((resolve) => up.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(up.address() as AddressInfo).port}`;
    const gw = await startGateway(
      definition({ svc: [url] }, [
        { name: 'r', path: '/r', upstream: 'svc', auth: { default: 'public' } },
      ] as never),
    );
    try {
      // Three checks (the operator /health runs them at most once a second), each failing.
      const stamps = new Set<string>();
      while (stamps.size < 3) {
        const health = await json(await fetch(`${gw.operatorUrl}/health`));
        assert.equal((health.services as Record<string, { status: string }>).svc!.status, 'unhealthy');
        stamps.add(health.timestamp as string);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const res = await fetch(`${gw.url}/r`);
      assert.equal(res.status, 200, await res.text());
    } finally {
      await gw.close();
      up.closeAllConnections();
      await new Promise((resolve) => up.close(resolve));
    }
  });

  test('active health checks eject a failing instance and re-admit it; /health reports both', async () => {
    let healthy = true;
    const flaky = await startUpstream();
    flaky.server.removeAllListeners('request');
    flaky.server.on('request', (req, res) => {
      if (req.url === '/health') {
        res.writeHead(healthy ? 200 : 500).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end('flaky');
    });
    const steady = await startUpstream((_req, res) => void res.end('steady'));
    const gw = await startGateway({
      upstreams: {
        svc: {
          instances: [flaky.url, steady.url],
          healthCheck: { path: '/health', interval: '50ms', unhealthyAfter: 1, healthyAfter: 1 },
        },
      },
      routes: [{ name: 'h', path: '/h', upstream: 'svc', auth: { default: 'public' } }],
    } as never);
    try {
      healthy = false;
      const deadline = Date.now() + 5000;
      // Ejected once several answers in a row come from the steady instance only.
      let streak = 0;
      while (streak < 6) {
        assert.ok(Date.now() < deadline, 'never ejected');
        streak = (await (await fetch(`${gw.url}/h`)).text()) === 'steady' ? streak + 1 : 0;
      }
      const health = await json(await fetch(`${gw.operatorUrl}/health`));
      assert.equal(health.status, 'degraded');
      const svc = (
        health.services as Record<string, { status: string; instances: Array<{ status: string }> }>
      ).svc!;
      assert.equal(svc.status, 'degraded');
      assert.deepEqual(
        svc.instances.map((i) => i.status),
        ['unhealthy', 'healthy'],
      );
      healthy = true;
      const seen = new Set<string>();
      while (!seen.has('flaky')) {
        assert.ok(Date.now() < deadline + 5000, 'never re-admitted');
        seen.add(await (await fetch(`${gw.url}/h`)).text());
      }
    } finally {
      await gw.close();
      await flaky.close();
      await steady.close();
    }
  });

  test('every instance failing its health check (a shared database down): requests still reach them, behind their breakers', async () => {
    let databaseUp = false;
    // The instances' own /health, as a Portico service's: 503 naming the database while it is down.
    const instance = async (name: string) => {
      const up = await startUpstream();
      up.server.removeAllListeners('request');
      up.server.on('request', (req, res) => {
        if (req.url === '/health' || req.url === '/p/db') {
          if (databaseUp) return void res.end(name);
          res.writeHead(503, {
            'content-type': 'application/problem+json',
            'portico-dependency-failure': 'database',
          });
          return void res.end(JSON.stringify({ status: 503, code: 'DATABASE_UNAVAILABLE' }));
        }
        res.end(`${name} from its cache`);
      });
      return up;
    };
    const [a, b] = [await instance('a'), await instance('b')];
    const gw = await startGateway({
      upstreams: {
        svc: {
          instances: [a.url, b.url],
          healthCheck: { path: '/health', interval: '50ms', unhealthyAfter: 1, healthyAfter: 1 },
        },
      },
      routes: [{ name: 'p', path: '/p', upstream: 'svc', auth: { default: 'public' } }],
    } as never);
    try {
      await waitFor(async () => {
        const health = await json(await fetch(`${gw.operatorUrl}/health`));
        const svc = (health.services as Record<string, { instances: Array<{ status: string }> }>).svc!;
        return svc.instances.every((i) => i.status === 'unhealthy');
      });
      for (let i = 0; i < 6; i++) {
        const cached = await fetch(`${gw.url}/p/cached`);
        assert.equal(cached.status, 200);
        assert.match(await cached.text(), /^[ab] from its cache$/);
        const db = await fetch(`${gw.url}/p/db`);
        assert.equal(db.status, 503);
        assert.equal((await json(db)).code, 'DATABASE_UNAVAILABLE', 'the instance answered, not the gateway');
      }
      databaseUp = true;
      await waitFor(async () => (await fetch(`${gw.url}/p/db`)).status === 200);
    } finally {
      await gw.close();
      await a.close();
      await b.close();
    }
  });

  test('an upstream that is not up does not stop the gateway from starting', async () => {
    // Port 1: nothing listens there (a port freed by a test could be taken by another process).
    const gw = await startGateway(
      definition({ gone: ['http://127.0.0.1:1'] }, [
        { name: 'g', path: '/g', upstream: 'gone', auth: { default: 'public' } },
      ] as never),
    );
    try {
      const health = await json(await fetch(`${gw.operatorUrl}/health`));
      assert.equal(health.status, 'degraded');
      assert.equal((health.services as Record<string, { status: string }>).gone!.status, 'unhealthy');
      const res = await fetch(`${gw.url}/g`);
      assert.equal(res.status, 502);
      assert.equal((await json(res)).code, 'UPSTREAM_ERROR');
    } finally {
      await gw.close();
    }
  });
});

describe('routing by method', () => {
  test('one path, two routes: reads go to one upstream, writes to another; Allow lists both', async () => {
    const reads = await startUpstream((_q, res) => void res.end('reads'));
    const writes = await startUpstream((_q, res) => void res.end('writes'));
    const gw = await startGateway(
      definition({ reads: [reads.url], writes: [writes.url] }, [
        { name: 'read', path: '/items', methods: ['GET'], upstream: 'reads', auth: { default: 'public' } },
        { name: 'write', path: '/items', methods: ['POST'], upstream: 'writes', auth: { default: 'public' } },
      ] as never),
    );
    try {
      assert.equal(await (await fetch(`${gw.url}/items/1`)).text(), 'reads');
      assert.equal(await (await fetch(`${gw.url}/items`, { method: 'POST', body: 'x' })).text(), 'writes');
      const del = await fetch(`${gw.url}/items/1`, { method: 'DELETE' });
      assert.equal(del.status, 405);
      assert.equal(del.headers.get('allow'), 'GET, HEAD, POST');
    } finally {
      await gw.close();
      await reads.close();
      await writes.close();
    }
  });
});
