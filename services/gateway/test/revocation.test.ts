/**
 * Stopping access tokens before they expire, across gateways: identity publishes a
 * revocation (by jti, by account, by grant) on Redis, and two gateways that share
 * nothing else refuse the covered tokens within seconds, even ones they had verified
 * and cached; tokens issued after an account revocation still pass.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { publishRevocation, revocationBus } from '@portico/auth';
import { createTestIssuer, serveJwks, type TestIssuer } from '@portico/auth/testing';
import type { PubSub } from '@portico/store/pubsub';
import { redisTestUrl } from '@portico/store/testing';
import { decodeJwt } from 'jose';
import type { TestGateway, TestUpstream } from './support/harness.ts';
import { definition, startGateway, startUpstream } from './support/harness.ts';

const redisUrl = redisTestUrl();

describe('token revocation across two gateways (Redis)', {
  skip: !redisUrl && 'TEST_REDIS_URL is not set',
}, () => {
  let issuer: TestIssuer;
  let jwks: Awaited<ReturnType<typeof serveJwks>>;
  let upstream: TestUpstream;
  const gateways: TestGateway[] = [];
  let bus: PubSub;
  const prefix = `test:${randomBytes(6).toString('hex')}:`;

  before(async () => {
    issuer = await createTestIssuer();
    jwks = await serveJwks(issuer);
    const jwksUri = jwks.url;
    upstream = await startUpstream();
    for (let i = 0; i < 2; i++) {
      gateways.push(
        await startGateway(
          definition({ svc: [upstream.url] }, [
            { name: 'o', path: '/o', upstream: 'svc', auth: { default: 'token' } },
          ] as never),
          {
            config: {
              redisUrl,
              redisKeyPrefix: `${prefix}gw${i}:`,
              auth: {
                issuer: issuer.issuer,
                audience: issuer.audience,
                jwksUri,
                hs256Secret: '',
                revocationPrefix: prefix,
                dpopOrigins: '',
              },
            },
          },
        ),
      );
    }
    bus = revocationBus({ url: redisUrl!, keyPrefix: prefix });
  });
  after(async () => {
    for (const g of gateways) await g.close();
    await upstream?.close();
    await bus?.close();
    await jwks?.close();
  });

  const call = (gw: TestGateway, token: string) =>
    fetch(`${gw.url}/o`, { headers: { authorization: `Bearer ${token}` } }).then(async (r) => {
      await r.arrayBuffer();
      return r.status;
    });

  /** Polls every gateway until it refuses the token; the slowest gateway's time in ms. */
  async function refusedEverywhere(token: string): Promise<number> {
    const started = performance.now();
    const deadline = Date.now() + 10_000;
    for (const gw of gateways) {
      while ((await call(gw, token)) !== 401) {
        if (Date.now() > deadline) assert.fail(`${gw.url} still accepts the revoked token`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    return performance.now() - started;
  }

  test('by jti, by account and by grant: refused at both gateways within seconds, cached or not', async () => {
    const one = await issuer.sign({ sub: 'u-jti', roles: ['customer'] });
    const account = await issuer.sign({ sub: 'u-disabled', roles: ['customer'] });
    const granted = await issuer.sign({ sub: 'u-grant', roles: ['customer'], grant_id: 'grant-1' });
    const otherGrant = await issuer.sign({ sub: 'u-grant', roles: ['customer'], grant_id: 'grant-2' });
    for (const gw of gateways)
      for (const t of [one, account, granted, otherGrant]) assert.equal(await call(gw, t), 200);

    const now = Math.floor(Date.now() / 1000);
    const until = now + 600;
    const timings: number[] = [];
    await publishRevocation(bus, { type: 'jti', jti: decodeJwt(one).jti!, until });
    timings.push(await refusedEverywhere(one));
    const iat = decodeJwt(account).iat!;
    await publishRevocation(bus, { type: 'sub', sub: 'u-disabled', before: iat, until });
    timings.push(await refusedEverywhere(account));
    await publishRevocation(bus, {
      type: 'grant',
      grant_id: 'grant-1',
      before: decodeJwt(granted).iat!,
      until,
    });
    timings.push(await refusedEverywhere(granted));

    for (const gw of gateways)
      assert.equal(await call(gw, otherGrant), 200, 'another grant of the same user still works');
    const res = await fetch(`${gateways[0]!.url}/o`, { headers: { authorization: `Bearer ${account}` } });
    assert.match(res.headers.get('www-authenticate') ?? '', /invalid_token/);
    assert.match(((await res.json()) as { detail: string }).detail, /revoked/);

    // The account was re-enabled: a token issued after the revocation passes.
    let fresh = await issuer.sign({ sub: 'u-disabled', roles: ['customer'] });
    while (decodeJwt(fresh).iat! <= iat) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      fresh = await issuer.sign({ sub: 'u-disabled', roles: ['customer'] });
    }
    for (const gw of gateways) assert.equal(await call(gw, fresh), 200);
    console.log(
      `revoked → refused at both gateways in ${timings.map((t) => t.toFixed(0)).join(', ')} ms (jti, sub, grant)`,
    );
    assert.ok(
      Math.max(...timings) < 5000,
      `revocations took ${timings.map((t) => t.toFixed(0)).join(', ')} ms`,
    );
  });
});
