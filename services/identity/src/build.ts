/**
 * The identity service: an OpenID Provider (oidc-provider, OpenID Certified) mounted on
 * the Portico HTTP kit. The provider's own endpoints (discovery, /auth, /token, /me,
 * /jwks, /session/end, introspection, revocation) are handed to it untouched, before
 * Fastify parses anything; Fastify serves the login/consent pages, /health and /metrics.
 */
import cookie from '@fastify/cookie';
import { createTokenVerifier, type TokenVerifier } from '@portico/auth';
import {
  createServer,
  REQUEST_ID_HEADER,
  RESOURCE_HEADERS,
  type Server,
  securityHeaders,
} from '@portico/http';
import { openServiceDatabase } from '@portico/store/sql';
import { migrations } from '../migrations/index.ts';
import { formGuard } from './accounts/csrf.ts';
import { passkeyRoutes } from './accounts/passkeys.ts';
import { passwordChangeRoutes } from './accounts/password-change.ts';
import { createReauthenticate } from './accounts/reauthenticate.ts';
import { accountRoutes } from './accounts/routes.ts';
import { securityRoutes } from './accounts/security.ts';
import { twoStepRoutes } from './accounts/two-step.ts';
import { adminClients } from './admin/clients.ts';
import { adminKeys } from './admin/keys.ts';
import { identityRevoker } from './admin/revoker.ts';
import { adminRoutes } from './admin/routes.ts';
import { adminUsers } from './admin/users.ts';
import { trustProxyOption } from './api/forwarded.ts';
import { interactionRoutes } from './api/interaction.ts';
import { passkeyScripts } from './api/passkey-scripts.ts';
import { ConfigSchema, type IdentityConfig } from './config.ts';
import type { IdentityDatabase } from './data/schema.ts';
import { createAccountTokenService } from './domain/account-tokens.ts';
import { createAccountService } from './domain/accounts.ts';
import { redisAttempts, sqlAttempts } from './domain/attempts.ts';
import { createAuditService } from './domain/audit.ts';
import { createClientService } from './domain/clients.ts';
import { type DemoLogin, ensureDemoAccounts } from './domain/demo.ts';
import { createLoginService } from './domain/login.ts';
import { createPasskeyService } from './domain/passkeys.ts';
import { secretSealer } from './domain/sealed-secrets.ts';
import { createSecondFactorService } from './domain/second-factor.ts';
import { accountActions } from './domain/self-service.ts';
import { accountSessions, type BrowserExchange } from './domain/sessions.ts';
import { createThrottle } from './domain/throttle.ts';
import { createMailer, type Mailer } from './mail/mailer.ts';
import { withStoredClients } from './oidc/client-adapter.ts';
import { devicePolling } from './oidc/device-polling.ts';
import { withHashedIds } from './oidc/hashed-ids.ts';
import { loadKeys, publicJwks } from './oidc/keys.ts';
import { liveProvider } from './oidc/live-provider.ts';
import { OIDC_SCOPES } from './oidc/provider.ts';
import { DEVICE_PATHS } from './oidc/public-clients.ts';
import { redisAdapter } from './oidc/redis-adapter.ts';
import { sqlAdapter } from './oidc/sql-adapter.ts';

export type { IdentityConfig };
export { ConfigSchema };

export type IdentityServer = Server & {
  /** Logins created by this start (empty when the accounts already existed). */
  demoLogins: DemoLogin[];
  /** Where the demo passwords are kept ('' when nowhere). */
  demoLoginsFile: string;
  issuer: string;
  /** How this identity sends mail; `mailer.mailbox` is the development mailbox when it runs one. */
  mailer: Mailer;
};

/** Paths oidc-provider owns (its default `routes`, plus discovery). */
const PROVIDER_PATHS = [
  '/.well-known/',
  '/auth',
  '/token',
  '/me',
  '/jwks',
  '/session/end',
  '/request',
  ...DEVICE_PATHS,
];

function ownedByProvider(url: string): boolean {
  const path = url.split('?')[0]!;
  return PROVIDER_PATHS.some((p) =>
    p.endsWith('/') ? path.startsWith(p) : path === p || path.startsWith(`${p}/`),
  );
}

export async function build(config: IdentityConfig): Promise<IdentityServer> {
  const database = await openServiceDatabase<IdentityDatabase>(config, migrations);
  const accounts = createAccountService(database);
  const storage = sqlAdapter(database);
  const redis = config.redis.url
    ? redisAdapter({ url: config.redis.url, prefix: config.redis.keyPrefix })
    : undefined;
  const keys = await loadKeys(config.keysFile);
  const demoLogins = config.demoAccounts ? await ensureDemoAccounts(accounts, config.demoLoginsFile) : [];

  const clients = createClientService(database, secretSealer(keys.cookieKeys, 'client secret'));
  const adapter = withStoredClients(withHashedIds(redis?.Adapter ?? storage.Adapter), clients);
  const attempts = redis
    ? redisAttempts(redis.client, `${config.redis.keyPrefix}throttle:`)
    : sqlAttempts(database);
  const throttle = createThrottle({ ...config.throttle, counter: attempts });
  const secondFactor = createSecondFactorService(database, {
    sealer: secretSealer(keys.cookieKeys, 'second factor'),
    throttle,
    issuer: 'Portico',
  });
  const login = createLoginService(accounts, throttle, secondFactor.enrolled);
  const passkeys = createPasskeyService(database, { issuer: config.issuer });
  const tokens = createAccountTokenService(database);
  const audit = createAuditService(database);
  if (config.accounts.signup && !config.mail.smtpUrl && !config.mail.devMailbox) {
    await redis?.close();
    await database.close();
    throw new Error(
      'accounts.signup needs mail: set mail.smtpUrl (IDENTITY_SMTP_URL), or turn on mail.devMailbox (IDENTITY_DEV_MAILBOX)',
    );
  }
  const mailer = await createMailer(config.mail);

  const server = (await createServer({
    name: 'identity',
    description: 'OpenID Provider: discovery at /.well-known/openid-configuration',
    tags: {
      admin:
        'Accounts, their sessions and grants, clients, signing keys, the audit log and the development mailbox (admin role)',
    },
    logLevel: config.logLevel === 'silent' ? false : config.logLevel,
    healthTimeoutMs: config.healthCheckTimeoutMs,
    health: { database: () => accounts.count(), ...(redis ? { redis: () => redis.ping() } : {}) },
    fastify: { trustProxy: trustProxyOption(config) },
  })) as IdentityServer;
  // Every answer, the provider's too; the pages (api/forms.ts, oidc/provider.ts) lay their own policy over it.
  await securityHeaders(server, RESOURCE_HEADERS);
  // Only the account forms' cookie: oidc-provider reads and writes its own on the raw request.
  await server.register(cookie);
  server.decorate('demoLogins', demoLogins);
  server.decorate('demoLoginsFile', config.demoLoginsFile);
  server.decorate('issuer', config.issuer);
  server.decorate('mailer', mailer);
  // The admin API checks tokens against the keys the provider publishes, whichever they are now.
  let ownVerifier: TokenVerifier | undefined;
  const live = liveProvider(config, {
    adapter,
    accounts,
    keys,
    onError: (err) => server.log.warn({ err }, 'the key file could not be read; the keys stay as they were'),
    onRebuild: (next) => {
      ownVerifier = undefined;
      server.log.info({ kids: next.jwks.keys.map((k) => k.kid) }, 'signing keys changed: provider rebuilt');
    },
  });
  const { provider } = live;
  provider.use(devicePolling({ counter: attempts, intervalSeconds: config.deviceFlow.pollIntervalSeconds }));
  const reportError = (err: unknown) => server.log.error({ err }, 'account background task failed');
  const sessions = accountSessions(database, provider, reportError);
  const revoker = identityRevoker(config);
  await Promise.race([revoker.ready, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
  // A client revoking its refresh token (RFC 7009) revokes the grant: its access tokens stop too.
  provider.on('grant.revoked', (_ctx: unknown, grantId: string) => {
    revoker.revokeGrant(grantId).catch(reportError);
  });
  const reauthenticate = createReauthenticate(login, secondFactor);
  // Only the ended grants are revoked: the access tokens of the browser making the change stay good.
  const endOtherSessions = async (accountId: string, from: BrowserExchange) => {
    const grants = await sessions.endOthers(accountId, from);
    await Promise.all(grants.map((grant) => revoker.revokeGrant(grant)));
  };
  const actions = accountActions({
    accounts,
    tokens,
    mailer,
    audit,
    config,
    endSessions: async (accountId) => {
      await revoker.revokeSubject(accountId);
      await sessions.endAll(accountId);
    },
    endOtherSessions,
    onBackgroundError: reportError,
  });
  const issuerUrl = new URL(config.issuer);
  const guard = formGuard({
    key: keys.cookieKeys[0]!,
    origin: issuerUrl.origin,
    secure: issuerUrl.protocol === 'https:',
  });

  provider.on('server_error', (_ctx, err) => server.log.error({ err }, 'oidc-provider server error'));
  // An error that escaped the provider's own handlers (answered 500 by provider-edge.ts).
  provider.on('error', (err: unknown) => server.log.error({ err }, 'oidc-provider request failed'));
  provider.on('grant.revoked', (_ctx, grantId) => server.log.info({ grantId }, 'grant revoked'));

  server.addHook('onRequest', async (request, reply) => {
    if (!ownedByProvider(request.url)) return;
    reply.hijack();
    // The provider's answers name the request too (its problem+json bodies, provider-edge.ts).
    reply.raw.setHeader(REQUEST_ID_HEADER, request.id);
    live.handle(request.raw, reply.raw);
  });

  await server.register(async (scope) =>
    interactionRoutes(scope, {
      provider,
      accounts,
      login,
      secondFactor,
      passkeys,
      audit,
      config,
      sendVerification: actions.sendVerification,
    }),
  );
  const signInMethodPages = {
    accounts,
    tokens,
    reauthenticate,
    secondFactor,
    passkeys,
    audit,
    guard,
    endOtherSessions,
  };
  await server.register(async (scope) => twoStepRoutes(scope, signInMethodPages));
  await server.register(async (scope) => passkeyRoutes(scope, signInMethodPages));
  await server.register(async (scope) => securityRoutes(scope, signInMethodPages));
  await server.register(async (scope) =>
    passwordChangeRoutes(scope, {
      ...signInMethodPages,
      actions,
      minPasswordLength: config.accounts.minPasswordLength,
    }),
  );
  await server.register(passkeyScripts);
  await server.register(async (scope) =>
    accountRoutes(scope, { actions, guard, config, mail: mailer.kind !== 'none' }),
  );
  const current = () =>
    (ownVerifier ??= createTokenVerifier({
      issuer: config.issuer,
      audience: config.api.audience,
      jwks: publicJwks(live.keys()),
      revocations: revoker.list,
    }));
  const verifier: TokenVerifier = {
    issuer: config.issuer,
    verify: (token, scheme) => current().verify(token, scheme),
    isRevoked: (claims) => current().isRevoked?.(claims) ?? false,
  };
  await server.register(async (scope) =>
    adminRoutes(scope, {
      verifier,
      users: adminUsers({ accounts, sessions, audit, revoker, secondFactor, passkeys, config, provider }),
      keys: adminKeys({ config, live, audit }),
      clients: adminClients({
        configClients: config.clients,
        clients,
        provider,
        audit,
        scopes: [...OIDC_SCOPES, ...config.api.scopes.map((s) => s.name)],
      }),
      audit,
      mailbox: mailer.mailbox,
      requireMfa: config.admin.requireMfa,
    }),
  );

  const sweep = setInterval(() => {
    storage.sweep().catch((err) => server.log.warn({ err }, 'expired OIDC artefact sweep failed'));
    Promise.all([tokens.sweep(), sessions.sweep(), passkeys.sweep()]).catch((err) =>
      server.log.warn({ err }, 'expired account link sweep failed'),
    );
  }, 10 * 60_000);
  sweep.unref();
  server.addHook('onClose', async () => {
    clearInterval(sweep);
    live.close();
    await mailer.close();
    await revoker.close();
    await redis?.close();
    await database.close();
  });
  return server;
}
