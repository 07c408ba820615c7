/**
 * DPoP (RFC 9449) from the token to the service: identity issues a token bound to the CLI's key
 * (`cnf.jkt`), the client calls the gateway's public URL with `Authorization: DPoP` and a proof,
 * the gateway checks the proof in full (method, the URL the client addressed, age, single use,
 * token hash, key) and forwards it, and the users service checks it again (all but the path,
 * which a route may rewrite) with a seen-set of its own. Every refusal is a 401 problem with a
 * `DPoP` challenge naming the accepted algorithms. In one process on in-process stores, and on
 * Redis when TEST_REDIS_URL is set (each gateway and service keeping its own seen-set there).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { type DeepPartial, loadConfig } from '@portico/config';
import { build as buildGateway, type GatewayConfig, ConfigSchema as GatewaySchema } from '@portico/gateway';
import { freePort } from '@portico/http/testing';
import {
  build as buildIdentity,
  type IdentityConfig,
  ConfigSchema as IdentitySchema,
} from '@portico/identity';
import { redisTestUrl } from '@portico/store/testing';
import type { FastifyInstance } from 'fastify';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { type DpopKeyPair, dpopProof } from '../../identity/src/cli/dpop-key.ts';
import { obtainToken } from '../../identity/src/cli/token-flow.ts';
import { services } from '../src/services.ts';

const redisUrl = redisTestUrl();
const stores = [
  { name: 'in-process stores (npm start)', url: '', skip: false as const },
  { name: 'Redis (scaled out)', url: redisUrl ?? '', skip: !redisUrl && 'TEST_REDIS_URL is not set' },
];

async function keyPair(): Promise<DpopKeyPair> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const { kty, crv, x, y } = await exportJWK(publicKey);
  return { privateKey, publicKey, publicJwk: { kty, crv, x, y } as JWK };
}

const ath = (token: string) => createHash('sha256').update(token).digest('base64url');

/** A proof with every claim overridable, to make each kind of bad one. */
async function craftedProof(
  key: DpopKeyPair,
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT({ jti: randomUUID(), iat: Math.floor(Date.now() / 1000), ...claims })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: key.publicJwk, ...header })
    .sign(key.privateKey);
}

for (const store of stores) {
  describe(`DPoP through the gateway to a service: ${store.name}`, { skip: store.skip }, () => {
    const prefix = `test:${randomBytes(6).toString('hex')}:`;
    let identity: FastifyInstance;
    let users: FastifyInstance;
    let catalog: FastifyInstance;
    let gateway: FastifyInstance;
    let gatewayUrl: string;
    let usersUrl: string;
    let key: DpopKeyPair;
    let token: string;

    before(async () => {
      const identityPort = await freePort();
      const issuer = `http://127.0.0.1:${identityPort}`;
      const gatewayPort = await freePort();
      gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
      const identityConfig = loadConfig('identity', IdentitySchema, {
        env: {},
        overrides: {
          databaseUrl: 'sqlite::memory:',
          keysFile: '',
          demoLoginsFile: '',
          logLevel: 'silent',
          issuer,
          port: identityPort,
          // The API's resource identifier is its public URL: the gateway's.
          api: { audience: gatewayUrl },
          revocations: { redisUrl: store.url, keyPrefix: prefix },
        } as DeepPartial<IdentityConfig>,
      });
      identity = await buildIdentity(identityConfig);
      await identity.listen({ port: identityPort, host: '127.0.0.1' });

      const auth = {
        issuer,
        audience: gatewayUrl,
        jwksUri: `${issuer}/jwks`,
        redisUrl: store.url,
        revocationPrefix: prefix,
      };
      const usersModule = services.find((s) => s.name === 'users')!.module;
      users = await usersModule.build(
        loadConfig('users', usersModule.ConfigSchema, {
          env: {},
          overrides: { databaseUrl: 'sqlite::memory:', logLevel: 'silent', auth } as never,
        }),
      );
      usersUrl = await users.listen({ port: 0, host: '127.0.0.1' });
      const catalogModule = services.find((s) => s.name === 'catalog')!.module;
      catalog = await catalogModule.build(
        loadConfig('catalog', catalogModule.ConfigSchema, {
          env: {},
          overrides: {
            databaseUrl: 'sqlite::memory:',
            logLevel: 'silent',
            demoData: false,
            auth,
          } as never,
        }),
      );
      const catalogUrl = await catalog.listen({ port: 0, host: '127.0.0.1' });

      const gatewayConfig = loadConfig('gateway', GatewaySchema, {
        env: {},
        overrides: {
          logLevel: 'silent',
          watch: false,
          redisUrl: store.url,
          redisKeyPrefix: `${prefix}gw:`,
          auth: { issuer, audience: gatewayUrl, jwksUri: `${issuer}/jwks`, revocationPrefix: prefix },
        } as DeepPartial<GatewayConfig>,
      });
      gateway = await buildGateway(gatewayConfig, {
        definition: {
          upstreams: { users: { instances: [usersUrl] }, catalog: { instances: [catalogUrl] } },
          routes: [
            { name: 'users', path: '/api/v1/users', upstream: 'users', auth: { default: 'token' } },
            {
              name: 'graphql',
              path: '/graphql',
              exact: true,
              upstream: 'catalog',
              auth: { default: 'public' },
            },
            // The service sees another path than the client addressed: the gateway checks that one.
            {
              name: 'me',
              path: '/me',
              exact: true,
              upstream: 'users',
              auth: { default: 'token' },
              transform: { rewrite: { pattern: '^/me$', replacement: '/api/v1/users/me' } },
            },
          ],
        } as never,
      });
      await gateway.listen({ port: gatewayPort, host: '127.0.0.1' });

      key = await keyPair();
      const alice = (
        identity as unknown as { demoLogins: Array<{ username: string; password: string }> }
      ).demoLogins.find((l) => l.username === 'alice')!;
      const tokens = await obtainToken({
        issuer,
        clientId: 'portico-cli',
        redirectUri: 'http://127.0.0.1/callback',
        scope: 'openid users:read catalog:read',
        credentials: alice,
        dpop: key,
      });
      assert.equal(tokens.token_type.toLowerCase(), 'dpop');
      token = tokens.access_token;
    });

    after(async () => {
      await gateway?.close();
      await users?.close();
      await catalog?.close();
      await identity?.close();
    });

    const call = (url: string, headers: Record<string, string>, method = 'GET') =>
      fetch(url, { method, headers });
    const dpop = (proof: string) => ({ authorization: `DPoP ${token}`, dpop: proof });

    async function assertRefused(response: Response, error: string, detail: RegExp) {
      const body = (await response.json()) as { status: number; detail: string };
      assert.equal(response.status, 401, body.detail);
      assert.match(response.headers.get('content-type')!, /^application\/problem\+json/);
      const challenge = response.headers.get('www-authenticate')!;
      assert.match(challenge, new RegExp(`^DPoP .*error="${error}"`));
      assert.match(challenge, /algs="ES256 [^"]*"/);
      assert.match(body.detail, detail);
    }

    test('the token carries cnf.jkt; a fresh proof per request reaches the service, which checks it too', async () => {
      const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as {
        cnf?: { jkt?: string };
        sub: string;
      };
      assert.ok(payload.cnf?.jkt);

      const url = `${gatewayUrl}/api/v1/users/me`;
      for (let i = 0; i < 2; i++) {
        const proof = await dpopProof(key, { method: 'GET', url, accessToken: token });
        const response = await call(url, dpop(proof));
        assert.equal(response.status, 200, await response.clone().text());
        assert.equal(((await response.json()) as { data: { id: string } }).data.id, payload.sub);
      }

      // Through a rewriting route: the proof names the public path; the service sees another.
      const me = `${gatewayUrl}/me`;
      const rewritten = await call(
        me,
        dpop(await dpopProof(key, { method: 'GET', url: me, accessToken: token })),
      );
      assert.equal(rewritten.status, 200, await rewritten.clone().text());

      // htu is normalised before it is compared (RFC 3986 §6.2.2–6.2.3).
      const shouting = `${gatewayUrl.replace('http://', 'HTTP://')}/api/v1/%75sers/me`;
      const normalised = await call(
        url,
        dpop(await craftedProof(key, { htm: 'GET', htu: shouting, ath: ath(token) })),
      );
      assert.equal(normalised.status, 200, await normalised.clone().text());
    });

    test('GraphQL over HTTP takes the DPoP token too: the mutation is refused for its scope, not for the scheme', async () => {
      const url = `${gatewayUrl}/graphql`;
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          ...dpop(await dpopProof(key, { method: 'POST', url, accessToken: token })),
          'content-type': 'application/json',
        },
        body: JSON.stringify({
          query: 'mutation { deleteProduct(id: "00000000-0000-4000-8000-000000000000") { success } }',
        }),
      });
      const body = (await response.json()) as { errors?: Array<{ extensions?: { code?: string } }> };
      assert.equal(body.errors?.[0]?.extensions?.code, 'INSUFFICIENT_SCOPE', JSON.stringify(body));
      // A replayed proof is refused before the document is read.
      const replay = await fetch(url, {
        method: 'POST',
        headers: {
          ...dpop(await dpopProof(key, { method: 'GET', url, accessToken: token })),
          'content-type': 'application/json',
        },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      await assertRefused(replay, 'invalid_dpop_proof', /for GET, not POST/);
    });

    test('a proof the gateway accepted is not accepted again by the service reached around it', async () => {
      const url = `${gatewayUrl}/api/v1/users/me`;
      const proof = await dpopProof(key, { method: 'GET', url, accessToken: token });
      assert.equal((await call(url, dpop(proof))).status, 200);
      await assertRefused(
        await call(`${usersUrl}/api/v1/users/me`, dpop(proof)),
        'invalid_dpop_proof',
        /already used/,
      );
    });

    test('wrong htm is refused', async () => {
      const url = `${gatewayUrl}/api/v1/users/me`;
      const proof = await dpopProof(key, { method: 'POST', url, accessToken: token });
      await assertRefused(await call(url, dpop(proof)), 'invalid_dpop_proof', /for POST, not GET/);
    });

    test('wrong htu is refused: another path at the gateway, another origin at the service', async () => {
      const url = `${gatewayUrl}/api/v1/users/me`;
      const other = await dpopProof(key, {
        method: 'GET',
        url: `${gatewayUrl}/api/v1/users`,
        accessToken: token,
      });
      await assertRefused(await call(url, dpop(other)), 'invalid_dpop_proof', /another URL/);
      // The service's own address is not a public origin: a proof made for it is refused there.
      const direct = `${usersUrl}/api/v1/users/me`;
      const own = await dpopProof(key, { method: 'GET', url: direct, accessToken: token });
      await assertRefused(await call(direct, dpop(own)), 'invalid_dpop_proof', /another URL/);
    });

    test('a stale iat is refused, and so is one from the future', async () => {
      const url = `${gatewayUrl}/api/v1/users/me`;
      const now = Math.floor(Date.now() / 1000);
      const old = await craftedProof(key, { htm: 'GET', htu: url, ath: ath(token), iat: now - 600 });
      await assertRefused(await call(url, dpop(old)), 'invalid_dpop_proof', /too old/);
      const ahead = await craftedProof(key, { htm: 'GET', htu: url, ath: ath(token), iat: now + 600 });
      await assertRefused(await call(url, dpop(ahead)), 'invalid_dpop_proof', /iat/);
    });

    test('a replayed jti is refused', async () => {
      const url = `${gatewayUrl}/api/v1/users/me`;
      const proof = await dpopProof(key, { method: 'GET', url, accessToken: token });
      assert.equal((await call(url, dpop(proof))).status, 200);
      await assertRefused(await call(url, dpop(proof)), 'invalid_dpop_proof', /already used/);
    });

    test('a wrong ath (a proof for another token) is refused', async () => {
      const url = `${gatewayUrl}/api/v1/users/me`;
      const proof = await craftedProof(key, { htm: 'GET', htu: url, ath: ath(`${token}x`) });
      await assertRefused(await call(url, dpop(proof)), 'invalid_dpop_proof', /another access token/);
    });

    test('a proof signed by another key than cnf.jkt names is refused, at the gateway and at the service', async () => {
      const thief = await keyPair();
      for (const base of [gatewayUrl, usersUrl]) {
        const url = `${base}/api/v1/users/me`;
        const htu = `${gatewayUrl}/api/v1/users/me`;
        const proof = await craftedProof(thief, { htm: 'GET', htu, ath: ath(token) });
        await assertRefused(await call(url, dpop(proof)), 'invalid_dpop_proof', /another key/);
      }
    });

    test('the bound token as Bearer is refused, at the gateway and at the service', async () => {
      for (const base of [gatewayUrl, usersUrl]) {
        const response = await call(`${base}/api/v1/users/me`, { authorization: `Bearer ${token}` });
        await assertRefused(response, 'invalid_token', /bound to a key/);
      }
    });

    test('a missing proof, a proof with a private key, and a proof of the wrong typ are refused', async () => {
      const url = `${gatewayUrl}/api/v1/users/me`;
      await assertRefused(
        await call(url, { authorization: `DPoP ${token}` }),
        'invalid_dpop_proof',
        /needs a DPoP proof/,
      );
      const privateJwk = await exportJWK(key.privateKey);
      const leaky = await craftedProof(key, { htm: 'GET', htu: url, ath: ath(token) }, { jwk: privateJwk });
      await assertRefused(await call(url, dpop(leaky)), 'invalid_dpop_proof', /public key/);
      const typ = await craftedProof(key, { htm: 'GET', htu: url, ath: ath(token) }, { typ: 'JWT' });
      await assertRefused(await call(url, dpop(typ)), 'invalid_dpop_proof', /typ dpop\+jwt/);
    });
  });
}
