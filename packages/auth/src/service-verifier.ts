/**
 * A service's token verifier from its `auth` settings (`authSettings()` of @portico/config):
 * signatures against the issuer's JWKS, and the revocations identity publishes, heard on Redis
 * at `redisUrl` or else on this process's bus, which every service of the embedded set-up
 * shares. DPoP-bound tokens are accepted with a proof for the public origins (`dpopOrigins`,
 * else the API audience's origin); the path is the gateway's to check, since a route may
 * rewrite it (docs/decisions/0008-dpop-proof-at-every-hop.md). Each service keeps its own
 * seen-set of proof `jti`s, so the proof the gateway checked is accepted once here too.
 * The subscription and the store end when the server closes.
 */
import { createKvStore } from '@portico/store/kv';
import type { FastifyInstance } from 'fastify';
import { createDpopVerifier, storeReplayGuard } from './dpop.ts';
import { listenForRevocations } from './revocation.ts';
import { createTokenVerifier, type TokenVerifier } from './verifier.ts';

export interface ServiceAuthSettings {
  issuer: string;
  audience: string;
  jwksUri: string;
  redisUrl: string;
  revocationPrefix: string;
  /** Comma-separated public origins DPoP proofs are made for; empty: the audience's origin. */
  dpopOrigins?: string;
}

/**
 * The origins DPoP proofs must name: the configured ones, else the API audience's origin. An
 * audience on `localhost` (the embedded set-up) also answers as 127.0.0.1 and [::1], the same
 * listener under the names a developer may type.
 */
export function dpopOrigins(settings: { audience: string; dpopOrigins?: string }): string[] {
  const listed = (settings.dpopOrigins ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (listed.length > 0) return listed;
  const audience = new URL(settings.audience);
  if (audience.hostname !== 'localhost') return [audience.origin];
  return ['localhost', '127.0.0.1', '[::1]'].map((host) => {
    const url = new URL(audience.origin);
    url.hostname = host;
    return url.origin;
  });
}

export async function serviceTokenVerifier(
  server: FastifyInstance,
  auth: ServiceAuthSettings,
  options: { name: string },
): Promise<TokenVerifier> {
  const revocations = await listenForRevocations({
    url: auth.redisUrl,
    keyPrefix: auth.revocationPrefix,
    log: server.log,
  });
  const seen = createKvStore({
    url: auth.redisUrl || undefined,
    keyPrefix: `${auth.revocationPrefix}dpop:${options.name}:`,
    connectionName: `portico-${options.name}-dpop-${process.pid}`,
  });
  server.addHook('onClose', async () => {
    await revocations.close();
    await seen.close();
  });
  return createTokenVerifier({
    issuer: auth.issuer,
    audience: auth.audience,
    jwksUri: auth.jwksUri,
    revocations,
    dpop: createDpopVerifier({
      origins: dpopOrigins(auth),
      replay: storeReplayGuard(seen),
      matchPath: false,
    }),
  });
}
