/**
 * The users service: profiles keyed by the identity `sub`, behind access tokens
 * checked with @portico/auth. `build` wires it from validated config; `main.ts` listens.
 */
import { enforceAccess, serviceTokenVerifier, type TokenVerifier } from '@portico/auth';
import { createServer, RESOURCE_HEADERS, type Server, securityHeaders } from '@portico/http';
import { openServiceDatabase } from '@portico/store/sql';
import { migrations } from '../migrations/index.ts';
import { userRoutes } from './api/users.ts';
import { ConfigSchema, type UsersConfig } from './config.ts';
import type { UsersDatabase } from './data/schema.ts';
import { createProfileService, type ProfileService } from './domain/profiles.ts';

export type { UsersConfig };
export { ConfigSchema };

export interface UsersDeps {
  /** Token verifier override (tests pass a test issuer's). */
  verifier?: TokenVerifier;
}

export type UsersServer = Server & { profiles: ProfileService };

export async function build(config: UsersConfig, deps: UsersDeps = {}): Promise<UsersServer> {
  const database = await openServiceDatabase<UsersDatabase>(config, migrations);
  const profiles = createProfileService(database);
  const server = (await createServer({
    name: 'users',
    description: 'User profiles keyed by the identity `sub`: /api/v1/users',
    tags: { users: 'User profiles, created on first use from the access token' },
    logLevel: config.logLevel === 'silent' ? false : config.logLevel,
    healthTimeoutMs: config.healthCheckTimeoutMs,
    health: { database: () => profiles.count() },
  })) as UsersServer;
  await securityHeaders(server, RESOURCE_HEADERS);
  server.decorate('profiles', profiles);
  server.addHook('onClose', () => database.close());
  const verifier = deps.verifier ?? (await serviceTokenVerifier(server, config.auth, { name: 'users' }));
  enforceAccess(server, verifier);
  userRoutes(server, profiles);
  return server;
}
