/**
 * The gateway's HTTP edge under attack, in front of a real catalog: request framing and
 * smuggling variants over raw sockets, header spoofing and hop-by-hop headers, body and
 * rate limits, failed-authentication metering, and route scopes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { GatewayFile } from '../../src/build.ts';
import { startUpstream, type TestUpstream } from '../support/harness.ts';
import { type Edge, raw, startEdge, statuses } from './harness.ts';

type Route = GatewayFile['routes'][number];

function routes(catalog: string): Route[] {
  return [
    {
      name: 'products',
      path: '/api/v1/products',
      upstream: catalog,
      auth: { read: 'public', write: 'token' },
      rateLimit: { limit: 1000, window: '1m' },
      bodyLimit: 1024,
    },
    {
      name: 'categories',
      path: '/api/v1/categories',
      upstream: catalog,
      auth: { default: 'token' },
      scopes: ['catalog:read'],
    },
    {
      name: 'limited',
      path: '/api/v1/recommendations',
      upstream: catalog,
      auth: { default: 'public' },
      rateLimit: { limit: 3, window: '1m' },
    },
  ] as Route[];
}

describe('request framing and smuggling (raw sockets)', () => {
  let edge: Edge;
  before(async () => {
    edge = await startEdge(routes);
  });
  after(() => edge.close());

  const smuggle = 'GET /api/v1/products HTTP/1.1\r\nHost: x\r\n\r\n';
  const cases: [string, string][] = [
    [
      'Content-Length and Transfer-Encoding together',
      `POST /api/v1/products HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggle}`,
    ],
    [
      'two different Content-Length headers',
      `POST /api/v1/products HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: ${smuggle.length}\r\n\r\n${smuggle}`,
    ],
    [
      'Content-Length with a list value',
      `POST /api/v1/products HTTP/1.1\r\nHost: x\r\nContent-Length: 0, ${smuggle.length}\r\n\r\n${smuggle}`,
    ],
    [
      'a header folded across lines (obs-fold)',
      `POST /api/v1/products HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n chunked\r\nContent-Length: 0\r\n\r\n${smuggle}`,
    ],
    [
      'Transfer-Encoding: chunked, identity (chunked not last)',
      `POST /api/v1/products HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${smuggle}`,
    ],
    [
      'an invalid chunk size',
      `POST /api/v1/products HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n${smuggle}`,
    ],
    [
      'a chunk size with a sign',
      `POST /api/v1/products HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n${smuggle}`,
    ],
    [
      'a space before the header colon',
      `POST /api/v1/products HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\nContent-Length: 0\r\n\r\n${smuggle}`,
    ],
    ['a bare LF line ending inside the head', `GET /api/v1/products HTTP/1.1\nHost: x\n\r\n${smuggle}`],
  ];
  for (const [name, request] of cases) {
    test(`${name}: 400 and the connection closes, no second request is served`, async () => {
      const answer = await raw(edge.gateway.url, request);
      assert.deepEqual(statuses(answer), [400], answer);
    });
  }

  test('a well-framed pipeline is served in order (the checks above are not over-eager)', async () => {
    const answer = await raw(edge.gateway.url, `${smuggle}${smuggle.replace('x', 'y')}`);
    assert.deepEqual(statuses(answer), [200, 200]);
  });

  test('a declared or a chunked body over the route limit is 413 before the upstream sees it', async () => {
    const token = (await edge.bearer('openid')).authorization;
    const declared = await raw(
      edge.gateway.url,
      `POST /api/v1/products HTTP/1.1\r\nHost: x\r\nAuthorization: ${token}\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"a":"`,
    );
    assert.deepEqual(statuses(declared), [413]);
    const chunk = 'x'.repeat(2000);
    const chunked = await raw(
      edge.gateway.url,
      `POST /api/v1/products HTTP/1.1\r\nHost: x\r\nAuthorization: ${token}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${(2000).toString(16)}\r\n${chunk}\r\n0\r\n\r\n`,
    );
    assert.deepEqual(statuses(chunked), [413]);
  });

  test('the rate limit answers 429 with Retry-After once the bucket is spent', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${edge.gateway.url}/api/v1/recommendations`);
      codes.push(res.status);
      if (res.status === 429) assert.ok(Number(res.headers.get('retry-after')) >= 1);
      await res.body?.cancel();
    }
    assert.deepEqual(
      codes.map((c) => c === 429),
      [false, false, false, true, true],
    );
  });
});

describe('header spoofing and hop-by-hop headers', () => {
  let edge: Edge;
  let echo: TestUpstream;
  before(async () => {
    echo = await startUpstream();
    edge = await startEdge(
      (c) => [
        ...routes(c),
        { name: 'echo', path: '/echo', upstream: 'echo', auth: { default: 'public' } } as Route,
      ],
      {},
      { echo: [echo.url] },
    );
  });
  after(async () => {
    await edge.close();
    await echo.close();
  });

  test('identity headers from the client never reach the upstream; hop-by-hop and Connection-named ones are dropped', async () => {
    const answer = await raw(
      edge.gateway.url,
      'GET /echo HTTP/1.1\r\nHost: x\r\n' +
        'X-Gateway-User-Id: admin\r\nX-Gateway-User-Roles: admin\r\nx-gateway-anything: 1\r\n' +
        'Connection: close, X-Secret\r\nX-Secret: s\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\n' +
        'Proxy-Authorization: Basic Zm9vOmJhcg==\r\nProxy-Connection: keep-alive\r\nUpgrade: h2c\r\n\r\n',
    );
    assert.deepEqual(statuses(answer), [200]);
    const seen = echo.seen.at(-1)!;
    for (const name of [
      'x-gateway-user-id',
      'x-gateway-user-roles',
      'x-gateway-anything',
      'x-secret',
      'keep-alive',
      'te',
      'proxy-authorization',
      'proxy-connection',
      'upgrade',
    ]) {
      assert.equal(seen.headers[name], undefined, `${name} reached the upstream`);
    }
  });

  test('a verified caller is sent upstream as the gateway says, whatever the client claimed', async () => {
    const { authorization } = await edge.bearer('openid', 'alice');
    const res = await fetch(`${edge.gateway.url}/echo`, {
      headers: { authorization, 'x-gateway-user-id': 'admin', 'x-gateway-user-roles': 'admin' },
    });
    assert.equal(res.status, 200);
    const seen = echo.seen.at(-1)!;
    assert.equal(seen.headers['x-gateway-user-id'], 'alice');
    assert.equal(seen.headers['x-gateway-user-roles'], 'customer');
  });
});

describe('failed authentication is metered per client address', () => {
  let edge: Edge;
  before(async () => {
    edge = await startEdge(routes, { authFailures: { limit: 5, window: '1m' } });
  });
  after(() => edge.close());

  test('past the limit: 429 with Retry-After before any signature is checked; a token verified earlier still works', async () => {
    const good = await edge.bearer('openid catalog:read');
    assert.equal((await fetch(`${edge.gateway.url}/api/v1/categories`, { headers: good })).status, 200);
    const forged = (await edge.bearer('openid catalog:read')).authorization.replace(/.{8}$/, 'AAAAAAAA');
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${edge.gateway.url}/api/v1/products`, { headers: { authorization: forged } });
      assert.equal(res.status, 401);
      await res.body?.cancel();
    }
    const checked = edge.verifications();
    const refused = await fetch(`${edge.gateway.url}/api/v1/products`, {
      headers: { authorization: `${forged.slice(0, -1)}B` },
    });
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    assert.equal(((await refused.json()) as { code: string }).code, 'TOO_MANY_AUTH_FAILURES');
    // A new valid token is refused too (its signature is not checked), a known one is served.
    const fresh = await fetch(`${edge.gateway.url}/api/v1/categories`, {
      headers: await edge.bearer('openid catalog:read'),
    });
    assert.equal(fresh.status, 429);
    await fresh.body?.cancel();
    assert.equal(edge.verifications(), checked, 'no signature was checked once the address was blocked');
    const known = await fetch(`${edge.gateway.url}/api/v1/categories`, { headers: good });
    assert.equal(known.status, 200);
    await known.body?.cancel();
    // Malformed Authorization headers count as failures too.
    const malformed = await fetch(`${edge.gateway.url}/api/v1/products`, {
      headers: { authorization: 'Basic x' },
    });
    assert.equal(malformed.status, 400);
    await malformed.body?.cancel();
  });
});

describe('failed authentication under concurrency', () => {
  let edge: Edge;
  before(async () => {
    edge = await startEdge(routes, { authFailures: { limit: 5, window: '1m' } });
  });
  after(() => edge.close());

  test('40 parallel forged tokens: at most the limit are verified, the rest are 429', async () => {
    const tokens = await Promise.all(
      Array.from({ length: 40 }, async () =>
        (await edge.bearer('openid')).authorization.replace(/.{8}$/, 'AAAAAAAA'),
      ),
    );
    const answers = await Promise.all(
      tokens.map(async (authorization) => {
        const res = await fetch(`${edge.gateway.url}/api/v1/products`, { headers: { authorization } });
        await res.body?.cancel();
        return res.status;
      }),
    );
    assert.ok(edge.verifications() <= 5, `${edge.verifications()} signatures checked`);
    assert.equal(answers.filter((s) => s === 401).length, edge.verifications());
    assert.equal(answers.filter((s) => s === 429).length, 40 - edge.verifications());
  });
});

describe('route scopes (all of them, on every method that is not public)', () => {
  let edge: Edge;
  before(async () => {
    edge = await startEdge(routes);
  });
  after(() => edge.close());

  test('401 without a token, 403 insufficient_scope naming the scopes without them, 200 with them', async () => {
    const url = `${edge.gateway.url}/api/v1/categories`;
    const none = await fetch(url);
    assert.equal(none.status, 401);
    await none.body?.cancel();
    const lacking = await fetch(url, { headers: await edge.bearer('openid catalog:write') });
    assert.equal(lacking.status, 403);
    assert.match(lacking.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/);
    assert.match(lacking.headers.get('www-authenticate') ?? '', /scope="catalog:read"/);
    assert.equal(((await lacking.json()) as { code: string }).code, 'INSUFFICIENT_SCOPE');
    const ok = await fetch(url, { headers: await edge.bearer('openid catalog:read') });
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
  });
});

describe('what each public endpoint reveals', () => {
  let edge: Edge;
  before(async () => {
    edge = await startEdge(routes);
  });
  after(() => edge.close());

  test('public /health is one word; /metrics, /usage and the detail are only on the operator listener', async () => {
    const health = await fetch(`${edge.gateway.url}/health`);
    assert.equal(health.status, 200);
    const text = await health.text();
    assert.deepEqual(JSON.parse(text), { status: 'up' });
    assert.doesNotMatch(text, /127\.0\.0\.1|http:|\.ya?ml|\//);
    for (const path of ['/metrics', '/usage']) {
      const res = await fetch(`${edge.gateway.url}${path}`, { headers: await edge.bearer('openid') });
      assert.equal(res.status, 404, `${path} on the public port`);
      await res.body?.cancel();
    }
    const detail = (await (await fetch(`${edge.gateway.operatorUrl}/health`)).json()) as {
      services: Record<string, { instances: { url: string }[] }>;
    };
    assert.equal(detail.services.catalog!.instances[0]!.url, edge.catalogUrl);
    assert.match(await (await fetch(`${edge.gateway.operatorUrl}/metrics`)).text(), /gateway_/);
    assert.equal(new URL(edge.gateway.operatorUrl).hostname, '127.0.0.1');
  });

  test('a degraded gateway still says only "degraded" in public', async () => {
    await edge.catalog.close();
    const deadline = Date.now() + 10_000;
    let body: unknown;
    do {
      body = await (await fetch(`${edge.gateway.url}/health`)).json();
      if ((body as { status: string }).status === 'degraded') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    } while (Date.now() < deadline);
    assert.deepEqual(body, { status: 'degraded' });
  });
});
