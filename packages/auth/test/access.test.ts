import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createServer, type Server } from '@portico/http';
import { declaredRoutes, enforceAccess, needs, PUBLIC, PUBLIC_OPTIONAL_TOKEN } from '../src/index.ts';
import { createTestIssuer, type TestIssuer } from '../src/testing.ts';

describe('route access declarations', () => {
  let issuer: TestIssuer;
  let server: Server;
  let base: string;
  const Body = {
    type: 'object',
    properties: { name: { type: 'string' } },
    required: ['name'],
    additionalProperties: false,
  };

  before(async () => {
    issuer = await createTestIssuer();
    server = await createServer({ name: 'access-test', logLevel: false });
    enforceAccess(server, issuer.verifier);
    server.get('/open', { config: { access: PUBLIC } }, async () => ({ ok: true }));
    server.get('/maybe', { config: { access: PUBLIC_OPTIONAL_TOKEN } }, async (request) => ({
      sub: request.auth?.sub ?? null,
    }));
    server.get('/things', { config: { access: needs('things:read') } }, async (request) => ({
      sub: request.auth?.sub,
    }));
    server.post(
      '/things',
      { config: { access: needs('things:write', { roles: ['admin'] }) }, schema: { body: Body } },
      async () => ({ created: true }),
    );
    server.delete(
      '/things/:id',
      { config: { access: needs('things:write', { roles: ['admin'], mfa: true }) } },
      async () => ({ deleted: true }),
    );
    base = await server.listen({ port: 0, host: '127.0.0.1' });
  });
  after(() => server.close());

  const call = async (
    method: string,
    path: string,
    init: { token?: string; body?: string; type?: string } = {},
  ) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
        ...(init.body !== undefined ? { 'content-type': init.type ?? 'application/json' } : {}),
      },
      body: init.body,
    });
    const text = await res.text();
    return {
      status: res.status,
      body: text ? JSON.parse(text) : undefined,
      www: res.headers.get('www-authenticate'),
    };
  };

  test('mfa: true needs a two-factor sign-in (amr has mfa), else the RFC 9470 step-up error', async () => {
    const admin = (amr: string[]) => issuer.sign({ sub: 'a', roles: ['admin'], scope: 'things:write', amr });
    const refused = await call('DELETE', '/things/1', { token: await admin(['pwd']) });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.code, 'INSUFFICIENT_USER_AUTHENTICATION');
    assert.match(refused.www ?? '', /error="insufficient_user_authentication"/);
    assert.match(refused.www ?? '', /acr_values="urn:portico:acr:mfa"/);
    const noAmr = await call('DELETE', '/things/1', {
      token: await issuer.sign({ sub: 'a', roles: ['admin'], scope: 'things:write' }),
    });
    assert.equal(noAmr.status, 403);
    assert.deepEqual(
      (await call('DELETE', '/things/1', { token: await admin(['pwd', 'otp', 'mfa']) })).body,
      {
        deleted: true,
      },
    );
    // The scope and role still come first.
    const customer = await issuer.sign({
      sub: 'c',
      roles: ['customer'],
      scope: 'things:write',
      amr: ['mfa'],
    });
    assert.equal((await call('DELETE', '/things/1', { token: customer })).body.code, 'INSUFFICIENT_SCOPE');
    assert.deepEqual(
      declaredRoutes(server).find((r) => r.method === 'DELETE')?.access,
      needs('things:write', { roles: ['admin'], mfa: true }),
    );
  });

  test('a route registered without a declaration stops the service from starting', async () => {
    const other = await createServer({ name: 'access-test', logLevel: false });
    enforceAccess(other, issuer.verifier);
    assert.throws(() => other.get('/forgotten', async () => ({})), /GET \/forgotten declares no access/);
    await other.close();
  });

  test('public routes answer anyone; an optional token is still verified when sent', async () => {
    assert.equal((await call('GET', '/open', { token: 'not-a-token' })).status, 200);
    assert.deepEqual((await call('GET', '/maybe')).body, { sub: null });
    assert.equal((await call('GET', '/maybe', { token: 'not.a.token' })).status, 401);
    const token = await issuer.sign({ sub: 'u1' });
    assert.deepEqual((await call('GET', '/maybe', { token })).body, { sub: 'u1' });
  });

  test('the scope is required; HEAD is checked like GET', async () => {
    assert.equal((await call('GET', '/things')).status, 401);
    assert.equal((await call('HEAD', '/things')).status, 401);
    const without = await call('GET', '/things', {
      token: await issuer.sign({ sub: 'u1', scope: 'things:write' }),
    });
    assert.equal(without.status, 403);
    assert.equal(without.body.code, 'INSUFFICIENT_SCOPE');
    assert.match(String(without.www), /error="insufficient_scope".*scope="things:read"/);
    const ok = await call('GET', '/things', {
      token: await issuer.sign({ sub: 'u1', scope: 'openid things:read' }),
    });
    assert.deepEqual([ok.status, ok.body], [200, { sub: 'u1' }]);
  });

  test('authentication answers before the body is parsed or validated', async () => {
    for (const [body, type] of [
      ['{"unknown": 1}', 'application/json'],
      ['{not json', 'application/json'],
      ['name=x', 'application/x-www-form-urlencoded'],
    ] as const) {
      assert.equal((await call('POST', '/things', { body, type })).status, 401, body);
      const customer = await issuer.sign({ sub: 'c', roles: ['customer'], scope: 'things:write' });
      assert.equal((await call('POST', '/things', { token: customer, body, type })).status, 403, body);
    }
    const admin = await issuer.sign({ sub: 'a', roles: ['admin'], scope: 'things:write' });
    assert.equal((await call('POST', '/things', { token: admin, body: '{"unknown": 1}' })).status, 400);
    assert.equal((await call('POST', '/things', { token: admin, body: '{"name": "x"}' })).status, 200);
  });

  test('declaredRoutes lists every declaration once (HEAD twins left out)', () => {
    assert.deepEqual(
      declaredRoutes(server).map((r) => `${r.method} ${r.url}`),
      ['GET /open', 'GET /maybe', 'GET /things', 'POST /things', 'DELETE /things/:id'],
    );
  });
});
