/**
 * Stopping a token before it expires at every service, not only at the gateway: catalog,
 * users, orders and payments accept a real token, identity's side publishes a revocation
 * through the same bus API identity uses, and the next call to each service is refused 401
 * within seconds. In one process (npm start) on the shared in-process bus; scaled out, on Redis.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { publishRevocation, revocationBus } from '@portico/auth';
import { createTestIssuer, serveJwks, type TestIssuer } from '@portico/auth/testing';
import { loadConfig } from '@portico/config';
import { redisTestUrl } from '@portico/store/testing';
import type { FastifyInstance } from 'fastify';
import { decodeJwt } from 'jose';
import { services } from '../src/services.ts';

/** A route of each service that needs a token (and the scope it needs). */
// Nothing listens on port 9: reads of another service fail fast and fall back.
const elsewhere = { url: 'http://127.0.0.1:9', timeoutMs: 100 };
const calls = [
  {
    service: 'catalog',
    path: '/api/v1/recommendations',
    scope: 'catalog:read',
    settings: { demoData: false },
  },
  { service: 'users', path: '/api/v1/users/me', scope: 'users:read', settings: {} },
  { service: 'orders', path: '/api/v1/orders', scope: 'orders:read', settings: { catalog: elsewhere } },
  { service: 'payments', path: '/api/v1/payments', scope: 'payments:read', settings: { orders: elsewhere } },
];
const scope = calls.map((c) => c.scope).join(' ');

const redisUrl = redisTestUrl();
const buses = [
  { name: 'in-process bus (npm start)', url: undefined, skip: false as const },
  { name: 'Redis (scaled out)', url: redisUrl, skip: !redisUrl && 'TEST_REDIS_URL is not set' },
];

for (const { name, url, skip } of buses) {
  describe(`services refuse revoked tokens: ${name}`, { skip }, () => {
    let issuer: TestIssuer;
    let jwks: Awaited<ReturnType<typeof serveJwks>>;
    const running: Array<{ service: string; server: FastifyInstance; url: string }> = [];
    const prefix = `test:${randomBytes(6).toString('hex')}:`;
    const bus = () => revocationBus({ url, keyPrefix: prefix });

    before(async () => {
      issuer = await createTestIssuer();
      jwks = await serveJwks(issuer);
      const jwksUri = jwks.url;
      for (const { service, settings } of calls) {
        const { module } = services.find((s) => s.name === service)!;
        const config = loadConfig(service, module.ConfigSchema, {
          env: {},
          overrides: {
            databaseUrl: 'sqlite::memory:',
            logLevel: 'silent',
            ...settings,
            auth: {
              issuer: issuer.issuer,
              audience: issuer.audience,
              jwksUri,
              redisUrl: url ?? '',
              revocationPrefix: prefix,
            },
          } as never,
        });
        const server = await module.build(config);
        const address = await server.listen({ port: 0, host: '127.0.0.1' });
        running.push({ service, server, url: address });
      }
    });
    after(async () => {
      for (const { server } of running) await server.close();
      await jwks?.close();
    });

    const status = async (base: string, path: string, token: string) => {
      const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
      await res.arrayBuffer();
      return res.status;
    };

    /** Polls each service until it refuses the token; the slowest service's time in ms. */
    async function refusedEverywhere(token: string): Promise<number> {
      const started = performance.now();
      const deadline = Date.now() + 10_000;
      for (const { service, url: base } of running) {
        const { path } = calls.find((c) => c.service === service)!;
        while ((await status(base, path, token)) !== 401) {
          if (Date.now() > deadline) assert.fail(`${service} still accepts the revoked token`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
      return performance.now() - started;
    }

    test('an account disabled and a grant revoked: the next call to every service is 401', async () => {
      const account = await issuer.sign({ sub: 'u-disabled', roles: ['customer'], scope });
      const granted = await issuer.sign({ sub: 'u-grant', roles: ['customer'], scope, grant_id: 'g-1' });
      const other = await issuer.sign({ sub: 'u-grant', roles: ['customer'], scope, grant_id: 'g-2' });
      for (const { service, url: base } of running) {
        const { path } = calls.find((c) => c.service === service)!;
        for (const token of [account, granted, other])
          assert.equal(await status(base, path, token), 200, `${service} accepts the token first`);
      }

      const publisher = bus();
      try {
        const until = Math.floor(Date.now() / 1000) + 600;
        const timings: number[] = [];
        // What identity publishes when an admin disables the account, then revokes the grant.
        const revoked = [
          { token: account, revocation: { type: 'sub', sub: 'u-disabled' } as const },
          { token: granted, revocation: { type: 'grant', grant_id: 'g-1' } as const },
        ];
        for (const { token, revocation } of revoked) {
          await publishRevocation(publisher, { ...revocation, before: decodeJwt(token).iat!, until });
          timings.push(await refusedEverywhere(token));
        }
        for (const { service, url: base } of running) {
          const { path } = calls.find((c) => c.service === service)!;
          assert.equal(await status(base, path, other), 200, `${service}: another grant still works`);
        }
        const users = running.find((r) => r.service === 'users')!;
        const res = await fetch(`${users.url}/api/v1/users/me`, {
          headers: { authorization: `Bearer ${account}` },
        });
        assert.equal(res.status, 401);
        assert.match(res.headers.get('www-authenticate') ?? '', /invalid_token/);
        assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
        assert.match(((await res.json()) as { detail: string }).detail, /revoked/);
        console.log(
          `${name}: revoked → refused by all four services in ${timings.map((t) => t.toFixed(0)).join(', ')} ms (account, grant)`,
        );
        assert.ok(Math.max(...timings) < 5000, `took ${timings.map((t) => t.toFixed(0)).join(', ')} ms`);
      } finally {
        await publisher.close();
      }
    });
  });
}
