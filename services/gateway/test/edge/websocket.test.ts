/**
 * WebSocket and event-stream sessions through the gateway, against a real catalog: each is
 * held to its route's auth, rate-limit bucket (per upgrade and per message), body limit,
 * idle timeout and per-consumer connection cap.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Agent, fetch } from 'undici';
import { WebSocket } from 'ws';
import type { GatewayFile } from '../../src/build.ts';
import { type Edge, raw, startEdge, statuses, until } from './harness.ts';

type Route = GatewayFile['routes'][number];

function graphqlRoute(upstream: string, extra: Partial<Route> = {}): Route {
  return {
    name: 'graphql',
    path: '/graphql',
    exact: true,
    methods: ['GET', 'POST', 'OPTIONS'],
    upstream,
    websocket: true,
    auth: { default: 'public' },
    ...extra,
  } as Route;
}

interface Opened {
  ws: WebSocket;
  messages: Record<string, unknown>[];
  closed: Promise<{ code: number; reason: string }>;
}

/** Opens a graphql-transport-ws session; rejects with the refusal's status and body. */
function open(url: string, headers: Record<string, string> = {}): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws', { headers });
    const messages: Record<string, unknown>[] = [];
    const closed = new Promise<{ code: number; reason: string }>((done) =>
      ws.on('close', (code, reason) => done({ code, reason: reason.toString() })),
    );
    ws.on('message', (data) => messages.push(JSON.parse(data.toString())));
    ws.on('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        reject(
          Object.assign(new Error(`refused ${res.statusCode}`), {
            status: res.statusCode,
            headers: res.headers,
            body: JSON.parse(Buffer.concat(chunks).toString() || '{}'),
          }),
        ),
      );
    });
    ws.on('error', reject);
    ws.on('open', () => resolve({ ws, messages, closed }));
  });
}

async function initialised(url: string, headers: Record<string, string> = {}): Promise<Opened> {
  const session = await open(url, headers);
  session.ws.send(JSON.stringify({ type: 'connection_init' }));
  await until(() => session.messages.some((m) => m.type === 'connection_ack'), 'connection_ack');
  return session;
}

async function refusal(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (err) {
    return err as Error & { status: number; headers: Record<string, string>; body: Record<string, unknown> };
  }
  assert.fail('the upgrade was accepted');
}

describe('WebSocket: every message counts against the consumer bucket', () => {
  let edge: Edge;
  after(() => edge.close());

  test('an upgrade and each message are hits; past the limit the session closes 1008 and HTTP is 429 too', async () => {
    edge = await startEdge((c) => [graphqlRoute(c, { rateLimit: { limit: 6, window: '1m' } })]);
    // Hits: upgrade (1), connection_init (2), then four operations (3..6); the fifth is refused.
    const session = await initialised(edge.gateway.url);
    for (let i = 1; i <= 15 && session.ws.readyState === WebSocket.OPEN; i++) {
      session.ws.send(
        JSON.stringify({ id: String(i), type: 'subscribe', payload: { query: '{ __typename }' } }),
      );
      await until(
        () =>
          session.messages.some((m) => m.id === String(i) && m.type === 'complete') ||
          session.ws.readyState !== WebSocket.OPEN,
        `operation ${i}`,
      );
    }
    const { code, reason } = await session.closed;
    assert.equal(code, 1008);
    assert.equal(reason, 'rate limit exceeded');
    const answered = session.messages.filter((m) => m.type === 'next').map((m) => m.id);
    assert.deepEqual(answered, ['1', '2', '3', '4']);

    const http = await fetch(`${edge.gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    assert.equal(http.status, 429, 'the same bucket serves HTTP and WebSocket');
    await http.body?.cancel();
    const refused = await refusal(open(edge.gateway.url));
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers['retry-after']) >= 1);
    assert.equal(refused.body.code, 'RATE_LIMIT_EXCEEDED');
  });
});

describe('WebSocket: message size, idle timeout, connection cap, auth', () => {
  let edge: Edge;
  before(async () => {
    edge = await startEdge((c) => [
      graphqlRoute(c, { bodyLimit: 64 * 1024, maxConnections: 2, idleTimeout: '400ms' }),
      graphqlRoute(c, {
        name: 'private',
        path: '/private/graphql',
        auth: { default: { scopes: ['catalog:read'] } },
        scopes: ['catalog:read', 'catalog:subscribe'],
        transform: { rewrite: { pattern: '^/private', replacement: '' } },
      }),
    ]);
  });
  after(() => edge.close());

  test('a message over the route body limit closes 1009 and is never executed', async () => {
    const session = await initialised(edge.gateway.url);
    const padding = 'x'.repeat(2 * 1024 * 1024);
    session.ws.send(
      JSON.stringify({ id: 'big', type: 'subscribe', payload: { query: `{ __typename } # ${padding}` } }),
    );
    const { code } = await session.closed;
    assert.equal(code, 1009);
    assert.equal(session.messages.filter((m) => m.id === 'big').length, 0);
  });

  test("the catalog's own ws server holds messages to its HTTP body limit (1009 at 2 MiB)", async () => {
    const session = await initialised(edge.catalogUrl);
    session.ws.send(
      JSON.stringify({
        id: 'big',
        type: 'subscribe',
        payload: { query: `{ __typename } # ${'x'.repeat(2 * 1024 * 1024)}` },
      }),
    );
    assert.equal((await session.closed).code, 1009);
  });

  test('a session with no message either way for the idle timeout is closed 1001', async () => {
    const session = await initialised(edge.gateway.url);
    const t0 = Date.now();
    const { code, reason } = await session.closed;
    assert.equal(code, 1001);
    assert.equal(reason, 'idle timeout');
    assert.ok(Date.now() - t0 >= 300, 'not before the timeout');
  });

  test('past maxConnections per consumer the upgrade is 429; a closed session frees its slot', async () => {
    const a = await open(edge.gateway.url);
    const b = await open(edge.gateway.url);
    const refused = await refusal(open(edge.gateway.url));
    assert.equal(refused.status, 429);
    assert.equal(refused.body.code, 'TOO_MANY_CONNECTIONS');
    assert.equal(refused.headers['content-type'], 'application/problem+json');
    a.ws.close();
    await a.closed;
    let c: Opened | undefined;
    await until(async () => {
      c = await open(edge.gateway.url).catch(() => undefined);
      return c !== undefined;
    }, 'a freed slot');
    b.ws.close();
    c!.ws.close();
    await Promise.all([b.closed, c!.closed]);
  });

  test('event streams take slots of the same cap', async () => {
    // Its own client pool, closed at the end: aborted streams leave no half-open socket behind.
    const agent = new Agent();
    const controllers: AbortController[] = [];
    const sse = async () => {
      const controller = new AbortController();
      controllers.push(controller);
      return fetch(`${edge.gateway.url}/graphql`, {
        dispatcher: agent,
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({ query: 'subscription { productUpdated { id } }' }),
        signal: controller.signal,
      });
    };
    const first = await sse();
    const second = await sse();
    assert.equal(first.status, 200);
    assert.equal(second.status, 200);
    const third = await sse();
    assert.equal(third.status, 429);
    assert.equal(((await third.json()) as { code: string }).code, 'TOO_MANY_CONNECTIONS');
    // A WebSocket from the same consumer is over the cap too.
    assert.equal((await refusal(open(edge.gateway.url))).status, 429);
    for (const controller of controllers) controller.abort();
    await until(async () => {
      const again = await open(edge.gateway.url).catch(() => undefined);
      again?.ws.close();
      return again !== undefined;
    }, 'slots freed when the streams end');
    await agent.destroy();
  });

  test('an upgrade to a path with dot segments or encoded separators is 400 problem+json (raw socket)', async () => {
    for (const path of ['/graphql/../graphql', '/private%2fgraphql', '/x/%2e%2e/graphql']) {
      const answer = await raw(
        edge.gateway.url,
        `GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      );
      assert.deepEqual(statuses(answer), [400], path);
      assert.match(answer, /application\/problem\+json/);
    }
  });

  test('the upgrade is authenticated like a request: 401 without or with a bad token, 403 without every route scope', async () => {
    const url = `${edge.gateway.url}/private`;
    const none = await refusal(open(url));
    assert.equal(none.status, 401);
    assert.match(none.headers['www-authenticate'] ?? '', /^Bearer realm="portico"/);
    const bad = await refusal(open(url, { authorization: 'Bearer not.a.token' }));
    assert.equal(bad.status, 401);
    assert.match(bad.headers['www-authenticate'] ?? '', /error="invalid_token"/);
    const partial = await refusal(open(url, await edge.bearer('openid catalog:read')));
    assert.equal(partial.status, 403);
    assert.match(partial.headers['www-authenticate'] ?? '', /error="insufficient_scope"/);
    assert.match(partial.headers['www-authenticate'] ?? '', /scope="catalog:read catalog:subscribe"/);
    // The scheme is case-insensitive (parseBearer); the session reaches the catalog.
    const token = (await edge.bearer('openid catalog:read catalog:subscribe')).authorization.slice(7);
    const ok = await initialised(url, { authorization: `bearer ${token}` });
    ok.ws.close();
    await ok.closed;
  });
});
