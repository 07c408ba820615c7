import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { GatewayFile } from '../src/config.ts';
import type { TestGateway, TestUpstream } from './support/harness.ts';
import { definition, json, metric, startGateway, startUpstream } from './support/harness.ts';

const widget = { $ref: '#/components/schemas/Widget' };
const problem = { 'application/problem+json': { schema: { type: 'object' } } };
const widgetsDocument = {
  openapi: '3.1.0',
  info: { title: 'widgets', version: '1' },
  paths: {
    '/widgets': {
      get: {
        parameters: [
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100 } },
          { name: 'tag', in: 'query', schema: { type: 'array', items: { type: 'string', minLength: 2 } } },
        ],
        responses: {
          '200': {
            description: 'OK',
            content: { 'application/json': { schema: { type: 'array', items: widget } } },
          },
        },
      },
      post: {
        requestBody: { required: true, content: { 'application/json': { schema: widget } } },
        responses: { '201': { description: 'Created', content: { 'application/json': { schema: widget } } } },
      },
    },
    '/widgets/search': {
      get: {
        parameters: [{ name: 'q', in: 'query', required: true, schema: { type: 'string' } }],
        responses: { '200': { description: 'OK' } },
      },
    },
    // A pattern no regular expression engine takes: the operation cannot be compiled.
    '/widgets/legacy': {
      get: {
        parameters: [{ name: 'q', in: 'query', schema: { type: 'string', pattern: '(' } }],
        responses: { '200': { description: 'OK' } },
      },
    },
    // Parameters and a body named by reference to the document's components.
    '/widgets/parts': {
      get: {
        parameters: [{ $ref: '#/components/parameters/Page' }],
        responses: { '200': { description: 'OK' } },
      },
      post: {
        requestBody: { $ref: '#/components/requestBodies/NewPart' },
        responses: { '201': { description: 'Created' } },
      },
    },
    '/widgets/dangling': {
      get: {
        parameters: [{ $ref: '#/components/parameters/Nowhere' }],
        responses: { '200': { description: 'OK' } },
      },
    },
    '/widgets/{id}': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer' } }],
      get: {
        parameters: [{ name: 'X-Tenant', in: 'header', schema: { type: 'string', pattern: '^t-' } }],
        responses: {
          '200': { description: 'OK', content: { 'application/json': { schema: widget } } },
          '404': { description: 'Not found', content: problem },
        },
      },
    },
  },
  components: {
    parameters: {
      Page: {
        name: 'page',
        in: 'query',
        required: true,
        schema: { $ref: '#/components/schemas/PageNumber' },
      },
    },
    requestBodies: {
      NewPart: {
        required: true,
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Part' } } },
      },
    },
    schemas: {
      PageNumber: { type: 'integer', minimum: 1 },
      Part: {
        type: 'object',
        required: ['sku'],
        properties: { sku: { type: 'string', pattern: '^P-' }, count: { type: 'integer', minimum: 1 } },
      },
      Widget: {
        type: 'object',
        required: ['name', 'price'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', minLength: 1 },
          price: { type: 'number', minimum: 0 },
          tags: { type: 'array', items: { type: 'string' } },
        },
      },
    },
  },
};

const route = (name: string, path: string, upstream: string, extra: object) =>
  ({
    name,
    path,
    exact: false,
    websocket: false,
    upstream,
    auth: { default: 'public' },
    transform: { rewrite: { pattern: `^${path}`, replacement: '/widgets' } },
    ...extra,
  }) as GatewayFile['routes'][number];

let currentDocument: object = widgetsDocument;

describe('validation at the edge', () => {
  let widgets: TestUpstream;
  let broken: TestUpstream;
  let gateway: TestGateway;
  let drifting = false;
  const logs: string[] = [];

  before(async () => {
    widgets = await startUpstream((req, res, seen) => {
      const send = (status: number, body: unknown) => {
        const text = JSON.stringify(body);
        res.writeHead(status, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(text),
        });
        res.end(text);
      };
      if (req.url === '/openapi.json') return send(200, currentDocument);
      if (req.method === 'POST') return send(201, JSON.parse(seen.body));
      if (req.url?.startsWith('/widgets/7'))
        return send(200, drifting ? { name: 'w', price: 'free' } : { name: 'w', price: 2 });
      send(200, [{ name: 'w', price: 2 }]);
    });
    // Its document is never available: its route passes everything (fails open).
    broken = await startUpstream((req, res) => {
      if (req.url === '/openapi.json') return void res.writeHead(500).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    gateway = await startGateway(
      definition({ widgets: [widgets.url], broken: [broken.url] }, [
        route('widgets', '/api/widgets', 'widgets', { validate: true }),
        route('logged', '/log/widgets', 'widgets', { validate: { responses: 'log' } }),
        route('strict', '/strict/widgets', 'widgets', { validate: { requests: false, responses: 'reject' } }),
        route('broken', '/api/broken', 'broken', { validate: true }),
        route('filtered', '/filtered/widgets', 'widgets', {
          validate: { responses: 'reject' },
          transform: {
            rewrite: { pattern: '^/filtered/widgets', replacement: '/widgets' },
            response: { fields: { exclude: ['price'] } },
          },
        }),
      ]),
      { logStream: { write: (line) => void logs.push(line) }, config: { logLevel: 'warn' } },
    );
  });
  after(async () => {
    await gateway.close();
    await Promise.all([widgets.close(), broken.close()]);
  });

  const calls = () => widgets.seen.filter((s) => s.url !== '/openapi.json').length;
  const metrics = async () => (await fetch(`${gateway.operatorUrl}/metrics`)).text();

  /** Refused at the gateway with these fields named, and the upstream never asked. */
  async function refused(
    path: string,
    init: RequestInit,
    status: number,
    code: string,
    fields: Array<{ field: string; in: string; code?: string }> = [],
  ) {
    const before = calls();
    const res = await fetch(`${gateway.url}${path}`, init);
    const body = await json(res);
    assert.equal(res.status, status, JSON.stringify(body));
    assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
    assert.equal(body.code, code);
    const errors = (body.errors ?? []) as Array<{ field: string; in: string; code: string; message: string }>;
    for (const expected of fields) {
      const found = errors.find((e) => e.field === expected.field && e.in === expected.in);
      assert.ok(found, `${expected.in} ${expected.field} named in ${JSON.stringify(errors)}`);
      if (expected.code) assert.equal(found.code, expected.code);
      assert.match(found.message, new RegExp(expected.field));
    }
    assert.equal(calls(), before, 'the upstream was not called');
    return body;
  }

  test('a valid request passes through untouched: query as sent, body byte for byte', async () => {
    const list = await fetch(`${gateway.url}/api/widgets?limit=5&tag=ab&tag=cd`);
    assert.equal(list.status, 200);
    assert.deepEqual(await list.json(), [{ name: 'w', price: 2 }]);
    assert.equal(widgets.seen.at(-1)!.url, '/widgets?limit=5&tag=ab&tag=cd');

    const text = '{ "name" : "bolt",\n  "price": 1.5 }';
    const created = await fetch(`${gateway.url}/api/widgets`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: text,
    });
    assert.equal(created.status, 201);
    const seen = widgets.seen.at(-1)!;
    assert.equal(seen.body, text);
    assert.equal(seen.url, '/widgets');
    assert.equal(seen.headers['content-type'], 'application/json; charset=utf-8');

    // The literal template wins over `/widgets/{id}`; the rewrite maps both back.
    assert.equal((await fetch(`${gateway.url}/api/widgets/search?q=x`)).status, 200);
    assert.equal(
      (await fetch(`${gateway.url}/api/widgets/7`, { headers: { 'x-tenant': 't-1' } })).status,
      200,
    );
    assert.equal(widgets.seen.at(-1)!.url, '/widgets/7');
  });

  test('each kind of invalid input is refused with the field named, before the upstream', async () => {
    await refused('/api/widgets?limit=500', {}, 400, 'REQUEST_INVALID', [{ field: 'limit', in: 'query' }]);
    await refused('/api/widgets?limit=five', {}, 400, 'REQUEST_INVALID', [{ field: 'limit', in: 'query' }]);
    await refused('/api/widgets?tag=a', {}, 400, 'REQUEST_INVALID', [{ field: 'tag.0', in: 'query' }]);
    await refused('/api/widgets/search', {}, 400, 'REQUEST_INVALID', [
      { field: 'q', in: 'query', code: 'MISSING_FIELD' },
    ]);
    // The path template is the upstream's `/widgets/{id}`, seen at the gateway's `/api/widgets/{id}`.
    await refused('/api/widgets/abc', {}, 400, 'REQUEST_INVALID', [{ field: 'id', in: 'path' }]);
    await refused('/api/widgets/7', { headers: { 'x-tenant': 'nope' } }, 400, 'REQUEST_INVALID', [
      { field: 'x-tenant', in: 'header' },
    ]);

    const post = (body: string | undefined, type = 'application/json'): RequestInit => ({
      method: 'POST',
      headers: body === undefined ? {} : { 'content-type': type },
      body,
    });
    const missing = await refused('/api/widgets', post('{"name":"bolt"}'), 400, 'REQUEST_INVALID', [
      { field: 'price', in: 'body', code: 'MISSING_FIELD' },
    ]);
    assert.match(String(missing.detail), /price/);
    await refused('/api/widgets', post('{"name":"bolt","price":"1"}'), 400, 'REQUEST_INVALID', [
      { field: 'price', in: 'body', code: 'VALIDATION_ERROR' },
    ]);
    await refused('/api/widgets', post('{"name":"bolt","price":1,"colour":"red"}'), 400, 'REQUEST_INVALID', [
      { field: 'colour', in: 'body', code: 'UNKNOWN_FIELD' },
    ]);
    await refused('/api/widgets', post('{"name":"bolt","price":1,"tags":[3]}'), 400, 'REQUEST_INVALID', [
      { field: 'tags.0', in: 'body' },
    ]);
    await refused('/api/widgets', post('{"name":'), 400, 'REQUEST_INVALID', [
      { field: 'body', in: 'body', code: 'MALFORMED_JSON' },
    ]);
    await refused('/api/widgets', post(undefined), 400, 'REQUEST_INVALID', [{ field: 'body', in: 'body' }]);
    const unsupported = await refused(
      '/api/widgets',
      post('name=bolt', 'text/plain'),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    assert.deepEqual(unsupported.accepted, ['application/json']);

    const text = await metrics();
    assert.ok(
      (metric(text, 'gateway_validation_total', { route: 'widgets', part: 'request', result: 'refused' }) ??
        0) >= 13,
    );
  });

  test('parameters, bodies and schemas named by $ref are checked like inline ones', async () => {
    await refused('/api/widgets/parts?page=0', {}, 400, 'REQUEST_INVALID', [{ field: 'page', in: 'query' }]);
    await refused('/api/widgets/parts', {}, 400, 'REQUEST_INVALID', [
      { field: 'page', in: 'query', code: 'MISSING_FIELD' },
    ]);
    assert.equal((await fetch(`${gateway.url}/api/widgets/parts?page=2`)).status, 200);
    const post = (body: string) => ({
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    await refused('/api/widgets/parts', post('{"sku":"X-1"}'), 400, 'REQUEST_INVALID', [
      { field: 'sku', in: 'body', code: 'VALIDATION_ERROR' },
    ]);
    await refused('/api/widgets/parts', post('{"count":2}'), 400, 'REQUEST_INVALID', [
      { field: 'sku', in: 'body', code: 'MISSING_FIELD' },
    ]);
    await refused('/api/widgets/parts', { method: 'POST' }, 400, 'REQUEST_INVALID', [
      { field: 'body', in: 'body' },
    ]);
    assert.equal(
      (await fetch(`${gateway.url}/api/widgets/parts`, post('{"sku":"P-1","count":2}'))).status,
      201,
    );
    // The merged document keeps the components the references name.
    const doc = (await (await fetch(`${gateway.url}/openapi.json`)).json()) as {
      components: Record<string, Record<string, unknown>>;
    };
    assert.ok(doc.components.parameters?.Page);
    assert.ok(doc.components.requestBodies?.NewPart);
  });

  test('a reference to nowhere fails open, and that is counted', async () => {
    const counted = async () =>
      metric(await metrics(), 'gateway_validation_total', {
        route: 'logged',
        part: 'response',
        result: 'bad_schema',
      }) ?? 0;
    const before = await counted();
    // Routed by `logged` (its own route label): the operation cannot be compiled, so it passes.
    const res = await fetch(`${gateway.url}/log/widgets/dangling?anything=1`);
    assert.equal(res.status, 200);
    assert.equal(widgets.seen.at(-1)!.url, '/widgets/dangling?anything=1');
    assert.equal(await counted(), before + 1);
  });

  test('the published document says what the validating routes refuse', async () => {
    const doc = (await (await fetch(`${gateway.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { parameters?: Array<{ name: string }>; responses: object }>>;
    };
    assert.ok('415' in doc.paths['/api/widgets']!.post!.responses);
    assert.ok(!('415' in doc.paths['/strict/widgets']!.post!.responses), 'requests: false');
    // The path item's own parameters hold for its operations in the merged document.
    assert.deepEqual(
      doc.paths['/api/widgets/{id}']!.get!.parameters!.map((p) => p.name),
      ['id', 'X-Tenant'],
    );
  });

  test('an upstream without a document, or a schema that does not compile: requests pass, and that is counted', async () => {
    const before = broken.seen.filter((s) => s.url !== '/openapi.json').length;
    const res = await fetch(`${gateway.url}/api/broken?limit=anything`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'not json',
    });
    assert.equal(res.status, 200);
    assert.equal(broken.seen.filter((s) => s.url !== '/openapi.json').length, before + 1);
    // An operation whose schema does not compile passes too.
    const legacy = await fetch(`${gateway.url}/api/widgets/legacy?q=x`);
    assert.equal(legacy.status, 200);
    assert.equal(widgets.seen.at(-1)!.url, '/widgets/legacy?q=x');
    const text = await metrics();
    assert.ok(
      (metric(text, 'gateway_validation_total', {
        route: 'broken',
        part: 'request',
        result: 'no_document',
      }) ?? 0) >= 1,
    );
    assert.equal(
      metric(text, 'gateway_validation_total', { route: 'widgets', part: 'request', result: 'bad_schema' }),
      1,
    );
  });

  test('a drifting answer is logged in log mode and turned into 502 in reject mode', async () => {
    drifting = false;
    assert.equal((await fetch(`${gateway.url}/strict/widgets/7`)).status, 200);
    drifting = true;
    try {
      const logged = await fetch(`${gateway.url}/log/widgets/7`);
      assert.equal(logged.status, 200);
      assert.deepEqual(await logged.json(), { name: 'w', price: 'free' });
      const line = logs.find((l) => l.includes('does not match its published contract'));
      assert.ok(line, 'the drift is logged');
      assert.match(line, /"route":"logged"/);
      assert.match(line, /price/);

      const rejected = await fetch(`${gateway.url}/strict/widgets/7`);
      const body = await json(rejected);
      assert.equal(rejected.status, 502);
      assert.equal(body.code, 'RESPONSE_INVALID');
      assert.deepEqual(
        (body.errors as Array<{ field: string }>).map((e) => e.field),
        ['price'],
      );
      // requests: false: the strict route lets an invalid request through to be answered.
      assert.equal((await fetch(`${gateway.url}/strict/widgets?limit=500`)).status, 200);
      // The answer checked is the upstream's, not what the route's field filter leaves of it.
      drifting = false;
      const filtered = await fetch(`${gateway.url}/filtered/widgets/7`);
      assert.equal(filtered.status, 200);
      assert.deepEqual(await filtered.json(), { name: 'w' });
    } finally {
      drifting = false;
    }
    const text = await metrics();
    assert.equal(
      metric(text, 'gateway_validation_total', { route: 'logged', part: 'response', result: 'drift' }),
      1,
    );
    assert.equal(
      metric(text, 'gateway_validation_total', { route: 'strict', part: 'response', result: 'drift' }),
      1,
    );
    assert.ok(
      (metric(text, 'gateway_validation_total', { route: 'strict', part: 'response', result: 'passed' }) ??
        0) >= 1,
    );
  });

  test('a new document (here after a reload) is compiled afresh', async () => {
    assert.equal((await fetch(`${gateway.url}/api/widgets?limit=50`)).status, 200);
    const tighter = structuredClone(widgetsDocument);
    tighter.paths['/widgets'].get.parameters[0]!.schema = { type: 'integer', minimum: 1, maximum: 10 };
    currentDocument = tighter;
    try {
      assert.equal(await gateway.server.gateway.reload(), true);
      await refused('/api/widgets?limit=50', {}, 400, 'REQUEST_INVALID', [{ field: 'limit', in: 'query' }]);
    } finally {
      currentDocument = widgetsDocument;
    }
  });
});
