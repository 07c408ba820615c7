/**
 * A service's token verifier from its `auth` settings (`authSettings()` of @portico/config):
 * signatures against the issuer's JWKS, and the revocations identity publishes, heard on Redis
 * at `redisUrl` or else on this process's bus, which every service of the embedded set-up
 * shares. The subscription ends when the server closes.
 */
import type { FastifyInstance } from 'fastify';
import { listenForRevocations } from './revocation.ts';
import { createTokenVerifier, type TokenVerifier } from './verifier.ts';

export interface ServiceAuthSettings {
  issuer: string;
  audience: string;
  jwksUri: string;
  redisUrl: string;
  revocationPrefix: string;
}

export async function serviceTokenVerifier(
  server: FastifyInstance,
  auth: ServiceAuthSettings,
): Promise<TokenVerifier> {
  const revocations = await listenForRevocations({
    url: auth.redisUrl,
    keyPrefix: auth.revocationPrefix,
    log: server.log,
  });
  server.addHook('onClose', () => revocations.close());
  return createTokenVerifier({
    issuer: auth.issuer,
    audience: auth.audience,
    jwksUri: auth.jwksUri,
    revocations,
  });
}
