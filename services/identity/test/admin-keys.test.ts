/**
 * Signing keys from the admin API on real sockets: the list says which key signs and which
 * only verify; a rotation (MFA-guarded, audited) adds a key that signs from the next start,
 * and after that restart tokens signed by the old key still pass the admin API's own check.
 * Without a key file (keys in memory) a rotation is a 409 problem.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { databaseTargets } from '@portico/store/testing';
import { decodeProtectedHeader } from 'jose';
import { signInWeb, startIdentity } from './helpers.ts';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by assertions, not by types
type Json = any;

const call = (issuer: string, path: string, token: string | undefined, method = 'GET') =>
  fetch(new URL(path, issuer), {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'user-agent': 'keys-test' },
  });

for (const makeTarget of databaseTargets()) {
  const target = makeTarget();
  describe(`admin signing keys (${target.name})`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'portico-admin-keys-'));
    const db = target.name === 'sqlite' ? { url: `sqlite:${join(dir, 'identity.db')}` } : target;
    const keysFile = join(dir, 'keys.json');
    after(async () => {
      await target.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    test('list, rotate (MFA, audited), the new key signs after a restart, old tokens still verify', async () => {
      const first = await startIdentity(db, { keysFile, admin: { requireMfa: false } });
      const { issuer } = first;
      const port = first.config.port;
      let oldToken: string;
      let oldKid: string;
      let added: string;
      // Demo passwords are made on the first start only.
      const adminLogin = first.login('admin');
      try {
        const admin = await signInWeb(issuer, first.login('admin'));
        oldToken = admin.tokens.access_token;
        oldKid = decodeProtectedHeader(oldToken).kid!;

        assert.equal((await call(issuer, '/admin/keys', undefined)).status, 401);
        const customer = await signInWeb(issuer, first.login('alice'));
        const refused = await call(issuer, '/admin/keys/rotate', customer.tokens.access_token, 'POST');
        assert.equal(refused.status, 403);
        assert.match(refused.headers.get('content-type') ?? '', /application\/problem\+json/);

        const listed = (await (await call(issuer, '/admin/keys', oldToken)).json()) as Json;
        assert.equal(listed.restart_required, false);
        assert.equal(listed.data.length, 1);
        assert.equal(listed.data[0].kid, oldKid);
        assert.equal(listed.data[0].status, 'signing');
        assert.equal(listed.data[0].alg, 'RS256');
        assert.ok(!Number.isNaN(Date.parse(listed.data[0].created_at)));
        assert.ok(!('d' in listed.data[0]), 'no private key material');

        const rotated = await call(issuer, '/admin/keys/rotate', oldToken, 'POST');
        assert.equal(rotated.status, 201);
        const body = (await rotated.json()) as Json;
        added = body.added;
        assert.notEqual(added, oldKid);
        assert.deepEqual(body.removed, []);
        assert.equal(body.restart_required, true);
        const byKid = Object.fromEntries(body.data.map((k: Json) => [k.kid, k]));
        assert.equal(byKid[added].status, 'next');
        assert.equal(byKid[added].published, false);
        assert.equal(byKid[oldKid].status, 'signing');

        // This process keeps signing with the key it started with (oidc-provider's keystore is fixed).
        const again = await signInWeb(issuer, first.login('admin'));
        assert.equal(decodeProtectedHeader(again.tokens.access_token).kid, oldKid);

        const audit = (await (await call(issuer, '/admin/audit?limit=10', oldToken)).json()) as Json;
        const entry = audit.data.find((e: Json) => e.action === 'key.rotate');
        assert.ok(entry, 'rotation audited');
        assert.equal(entry.target, added);
        assert.equal(entry.actor, admin.tokens.claims()!.sub);
        assert.equal(entry.ip, '127.0.0.1');
        assert.equal(entry.detail.user_agent, 'keys-test');
      } finally {
        await first.close();
      }

      const second = await startIdentity(db, { keysFile, port, issuer, admin: { requireMfa: false } });
      try {
        const listed = (await (await call(issuer, '/admin/keys', oldToken)).json()) as Json;
        assert.equal(listed.restart_required, false, 'the old token verifies against the kept key');
        assert.deepEqual(
          listed.data.map((k: Json) => [k.kid, k.status, k.published]),
          [
            [added, 'signing', true],
            [oldKid, 'verifying', true],
          ],
        );
        const fresh = await signInWeb(issuer, adminLogin);
        assert.equal(decodeProtectedHeader(fresh.tokens.access_token).kid, added);
        const jwks = (await (await fetch(`${issuer}/jwks`)).json()) as { keys: Json[] };
        assert.deepEqual(jwks.keys.map((k) => k.kid).sort(), [added, oldKid].sort());
      } finally {
        await second.close();
      }
    });

    test('a key file that cannot be written (a mounted secret): 409 problem, the file unchanged', async () => {
      const roDir = mkdtempSync(join(tmpdir(), 'portico-ro-keys-'));
      const roTarget = makeTarget();
      const file = join(roDir, 'keys.json');
      const running = await startIdentity(roTarget, { keysFile: file, admin: { requireMfa: false } });
      try {
        const before = readFileSync(file, 'utf8');
        // The rotation writes `<file>.<pid>.tmp` then renames it; a directory in the way makes the write fail
        // (permissions would not, for root), as a read-only mount does.
        mkdirSync(`${file}.${process.pid}.tmp`);
        const { tokens } = await signInWeb(running.issuer, running.login('admin'));
        const res = await call(running.issuer, '/admin/keys/rotate', tokens.access_token, 'POST');
        assert.equal(res.status, 409);
        const problem = (await res.json()) as Json;
        assert.equal(problem.code, 'KEYS_NOT_WRITABLE');
        assert.match(problem.detail, /rotate-keys\.ts/);
        assert.equal(readFileSync(file, 'utf8'), before);
      } finally {
        await running.close();
        await roTarget.cleanup();
        rmSync(roDir, { recursive: true, force: true });
      }
    });

    test('keys in memory only: listed, and a rotation is a 409 problem; writes need MFA by default', async () => {
      const memTarget = makeTarget();
      const running = await startIdentity(memTarget, { admin: { requireMfa: false } });
      try {
        const { tokens } = await signInWeb(running.issuer, running.login('admin'));
        const listed = (await (
          await call(running.issuer, '/admin/keys', tokens.access_token)
        ).json()) as Json;
        assert.deepEqual(
          listed.data.map((k: Json) => [k.status, k.stored, k.published]),
          [['signing', false, true]],
        );
        const res = await call(running.issuer, '/admin/keys/rotate', tokens.access_token, 'POST');
        assert.equal(res.status, 409);
        assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
        assert.equal(((await res.json()) as Json).code, 'KEYS_IN_MEMORY');
      } finally {
        await running.close();
        await memTarget.cleanup();
      }
      const strict = makeTarget();
      const guarded = await startIdentity(strict, { keysFile: join(dir, 'strict-keys.json') });
      try {
        const { tokens } = await signInWeb(guarded.issuer, guarded.login('admin'));
        assert.equal((await call(guarded.issuer, '/admin/keys', tokens.access_token)).status, 200);
        const res = await call(guarded.issuer, '/admin/keys/rotate', tokens.access_token, 'POST');
        assert.equal(res.status, 403, 'a password-only admin token cannot rotate');
        const make = await fetch(new URL('/admin/clients', guarded.issuer), {
          method: 'POST',
          headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            client_name: 'x',
            type: 'public',
            redirect_uris: ['https://x.example/cb'],
            scope: 'openid',
          }),
        });
        assert.equal(make.status, 403, 'nor make a client');
      } finally {
        await guarded.close();
        await strict.cleanup();
      }
    });
  });
}
