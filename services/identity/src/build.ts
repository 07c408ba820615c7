/**
 * The identity service: an OpenID Provider (oidc-provider, OpenID Certified) mounted on
 * the Portico HTTP kit. The provider's own endpoints (discovery, /auth, /token, /me,
 * /jwks, /session/end, introspection, revocation) are handed to it untouched, before
 * Fastify parses anything; Fastify serves the login/consent pages, /health and /metrics.
 */
import { createServer, type Server } from '@portico/http';
import { openDatabase } from '@portico/store/sql';
import { migrations } from '../migrations/index.ts';
import { trustProxyOption } from './api/forwarded.ts';
import { interactionRoutes } from './api/interaction.ts';
import { type Config, ConfigSchema } from './config.ts';
import { accountStore } from './data/accounts.ts';
import { redisAttempts, sqlAttempts } from './data/attempts.ts';
import { withHashedIds } from './data/hashed-ids.ts';
import { sqlAdapter } from './data/oidc-adapter.ts';
import { redisAdapter } from './data/redis-adapter.ts';
import type { IdentityDatabase } from './data/schema.ts';
import { type DemoLogin, ensureDemoAccounts } from './domain/demo.ts';
import { createLogin } from './domain/login.ts';
import { createThrottle } from './domain/throttle.ts';
import { loadKeys } from './oidc/keys.ts';
import { createProvider } from './oidc/provider.ts';

export type { Config as IdentityConfig };
export { ConfigSchema };

export type IdentityServer = Server & {
  /** Logins created by this start (empty when the accounts already existed). */
  demoLogins: DemoLogin[];
  /** Where the demo passwords are kept ('' when nowhere). */
  demoLoginsFile: string;
  issuer: string;
};

/** Paths oidc-provider owns (its default `routes`, plus discovery). */
const PROVIDER_PATHS = ['/.well-known/', '/auth', '/token', '/me', '/jwks', '/session/end', '/request'];

function ownedByProvider(url: string): boolean {
  const path = url.split('?')[0]!;
  return PROVIDER_PATHS.some((p) =>
    p.endsWith('/') ? path.startsWith(p) : path === p || path.startsWith(`${p}/`),
  );
}

export async function build(config: Config): Promise<IdentityServer> {
  const database = openDatabase<IdentityDatabase>({ url: config.databaseUrl, schema: config.databaseSchema });
  try {
    await database.migrate(migrations);
  } catch (err) {
    await database.close();
    throw err;
  }
  const accounts = accountStore(database);
  const storage = sqlAdapter(database);
  const redis = config.redis.url
    ? redisAdapter({ url: config.redis.url, prefix: config.redis.keyPrefix })
    : undefined;
  const keys = await loadKeys(config.keysFile);
  const demoLogins = config.demoAccounts ? await ensureDemoAccounts(accounts, config.demoLoginsFile) : [];

  const adapter = withHashedIds(redis?.Adapter ?? storage.Adapter);
  const provider = createProvider(config, { adapter, accounts, keys });
  const throttle = createThrottle({
    ...config.throttle,
    counter: redis
      ? redisAttempts(redis.client, `${config.redis.keyPrefix}throttle:`)
      : sqlAttempts(database),
  });
  const login = createLogin(accounts, throttle);

  const server = (await createServer({
    name: 'identity',
    description: 'OpenID Provider: discovery at /.well-known/openid-configuration',
    logLevel: config.logLevel === 'silent' ? false : config.logLevel,
    health: { database: () => accounts.count(), ...(redis ? { redis: () => redis.ping() } : {}) },
    fastify: { trustProxy: trustProxyOption(config) },
  })) as IdentityServer;
  server.decorate('demoLogins', demoLogins);
  server.decorate('demoLoginsFile', config.demoLoginsFile);
  server.decorate('issuer', config.issuer);

  provider.on('server_error', (_ctx, err) => server.log.error({ err }, 'oidc-provider server error'));
  provider.on('grant.revoked', (_ctx, grantId) => server.log.info({ grantId }, 'grant revoked'));

  const handle = provider.callback();
  server.addHook('onRequest', async (request, reply) => {
    if (!ownedByProvider(request.url)) return;
    reply.hijack();
    handle(request.raw, reply.raw);
  });

  await server.register(async (scope) => interactionRoutes(scope, { provider, accounts, login, config }));

  const sweep = setInterval(() => {
    storage.sweep().catch((err) => server.log.warn({ err }, 'expired OIDC artefact sweep failed'));
  }, 10 * 60_000);
  sweep.unref();
  server.addHook('onClose', async () => {
    clearInterval(sweep);
    await redis?.close();
    await database.close();
  });
  return server;
}
