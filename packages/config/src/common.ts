import { join } from 'node:path';
import Type, { type TObject } from 'typebox';
import { isUrl, Origin, Url } from './url.ts';

/** Where the embedded default keeps its SQLite files and generated keys. */
export const dataDir = process.env.PORTICO_DATA_DIR ?? '.data';

/** Settings every service has: where it listens, how it logs, where its data lives. */
/** Where a service listens (its public port, and the operator port: public + 10000 by default) and how it logs. */
export function listenSettings(name: string, port: number) {
  const NAME = name.toUpperCase();
  return {
    port: Type.Integer({ minimum: 0, maximum: 65535, default: port, env: `${NAME}_PORT` }),
    host: Type.String({ default: '127.0.0.1', env: `${NAME}_HOST` }),
    operatorPort: Type.Integer({
      minimum: 0,
      maximum: 65535,
      default: port + 10_000,
      env: `${NAME}_OPERATOR_PORT`,
      description: "/metrics, the detailed /health (and the gateway's /usage): never route it publicly",
    }),
    operatorHost: Type.String({ default: '127.0.0.1', env: `${NAME}_OPERATOR_HOST` }),
    logLevel: Type.Union(
      [
        Type.Literal('fatal'),
        Type.Literal('error'),
        Type.Literal('warn'),
        Type.Literal('info'),
        Type.Literal('debug'),
        Type.Literal('trace'),
        Type.Literal('silent'),
      ],
      { default: 'info', env: 'LOG_LEVEL' },
    ),
    shutdownDelayMs: Type.Integer({
      minimum: 0,
      default: 0,
      env: 'SHUTDOWN_DELAY_MS',
      description:
        'On SIGTERM, keep serving this long while /health says draining, so load balancers stop sending first',
    }),
    healthCheckTimeoutMs: Type.Integer({
      minimum: 10,
      default: 500,
      env: 'HEALTH_CHECK_TIMEOUT_MS',
      description:
        "Longest /health waits for one readiness check (database, Redis…) before calling it failed; keep it under the gateway's stallAfter",
    }),
    shutdownTimeoutMs: Type.Integer({
      minimum: 0,
      default: 10_000,
      env: 'SHUTDOWN_TIMEOUT_MS',
      description: 'Longest wait for requests and streams in flight on shutdown; then they are cut',
    }),
  };
}

/** `listenSettings` plus the database the service owns. */
export function serviceSettings(name: string, port: number) {
  return {
    ...listenSettings(name, port),
    databaseUrl: Type.String({
      format: 'database-url',
      default: `sqlite:${join(dataDir, `${name}.db`)}`,
      env: 'DATABASE_URL',
      description: 'sqlite:<path> (embedded default) or a postgres:// URL; each service owns its own schema',
    }),
    databaseSchema: Type.String({
      pattern: '^[a-z_][a-z0-9_]*$',
      default: name,
      env: `${name.toUpperCase()}_DATABASE_SCHEMA`,
    }),
    databaseQueryTimeoutMs: Type.Integer({
      minimum: 100,
      default: 5000,
      env: 'DATABASE_QUERY_TIMEOUT_MS',
      description:
        "PostgreSQL: longest a statement runs (statement_timeout) and, 500 ms later, longest a query waits on a silent connection; then 503 DATABASE_UNAVAILABLE. Keep it under the gateway route's timeout",
    }),
    databaseAcquireTimeoutMs: Type.Integer({
      minimum: 100,
      default: 2000,
      env: 'DATABASE_ACQUIRE_TIMEOUT_MS',
      description:
        'PostgreSQL: longest wait for a pooled connection, or to open a new one; then 503 DATABASE_UNAVAILABLE',
    }),
  };
}

/**
 * Where access tokens come from (the defaults are the embedded identity service), whom they
 * are for, and the public origins DPoP proofs name: the keys the gateway and every service share.
 */
export function authKeys() {
  return {
    issuer: Url('http', { default: 'http://localhost:9000', env: 'AUTH_ISSUER' }),
    audience: Type.String({
      minLength: 1,
      default: 'http://localhost:8000',
      env: 'AUTH_AUDIENCE',
      description:
        "The tokens' `aud`: any string (RFC 7519), though DPoP origins are derived only from an http(s) URL",
    }),
    jwksUri: Url('http', { default: 'http://localhost:9000/jwks', env: 'AUTH_JWKS_URI' }),
    revocationPrefix: Type.String({ default: 'portico:', env: 'AUTH_REVOCATION_PREFIX' }),
    dpopOrigins: Origin({
      list: true,
      default: '',
      env: 'AUTH_DPOP_ORIGINS',
      description:
        'Comma-separated public origins clients address (DPoP proofs name them in htu); empty: the origin of the audience, which must then be an http(s) URL',
    }),
  };
}

/**
 * DPoP origins default to the audience's origin (@portico/auth `dpopOrigins`), so an audience
 * that is no http(s) URL needs them listed.
 */
export function dpopRule<T extends TObject>(auth: T) {
  return Type.Refine(
    auth,
    (value) => {
      const { audience, dpopOrigins } = value as { audience?: unknown; dpopOrigins?: unknown };
      if (typeof audience !== 'string' || typeof dpopOrigins !== 'string') return true;
      return dpopOrigins.trim() !== '' || isUrl(audience, 'http');
    },
    () =>
      '{audience} is not an http(s) URL to take the DPoP origin from, so {dpopOrigins} (AUTH_DPOP_ORIGINS) must list the public origins clients address',
  );
}

/**
 * Where a service's access tokens come from and where it hears of the ones identity revoked
 * before they expire.
 */
export function authSettings() {
  return dpopRule(
    Type.Object(
      {
        ...authKeys(),
        redisUrl: Url('redis', {
          orEmpty: true,
          default: '',
          env: 'REDIS_URL',
          description:
            'Hear the tokens, accounts and grants identity revokes on this Redis; empty: in process (npm start)',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
  );
}
