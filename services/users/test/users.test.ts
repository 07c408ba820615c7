import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestIssuer, type TestIssuer, USER_SCOPES } from '@portico/auth/testing';
import { loadConfig } from '@portico/config';
import { JSON_API_SECURITY_HEADERS, securityHeadersOf } from '@portico/http/testing';
import { databaseTargets } from '@portico/store/testing';
import { build, ConfigSchema, type UsersServer } from '../src/build.ts';

for (const makeTarget of databaseTargets()) {
  const target = makeTarget();
  describe(`users service (${target.name})`, () => {
    let server: UsersServer;
    let issuer: TestIssuer;
    let alice: Record<string, string>;
    let bob: Record<string, string>;
    let admin: Record<string, string>;

    const bearer = async (claims: Record<string, unknown>) => ({
      authorization: `Bearer ${await issuer.sign({ scope: USER_SCOPES, ...claims })}`,
    });

    before(async () => {
      issuer = await createTestIssuer();
      const config = loadConfig('users', ConfigSchema, {
        env: {},
        overrides: {
          databaseUrl: target.url,
          ...(target.schema ? { databaseSchema: target.schema } : {}),
          logLevel: 'silent',
        },
      });
      server = await build(config, { verifier: issuer.verifier });
      alice = await bearer({
        sub: 'sub-alice',
        roles: ['customer'],
        name: 'Alice Example',
        email: 'alice@example.com',
      });
      bob = await bearer({ sub: 'sub-bob', roles: ['customer'], preferred_username: 'bob' });
      admin = await bearer({ sub: 'sub-admin', roles: ['admin'] });
    });
    after(async () => {
      await server?.close();
      await target.cleanup();
    });

    test('GET /me creates the profile on the first call, from the token claims', async () => {
      const res = await server.inject({ url: '/api/v1/users/me', headers: alice });
      assert.equal(res.statusCode, 200);
      const body = res.json();
      assert.equal(body.data.id, 'sub-alice');
      assert.equal(body.data.display_name, 'Alice Example');
      assert.equal(body.data.email, 'alice@example.com');
      assert.equal(body.links.self, '/api/v1/users/sub-alice');
      assert.ok(res.headers.etag);
      const again = await server.inject({ url: '/api/v1/users/me', headers: alice });
      assert.equal(again.json().data.created_at, body.data.created_at);
      const cached = await server.inject({
        url: '/api/v1/users/me',
        headers: { ...alice, 'if-none-match': String(res.headers.etag) },
      });
      assert.equal(cached.statusCode, 304);
      const bobs = await server.inject({ url: '/api/v1/users/me', headers: bob });
      assert.equal(bobs.json().data.display_name, 'bob');
      assert.equal(bobs.json().data.email, null);
    });

    test('answers and problems carry the JSON-API security headers', async () => {
      const answers = {
        me: await server.inject({ url: '/api/v1/users/me', headers: alice }),
        problem: await server.inject({ url: '/api/v1/users/me' }),
        forbidden: await server.inject({ url: '/api/v1/users/sub-bob', headers: alice }),
      };
      assert.equal(answers.problem.statusCode, 401);
      for (const [answer, res] of Object.entries(answers))
        assert.deepEqual(securityHeadersOf(res.headers), JSON_API_SECURITY_HEADERS, answer);
    });

    test('a customer reads their own profile by id, not anyone else’s', async () => {
      await server.inject({ url: '/api/v1/users/me', headers: bob });
      const own = await server.inject({ url: '/api/v1/users/sub-alice', headers: alice });
      assert.equal(own.statusCode, 200);
      const other = await server.inject({ url: '/api/v1/users/sub-bob', headers: alice });
      assert.equal(other.statusCode, 403);
      assert.match(String(other.headers['content-type']), /^application\/problem\+json/);
      assert.equal(other.json().code, 'NOT_YOUR_PROFILE');
    });

    test('an admin reads any profile; an unknown id is a 404', async () => {
      await server.inject({ url: '/api/v1/users/me', headers: bob });
      const res = await server.inject({ url: '/api/v1/users/sub-bob', headers: admin });
      assert.equal(res.statusCode, 200);
      assert.equal(res.json().data.id, 'sub-bob');
      const missing = await server.inject({ url: '/api/v1/users/nobody', headers: admin });
      assert.equal(missing.statusCode, 404);
      assert.equal(missing.json().code, 'USER_NOT_FOUND');
    });

    test('PATCH /me changes display name and email; nothing else is writable', async () => {
      const res = await server.inject({
        method: 'PATCH',
        url: '/api/v1/users/me',
        headers: { ...alice, 'content-type': 'application/merge-patch+json' },
        payload: { display_name: 'Alice E.', email: 'a@example.org', id: 'ignored' },
      });
      assert.equal(res.statusCode, 200);
      assert.equal(res.json().data.display_name, 'Alice E.');
      assert.equal(res.json().data.email, 'a@example.org');
      assert.equal(res.json().data.id, 'sub-alice');

      const refused: Array<[object, string]> = [
        [{ roles: ['admin'] }, 'UNKNOWN_FIELD'],
        [{ sub: 'sub-bob' }, 'UNKNOWN_FIELD'],
        [{ display_name: 'x', is_admin: true }, 'UNKNOWN_FIELD'],
        [{ email: 'not an email' }, 'VALIDATION_ERROR'],
        [{ display_name: '' }, 'VALIDATION_ERROR'],
        [{ display_name: 42 }, 'VALIDATION_ERROR'],
      ];
      for (const [payload, code] of refused) {
        const bad = await server.inject({
          method: 'PATCH',
          url: '/api/v1/users/me',
          headers: alice,
          payload,
        });
        assert.equal(bad.statusCode, 400, JSON.stringify(payload));
        assert.equal(bad.json().code, code, JSON.stringify(payload));
      }
      const after = await server.inject({ url: '/api/v1/users/me', headers: alice });
      assert.equal(after.json().data.display_name, 'Alice E.');
    });

    test('PATCH with a stale If-Match is a 412; with the current ETag it applies', async () => {
      const current = await server.inject({ url: '/api/v1/users/me', headers: alice });
      const tag = String(current.headers.etag);
      const ok = await server.inject({
        method: 'PATCH',
        url: '/api/v1/users/me',
        headers: { ...alice, 'if-match': tag },
        payload: { display_name: 'Alice One' },
      });
      assert.equal(ok.statusCode, 200);
      const stale = await server.inject({
        method: 'PATCH',
        url: '/api/v1/users/me',
        headers: { ...alice, 'if-match': tag },
        payload: { display_name: 'Alice Two' },
      });
      assert.equal(stale.statusCode, 412);
      assert.equal(stale.json().code, 'PRECONDITION_FAILED');
    });

    test('no token is a 401 with WWW-Authenticate; a token without a user role is a 403', async () => {
      const none = await server.inject({ url: '/api/v1/users/me' });
      assert.equal(none.statusCode, 401);
      assert.match(String(none.headers['www-authenticate']), /^Bearer/);
      const forged = await server.inject({
        url: '/api/v1/users/me',
        headers: { authorization: `Bearer ${alice.authorization!.slice(7, -4)}AAAA` },
      });
      assert.equal(forged.statusCode, 401);
      const service = await server.inject({
        url: '/api/v1/users/me',
        headers: await bearer({ sub: 'portico-service', roles: [], client_id: 'portico-service' }),
      });
      assert.equal(service.statusCode, 403);
    });

    test('the OpenAPI document describes the users API', async () => {
      const res = await server.inject({ url: '/openapi.json' });
      const doc = res.json();
      assert.ok(doc.paths['/api/v1/users/me'].get);
      assert.ok(doc.paths['/api/v1/users/me'].patch);
      assert.ok(doc.paths['/api/v1/users/{id}'].get);
    });
  });
}
