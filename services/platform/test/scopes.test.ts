/**
 * Scopes, generated from the routes' own declarations rather than a hand list: every scoped
 * route of every resource service refuses an anonymous call (401) and a token lacking its
 * scope or role (403 insufficient_scope) before its body is read; docs/scopes.md is current;
 * each operation's OpenAPI `security` names its scope (openapi-lint.test.ts checks the documents whole).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { declaredRoutes, isPublic } from '@portico/auth';
import { ADMIN_SCOPES, createTestIssuer, type TestIssuer } from '@portico/auth/testing';
import type { FastifyInstance } from 'fastify';
import { buildScoped, declarations, SCOPED_SERVICES, SCOPES_DOC, scopeTable } from '../src/scopes.ts';

const ROLES = ['admin', 'customer'];
const pathOf = (url: string) => url.replace(/:\w+/g, 'no-such-id');

test('docs/scopes.md is the table generated from the declarations (npm run -s docs:scopes)', async () => {
  assert.equal(readFileSync(SCOPES_DOC, 'utf8'), scopeTable(await declarations()));
});

describe('every declared scoped route, on a real socket', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-scopes-'));
  const running = new Map<string, { server: FastifyInstance; base: string }>();
  let issuer: TestIssuer;

  before(async () => {
    issuer = await createTestIssuer();
    for (const name of SCOPED_SERVICES) {
      const server = await buildScoped(name, { dir, verifier: issuer.verifier });
      const address = await server.listen({ port: 0, host: '127.0.0.1' });
      running.set(name, { server, base: address });
    }
  });
  after(async () => {
    for (const { server } of running.values()) await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('anonymous → 401, lacking the scope → 403 insufficient_scope, lacking the role → 403, whatever the body', async () => {
    let checked = 0;
    for (const [name, { server, base }] of running) {
      const routes = declaredRoutes(server);
      const every = new Set([
        ...ADMIN_SCOPES.split(' '),
        ...routes.flatMap((r) => ('scope' in r.access ? [r.access.scope] : [])),
      ]);
      for (const { method, url, access } of routes) {
        const call = async (authorization?: string) => {
          const res = await fetch(`${base}${pathOf(url)}`, {
            method,
            headers: {
              ...(authorization ? { authorization: `Bearer ${authorization}` } : {}),
              ...(method === 'GET' ? {} : { 'content-type': 'application/json' }),
            },
            // A body the schema would refuse: authentication must answer first.
            body: method === 'GET' ? undefined : '{"not_a_field": true}',
          });
          const text = await res.text();
          const code = text.startsWith('{') ? (JSON.parse(text) as { code?: string }).code : undefined;
          return { status: res.status, code, www: res.headers.get('www-authenticate') };
        };
        const where = `${name} ${method} ${url}`;
        if (isPublic(access)) {
          assert.notEqual((await call()).status, 401, `${where} is public`);
          continue;
        }
        const anonymous = await call();
        assert.equal(anonymous.status, 401, where);
        assert.equal(anonymous.www, 'Bearer realm="portico"', where);

        const others = [...every].filter((s) => s !== access.scope).join(' ');
        const lacking = await call(await issuer.sign({ sub: 'someone', roles: ROLES, scope: others }));
        assert.equal(lacking.status, 403, `${where} without ${access.scope}`);
        assert.match(String(lacking.www), /error="insufficient_scope"/, where);
        assert.match(String(lacking.www), new RegExp(`scope="${access.scope}"`), where);

        if (access.roles) {
          const roleless = await call(
            await issuer.sign({ sub: 'someone', roles: ['nobody'], scope: access.scope }),
          );
          assert.equal(roleless.status, 403, `${where} without role ${access.roles.join('/')}`);
        }
        const granted = await call(
          await issuer.sign({
            sub: 'someone',
            roles: access.roles ? [...access.roles] : ROLES,
            scope: access.scope,
          }),
        );
        // Past the check, the route's own rules answer (validation, 404, ownership), never the token's.
        assert.notEqual(granted.status, 401, where);
        assert.notEqual(granted.code, 'INSUFFICIENT_SCOPE', where);
        checked += 1;
      }
    }
    assert.ok(checked >= 20, `checked ${checked} scoped routes`);
  });

  test('each operation names its scope in OpenAPI `security`, under a declared scheme', async () => {
    for (const [name, { server, base }] of running) {
      const res = await fetch(`${base}/openapi.json`);
      assert.equal(res.status, 200, name);
      const doc = (await res.json()) as {
        components: { securitySchemes: Record<string, unknown> };
        paths: Record<string, Record<string, { security?: Array<Record<string, string[]>> }>>;
      };
      for (const { method, url, access } of declaredRoutes(server)) {
        const openapiPath = url.replace(/:(\w+)/g, '{$1}');
        const operation = doc.paths[openapiPath]?.[method.toLowerCase()];
        if (url === '/graphql') continue; // hidden from the REST document
        assert.ok(operation, `${name} ${method} ${url} is documented`);
        const expected = !isPublic(access)
          ? [{ oauth2: [access.scope] }]
          : access.token === 'optional'
            ? [{}, { bearer: [] }]
            : [];
        assert.deepEqual(operation.security, expected, `${name} ${method} ${url}`);
        for (const requirement of operation.security ?? []) {
          for (const scheme of Object.keys(requirement))
            assert.ok(doc.components.securitySchemes[scheme], scheme);
          // The scope is one a client can ask identity for in the scheme's OAuth 2.0 flows.
          if (!isPublic(access)) {
            const flows = (
              doc.components.securitySchemes.oauth2 as { flows: Record<string, { scopes: object }> }
            ).flows;
            for (const flow of Object.values(flows)) assert.ok(access.scope in flow.scopes, access.scope);
          }
        }
      }
    }
  });
});
