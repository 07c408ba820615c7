/**
 * The GraphQL over HTTP conformance audit of graphql-http (version pinned in package.json),
 * run against the catalog listening on a real socket: every MUST and every SHOULD passes.
 * The MAYs are reported too, and must not fail either.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { databaseTargets } from '@portico/store/testing';
import { serverAudits } from 'graphql-http';
import { buildCatalog, type Harness } from './support/harness.ts';

const target = databaseTargets()[0]!();

describe('graphql-http server audit', () => {
  let h: Harness;
  let url: string;
  before(async () => {
    // The audit's own queries introspect (`__type`), as a developer set-up allows.
    h = await buildCatalog(target, { config: { graphql: { introspection: true } } });
    url = `${await h.server.listen({ port: 0, host: '127.0.0.1' })}/graphql`;
  });
  after(() => h.close());

  for (const audit of serverAudits({ url: () => url, fetchFn: fetch })) {
    test(`${audit.id} ${audit.name}`, async () => {
      const result = await audit.fn();
      assert.equal(result.status, 'ok', `${audit.name}: ${result.status === 'ok' ? '' : result.reason}`);
    });
  }
});
