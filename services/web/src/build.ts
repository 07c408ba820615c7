/**
 * The web console: a backend-for-frontend. It signs people in with OpenID Connect, keeps
 * their tokens in a server-side session, forwards `/api/*` to the gateway with the token,
 * relays live product changes as server-sent events, and serves the console's page.
 */
import cookie from '@fastify/cookie';
import { ConfigError } from '@portico/config';
import { createServer, RESOURCE_HEADERS, type Server, securityHeaders, trustedProxies } from '@portico/http';
import { openServiceDatabase } from '@portico/store/sql';
import type { CustomFetch } from 'openid-client';
import type { Dispatcher } from 'undici';
import { migrations } from '../migrations/index.ts';
import { authRoutes } from './api/auth.ts';
import { liveRoutes } from './api/live.ts';
import { proxyRoutes } from './api/proxy.ts';
import { requestRoutes } from './api/requests.ts';
import { ConfigSchema, type WebConfig } from './config.ts';
import type { WebDatabase } from './data/schema.ts';
import { createOidcClient } from './oidc/client.ts';
import { createAccessTokens } from './oidc/tokens.ts';
import { createSessions } from './session/sessions.ts';
import { sqlSessionStore } from './session/store.ts';
import { accountPageRoutes } from './ui/account-pages.ts';
import { staticRoutes } from './ui/static.ts';

export type { WebConfig };
export { ConfigSchema };

export interface WebDeps {
  /** Connection pool for the gateway (tests). */
  dispatcher?: Dispatcher;
  /** Replaces fetch for calls to the OpenID Provider (tests). */
  oidcFetch?: CustomFetch;
}

const SWEEP_EVERY_MS = 10 * 60_000;

/** The console's server; it decorates nothing (its sessions live behind the routes). */
export type WebServer = Server;

export async function build(config: WebConfig, deps: WebDeps = {}): Promise<WebServer> {
  if (config.oidc.clientSecret.length < 16) {
    throw new ConfigError('web', [
      'oidc.clientSecret needs 16+ characters: set PORTICO_WEB_CLIENT_SECRET to the portico-web secret the identity service has (npm start sets it)',
    ]);
  }
  const trustProxy = trustedProxies(config.trustedProxies, 'web');
  const database = await openServiceDatabase<WebDatabase>(config, migrations);
  const store = sqlSessionStore(database);
  const sessions = createSessions(store, {
    secure: config.publicUrl.startsWith('https:'),
    idleSeconds: config.session.idleSeconds,
    absoluteSeconds: config.session.absoluteSeconds,
  });
  const client = createOidcClient(config, { fetch: deps.oidcFetch });
  const tokens = createAccessTokens(client, sessions, config.oidc.refreshLeewaySeconds);

  const server = await createServer({
    name: 'web',
    description: 'The Portico console: sign-in (OpenID Connect), /api/* to the gateway, live updates',
    tags: {
      session: 'The console’s browser session (a cookie set by signing in)',
      live: 'Live updates for the browser as server-sent events',
      requests: 'Recent requests traced in this process, for administrators',
    },
    logLevel: config.logLevel === 'silent' ? false : config.logLevel,
    healthTimeoutMs: config.healthCheckTimeoutMs,
    health: { database: () => store.count() },
    fastify: { trustProxy },
  });
  await server.register(cookie);
  // Every response; the pages (ui/static.ts, api/auth.ts) add their own CSP and referrer policy.
  await securityHeaders(server, RESOURCE_HEADERS);

  const sweep = setInterval(() => {
    store.sweep().catch((err) => server.log.warn({ err }, 'expired session sweep failed'));
  }, SWEEP_EVERY_MS);
  sweep.unref();
  server.addHook('onClose', async () => {
    clearInterval(sweep);
    await database.close();
  });

  await server.register(async (scope) => authRoutes(scope as Server, { config, client, sessions }));
  await server.register(async (scope) =>
    proxyRoutes(scope as Server, { config, sessions, tokens, dispatcher: deps.dispatcher }),
  );
  await server.register(async (scope) => requestRoutes(scope as Server, { sessions, tokens }));
  await server.register(async (scope) => liveRoutes(scope as Server, { config, sessions, tokens }));
  accountPageRoutes(server, { issuer: config.oidc.issuer });
  staticRoutes(server, { identityOrigin: new URL(config.oidc.issuer).origin, publicUrl: config.publicUrl });
  return server;
}
