/**
 * The OpenAPI documents as users and outside checkers get them: every service started on a
 * real socket, its `/openapi.json` fetched and linted with Redocly's `recommended` rules and
 * Spectral's `spectral:oas`, with no error and no warning allowed. The gateway's document is
 * the merge of what its routes expose (the embedded gateway.yaml, pointed at these services):
 * it lints clean too, and every operation in it answers through the gateway.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ADMIN_SCOPES, createTestIssuer, serveJwks, type TestIssuer } from '@portico/auth/testing';
import { loadConfig, type TSchema } from '@portico/config';
import {
  build as buildGateway,
  ConfigSchema as GatewayConfigSchema,
  type GatewayFile,
} from '@portico/gateway';
import { EMBEDDED_FILE } from '@portico/gateway/config';
import { createServer, type ServiceModule } from '@portico/http';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { Spectral } from '@stoplight/spectral-core';
import { oas } from '@stoplight/spectral-rulesets';
import type { FastifyInstance } from 'fastify';
import { parse } from 'yaml';
import { services } from '../src/services.ts';

interface Finding {
  tool: 'redocly' | 'spectral';
  rule: string;
  severity: string;
  message: string;
  where: string;
}

type Document = {
  paths: Record<
    string,
    Record<string, { responses: Record<string, { headers?: object }>; security?: unknown }>
  >;
  components: { securitySchemes?: Record<string, { flows?: Record<string, { scopes: object }> }> };
  servers: Array<{ url: string }>;
};

/** Errors and warnings of both linters; their hints and infos are not failures. */
async function lint(text: string, url: string): Promise<Finding[]> {
  const findings: Finding[] = [];
  const config = await createConfig({ extends: ['recommended'] });
  for (const problem of await lintFromString({ source: text, absoluteRef: url, config })) {
    if (problem.severity !== 'error' && problem.severity !== 'warn') continue;
    findings.push({
      tool: 'redocly',
      rule: problem.ruleId,
      severity: problem.severity,
      message: problem.message,
      where: problem.location[0]?.pointer ?? '',
    });
  }
  const spectral = new Spectral();
  spectral.setRuleset(oas as never);
  for (const result of await spectral.run(text)) {
    if (result.severity > 1) continue;
    findings.push({
      tool: 'spectral',
      rule: String(result.code),
      severity: result.severity === 0 ? 'error' : 'warn',
      message: result.message,
      where: result.path.join('.'),
    });
  }
  return findings;
}

const SAMPLE_ID = '0197a3c2-7d1e-7000-8000-000000000000';

describe('OpenAPI documents, as the started services serve them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-openapi-lint-'));
  const started: FastifyInstance[] = [];
  const bases = new Map<string, string>();
  let issuer: TestIssuer;
  let jwks: Awaited<ReturnType<typeof serveJwks>>;
  let gateway: FastifyInstance & { gateway: { reload(source: GatewayFile): Promise<boolean> } };
  let definition: GatewayFile;

  before(async () => {
    issuer = await createTestIssuer();
    jwks = await serveJwks(issuer);
    for (const { name, module } of services) {
      if (name === 'gateway') continue;
      const schema = (module as ServiceModule<TSchema>).ConfigSchema;
      const config = loadConfig(name, schema, {
        env: {
          CATALOG_DEMO_DATA: 'false',
          PORTICO_WEB_CLIENT_SECRET: 'a-secret-for-the-test-only',
          AUTH_ISSUER: issuer.issuer,
          AUTH_JWKS_URI: jwks.url,
        },
        overrides: {
          port: 0,
          logLevel: 'silent',
          ...('databaseUrl' in (schema as { properties: object }).properties
            ? { databaseUrl: `sqlite:${join(dir, `${name}.db`)}` }
            : {}),
          ...(name === 'identity' ? { keysFile: '', demoLoginsFile: '', demoAccounts: false } : {}),
        } as never,
      });
      const server = await module.build(config);
      started.push(server);
      bases.set(name, await server.listen({ port: 0, host: '127.0.0.1' }));
    }
    // The embedded gateway file, its upstreams being the services just started.
    definition = parse(readFileSync(EMBEDDED_FILE, 'utf8')) as GatewayFile;
    for (const [name, upstream] of Object.entries(definition.upstreams)) {
      upstream.instances = [bases.get(name)!];
      delete upstream.healthCheck;
    }
    const config = loadConfig('gateway', GatewayConfigSchema, {
      env: {},
      overrides: { port: 0, logLevel: 'silent', watch: false, auth: { issuer: issuer.issuer } } as never,
    });
    gateway = (await buildGateway(config, { verifier: issuer.verifier, definition })) as typeof gateway;
    started.push(gateway);
    bases.set('gateway', await gateway.listen({ port: 0, host: '127.0.0.1' }));
  });
  after(async () => {
    for (const server of started.reverse()) await server.close();
    await jwks.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const fetchDocument = async (name: string) => {
    const url = `${bases.get(name)}/openapi.json`;
    const res = await fetch(url);
    assert.equal(res.status, 200, `${name} /openapi.json`);
    return { url, text: await res.text() };
  };

  for (const { name } of services) {
    test(`${name}: /openapi.json lints clean (Redocly recommended, Spectral spectral:oas)`, async () => {
      const { url, text } = await fetchDocument(name);
      const doc = JSON.parse(text) as Document;
      assert.ok(Object.keys(doc.paths).length > 0, `${name} describes some operation`);
      assert.deepEqual(doc.servers, [{ url: bases.get(name), description: 'This server' }]);
      const findings = await lint(text, url);
      assert.deepEqual(findings, [], `${name}: ${findings.length} findings`);
      const page = await fetch(`${bases.get(name)}/docs`);
      assert.equal(page.status, 200, `${name} /docs`);
      await page.arrayBuffer();
      const docs = await fetch(`${bases.get(name)}/docs/json`);
      assert.deepEqual(JSON.parse(await docs.text()), doc, `${name} /docs shows the same document`);
    });
  }

  test('the gateway publishes its routes: paths after rewrites, its own answers, aggregates', async () => {
    const doc = JSON.parse((await fetchDocument('gateway')).text) as Document;
    const paths = Object.keys(doc.paths);
    // identity-admin rewrites /api/v1/identity to identity's /admin.
    assert.ok(paths.includes('/api/v1/identity/users/{id}'), paths.join(' '));
    assert.ok(!paths.some((p) => p.startsWith('/admin')), 'upstream paths are not published as such');
    // recommendations takes GET and HEAD only; the catalog's own paths and methods come through.
    assert.deepEqual(Object.keys(doc.paths['/api/v1/recommendations']!), ['get']);
    assert.ok(doc.paths['/api/v1/products/{id}']!.patch);
    const dashboard = doc.paths['/api/v1/dashboard']!.get!;
    assert.ok(dashboard, 'the aggregate is described');
    for (const status of ['401', '429', '502']) assert.ok(dashboard.responses[status], `dashboard ${status}`);
    const create = doc.paths['/api/v1/orders']!.post!;
    for (const status of ['401', '413', '429', '502', '503', '504'])
      assert.ok(create.responses[status], status);
    assert.ok(create.responses['201']!.headers && 'RateLimit' in create.responses['201']!.headers);
    assert.deepEqual(create.security, [{ oauth2: ['orders:write'] }]);
    const scopes = doc.components.securitySchemes!.oauth2!.flows!.authorizationCode!.scopes;
    assert.ok('orders:write' in scopes && 'catalog:write' in scopes);
    // Served on the gateway's origin; /docs renders the same document.
    assert.deepEqual(doc.servers, [{ url: bases.get('gateway'), description: 'This server' }]);
    const ui = await fetch(`${bases.get('gateway')}/docs`);
    assert.equal(ui.status, 200);
    await ui.arrayBuffer();
  });

  test('the GraphQL schema (SDL) is served through the gateway, beside the document that links it', async () => {
    const doc = JSON.parse((await fetchDocument('gateway')).text) as Document & {
      externalDocs?: { url: string };
      info: { description: string };
    };
    assert.deepEqual(doc.externalDocs, {
      description: 'The GraphQL schema (SDL)',
      url: `${bases.get('gateway')}/graphql/schema.graphql`,
    });
    assert.match(doc.info.description, /\/graphql\/schema\.graphql/);
    const operation = doc.paths['/graphql/schema.graphql']!.get! as unknown as Record<string, unknown>;
    assert.equal(operation['x-graphql-schema'], true);
    assert.deepEqual(operation.security, [], 'public: no token needed');
    const res = await fetch(`${bases.get('gateway')}/graphql/schema.graphql`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    const file = readFileSync(new URL('../../catalog/schema.graphql', import.meta.url), 'utf8');
    assert.equal(await res.text(), file);
    const etag = res.headers.get('etag')!;
    const again = await fetch(`${bases.get('gateway')}/graphql/schema.graphql`, {
      headers: { 'if-none-match': etag },
    });
    assert.equal(again.status, 304);
  });

  test('every operation of the gateway document answers through the gateway', async () => {
    const doc = JSON.parse((await fetchDocument('gateway')).text) as Document;
    const token = await issuer.sign({
      sub: 'someone',
      roles: ['admin', 'customer'],
      scope: `${ADMIN_SCOPES} orders:pay`,
    });
    let checked = 0;
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of Object.keys(item)) {
        const url = `${bases.get('gateway')}${path.replace(/\{[^}]+\}/g, SAMPLE_ID)}`;
        const write = method !== 'get' && method !== 'delete';
        const res = await fetch(url, {
          method: method.toUpperCase(),
          headers: {
            authorization: `Bearer ${token}`,
            ...(write ? { 'content-type': 'application/json' } : {}),
          },
          body: write ? '{}' : undefined,
        });
        const text = await res.text();
        const problem = text.startsWith('{') ? (JSON.parse(text) as { code?: string; detail?: string }) : {};
        const where = `${method.toUpperCase()} ${path} → ${res.status} ${problem.code ?? ''} ${problem.detail ?? ''}`;
        // Not the gateway's own "no route"/"not here", nor an upstream that has no such path.
        assert.ok(!['ROUTE_NOT_FOUND', 'METHOD_NOT_ALLOWED'].includes(problem.code ?? ''), where);
        assert.ok(!(problem.detail ?? '').startsWith('No resource at'), where);
        assert.notEqual(res.status, 405, where);
        checked += 1;
      }
    }
    assert.ok(checked >= 30, `checked ${checked} operations`);
  });

  test('a reload changes the published document', async () => {
    const without = { ...definition, routes: definition.routes.filter((r) => r.name !== 'payments') };
    assert.equal(await gateway.gateway.reload(without), true);
    let doc = JSON.parse((await fetchDocument('gateway')).text) as Document;
    assert.ok(!Object.keys(doc.paths).some((p) => p.startsWith('/api/v1/payments')));
    assert.equal(await gateway.gateway.reload(definition), true);
    doc = JSON.parse((await fetchDocument('gateway')).text) as Document;
    assert.ok(doc.paths['/api/v1/payments/{id}']);
  });
});

test('a route that documents nothing still comes out lint-clean', async () => {
  const server = await createServer({ name: 'bare', logLevel: false });
  server.get('/things/:id', async () => ({ ok: true }));
  server.post('/things', async () => ({ ok: true }));
  server.delete('/things/:id/parts/:part', async () => null);
  try {
    const base = await server.listen({ port: 0, host: '127.0.0.1' });
    const res = await fetch(`${base}/openapi.json`);
    const text = await res.text();
    assert.deepEqual(await lint(text, `${base}/openapi.json`), []);
    const doc = JSON.parse(text) as Document;
    const get = doc.paths['/things/{id}']!.get! as unknown as Record<string, unknown>;
    assert.equal(get.operationId, 'getThingsById');
    assert.deepEqual(get.security, []);
    assert.deepEqual(Object.keys(doc.paths['/things/{id}']!.get!.responses).sort(), ['200', '400', '500']);
  } finally {
    await server.close();
  }
});
