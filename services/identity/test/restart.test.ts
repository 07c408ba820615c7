/**
 * What must survive a restart: grants and refresh tokens (they are in the database),
 * and the signing keys (in the key file). Key rotation keeps tokens signed with the
 * old key verifiable, because the old key stays in the JWKS.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createTokenVerifier } from '@portico/auth';
import { databaseTargets } from '@portico/store/testing';
import { decodeProtectedHeader } from 'jose';
import * as client from 'openid-client';
import { createBrowser } from '../src/cli/browser.ts';
import { readKeys, rotateKeys } from '../src/oidc/keys.ts';
import { API_SCOPES, pkce, startIdentity, WEB, webClient } from './support/harness.ts';

describe('key rotation bookkeeping', () => {
  test('a new key goes first; superseded keys stay for the retention time, then go', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portico-keys-'));
    try {
      const file = join(dir, 'keys.json');
      const { loadKeys } = await import('../src/oidc/keys.ts');
      const first = await loadKeys(file);
      assert.equal(first.created, true);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      const k0 = first.jwks.keys[0]!.kid!;
      const t0 = new Date();
      const r1 = await rotateKeys(file, { retainSeconds: 3600, now: t0 });
      assert.deepEqual(r1.kept, [r1.added, k0]);
      // An hour and a bit after k1 replaced k0, rotating again drops k0.
      const r2 = await rotateKeys(file, { retainSeconds: 3600, now: new Date(t0.getTime() + 3_700_000) });
      assert.equal(r2.kept[0], r2.added);
      assert.ok(r2.kept.includes(r1.added));
      const reloaded = await loadKeys(file);
      assert.equal(reloaded.created, false);
      // r2's key signs from its time, an hour ahead: until then r1's key signs, first in the JWKS.
      assert.deepEqual(
        reloaded.jwks.keys.map((k) => k.kid),
        [r1.added, r2.added],
      );
      assert.equal(r2.removed.length + r2.kept.length, 3);

      // With a grace period the new key is published at once and signs from `signs_from`.
      const t3 = new Date(t0.getTime() + 7_400_000);
      const r3 = await rotateKeys(file, { retainSeconds: 3600, activationDelaySeconds: 600, now: t3 });
      assert.equal(Date.parse(r3.signsFrom), t3.getTime() + 600_000);
      const during = readKeys(file, t3.getTime() + 599_000);
      assert.equal(during.jwks.keys[0]!.kid, r2.added);
      assert.ok(during.jwks.keys.some((k) => k.kid === r3.added));
      assert.equal(during.nextChange, t3.getTime() + 600_000);
      const afterwards = readKeys(file, t3.getTime() + 600_000);
      assert.equal(afterwards.jwks.keys[0]!.kid, r3.added);
      assert.equal(afterwards.nextChange, null);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

for (const makeTarget of databaseTargets()) {
  const target = makeTarget();
  describe(`restart (${target.name})`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'portico-identity-'));
    const db = target.name === 'sqlite' ? { url: `sqlite:${join(dir, 'identity.db')}` } : target;
    const keysFile = join(dir, 'keys.json');
    after(async () => {
      await target.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    test('refresh tokens survive a restart; after a key rotation old tokens still verify', async () => {
      const first = await startIdentity(db, { keysFile });
      const alice = first.login('alice');
      const issuer = first.issuer;
      const port = first.config.port;
      const p = await pkce();
      const web = await webClient(issuer);
      const callback = await createBrowser().authorize(
        client.buildAuthorizationUrl(web, {
          redirect_uri: WEB.redirect,
          scope: `openid offline_access ${API_SCOPES}`,
          prompt: 'consent',
          code_challenge: p.challenge,
          code_challenge_method: 'S256',
          state: p.state,
        }),
        WEB.redirect,
        alice,
      );
      const tokens = await client.authorizationCodeGrant(web, callback, {
        pkceCodeVerifier: p.verifier,
        expectedState: p.state,
      });
      const oldKid = decodeProtectedHeader(tokens.access_token).kid;
      await first.close();

      const rotation = await rotateKeys(keysFile, { retainSeconds: 3600 });
      // Same issuer (same port) as before: a restart, not a new provider.
      const second = await startIdentity(db, { keysFile, port, issuer });
      try {
        assert.equal(second.issuer, issuer);
        const verifier = createTokenVerifier({
          issuer,
          audience: 'http://localhost:8000',
          jwksUri: `${issuer}/jwks`,
        });
        const jwks = (await (await fetch(`${issuer}/jwks`)).json()) as {
          keys: Array<{ kid: string; d?: string }>;
        };
        assert.deepEqual(
          jwks.keys.map((k) => k.kid),
          [rotation.added, oldKid],
        );
        assert.ok(
          jwks.keys.every((k) => k.d === undefined),
          'the JWKS publishes public keys only',
        );

        // The token signed before the rotation still verifies.
        assert.equal((await verifier.verify(tokens.access_token)).sub, tokens.claims()!.sub);
        // The refresh token from before the restart works, and new tokens use the new key.
        const web2 = await webClient(issuer);
        const refreshed = await client.refreshTokenGrant(web2, tokens.refresh_token!);
        assert.equal(decodeProtectedHeader(refreshed.access_token).kid, rotation.added);
        assert.equal((await verifier.verify(refreshed.access_token)).sub, tokens.claims()!.sub);
      } finally {
        await second.close();
      }
    });
  });
}
