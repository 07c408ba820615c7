/**
 * What a reader of identity's storage finds: no authorization code, refresh token, session
 * id or interaction id it could present — each is kept under its SHA-256 — on a SQLite file
 * (mode 0600), on PostgreSQL and on Redis; and the flows still work from the hashes. TOTP keys
 * are kept sealed and recovery codes as HMACs.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { openDatabase, secretKey } from '@portico/store/sql';
import { Redis } from 'ioredis';
import * as client from 'openid-client';
import { createBrowser } from '../src/cli/browser.ts';
import type { IdentityDatabase } from '../src/data/schema.ts';
import {
  enrol,
  type RunningIdentity,
  startIdentity,
  storageTargets,
  WEB,
  webClient,
} from './support/harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'portico-identity-secrets-'));
after(() => rmSync(dir, { recursive: true, force: true }));

for (const storage of storageTargets()) {
  describe(`secrets at rest (${storage.name})`, () => {
    const file = join(dir, `${storage.name}.db`);
    const database = storage.target.url === 'sqlite::memory:' ? { url: `sqlite:${file}` } : storage.target;

    /** Everything identity stored, as text: the SQL rows, or every Redis key and value. */
    async function dump(identity: RunningIdentity): Promise<string> {
      const redis = identity.config.redis;
      if (storage.name === 'redis') {
        const conn = new Redis(redis.url);
        try {
          const keys = await conn.keys(`${redis.keyPrefix}*`);
          const parts: string[] = [...keys];
          for (const key of keys) {
            const type = await conn.type(key);
            if (type === 'hash') parts.push(JSON.stringify(await conn.hgetall(key)));
            else if (type === 'string') parts.push(String(await conn.get(key)));
            else if (type === 'list') parts.push(...(await conn.lrange(key, 0, -1)));
          }
          return parts.join('\n');
        } finally {
          await conn.quit();
        }
      }
      const db = openDatabase<IdentityDatabase>({ url: database.url, schema: storage.target.schema });
      try {
        return JSON.stringify(await db.db.selectFrom('oidc_models').selectAll().execute());
      } finally {
        await db.close();
      }
    }

    /** The demo admin's login, made by the first start on this storage. */
    let adminLogin: { username: string; password: string } | undefined;

    test('no code, refresh token or session id is readable in storage; refresh works from the hash', async () => {
      const identity = await startIdentity(database, storage.overrides);
      adminLogin = identity.login('admin');
      try {
        const config = await webClient(identity.issuer);
        const verifier = client.randomPKCECodeVerifier();
        const url = client.buildAuthorizationUrl(config, {
          redirect_uri: WEB.redirect,
          scope: 'openid offline_access catalog:read',
          code_challenge: await client.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
        });
        const browser = createBrowser();
        const callback = await browser.authorize(url, WEB.redirect, identity.login('alice'));
        const code = callback.searchParams.get('code')!;
        const before = await dump(identity);
        assert.ok(before.includes(secretKey(code)), 'the code is stored under its hash');
        assert.ok(!before.includes(code), 'the code itself is not stored');

        const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier });
        const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
        assert.ok(refreshed.access_token);
        const session = browser.cookies().get('_session');
        assert.ok(session, 'the browser holds a session cookie');

        const after = await dump(identity);
        for (const [what, secret] of [
          ['first refresh token', tokens.refresh_token!],
          ['rotated refresh token', refreshed.refresh_token!],
          ['session id', session!],
          ['authorization code', code],
        ] as const) {
          assert.ok(!after.includes(secret), `${what} is not readable in storage`);
        }
        assert.ok(after.includes(secretKey(refreshed.refresh_token!)), 'the refresh token is kept by hash');
        if (storage.name === 'sqlite') assert.equal(statSync(file).mode & 0o777, 0o600);
      } finally {
        await identity.close();
      }
    });

    test('no TOTP key or recovery code is readable in the accounts database', async () => {
      assert.ok(adminLogin, 'the first test started identity on this storage');
      const identity = await startIdentity(database, storage.overrides);
      try {
        const { secret, recoveryCodes } = await enrol(identity, adminLogin);
        const db = openDatabase<IdentityDatabase>({ url: database.url, schema: storage.target.schema });
        let stored: string;
        try {
          stored = JSON.stringify([
            await db.db.selectFrom('totp_authenticators').selectAll().execute(),
            await db.db.selectFrom('recovery_codes').selectAll().execute(),
            await db.db.selectFrom('account_tokens').selectAll().execute(),
          ]);
        } finally {
          await db.close();
        }
        assert.match(stored, /"secret_sealed":"v1\./);
        for (const value of [
          secret,
          secret.toLowerCase(),
          ...recoveryCodes,
          ...recoveryCodes.map((c) => c.replaceAll('-', '')),
        ])
          assert.ok(!stored.includes(value), `${value} is not readable in storage`);
        assert.equal((stored.match(/"code_hash"/g) ?? []).length, 10);
      } finally {
        await identity.close();
      }
    });
  });
}
