/**
 * Signing keys from the admin API on real sockets: the list says which key signs, which is
 * next and from when, and which only verify; a rotation (MFA-guarded, audited) adds a key that
 * is published at once, by every replica reading the key file, and signs from its `signs_from`
 * without a restart; tokens signed by the old key still pass the admin API's own check.
 * Without a key file (keys in memory) a rotation is a 409 problem.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { databaseTargets } from '@portico/store/testing';
import { decodeProtectedHeader } from 'jose';
import * as client from 'openid-client';
import { createBrowser } from '../src/cli/browser.ts';
import { pkce, signInWeb, startIdentity, WEB, webClient } from './support/harness.ts';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by assertions, not by types
type Json = any;

// Seconds a rotated key is published before it signs: long enough to sign in once before it.
const DELAY = 6;

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

    test('rotate (audited): published at once, signs from signs_from without a restart, on every replica; old tokens still verify', async () => {
      const rotation = { activationDelaySeconds: DELAY, reloadSeconds: 1 };
      const first = await startIdentity(db, {
        keysFile,
        keyRotation: rotation,
        admin: { requireMfa: false },
      });
      const { issuer } = first;
      const jwksOf = async (at: string) =>
        ((await (await fetch(`${at}/jwks`)).json()) as { keys: Json[] }).keys.map((k) => k.kid);
      let replica: Awaited<ReturnType<typeof startIdentity>> | undefined;
      try {
        const admin = await signInWeb(issuer, first.login('admin'));
        const oldToken = admin.tokens.access_token;
        const oldKid = decodeProtectedHeader(oldToken).kid!;
        // A second replica on the same key file and database.
        replica = await startIdentity(db, { keysFile, keyRotation: rotation });

        assert.equal((await call(issuer, '/admin/keys', undefined)).status, 401);
        const customer = await signInWeb(issuer, first.login('alice'));
        const refused = await call(issuer, '/admin/keys/rotate', customer.tokens.access_token, 'POST');
        assert.equal(refused.status, 403);
        assert.match(refused.headers.get('content-type') ?? '', /application\/problem\+json/);

        const listed = (await (await call(issuer, '/admin/keys', oldToken)).json()) as Json;
        assert.equal(listed.data.length, 1);
        assert.equal(listed.data[0].kid, oldKid);
        assert.equal(listed.data[0].status, 'signing');
        assert.equal(listed.data[0].alg, 'RS256');
        assert.ok(!Number.isNaN(Date.parse(listed.data[0].created_at)));
        assert.ok(!('d' in listed.data[0]), 'no private key material');

        const asked = Date.now();
        const rotated = await call(issuer, '/admin/keys/rotate', oldToken, 'POST');
        assert.equal(rotated.status, 201);
        const body = (await rotated.json()) as Json;
        const added: string = body.added;
        const signsFrom = Date.parse(body.signs_from);
        assert.notEqual(added, oldKid);
        assert.deepEqual(body.removed, []);
        assert.ok(signsFrom >= asked + DELAY * 1000 - 1000, 'signs after the grace period');
        const byKid = Object.fromEntries(body.data.map((k: Json) => [k.kid, k]));
        assert.deepEqual(
          [byKid[added].status, byKid[added].published, byKid[added].signs_from],
          ['next', true, body.signs_from],
        );
        assert.equal(byKid[oldKid].status, 'signing');
        // Published here at once, the signing key first; the other replica within its reload time.
        assert.deepEqual(await jwksOf(issuer), [oldKid, added]);
        const deadline = Date.now() + 20_000;
        while (!(await jwksOf(replica.issuer)).includes(added) && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 200));
        assert.deepEqual(await jwksOf(replica.issuer), [oldKid, added]);

        // Signed before signs_from: the old key; after it: the new one, on both replicas.
        const kidOfNewToken = async (at: Awaited<ReturnType<typeof startIdentity>>) => {
          // Demo passwords are made on the first start only: the replica's accounts are the same.
          const { tokens } = await signInWeb(at.issuer, first.login('admin'));
          return { kid: decodeProtectedHeader(tokens.access_token).kid, iat: tokens.claims()!.iat, tokens };
        };
        const early = await kidOfNewToken(first);
        assert.equal(early.kid, early.iat * 1000 < signsFrom - 1000 ? oldKid : early.kid);
        while (Date.now() < signsFrom + 1500) await new Promise((r) => setTimeout(r, 200));
        const late = await kidOfNewToken(first);
        assert.equal(late.kid, added, 'the new key signs without a restart');
        assert.equal((await kidOfNewToken(replica)).kid, added, 'on the other replica too');
        assert.deepEqual(await jwksOf(issuer), [added, oldKid], 'the old key stays published');

        // The admin API takes tokens signed by either key.
        assert.equal((await call(issuer, '/admin/keys', oldToken)).status, 200);
        const after = (await (await call(issuer, '/admin/keys', late.tokens.access_token)).json()) as Json;
        assert.deepEqual(
          after.data.map((k: Json) => [k.kid, k.status, k.published, k.stored]),
          [
            [added, 'signing', true, true],
            [oldKid, 'verifying', true, true],
          ],
        );

        const audit = (await (await call(issuer, '/admin/audit?limit=10', oldToken)).json()) as Json;
        const entry = audit.data.find((e: Json) => e.action === 'key.rotate');
        assert.ok(entry, 'rotation audited');
        assert.equal(entry.target, added);
        assert.equal(entry.detail.signs_from, body.signs_from);
        assert.equal(entry.actor, admin.tokens.claims()!.sub);
        assert.equal(entry.ip, '127.0.0.1');
        assert.equal(entry.detail.user_agent, 'keys-test');
      } finally {
        await replica?.close();
        await first.close();
      }
    });

    test('a sign-in begun before the provider is rebuilt with new keys ends after it', async () => {
      const file = join(dir, 'span-keys.json');
      const spanTarget = makeTarget();
      const running = await startIdentity(spanTarget, {
        keysFile: file,
        keyRotation: { activationDelaySeconds: 0, reloadSeconds: 30 },
        admin: { requireMfa: false },
      });
      try {
        const admin = await signInWeb(running.issuer, running.login('admin'));
        const oldKid = decodeProtectedHeader(admin.tokens.access_token).kid;
        const web = await webClient(running.issuer);
        const p = await pkce();
        const browser = createBrowser();
        const started = await browser.request(
          client.buildAuthorizationUrl(web, {
            redirect_uri: WEB.redirect,
            scope: 'openid offline_access orders:read',
            code_challenge: p.challenge,
            code_challenge_method: 'S256',
            state: p.state,
          }),
        );
        const interaction = new URL(started.headers.get('location')!, running.issuer);
        assert.match(interaction.pathname, /^\/interaction\//);

        // No grace period: this replica rebuilds its provider at once, with the new key signing.
        const rotated = await call(running.issuer, '/admin/keys/rotate', admin.tokens.access_token, 'POST');
        const { added } = (await rotated.json()) as Json;
        assert.notEqual(added, oldKid);

        const callback = await browser.authorize(interaction, WEB.redirect, running.login('alice'));
        const tokens = await client.authorizationCodeGrant(web, callback, {
          pkceCodeVerifier: p.verifier,
          expectedState: p.state,
        });
        assert.equal(decodeProtectedHeader(tokens.access_token).kid, added);
        assert.equal(decodeProtectedHeader(tokens.id_token!).kid, added);
        // The refresh token made by the new instance refreshes, and so does the admin's from the old one.
        // (Through `web`: `admin.config` cached the JWKS before the rotation, and with no grace
        // period it meets the new kid first — the very case `activationDelaySeconds` is there for.)
        await client.refreshTokenGrant(web, tokens.refresh_token!);
        await client.refreshTokenGrant(web, admin.tokens.refresh_token!);
      } finally {
        await running.close();
        await spanTarget.cleanup();
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
