/**
 * The identity service's settings. Every key has an embedded default, so `npm start`
 * needs nothing; clients, the API audience, TTLs and the key file come from here.
 */
import { join } from 'node:path';
import { dataDir, Proxies, Resource, type Static, serviceSettings, Type, Url } from '@portico/config';

const Client = Type.Object(
  {
    client_id: Type.String({ minLength: 1 }),
    client_secret: Type.Optional(Type.String({ minLength: 16 })),
    client_name: Type.Optional(Type.String()),
    token_endpoint_auth_method: Type.Union(
      [Type.Literal('client_secret_basic'), Type.Literal('client_secret_post'), Type.Literal('none')],
      { default: 'client_secret_basic' },
    ),
    grant_types: Type.Array(
      Type.Union([
        Type.Literal('authorization_code'),
        Type.Literal('refresh_token'),
        Type.Literal('client_credentials'),
        // RFC 8628, for terminals without a browser (`npm run -s token -- --device`).
        Type.Literal('urn:ietf:params:oauth:grant-type:device_code'),
      ]),
      { minItems: 1 },
    ),
    redirect_uris: Type.Array(Type.String({ format: 'uri' }), { default: [] }),
    post_logout_redirect_uris: Type.Array(Type.String({ format: 'uri' }), { default: [] }),
    /** Space-separated scopes this client may ask for (OpenID and API scopes alike). */
    scope: Type.String(),
    application_type: Type.Union([Type.Literal('web'), Type.Literal('native')], { default: 'web' }),
    /**
     * Portico's own applications: the user is not asked to consent (their roles still decide
     * which API scopes they get) and a refresh token comes without `prompt=consent`.
     * @default false
     */
    first_party: Type.Boolean({ default: false }),
  },
  { additionalProperties: false },
);
export type ClientConfig = Static<typeof Client>;

const ApiScope = Type.Object(
  {
    name: Type.String({ pattern: '^[\\x21\\x23-\\x5B\\x5D-\\x7E]+$' }),
    /** Granted to a user only when they hold one of these roles; absent: any user. */
    roles: Type.Optional(Type.Array(Type.String())),
  },
  { additionalProperties: false },
);

export const ConfigSchema = Type.Object(
  {
    ...serviceSettings('identity', 9000),
    issuer: Url('http', {
      default: 'http://localhost:9000',
      env: 'IDENTITY_ISSUER',
      description: 'The OpenID Provider issuer identifier; tokens carry it as `iss`',
    }),
    api: Type.Object(
      {
        audience: Resource({
          default: 'http://localhost:8000',
          env: 'IDENTITY_API_AUDIENCE',
          description: 'RFC 8707 resource / RFC 9068 `aud` of the Portico API',
        }),
        scopes: Type.Array(ApiScope, {
          default: [
            { name: 'catalog:read' },
            { name: 'catalog:write', roles: ['admin'] },
            { name: 'orders:read' },
            { name: 'orders:write' },
            { name: 'payments:read' },
            { name: 'payments:write' },
            // The payments service marks orders paid with its own credential; no user role grants it.
            { name: 'orders:pay', roles: [] },
            { name: 'users:read' },
            { name: 'users:write' },
          ],
        }),
        accessTokenTtlSeconds: Type.Integer({ minimum: 30, maximum: 86400, default: 900 }),
      },
      { additionalProperties: false, default: {} },
    ),
    clients: Type.Array(Client, { default: defaultClients() }),
    clientSecrets: Type.Object(
      {
        web: Type.String({
          secret: true,
          default: '',
          env: 'PORTICO_WEB_CLIENT_SECRET',
          description:
            'Secret of the portico-web client when its config gives none (npm start makes one per data dir)',
        }),
        service: Type.String({
          secret: true,
          default: '',
          env: 'PORTICO_SERVICE_CLIENT_SECRET',
          description: 'Secret of the portico-service client when its config gives none',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    keysFile: Type.String({
      default: join(dataDir, 'identity-keys.json'),
      env: 'IDENTITY_KEYS_FILE',
      description: 'Signing keys (JWKS) and cookie keys; generated on first start (mode 0600)',
    }),
    ttl: Type.Object(
      {
        authorizationCodeSeconds: Type.Integer({ minimum: 10, maximum: 600, default: 60 }),
        idTokenSeconds: Type.Integer({ minimum: 60, default: 3600 }),
        refreshTokenSeconds: Type.Integer({ minimum: 60, default: 14 * 86400 }),
        sessionSeconds: Type.Integer({ minimum: 60, default: 14 * 86400 }),
        interactionSeconds: Type.Integer({ minimum: 60, default: 3600 }),
      },
      { additionalProperties: false, default: {} },
    ),
    keyRotation: Type.Object(
      {
        /**
         * A rotated key is published this long before it signs: more than `reloadSeconds` (every
         * replica publishes it) plus how long verifiers cache the JWKS (@portico/auth: 600 s).
         */
        activationDelaySeconds: Type.Integer({ minimum: 0, default: 900 }),
        /** How often each replica re-reads the key file for keys added elsewhere. */
        reloadSeconds: Type.Integer({ minimum: 1, default: 30 }),
      },
      { additionalProperties: false, default: {} },
    ),
    dpop: Type.Object(
      {
        requireNonce: Type.Boolean({
          default: true,
          env: 'IDENTITY_DPOP_REQUIRE_NONCE',
          description:
            'The token endpoint asks for a server nonce in DPoP proofs (RFC 9449 §8: use_dpop_nonce, DPoP-Nonce)',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    deviceFlow: Type.Object(
      {
        /** RFC 8628 §3.2 `interval`: a device polling sooner is told `slow_down` (§3.5). */
        pollIntervalSeconds: Type.Integer({ minimum: 1, maximum: 60, default: 5 }),
      },
      { additionalProperties: false, default: {} },
    ),
    demoAccounts: Type.Boolean({
      default: true,
      env: 'IDENTITY_DEMO_ACCOUNTS',
      description: 'Create a customer (alice) and an admin (admin) with random passwords on first start',
    }),
    demoLoginsFile: Type.String({
      default: join(dataDir, 'identity-demo-logins.json'),
      env: 'IDENTITY_DEMO_LOGINS_FILE',
      description: 'Where the demo passwords are kept for the token CLI (mode 0600); empty: nowhere',
    }),
    throttle: Type.Object(
      {
        maxFailuresPerAccount: Type.Integer({ minimum: 1, default: 5 }),
        maxFailuresPerIp: Type.Integer({ minimum: 1, default: 20 }),
        windowSeconds: Type.Integer({ minimum: 1, default: 900 }),
      },
      { additionalProperties: false, default: {} },
    ),
    redis: Type.Object(
      {
        url: Url('redis', {
          orEmpty: true,
          default: '',
          env: 'IDENTITY_REDIS_URL',
          description: 'redis:// URL: keep sessions, codes, grants and tokens in Redis instead of SQL',
        }),
        keyPrefix: Type.String({ default: 'portico:identity:', env: 'IDENTITY_REDIS_PREFIX' }),
      },
      { additionalProperties: false, default: {} },
    ),
    accounts: Type.Object(
      {
        signup: Type.Boolean({
          default: true,
          env: 'IDENTITY_SIGNUP',
          description:
            'Anyone may create an account from the sign-in page (verified by email before first sign-in)',
        }),
        verifyEmailTtlSeconds: Type.Integer({ minimum: 300, maximum: 7 * 86400, default: 86400 }),
        resetPasswordTtlSeconds: Type.Integer({ minimum: 60, maximum: 86400, default: 1800 }),
        minPasswordLength: Type.Integer({ minimum: 8, maximum: 128, default: 10 }),
      },
      { additionalProperties: false, default: {} },
    ),
    admin: Type.Object(
      {
        requireMfa: Type.Boolean({
          default: true,
          env: 'IDENTITY_ADMIN_REQUIRE_MFA',
          description:
            'Admin API writes need a token from a two-step sign-in (amr has mfa); reads need the admin role only',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    mail: Type.Object(
      {
        from: Type.String({
          default: 'Portico <no-reply@portico.localhost>',
          env: 'IDENTITY_MAIL_FROM',
          description: 'The From of verification and password-reset mail',
        }),
        smtpUrl: Url('smtp', {
          orEmpty: true,
          default: '',
          env: 'IDENTITY_SMTP_URL',
          description:
            'smtp:// or smtps:// URL (user and password in it) of the server that sends mail; empty: the development mailbox',
        }),
        devMailbox: Type.Boolean({
          default: true,
          env: 'IDENTITY_DEV_MAILBOX',
          description:
            'With no smtpUrl, keep mail in an in-process SMTP mailbox that admins read in the console (development only)',
        }),
        devMailboxSize: Type.Integer({ minimum: 1, maximum: 10_000, default: 200 }),
      },
      { additionalProperties: false, default: {} },
    ),
    revocations: Type.Object(
      {
        redisUrl: Url('redis', {
          orEmpty: true,
          default: '',
          env: 'REDIS_URL',
          description:
            'Publish revoked tokens, accounts and grants on this Redis, where gateways and services listen; empty: in process',
        }),
        keyPrefix: Type.String({ default: 'portico:', env: 'AUTH_REVOCATION_PREFIX' }),
      },
      { additionalProperties: false, default: {} },
    ),
    trustProxy: Type.Boolean({
      default: false,
      env: 'IDENTITY_TRUST_PROXY',
      description: 'Honour X-Forwarded-* (only behind a proxy that sets them)',
    }),
    proxyHops: Type.Integer({
      minimum: 1,
      default: 1,
      env: 'IDENTITY_PROXY_HOPS',
      description:
        'With trustProxy: how many proxies (counted from this service) append to X-Forwarded-For; the client is the entry just left of theirs',
    }),
    trustedProxies: Proxies({
      default: '',
      env: 'IDENTITY_TRUSTED_PROXIES',
      description:
        'With trustProxy: comma-separated CIDRs of the proxies in front; the client is the rightmost X-Forwarded-For entry outside them (replaces proxyHops)',
    }),
  },
  { additionalProperties: false },
);

export type IdentityConfig = Static<typeof ConfigSchema>;

function defaultClients(): ClientConfig[] {
  const api =
    'catalog:read catalog:write orders:read orders:write payments:read payments:write users:read users:write';
  return [
    {
      client_id: 'portico-web',
      client_name: 'Portico console',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: ['http://localhost:3000/callback'],
      post_logout_redirect_uris: ['http://localhost:3000/'],
      scope: `openid profile email offline_access ${api}`,
      application_type: 'web',
      first_party: true,
    },
    {
      client_id: 'portico-cli',
      client_name: 'Portico token CLI',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
      redirect_uris: ['http://127.0.0.1/callback'],
      post_logout_redirect_uris: [],
      scope: `openid profile email offline_access ${api}`,
      application_type: 'native',
      first_party: true,
    },
    {
      client_id: 'portico-service',
      client_name: 'Portico service-to-service',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'],
      redirect_uris: [],
      post_logout_redirect_uris: [],
      scope: `${api} orders:pay`,
      application_type: 'web',
      first_party: false,
    },
  ];
}
