/**
 * Failure isolation in the gateway: the route timeout is a deadline from arrival, the
 * bulkhead gives a fast 503 once an upstream's queue is full and leaves other upstreams
 * alone, Expect: 100-continue is answered here, and a dependency outage an upstream reports
 * does not count against it.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { json, startGateway, startUpstream } from './support/harness.ts';

/** An upstream that takes requests and never answers them (until closed). */
async function hungUpstream() {
  return startUpstream(() => {});
}

describe('deadlines and bulkheads', () => {
  test('timeout 1s, 2 connections, an upstream that never answers: every request is a 504 at about 1 s, queued or not', async () => {
    const hung = await hungUpstream();
    const gw = await startGateway({
      upstreams: {
        svc: { instances: [hung.url], connections: 2, queue: 10, breaker: { stallAfter: 0, failures: 100 } },
      },
      routes: [
        { name: 'r', path: '/r', upstream: 'svc', timeout: 1000, retries: 0, auth: { default: 'public' } },
      ],
    } as never);
    try {
      const results = await Promise.all(
        Array.from({ length: 6 }, async () => {
          const t0 = performance.now();
          const res = await fetch(`${gw.url}/r`);
          const body = await json(res);
          return { status: res.status, code: body.code, ms: performance.now() - t0 };
        }),
      );
      for (const r of results) {
        assert.equal(r.status, 504, String(r.code));
        assert.equal(r.code, 'UPSTREAM_TIMEOUT');
        // Before: 1.5, 1.5, 3.0, 3.0, 4.5, 4.5 s (the queue for a connection was not counted).
        // The upper bound leaves a loaded machine room, and stays under the old 3.0 s.
        assert.ok(r.ms >= 950 && r.ms < 2900, `answered after ${Math.round(r.ms)} ms`);
      }
    } finally {
      await gw.close();
      await hung.close();
    }
  });

  test('a full queue is a fast 503 UPSTREAM_BUSY, and another upstream is not slowed by it', async () => {
    const hung = await hungUpstream();
    const other = await startUpstream();
    const gw = await startGateway({
      upstreams: {
        slow: { instances: [hung.url], connections: 2, queue: 2, breaker: { stallAfter: 0, failures: 100 } },
        fast: { instances: [other.url] },
      },
      routes: [
        {
          name: 'slow',
          path: '/slow',
          upstream: 'slow',
          timeout: 3000,
          retries: 0,
          auth: { default: 'public' },
        },
        { name: 'fast', path: '/fast', upstream: 'fast', auth: { default: 'public' } },
      ],
    } as never);
    try {
      // Two take the connections, two wait in the queue.
      const held = Array.from({ length: 4 }, () => fetch(`${gw.url}/slow`).then((r) => r.status));
      await new Promise((r) => setTimeout(r, 200));
      const t0 = performance.now();
      const busy = await fetch(`${gw.url}/slow`);
      const busyMs = performance.now() - t0;
      assert.equal(busy.status, 503);
      assert.equal((await json(busy)).code, 'UPSTREAM_BUSY');
      assert.equal(busy.headers.get('retry-after'), '1');
      assert.ok(busyMs < 500, `the refusal took ${Math.round(busyMs)} ms`);
      const fast = await Promise.all(
        Array.from({ length: 20 }, () => fetch(`${gw.url}/fast`).then((r) => r.status)),
      );
      assert.deepEqual(new Set(fast), new Set([200]));
      assert.deepEqual(await Promise.all(held), [504, 504, 504, 504]);
    } finally {
      await gw.close();
      await hung.close();
      await other.close();
    }
  });

  test('answers marked Portico-Dependency-Failure do not open the breaker; unmarked 503s do', async () => {
    let marked = true;
    const up = await startUpstream((_req, res) => {
      res.writeHead(503, {
        'content-type': 'application/problem+json',
        ...(marked ? { 'portico-dependency-failure': 'catalog' } : {}),
      });
      res.end('{"code":"CATALOG_UNAVAILABLE"}');
    });
    const gw = await startGateway({
      upstreams: { svc: { instances: [up.url], breaker: { failures: 3, cooldown: '10s' } } },
      routes: [{ name: 'r', path: '/r', upstream: 'svc', retries: 0, auth: { default: 'public' } }],
    } as never);
    try {
      for (let i = 0; i < 10; i++) {
        const res = await fetch(`${gw.url}/r`);
        assert.equal(res.status, 503);
        assert.equal((await json(res)).code, 'CATALOG_UNAVAILABLE');
      }
      marked = false;
      const codes: unknown[] = [];
      for (let i = 0; i < 5; i++) codes.push((await json(await fetch(`${gw.url}/r`))).code);
      assert.deepEqual(codes, [
        'CATALOG_UNAVAILABLE',
        'CATALOG_UNAVAILABLE',
        'CATALOG_UNAVAILABLE',
        'CIRCUIT_OPEN',
        'CIRCUIT_OPEN',
      ]);
    } finally {
      await gw.close();
      await up.close();
    }
  });
});

/** A raw request with Expect: 100-continue; resolves with whether 100 came, the status and the body. */
function expecting(url: string, method: string, body: Buffer) {
  return new Promise<{ continued: boolean; status: number; body: string }>((resolve, reject) => {
    let continued = false;
    const req = request(
      url,
      {
        method,
        headers: {
          expect: '100-continue',
          'content-type': 'application/json',
          'content-length': body.length,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
        });
        res.on('end', () => resolve({ continued, status: res.statusCode!, body: text }));
      },
    );
    req.on('continue', () => {
      continued = true;
      req.end(body);
    });
    req.on('error', reject);
    req.on('response', () => {
      if (!continued) req.destroy();
    });
    req.flushHeaders();
  });
}

describe('Expect: 100-continue (RFC 9110 §10.1.1)', () => {
  test('answered by the gateway: 100 then the upstream answer; never forwarded; a refusal comes before the body', async () => {
    const up = await startUpstream();
    const gw = await startGateway({
      upstreams: { svc: { instances: [up.url], breaker: { failures: 1 } } },
      routes: [
        {
          name: 'r',
          path: '/r',
          upstream: 'svc',
          methods: ['POST'],
          bodyLimit: 4096,
          auth: { default: 'public' },
        },
      ],
    } as never);
    try {
      const body = Buffer.from(JSON.stringify({ text: 'x'.repeat(2000) }));
      for (let i = 0; i < 5; i++) {
        const ok = await expecting(`${gw.url}/r`, 'POST', body);
        assert.equal(ok.status, 200, ok.body);
        assert.ok(ok.continued);
        const seen = JSON.parse(ok.body) as { headers: Record<string, string>; body: string };
        assert.equal(seen.headers.expect, undefined);
        assert.equal(seen.body, body.toString());
      }
      const tooLarge = await expecting(`${gw.url}/r`, 'POST', Buffer.alloc(5000, 'a'));
      assert.equal(tooLarge.status, 413);
      assert.equal(tooLarge.continued, false);
      const wrongMethod = await expecting(`${gw.url}/r`, 'PUT', body);
      assert.equal(wrongMethod.status, 405);
      assert.equal(wrongMethod.continued, false);
      // The breaker (one failure opens it) never saw a failure.
      assert.equal((await fetch(`${gw.url}/r`, { method: 'POST', body: '{}' })).status, 200);
    } finally {
      await gw.close();
      await up.close();
    }
  });
});

describe('the client address behind trusted proxies', () => {
  async function statuses(url: string, forwardedFor: string[]) {
    const out: number[] = [];
    for (const xff of forwardedFor) {
      const res = await fetch(url, { headers: { 'x-forwarded-for': xff } });
      await res.arrayBuffer();
      out.push(res.status);
    }
    return out;
  }
  const file = (upstream: string) =>
    ({
      upstreams: { svc: { instances: [upstream] } },
      routes: [
        {
          name: 'r',
          path: '/r',
          upstream: 'svc',
          auth: { default: 'public' },
          rateLimit: { limit: 2, window: '1m' },
        },
      ],
    }) as never;

  test('read from the right, past trusted hops only: each visitor behind the console has a bucket, and the left of the list is never believed', async () => {
    const up = await startUpstream();
    const gw = await startGateway(file(up.url), { config: { trustedProxies: 'loopback' } });
    try {
      // Two visitors behind one trusted hop (the console on 127.0.0.1): a bucket each.
      assert.deepEqual(
        await statuses(`${gw.url}/r`, ['203.0.113.5', '203.0.113.5', '203.0.113.5']),
        [200, 200, 429],
      );
      assert.deepEqual(await statuses(`${gw.url}/r`, ['203.0.113.6', '203.0.113.6']), [200, 200]);
      // A visitor who writes another address on the left is still the address the trusted hop saw.
      assert.deepEqual(await statuses(`${gw.url}/r`, ['198.51.100.9, 203.0.113.6']), [429]);
      // Trusted hops are skipped from the right: a loopback hop before the visitor is passed over.
      assert.deepEqual(await statuses(`${gw.url}/r`, ['198.51.100.7, 127.0.0.1']), [200]);
    } finally {
      await gw.close();
      await up.close();
    }
  });

  test('trusting no one (the default), X-Forwarded-For is ignored: the socket address is the client', async () => {
    const up = await startUpstream();
    const gw = await startGateway(file(up.url));
    try {
      assert.deepEqual(
        await statuses(`${gw.url}/r`, ['203.0.113.1', '203.0.113.2', '203.0.113.3']),
        [200, 200, 429],
      );
    } finally {
      await gw.close();
      await up.close();
    }
  });

  test('a hop count trusts that many hops from the right', async () => {
    const up = await startUpstream();
    const gw = await startGateway(file(up.url), { config: { trustedProxies: '2' } });
    try {
      // socket (hop 0) and 10.0.0.2 (hop 1) are trusted: the client is 203.0.113.8, whatever is left of it.
      assert.deepEqual(
        await statuses(`${gw.url}/r`, [
          '1.1.1.1, 203.0.113.8, 10.0.0.2',
          '2.2.2.2, 203.0.113.8, 10.0.0.2',
          '203.0.113.8, 10.0.0.2',
        ]),
        [200, 200, 429],
      );
    } finally {
      await gw.close();
      await up.close();
    }
  });
});

describe('stall detection and a dependency outage', () => {
  test('an instance slow because its database is: its /health names the dependency, so it is not ejected', async () => {
    const marked = { 'content-type': 'application/problem+json', 'portico-dependency-failure': 'database' };
    const seen: string[] = [];
    // Requests wait on the "database" past stallAfter, then answer a marked 503; /health answers
    // at once, degraded, naming the database: the process is alive. Two instances alike, since
    // stall detection never ejects the last one: one of them could be ejected here.
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      seen.push(req.url!);
      if (req.url === '/health') return void res.writeHead(503, marked).end('{"status":"degraded"}');
      setTimeout(() => res.writeHead(503, marked).end('{"code":"DATABASE_UNAVAILABLE"}'), 1200);
    };
    const ups = [createServer(handler), createServer(handler)];
    const urls = await Promise.all(
      ups.map(async (up) => {
        await new Promise<void>((resolve) => up.listen(0, '127.0.0.1', resolve));
        return `http://127.0.0.1:${(up.address() as AddressInfo).port}`;
      }),
    );
    const gw = await startGateway({
      upstreams: { svc: { instances: urls, breaker: { stallAfter: '200ms', failures: 2 } } },
      routes: [{ name: 'r', path: '/r', upstream: 'svc', timeout: 8000, auth: { default: 'public' } }],
    } as never);
    try {
      const answers = await Promise.all(
        Array.from({ length: 4 }, async () => {
          const res = await fetch(`${gw.url}/r`);
          return `${res.status} ${res.headers.get('portico-dependency-failure')} ${(await json(res)).code}`;
        }),
      );
      // Ejected, they would have been handed back and answered by the gateway (502 or 503 CIRCUIT_OPEN).
      assert.deepEqual(answers, Array(4).fill('503 database DATABASE_UNAVAILABLE'));
      assert.equal(seen.filter((u) => u === '/r').length, 4);
      assert.ok(seen.includes('/health'), 'the stall probe ran');
    } finally {
      await gw.close();
      for (const up of ups) up.closeAllConnections();
      await Promise.all(ups.map((up) => new Promise((resolve) => up.close(resolve))));
    }
  });
});
