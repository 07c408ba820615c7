import { join } from 'node:path';
import Type from 'typebox';

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
      pattern: '^(sqlite:|postgres(ql)?://)',
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
 * Where a service's access tokens come from (the defaults are the embedded identity service)
 * and where it hears of the ones identity revoked before they expire.
 */
export function authSettings() {
  return Type.Object(
    {
      issuer: Type.String({ default: 'http://localhost:9000', env: 'AUTH_ISSUER' }),
      audience: Type.String({ default: 'http://localhost:8000', env: 'AUTH_AUDIENCE' }),
      jwksUri: Type.String({ default: 'http://localhost:9000/jwks', env: 'AUTH_JWKS_URI' }),
      redisUrl: Type.String({
        default: '',
        env: 'REDIS_URL',
        description:
          'Hear the tokens, accounts and grants identity revokes on this Redis; empty: in process (npm start)',
      }),
      revocationPrefix: Type.String({ default: 'portico:', env: 'AUTH_REVOCATION_PREFIX' }),
      dpopOrigins: Type.String({
        default: '',
        env: 'AUTH_DPOP_ORIGINS',
        description:
          'Comma-separated public origins clients address (DPoP proofs name them in htu); empty: the origin of the audience',
      }),
    },
    { additionalProperties: false, default: {} },
  );
}
