/**
 * The ID token is trusted only when its signature verifies against the provider's JWKS.
 * A man in the middle of the token response (the one place a code flow ID token travels)
 * swaps in tokens with the right claims but the wrong signature: the sign-in must fail.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeJwt, decodeProtectedHeader, generateKeyPair, SignJWT } from 'jose';
import type { CustomFetch } from 'openid-client';
import {
  approveAtProvider,
  browser,
  type FakeGateway,
  type RunningIdentity,
  session,
  startFakeGateway,
  startIdentity,
  startWeb,
} from './support/harness.ts';

const sqlite = { name: 'sqlite' as const, url: 'sqlite::memory:', cleanup: async () => {} };
type Tamper = (idToken: string) => Promise<string>;

describe('ID token signature', () => {
  let idp: RunningIdentity;
  let gateway: FakeGateway;
  let tamper: Tamper | undefined;

  const mitm: CustomFetch = async (url, init) => {
    const res = await fetch(url, init as RequestInit);
    if (!tamper || !url.endsWith('/token')) return res;
    const body = (await res.json()) as Record<string, unknown>;
    if (typeof body.id_token === 'string') body.id_token = await tamper(body.id_token);
    return new Response(JSON.stringify(body), { status: res.status, headers: res.headers });
  };

  before(async () => {
    idp = await startIdentity();
    gateway = await startFakeGateway();
  });
  after(async () => {
    await gateway?.close();
    await idp?.close();
  });

  async function attempt(): Promise<{ status: number; body: string; signedIn: boolean }> {
    const web = await startWeb(sqlite, idp.issuer, gateway.url, {}, { oidcFetch: mitm });
    try {
      const b = browser(web);
      const start = await b.request({ url: '/login' });
      const callback = new URL(
        await approveAtProvider(String(start.headers.location), 'alice', idp.password('alice')),
      );
      const done = await b.request({ url: `${callback.pathname}${callback.search}` });
      return { status: done.statusCode, body: done.body, signedIn: (await session(b)).authenticated };
    } finally {
      await web.close();
    }
  }

  test('untouched tokens sign in (the man in the middle itself changes nothing)', async () => {
    tamper = async (t) => t;
    const result = await attempt();
    assert.equal(result.status, 303);
    assert.equal(result.signedIn, true);
  });

  test('a corrupted signature is refused', async () => {
    tamper = async (t) => {
      const [h, p, s] = t.split('.');
      const sig = Buffer.from(s!, 'base64url');
      sig[0]! ^= 0xff;
      return `${h}.${p}.${sig.toString('base64url')}`;
    };
    const result = await attempt();
    assert.equal(result.status, 400);
    assert.match(result.body, /Sign-in failed/);
    assert.equal(result.signedIn, false);
  });

  test('the same claims signed by a key not in the JWKS (same kid) are refused', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    tamper = async (t) => {
      const { kid } = decodeProtectedHeader(t);
      return new SignJWT(decodeJwt(t)).setProtectedHeader({ alg: 'RS256', kid }).sign(privateKey);
    };
    const result = await attempt();
    assert.equal(result.status, 400);
    assert.equal(result.signedIn, false);
  });

  test('an unsigned token (alg none) is refused', async () => {
    tamper = async (t) => {
      const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
      return `${header}.${t.split('.')[1]}.`;
    };
    const result = await attempt();
    assert.equal(result.status, 400);
    assert.equal(result.signedIn, false);
  });
});
