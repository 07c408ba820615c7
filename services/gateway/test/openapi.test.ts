import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { gatewayPath, literalPrefix, mergeDocuments } from '../src/openapi/merge.ts';
import type { TestGateway, TestUpstream } from './support/harness.ts';
import { definition, startGateway, startUpstream } from './support/harness.ts';

const operation = (summary: string) => ({ summary, responses: { '200': { description: 'OK' } } });
const thingsDocument = {
  openapi: '3.1.0',
  info: { title: 'things', version: '1' },
  paths: {
    '/things': { get: operation('List things'), post: operation('Add a thing') },
    '/things/{id}': { get: operation('A thing'), delete: operation('Remove a thing') },
    '/internal/stats': { get: operation('Not routed') },
  },
  components: { schemas: {} },
};

describe('the gateway’s /openapi.json', () => {
  let things: TestUpstream;
  let stalled: TestUpstream;
  let gateway: TestGateway;
  let answering = false;
  const held: ServerResponse[] = [];

  before(async () => {
    things = await startUpstream((req, res) => {
      res.writeHead(req.url === '/openapi.json' ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(req.url === '/openapi.json' ? thingsDocument : {}));
    });
    // Its document hangs until `answering`: the gateway's fetch must give up on its own.
    stalled = await startUpstream((req, res) => {
      if (req.url !== '/openapi.json') return void res.writeHead(404).end();
      if (!answering) return void held.push(res);
      const doc = { ...thingsDocument, paths: { '/later': { get: operation('Arrived later') } } };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(doc));
    });
    gateway = await startGateway(
      definition({ things: [things.url], stalled: [stalled.url] }, [
        {
          name: 'things',
          path: '/api/things',
          exact: false,
          websocket: false,
          methods: ['GET', 'POST'] as never,
          upstream: 'things',
          auth: { default: 'public' },
          transform: { rewrite: { pattern: '^/api/things', replacement: '/things' } },
        },
        { name: 'later', path: '/later', exact: false, websocket: false, upstream: 'stalled' },
      ]),
    );
  });
  after(async () => {
    for (const res of held) res.destroy();
    await gateway.close();
    await Promise.all([things.close(), stalled.close()]);
  });

  const published = async () => {
    const started = Date.now();
    const res = await fetch(`${gateway.url}/openapi.json`);
    // 3 s per upstream fetch, and a loaded machine's slack: never the stalled upstream's forever.
    assert.ok(Date.now() - started < 30_000);
    assert.equal(res.status, 200);
    return (await res.json()) as { paths: Record<string, Record<string, unknown>>; [key: string]: unknown };
  };

  test('publishes the routed operations at their gateway paths; a stalled upstream holds it no longer than the fetch timeout', async () => {
    const doc = await published();
    assert.deepEqual(Object.keys(doc.paths).sort(), ['/api/things', '/api/things/{id}']);
    assert.deepEqual(Object.keys(doc.paths['/api/things']!).sort(), ['get', 'post']);
    // The route takes GET and POST only: the upstream's DELETE is not the gateway's.
    assert.deepEqual(Object.keys(doc.paths['/api/things/{id}']!), ['get']);
    assert.deepEqual(doc['x-portico-missing-upstreams'], ['stalled']);
    assert.ok(held.length >= 1, 'the stalled upstream was asked');
  });

  test('an upstream that comes back is in the document a refresh later', async () => {
    answering = true;
    const deadline = Date.now() + 60_000;
    let doc = await published();
    while (!doc.paths['/later'] && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      doc = await published();
    }
    assert.ok(doc.paths['/later'], 'refreshed with the upstream that answers now');
    assert.equal(doc['x-portico-missing-upstreams'], undefined);
  });
});

test('a rewrite is turned back only when its pattern is an anchored literal prefix', () => {
  assert.equal(literalPrefix('^/api/v1/identity'), '/api/v1/identity');
  assert.equal(literalPrefix('^/api/v1\\.0'), '/api/v1.0');
  assert.equal(literalPrefix('^/api/(v1|v2)'), undefined);
  assert.equal(literalPrefix('/api'), undefined);
  const route = (pattern: string, replacement: string) =>
    ({ transform: { rewrite: { pattern, replacement } } }) as never;
  assert.equal(
    gatewayPath(route('^/api/v1/identity', '/admin'), '/admin/users/{id}'),
    '/api/v1/identity/users/{id}',
  );
  assert.equal(gatewayPath(route('^/api/v1/identity', '/admin'), '/other'), undefined);
  assert.equal(gatewayPath(route('^/v(\\d)', '/version-$1'), '/version-1/x'), undefined);
  assert.equal(gatewayPath({} as never, '/things'), '/things');
});

test('each upstream keeps its referenced components; a name two use differently becomes the second’s own', () => {
  const doc = (name: string, maximum: number) => ({
    openapi: '3.1.0',
    info: { title: name, version: '1' },
    paths: {
      [`/${name}`]: {
        get: {
          parameters: [{ $ref: '#/components/parameters/Limit' }],
          responses: { '200': { description: 'OK' } },
        },
        post: {
          requestBody: { $ref: '#/components/requestBodies/New' },
          responses: { '201': { description: 'Created' } },
        },
      },
    },
    components: {
      schemas: {},
      parameters: { Limit: { name: 'limit', in: 'query', schema: { type: 'integer', maximum } } },
      requestBodies: { New: { content: { 'application/json': { schema: { type: 'object' } } } } },
    },
  });
  const route = (name: string) => ({
    name,
    path: `/${name}`,
    methods: new Set(['GET', 'POST']),
    def: { name, path: `/${name}`, upstream: name, auth: { default: 'public' } },
  });
  const routes = [route('pens'), route('inks')];
  const merged = mergeDocuments(
    { routes, match: (path: string) => routes.find((r) => path.startsWith(r.path)) } as never,
    new Map([
      ['pens', doc('pens', 10)],
      ['inks', doc('inks', 50)],
    ]) as never,
    { issuer: 'https://issuer.test' },
  ) as {
    paths: Record<string, Record<string, { parameters: unknown[] }>>;
    components: Record<string, object>;
  };
  assert.deepEqual(Object.keys(merged.components.parameters!), ['Limit', 'inks_Limit']);
  assert.deepEqual(merged.paths['/pens']!.get!.parameters, [{ $ref: '#/components/parameters/Limit' }]);
  assert.deepEqual(merged.paths['/inks']!.get!.parameters, [{ $ref: '#/components/parameters/inks_Limit' }]);
  // The same body in both: one component, not a copy per upstream.
  assert.deepEqual(Object.keys(merged.components.requestBodies!), ['New']);
  assert.equal('externalDocs' in merged, false, 'no GraphQL schema routed here');
});

test('an operation without security of its own is published with its document’s, scopes included', () => {
  const doc = {
    openapi: '3.1.0',
    info: { title: 'notes', version: '1' },
    security: [{ oauth2: ['notes:read'] }],
    paths: {
      '/notes': {
        get: { responses: { '200': { description: 'OK' } } },
        post: { security: [], responses: { '201': { description: 'Created' } } },
      },
    },
    components: { securitySchemes: { oauth2: { type: 'oauth2', flows: {} } } },
  };
  const route = {
    name: 'notes',
    path: '/notes',
    methods: new Set(['GET', 'POST']),
    def: { name: 'notes', path: '/notes', upstream: 'notes', auth: { default: 'public' } },
  };
  const merged = mergeDocuments(
    { routes: [route], match: () => route } as never,
    new Map([['notes', doc]]) as never,
    { issuer: 'https://issuer.test' },
  ) as { paths: Record<string, Record<string, { security?: unknown }>> };
  assert.deepEqual(merged.paths['/notes']!.get!.security, [{ oauth2: ['notes:read'] }]);
  assert.deepEqual(merged.paths['/notes']!.post!.security, [], 'its own empty list wins: public');
});
