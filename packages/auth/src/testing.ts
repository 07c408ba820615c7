/**
 * A test issuer that signs real RFC 9068 access tokens with a real key, so services
 * are tested with the same verification path they run in production.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JSONWebKeySet, type JWTPayload, SignJWT } from 'jose';
import { createTokenVerifier, type TokenVerifier } from './verifier.ts';

export interface TestIssuer {
  issuer: string;
  audience: string;
  jwks: JSONWebKeySet;
  verifier: TokenVerifier;
  privateKey: CryptoKey;
  kid: string;
  sign(
    claims: JWTPayload & { sub?: string; roles?: string[]; scope?: string },
    options?: SignOptions,
  ): Promise<string>;
}

export interface SignOptions {
  /** jose time span, e.g. '5m'; `null` leaves `exp` out. @default '5m' */
  expiresIn?: string | number | null;
  header?: Record<string, unknown>;
  issuer?: string;
  audience?: string;
}

export async function createTestIssuer(
  options: { issuer?: string; audience?: string } = {},
): Promise<TestIssuer> {
  const issuer = options.issuer ?? 'http://localhost:9000';
  const audience = options.audience ?? 'http://localhost:8000';
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = randomUUID();
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const jwks = { keys: [jwk] };
  return {
    issuer,
    audience,
    jwks,
    kid,
    privateKey,
    verifier: createTokenVerifier({ issuer, audience, jwks }),
    async sign(claims, signOptions = {}) {
      const jwt = new SignJWT({ client_id: 'portico-test', ...claims })
        .setProtectedHeader({ alg: 'RS256', kid, typ: 'at+jwt', ...signOptions.header })
        .setIssuer(signOptions.issuer ?? issuer)
        .setAudience(signOptions.audience ?? audience)
        .setIssuedAt()
        .setJti(randomUUID());
      if (claims.sub === undefined) jwt.setSubject('test-user');
      if (signOptions.expiresIn !== null) jwt.setExpirationTime(signOptions.expiresIn ?? '5m');
      return jwt.sign(privateKey);
    },
  };
}

/** The issuer's JWKS on a real socket (port 0), for verifiers that fetch it as they would identity's. */
export async function serveJwks(issuer: TestIssuer): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(issuer.jwks));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The API scopes identity grants a customer by default (admins also get catalog:write). */
export const USER_SCOPES =
  'openid catalog:read orders:read orders:write payments:read payments:write users:read users:write';
export const ADMIN_SCOPES = `${USER_SCOPES} catalog:write`;
