/**
 * DPoP server nonces at the token endpoint (RFC 9449 §8), on real sockets: a proof without the
 * server's nonce is answered 400 `use_dpop_nonce` with a `DPoP-Nonce` header, a made-up nonce
 * too, and a proof carrying the nonce given gets the bound token; the CLI's code flow
 * (openid-client) retries with the nonce by itself. `dpop.requireNonce: false` asks for none.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { databaseTargets } from '@portico/store/testing';
import { decodeJwt } from 'jose';
import { dpopProof, loadOrCreateDpopKey } from '../src/cli/dpop-key.ts';
import { obtainToken } from '../src/cli/token-flow.ts';
import { CLI, type RunningIdentity, SERVICE_SECRET, startIdentity } from './support/harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'portico-dpop-nonce-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A client-credentials token request as `portico-service` with a DPoP proof carrying `nonce`. */
async function tokenRequest(identity: RunningIdentity, nonce?: string) {
  const key = await loadOrCreateDpopKey(join(dir, 'service-key.json'));
  const url = new URL('/token', identity.issuer).href;
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`portico-service:${SERVICE_SECRET}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
      dpop: await dpopProof(key, { method: 'POST', url, ...(nonce ? { nonce } : {}) }),
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'catalog:read' }),
  });
  return { res, body: (await res.json()) as Record<string, unknown> };
}

describe('DPoP nonces required at the token endpoint (the default)', () => {
  const target = databaseTargets()[0]!();
  let identity: RunningIdentity;
  before(async () => {
    identity = await startIdentity(target, { demoAccounts: true });
  });
  after(async () => {
    await identity?.close();
    await target.cleanup();
  });

  test('a proof without the nonce, or with a made-up one, is told use_dpop_nonce; with it, the token', async () => {
    const first = await tokenRequest(identity);
    assert.equal(first.res.status, 400);
    assert.equal(first.body.error, 'use_dpop_nonce');
    const nonce = first.res.headers.get('dpop-nonce');
    assert.ok(nonce, 'the nonce to use, in DPoP-Nonce');

    const madeUp = await tokenRequest(identity, 'made-up-nonce');
    assert.equal(madeUp.res.status, 400);
    assert.equal(madeUp.body.error, 'use_dpop_nonce');
    assert.ok(madeUp.res.headers.get('dpop-nonce'));

    const granted = await tokenRequest(identity, nonce);
    assert.equal(granted.res.status, 200, JSON.stringify(granted.body));
    assert.equal(String(granted.body.token_type).toLowerCase(), 'dpop');
    const claims = decodeJwt(String(granted.body.access_token)) as { cnf?: { jkt?: string } };
    assert.ok(claims.cnf?.jkt, 'bound to the key');
  });

  test("the CLI's code flow answers use_dpop_nonce with the nonce and gets its bound token", async () => {
    const tokens = await obtainToken({
      issuer: identity.issuer,
      clientId: CLI.id,
      redirectUri: CLI.redirect,
      scope: 'openid users:read',
      credentials: identity.login('alice'),
      dpop: await loadOrCreateDpopKey(join(dir, 'cli-key.json')),
    });
    assert.equal(tokens.token_type.toLowerCase(), 'dpop');
    assert.ok((decodeJwt(tokens.access_token) as { cnf?: { jkt?: string } }).cnf?.jkt);
  });
});

describe('DPoP nonces turned off (dpop.requireNonce: false)', () => {
  const target = databaseTargets()[0]!();
  let identity: RunningIdentity;
  before(async () => {
    identity = await startIdentity(target, { dpop: { requireNonce: false } });
  });
  after(async () => {
    await identity?.close();
    await target.cleanup();
  });

  test('a fresh proof without a nonce gets the token, and no nonce is offered', async () => {
    const granted = await tokenRequest(identity);
    assert.equal(granted.res.status, 200, JSON.stringify(granted.body));
    assert.equal(granted.res.headers.get('dpop-nonce'), null);
  });
});
