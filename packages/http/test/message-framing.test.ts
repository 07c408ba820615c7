import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createServer, type Server } from '../src/index.ts';
import { rawExchange } from '../src/testing.ts';

describe('requests that are not well-formed HTTP/1.1 are refused as problems', () => {
  let server: Server;
  let url: string;
  before(async () => {
    server = await createServer({ name: 'test', logLevel: false });
    server.get('/things', async () => ({ ok: true }));
    url = await server.listen({ port: 0, host: '127.0.0.1' });
  });
  after(() => server.close());

  const problem = (res: { headers: Record<string, string>; body: string }) => {
    assert.match(res.headers['content-type']!, /^application\/problem\+json/);
    return JSON.parse(res.body) as { status: number; code: string; detail: string };
  };

  test('a Host or an Authorization header sent twice is a 400 naming it; once is served', async () => {
    const once = await rawExchange(url, 'GET /things HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer x\r\n\r\n');
    assert.equal(once.status, 200);
    for (const [headers, name] of [
      ['Host: a\r\nHost: b\r\n', 'Host'],
      ['Host: a\r\nauthorization: Bearer x\r\nAuthorization: Bearer y\r\n', 'Authorization'],
    ] as const) {
      const res = await rawExchange(url, `GET /things HTTP/1.1\r\n${headers}\r\n`);
      assert.equal(res.status, 400, name);
      const body = problem(res);
      assert.equal(body.code, 'MALFORMED_REQUEST');
      assert.equal(body.detail, `The ${name} header must be sent once`);
    }
  });

  test("what Node's parser refuses is answered in the same shape: bad framing 400, huge headers 431", async () => {
    const smuggled = await rawExchange(
      url,
      'POST /things HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    );
    assert.equal(smuggled.status, 400);
    assert.equal(problem(smuggled).code, 'MALFORMED_REQUEST');
    assert.equal(smuggled.headers.connection, 'close');
    const huge = await rawExchange(
      url,
      `GET /things HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    assert.equal(huge.status, 431);
    assert.equal(problem(huge).code, 'HEADERS_TOO_LARGE');
  });
});
