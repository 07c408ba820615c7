import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestIssuer, type TestIssuer } from '@portico/auth/testing';
import { WebSocket, WebSocketServer } from 'ws';
import type { TestGateway, TestUpstream } from './support/harness.ts';
import { definition, json, startGateway, startUpstream } from './support/harness.ts';

describe('transformations', () => {
  let up: TestUpstream;
  let gw: TestGateway;
  before(async () => {
    up = await startUpstream((_req, res, seen) => {
      res.writeHead(200, {
        'content-type': 'application/json',
        'x-internal': 'secret',
        'x-old': 'v',
        etag: '"abc"',
      });
      res.end(
        JSON.stringify([{ id: 1, name: 'a', password_hash: 'x', meta: { notes: 'n', ok: true }, seen }]),
      );
    });
    gw = await startGateway(
      definition({ svc: [up.url] }, [
        {
          name: 't',
          path: '/v2/items',
          upstream: 'svc',
          auth: { default: 'public' },
          transform: {
            rewrite: { pattern: '^/v2/items', replacement: '/api/v1/products' },
            request: {
              headers: {
                add: { 'x-api-version': '2', 'x-gateway-user-id': 'forged' },
                remove: ['x-drop'],
                rename: { 'x-client': 'x-client-name' },
              },
            },
            response: {
              headers: {
                remove: ['x-internal'],
                rename: { 'x-old': 'x-new' },
                add: { 'x-served-by': 'portico' },
              },
              fields: { exclude: ['password_hash', 'meta.notes'] },
            },
          },
        },
      ] as never),
    );
  });
  after(async () => {
    await gw.close();
    await up.close();
  });

  test('path rewrite, headers both ways, response fields filtered', async () => {
    const res = await fetch(`${gw.url}/v2/items/5?x=1`, { headers: { 'x-drop': '1', 'x-client': 'cli' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-internal'), null);
    assert.equal(res.headers.get('x-new'), 'v');
    assert.equal(res.headers.get('x-served-by'), 'portico');
    assert.equal(res.headers.get('etag'), null, 'a changed body loses its validator');
    const [item] = (await res.json()) as Array<
      Record<string, unknown> & { seen: { url: string; headers: Record<string, string> } }
    >;
    assert.equal(item!.password_hash, undefined);
    assert.deepEqual(item!.meta, { ok: true });
    assert.equal(item!.seen.url, '/api/v1/products/5?x=1');
    assert.equal(item!.seen.headers['x-api-version'], '2');
    assert.equal(item!.seen.headers['x-drop'], undefined);
    assert.equal(item!.seen.headers['x-client-name'], 'cli');
    assert.equal(
      item!.seen.headers['x-gateway-user-id'],
      undefined,
      'identity headers cannot be forged by config',
    );
  });
});

describe('CORS', () => {
  test('preflight answered by the gateway; allowed origins get headers, others do not', async () => {
    const up = await startUpstream();
    const gw = await startGateway(
      definition(
        { svc: [up.url] },
        [{ name: 'c', path: '/api', upstream: 'svc', auth: { default: 'token' } }] as never,
        {
          cors: {
            origins: ['http://localhost:3000'],
            exposeHeaders: ['x-request-id'],
            credentials: true,
            maxAge: '10m',
          },
        } as never,
      ),
    );
    try {
      const preflight = await fetch(`${gw.url}/api/things`, {
        method: 'OPTIONS',
        headers: {
          origin: 'http://localhost:3000',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization',
        },
      });
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers.get('access-control-allow-origin'), 'http://localhost:3000');
      assert.equal(preflight.headers.get('access-control-allow-credentials'), 'true');
      assert.match(preflight.headers.get('access-control-allow-methods')!, /POST/);
      assert.equal(preflight.headers.get('access-control-max-age'), '600');
      assert.equal(up.seen.length, 0, 'never forwarded');
      const denied = await fetch(`${gw.url}/api/things`, { headers: { origin: 'http://evil.example' } });
      assert.equal(denied.status, 401);
      assert.equal(denied.headers.get('access-control-allow-origin'), null);
      const allowed = await fetch(`${gw.url}/api/things`, { headers: { origin: 'http://localhost:3000' } });
      assert.equal(allowed.status, 401, 'CORS headers on errors too');
      assert.equal(allowed.headers.get('access-control-allow-origin'), 'http://localhost:3000');
      assert.equal(allowed.headers.get('access-control-expose-headers'), 'x-request-id');
    } finally {
      await gw.close();
      await up.close();
    }
  });
});

describe('WebSocket upgrade pass-through', () => {
  let issuer: TestIssuer;
  before(async () => {
    issuer = await createTestIssuer();
  });

  test('upgrades reach the upstream with identity headers; frames flow both ways', async () => {
    const up = await startUpstream();
    const wss = new WebSocketServer({ noServer: true });
    let upgradeHeaders: Record<string, unknown> = {};
    up.server.on('upgrade', (req, socket, head) => {
      upgradeHeaders = req.headers;
      wss.handleUpgrade(req, socket, head, (ws) => {
        ws.on('message', (data) => ws.send(`echo:${data}`));
      });
    });
    const gw = await startGateway(
      definition({ svc: [up.url] }, [
        {
          name: 'graphql',
          path: '/graphql',
          exact: true,
          upstream: 'svc',
          websocket: true,
          auth: { default: 'public' },
        },
        { name: 'plain', path: '/plain', upstream: 'svc', auth: { default: 'public' } },
      ] as never),
      { verifier: issuer.verifier },
    );
    try {
      const token = await issuer.sign({ sub: 'ws-user', roles: ['customer'] });
      const ws = new WebSocket(`${gw.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws', {
        headers: { authorization: `Bearer ${token}`, 'x-gateway-user-id': 'forged' },
      });
      const reply = await new Promise<string>((resolve, reject) => {
        ws.on('open', () => ws.send('hello'));
        ws.on('message', (data) => resolve(String(data)));
        ws.on('error', reject);
      });
      assert.equal(reply, 'echo:hello');
      assert.equal(ws.protocol, 'graphql-transport-ws');
      assert.equal(upgradeHeaders['x-gateway-user-id'], 'ws-user');
      ws.close();

      const refused = new WebSocket(`${gw.url.replace('http', 'ws')}/plain`);
      const status = await new Promise<number>((resolve) => {
        refused.on('unexpected-response', (_req, res) => resolve(res.statusCode!));
        refused.on('error', () => {});
      });
      assert.equal(status, 404);
    } finally {
      await gw.close();
      wss.close();
      await up.close();
    }
  });
});

describe('/usage and errors', () => {
  test('per-consumer usage on the operator listener only; unknown paths are 404 problem+json', async () => {
    const issuer = await createTestIssuer();
    const up = await startUpstream();
    const gw = await startGateway(
      definition({ svc: [up.url] }, [
        { name: 'u', path: '/u', upstream: 'svc', auth: { default: 'token' } },
      ] as never),
      { verifier: issuer.verifier },
    );
    try {
      const alice = { authorization: `Bearer ${await issuer.sign({ sub: 'alice' })}` };
      await (await fetch(`${gw.url}/u/1`, { headers: alice })).arrayBuffer();
      await (await fetch(`${gw.url}/u/2`, { headers: alice })).arrayBuffer();
      await (await fetch(`${gw.url}/u/3`)).arrayBuffer();
      const admin = { authorization: `Bearer ${await issuer.sign({ sub: 'root', roles: ['admin'] })}` };
      // Not on the public port, whoever asks.
      const publicUsage = await fetch(`${gw.url}/usage`, { headers: admin });
      assert.equal(publicUsage.status, 404);
      await publicUsage.body?.cancel();
      const usage = (await json(await fetch(`${gw.operatorUrl}/usage`))).consumers as Array<
        Record<string, unknown>
      >;
      assert.deepEqual(
        usage.map(({ consumer, route, requests, errors }) => ({ consumer, route, requests, errors })),
        [
          { consumer: 'user:alice', route: 'u', requests: 2, errors: 0 },
          { consumer: 'ip:127.0.0.1', route: 'u', requests: 1, errors: 1 },
        ],
      );
      const missing = await fetch(`${gw.url}/nowhere`);
      assert.equal(missing.status, 404);
      assert.equal(missing.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    } finally {
      await gw.close();
      await up.close();
    }
  });
});

describe('event streams', () => {
  test('a streamed body is relayed chunk by chunk, and bodyTimeout 0 lets it idle past the route timeout', async () => {
    let push: (line: string) => void = () => {};
    let end: () => void = () => {};
    const up = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      res.flushHeaders();
      push = (line) => res.write(`data: ${line}\n\n`);
      end = () => res.end();
    });
    const gw = await startGateway(
      definition({ svc: [up.url] }, [
        {
          name: 'sse',
          path: '/events',
          upstream: 'svc',
          timeout: '100ms',
          bodyTimeout: 0,
          auth: { default: 'public' },
        },
      ] as never),
    );
    try {
      const res = await fetch(`${gw.url}/events`);
      assert.equal(res.headers.get('content-type'), 'text/event-stream');
      const reader = res.body!.getReader();
      push('one');
      assert.equal(new TextDecoder().decode((await reader.read()).value), 'data: one\n\n');
      await new Promise((r) => setTimeout(r, 300)); // idle for longer than the route timeout
      push('two');
      assert.equal(new TextDecoder().decode((await reader.read()).value), 'data: two\n\n');
      end();
      assert.equal((await reader.read()).done, true);
    } finally {
      await gw.close();
      await up.close();
    }
  });
});
