import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { databaseTargets } from '@portico/store/testing';
import { buildCatalog, type Harness } from './support/harness.ts';

const schemaFile = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');
let h: Harness;
before(async () => {
  h = await buildCatalog(databaseTargets()[0]!(), { demoData: false });
});
after(() => h.close());

test('GET /graphql/schema.graphql serves the schema file as it is, with an ETag for 304s', async () => {
  const res = await h.server.inject({ url: '/graphql/schema.graphql' });
  assert.equal(res.statusCode, 200);
  assert.equal(res.body, schemaFile);
  assert.match(String(res.headers['content-type']), /^text\/plain; charset=utf-8/);
  assert.equal(res.headers['cache-control'], 'public, no-cache');
  const etag = String(res.headers.etag);
  assert.match(etag, /^".+"$/);
  const again = await h.server.inject({ url: '/graphql/schema.graphql', headers: { 'if-none-match': etag } });
  assert.equal(again.statusCode, 304);
  assert.equal(again.body, '');
  const head = await h.server.inject({ method: 'HEAD', url: '/graphql/schema.graphql' });
  assert.equal(head.statusCode, 200);
});

test('the catalog document publishes the operation, marked as the GraphQL schema', async () => {
  const doc = (await h.server.inject({ url: '/openapi.json' })).json();
  const operation = doc.paths['/graphql/schema.graphql']?.get;
  assert.ok(operation, Object.keys(doc.paths).join(' '));
  assert.equal(operation['x-graphql-schema'], true);
  assert.ok(operation.responses['200'].content['text/plain']);
  assert.ok(doc.tags.some((t: { name: string }) => t.name === 'graphql'));
});
