import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import Type from 'typebox';
import { createServiceClient, DEPENDENCY_FAILURE_HEADER } from '../src/index.ts';

class Unavailable extends Error {
  readonly init: { cause: Error; headers: Record<string, string> };
  constructor(detail: string, init: { cause: Error; headers: Record<string, string> }) {
    super(detail, { cause: init.cause });
    this.init = init;
  }
}

const Thing = Type.Object({ data: Type.Object({ id: Type.String(), n: Type.Integer() }) });

describe('service client', () => {
  let server: Server;
  let url: string;
  const seen: Array<{ url?: string; headers: Record<string, unknown>; body: string }> = [];
  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        seen.push({ url: req.url, headers: req.headers, body });
        const path = req.url?.split('?')[0];
        if (path === '/hang') return;
        const answers: Record<string, [number, string]> = {
          '/ok': [200, JSON.stringify({ data: { id: 'a', n: 1 } })],
          '/wrong-shape': [200, JSON.stringify({ data: { id: 'a', n: 'one' } })],
          '/not-json': [200, '<html>'],
          '/gone': [404, JSON.stringify({ code: 'NOT_FOUND' })],
          '/broken': [500, JSON.stringify({ code: 'INTERNAL' })],
        };
        const [status, text] = answers[path ?? ''] ?? [404, ''];
        res.writeHead(status, { 'content-type': 'application/json' }).end(text);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const client = (timeoutMs = 2000, base = url) =>
    createServiceClient({
      name: 'things',
      url: base,
      timeoutMs,
      unavailable: (detail, init) => new Unavailable(detail, init),
    });

  test('an expected answer comes back checked against the provider schema', async () => {
    const things = client();
    try {
      const answer = await things.call({
        method: 'POST',
        path: '/ok',
        query: { q: 'a b' },
        body: { x: 1 },
        requestId: 'req-12345678',
        headers: { authorization: 'Bearer t' },
        answers: { 200: Thing, 404: null },
      });
      assert.deepEqual(answer, { status: 200, body: { data: { id: 'a', n: 1 } } });
      const last = seen.at(-1)!;
      assert.equal(last.url, '/ok?q=a+b');
      assert.equal(last.headers['x-request-id'], 'req-12345678');
      assert.equal(last.headers.authorization, 'Bearer t');
      assert.equal(last.body, '{"x":1}');
      assert.deepEqual(await things.call({ path: '/gone', answers: { 200: Thing, 404: null } }), {
        status: 404,
        body: undefined,
      });
    } finally {
      await things.close();
    }
  });

  test('an unlisted status, a body of another shape, or no JSON at all: unavailable, marked', async () => {
    const things = client();
    try {
      for (const path of ['/broken', '/wrong-shape', '/not-json', '/gone']) {
        const err = await things.call({ path, answers: { 200: Thing } }).then(
          () => assert.fail(path),
          (e: unknown) => e,
        );
        assert.ok(err instanceof Unavailable, path);
        assert.equal(err.init.headers[DEPENDENCY_FAILURE_HEADER], 'things');
        assert.equal(err.init.headers['retry-after'], '5');
      }
    } finally {
      await things.close();
    }
  });

  test('a provider that hangs or refuses: unavailable within the deadline', async () => {
    const things = client(200);
    const refused = client(200, 'http://127.0.0.1:1');
    try {
      const t0 = performance.now();
      await assert.rejects(things.call({ path: '/hang', answers: { 200: Thing } }), Unavailable);
      assert.ok(performance.now() - t0 < 3000);
      await assert.rejects(refused.call({ path: '/ok', answers: { 200: Thing } }), Unavailable);
    } finally {
      await things.close();
      await refused.close();
    }
  });

  test('an error of the caller inside the call is not the provider being unavailable', async () => {
    const things = client();
    try {
      await assert.rejects(
        things.call({ path: '/ok', headers: { 'x-bad': 'a\nb' }, answers: { 200: Thing } }),
        (err) => !(err instanceof Unavailable),
      );
    } finally {
      await things.close();
    }
  });
});
