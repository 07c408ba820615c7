import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defineErrors } from '@portico/problem';
import { Type } from 'typebox';
import { createServer } from '../src/index.ts';

const errors = defineErrors({ THING_NOT_FOUND: { status: 404, title: 'Not Found' } });

async function app() {
  const server = await createServer({ name: 'test', logLevel: false, bodyLimit: 1024 });
  server.post(
    '/things',
    {
      schema: {
        body: Type.Object(
          { name: Type.String({ maxLength: 10 }), count: Type.Integer() },
          { additionalProperties: false },
        ),
        querystring: Type.Object({ n: Type.Optional(Type.Integer({ minimum: 1 })) }),
      },
    },
    async (request, reply) => reply.code(201).send({ ...request.body, n: request.query.n ?? null }),
  );
  server.get('/things/:id', async (request) => {
    throw errors.THING_NOT_FOUND(`Thing ${(request.params as { id: string }).id} not found`);
  });
  server.post('/ping', async () => ({ pong: true }));
  server.post(
    '/things/:id/archive',
    { schema: { response: { 200: Type.Object({ archived: Type.Boolean() }) } } },
    async () => ({ archived: true }),
  );
  server.get('/boom', async () => {
    throw new Error('database password is hunter2');
  });
  return server;
}

describe('http kit', () => {
  test('request id: kept when well-formed, replaced otherwise', async () => {
    const server = await app();
    const kept = await server.inject({ url: '/health', headers: { 'x-request-id': 'abc-12345678' } });
    assert.equal(kept.headers['x-request-id'], 'abc-12345678');
    const replaced = await server.inject({ url: '/health', headers: { 'x-request-id': 'bad id\n<script>' } });
    assert.match(String(replaced.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  });

  test('domain errors become problem+json with code and request id', async () => {
    const server = await app();
    const res = await server.inject({ url: '/things/42', headers: { 'x-request-id': 'req-00000001' } });
    assert.equal(res.statusCode, 404);
    assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
    const body = res.json();
    assert.equal(body.code, 'THING_NOT_FOUND');
    assert.equal(body.detail, 'Thing 42 not found');
    assert.equal(body.request_id, 'req-00000001');
    assert.equal(body.status, 404);
    assert.equal(body.instance, '/things/42');
  });

  test('unexpected errors are a masked 500', async () => {
    const server = await app();
    const res = await server.inject({ url: '/boom' });
    assert.equal(res.statusCode, 500);
    assert.equal(res.json().code, 'INTERNAL_ERROR');
    assert.doesNotMatch(res.body, /hunter2/);
  });

  test("a database that did not answer is a 503 marked 'database', its detail kept in the logs", async () => {
    const server = await app();
    server.get('/slow', async () => {
      // @portico/store's DatabaseUnavailableError, as http sees it (by code).
      throw Object.assign(new Error('Query read timeout on 10.0.0.5'), { code: 'DATABASE_UNAVAILABLE' });
    });
    const res = await server.inject({ url: '/slow' });
    assert.equal(res.statusCode, 503);
    assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
    assert.equal(res.headers['portico-dependency-failure'], 'database');
    assert.equal(res.headers['retry-after'], '1');
    assert.equal(res.json().code, 'DATABASE_UNAVAILABLE');
    assert.doesNotMatch(res.body, /10\.0\.0\.5/);
  });

  test('/health: a check that hangs fails at its bound, and the answer names it', async () => {
    const server = await createServer({
      name: 'test',
      logLevel: false,
      healthTimeoutMs: 200,
      health: { database: () => new Promise(() => {}), redis: async () => 'PONG' },
    });
    const t0 = performance.now();
    const res = await server.inject({ url: '/health' });
    const ms = performance.now() - t0;
    assert.equal(res.statusCode, 503);
    assert.deepEqual(res.json(), { status: 'degraded' });
    assert.equal(res.headers['portico-dependency-failure'], 'database');
    assert.ok(ms < 200 + 2000, `answered after ${ms} ms`);
  });

  test('/metrics: each health check is health_check_up, run at the scrape (1 passing, 0 failing)', async () => {
    let databaseUp = true;
    const server = await createServer({
      name: 'test',
      logLevel: false,
      healthTimeoutMs: 200,
      health: {
        database: async () => {
          if (!databaseUp) throw new Error('connection refused');
        },
        redis: () => new Promise(() => {}),
      },
    });
    const operator = await server.operator.listen({ port: 0, host: '127.0.0.1' });
    try {
      const scrape = async () => (await fetch(`${operator}/metrics`)).text();
      let metrics = await scrape();
      assert.match(metrics, /^health_check_up\{check="database",service="test"\} 1$/m);
      assert.match(metrics, /^health_check_up\{check="redis",service="test"\} 0$/m, 'a hung check is down');
      databaseUp = false;
      metrics = await scrape();
      assert.match(metrics, /^health_check_up\{check="database",service="test"\} 0$/m);
    } finally {
      await server.close();
    }
  });

  test('bodies are strict: missing, unknown, wrong type, malformed, non-JSON, too large', async () => {
    const server = await app();
    const post = (payload: string, type = 'application/json') =>
      server.inject({ method: 'POST', url: '/things', payload, headers: { 'content-type': type } });
    assert.equal((await post('{"name":"a","count":1}')).statusCode, 201);
    const missing = await post('{"name":"a"}');
    assert.equal(missing.statusCode, 400);
    assert.equal(missing.json().code, 'MISSING_FIELD');
    assert.equal(missing.json().detail, 'Missing required field: count');
    const unknown = await post('{"name":"a","count":1,"admin":true}');
    assert.equal(unknown.json().code, 'UNKNOWN_FIELD');
    const wrongType = await post('{"name":"a","count":"1"}');
    assert.equal(wrongType.statusCode, 400);
    assert.equal(wrongType.json().code, 'VALIDATION_ERROR');
    const malformed = await post('{"name":');
    assert.equal(malformed.statusCode, 400);
    assert.equal(malformed.json().code, 'MALFORMED_JSON');
    const proto = await post('{"name":"a","count":1,"__proto__":{"x":1}}');
    assert.equal(proto.statusCode, 400);
    assert.match(proto.json().detail, /forbidden property name/, 'valid JSON is not called invalid');
    assert.equal((await post('name=a', 'text/plain')).statusCode, 415);
    assert.equal((await post('name=a', 'application/x-www-form-urlencoded')).statusCode, 415);
    const big = await post(JSON.stringify({ name: 'a', count: 1, pad: 'x'.repeat(2000) }));
    assert.equal(big.statusCode, 413);
    assert.equal(big.json().code, 'PAYLOAD_TOO_LARGE');
    assert.equal((await post('{"name":"a","count":1}', 'application/merge-patch+json')).statusCode, 201);
    assert.equal((await post('{"name":"a","count":1}', 'application/json; charset=utf-8')).statusCode, 201);
    assert.equal((await post('{"name":"a","count":1}', 'Application/JSON;charset=UTF-8')).statusCode, 201);
    assert.equal((await post('{"name":"a","count":1}', 'application/jsonp')).statusCode, 415);
    const empty = await post('');
    assert.equal(empty.statusCode, 400, 'a route that needs a body says so');
    assert.equal(empty.json().code, 'VALIDATION_ERROR');
  });

  test('an empty JSON body on a route without one is no body, not an error', async () => {
    const server = await app();
    const res = await server.inject({
      method: 'POST',
      url: '/ping',
      payload: '',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(res.statusCode, 200);
  });

  test('a documented route that takes no body refuses one, and takes none, null or {}', async () => {
    const server = await app();
    const post = (payload: string) =>
      server.inject({
        method: 'POST',
        url: '/things/1/archive',
        payload,
        headers: { 'content-type': 'application/json' },
      });
    for (const payload of ['', 'null', '{}']) assert.equal((await post(payload)).statusCode, 200, payload);
    const items = await post('{"items":[{"id":"a"}]}');
    assert.equal(items.statusCode, 400);
    assert.equal(items.json().code, 'UNKNOWN_FIELD');
    assert.equal(items.json().detail, 'Unknown field: items (this endpoint takes no body)');
    const list = await post('[1]');
    assert.equal(list.statusCode, 400);
    assert.equal(list.json().detail, 'This endpoint takes no body');
    // An undocumented route (GraphQL, a mounted app) reads its own body.
    assert.equal((await server.inject({ method: 'POST', url: '/ping', payload: { q: 1 } })).statusCode, 200);
  });

  test('query strings are coerced and validated', async () => {
    const server = await app();
    const ok = await server.inject({ method: 'POST', url: '/things?n=3', payload: { name: 'a', count: 1 } });
    assert.equal(ok.json().n, 3);
    const bad = await server.inject({
      method: 'POST',
      url: '/things?n=abc',
      payload: { name: 'a', count: 1 },
    });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().detail, /query/);
  });

  test('a query parameter with a default is optional in the OpenAPI document, as it is to the route', async () => {
    const server = await createServer({ name: 'test', logLevel: false });
    server.get(
      '/things',
      {
        schema: {
          querystring: Type.Object({
            limit: Type.Integer({ minimum: 1, default: 20 }),
            q: Type.String(),
          }),
        },
      },
      async (request) => request.query,
    );
    assert.deepEqual((await server.inject({ url: '/things?q=a' })).json(), { q: 'a', limit: 20 });
    const spec = (await server.inject({ url: '/openapi.json' })).json();
    const parameters = spec.paths['/things'].get.parameters as Array<{ name: string; required?: boolean }>;
    assert.deepEqual(Object.fromEntries(parameters.map((p) => [p.name, p.required ?? false])), {
      limit: false,
      q: true,
    });
  });

  test('405 with Allow for a known path, 404 otherwise', async () => {
    const server = await app();
    const res = await server.inject({ method: 'DELETE', url: '/things' });
    assert.equal(res.statusCode, 405);
    assert.equal(res.headers.allow, 'POST, OPTIONS');
    const missing = await server.inject({ url: '/nothing-here' });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().code, 'NOT_FOUND');
  });

  test('health, metrics and OpenAPI are served; /metrics and the health detail only on the operator listener', async () => {
    const server = await app();
    const health = await server.inject({ url: '/health' });
    assert.deepEqual(health.json(), { status: 'up' });
    await server.inject({ url: '/things/1' });
    assert.equal((await server.inject({ url: '/metrics' })).statusCode, 404);
    const operator = await server.operator.listen({ port: 0, host: '127.0.0.1' });
    try {
      const metrics = await (await fetch(`${operator}/metrics`)).text();
      assert.match(
        metrics,
        /http_request_duration_seconds_count\{[^}]*route="\/things\/:id"[^}]*status_code="404"/,
      );
      const detail = (await (await fetch(`${operator}/health`)).json()) as Record<string, unknown>;
      assert.equal(detail.status, 'healthy');
      assert.equal(typeof detail.uptime_seconds, 'number');
      const missing = await fetch(`${operator}/things`);
      assert.equal(missing.status, 404);
      assert.equal(missing.headers.get('content-type'), 'application/problem+json');
      await missing.body?.cancel();
    } finally {
      await server.operator.close();
    }
    assert.equal(server.operator.url, undefined);
    const spec = (await server.inject({ url: '/openapi.json' })).json();
    assert.equal(spec.openapi, '3.1.0');
    assert.ok(spec.paths['/things']);
    assert.equal((await server.inject({ url: '/docs' })).statusCode < 400, true);
  });
});
