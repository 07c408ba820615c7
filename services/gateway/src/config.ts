/**
 * Two layers of configuration, as Kong splits kong.conf from its declarative file:
 * - `ConfigSchema`: how this gateway process runs (port, Redis, token issuer), from the
 *   environment like every Portico service;
 * - the gateway file (`GatewayFileSchema`, YAML or JSON): upstreams, routes and each
 *   route's policies. It is validated before it is used, at start and on every reload,
 *   and every problem names the key that is wrong.
 */
import { fileURLToPath } from 'node:url';
import { ConfigError, listenSettings, loadConfig, type Static, Type } from '@portico/config';

export const EMBEDDED_FILE = fileURLToPath(new URL('../gateway.yaml', import.meta.url));

export const ConfigSchema = Type.Object(
  {
    ...listenSettings('gateway', 8000),
    file: Type.String({
      default: EMBEDDED_FILE,
      env: 'GATEWAY_FILE',
      description: 'The gateway file: upstreams, routes and their policies (YAML or JSON)',
    }),
    watch: Type.Boolean({ default: true, env: 'GATEWAY_WATCH', description: 'Reload when the file changes' }),
    redisUrl: Type.String({
      default: '',
      env: 'REDIS_URL',
      description: 'Rate limits and cache in Redis, shared by every gateway; empty keeps them in process',
    }),
    redisKeyPrefix: Type.String({ default: 'portico:gw:', env: 'GATEWAY_REDIS_PREFIX' }),
    workers: Type.Integer({
      minimum: 1,
      maximum: 256,
      default: 1,
      env: 'GATEWAY_WORKERS',
      description:
        'Gateway processes serving the one port (workers.ts); more than 1 needs redisUrl, where they share rate limits and the cache',
    }),
    trustedProxies: Type.String({
      default: '',
      env: 'GATEWAY_TRUSTED_PROXIES',
      description:
        'Proxies whose X-Forwarded-For is believed, read from the right: empty (none), a hop count, or addresses/CIDRs/loopback/uniquelocal, comma-separated',
    }),
    auth: Type.Object(
      {
        issuer: Type.String({ default: 'http://localhost:9000', env: 'AUTH_ISSUER' }),
        audience: Type.String({ default: 'http://localhost:8000', env: 'AUTH_AUDIENCE' }),
        jwksUri: Type.String({ default: 'http://localhost:9000/jwks', env: 'AUTH_JWKS_URI' }),
        hs256Secret: Type.String({
          default: '',
          env: 'AUTH_HS256_SECRET',
          description:
            'Opt-in shared secret for HS256 tokens (32+ bytes); empty accepts only signed JWKS keys',
        }),
        revocationPrefix: Type.String({
          default: 'portico:',
          env: 'AUTH_REVOCATION_PREFIX',
          description:
            'Channel prefix of the token revocations identity publishes on Redis (redisUrl); in process without it',
        }),
        dpopOrigins: Type.String({
          default: '',
          env: 'AUTH_DPOP_ORIGINS',
          description:
            "Comma-separated public origins of this gateway, as clients address it (DPoP proofs name them in htu); empty: the audience's origin",
        }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);
export type GatewayConfig = Static<typeof ConfigSchema>;

/** Milliseconds, or a number with a unit: "500ms", "10s", "1m", "1h". */
const Duration = Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: '^[0-9]+(ms|s|m|h)$' })], {
  description: 'milliseconds, or "500ms", "10s", "1m", "1h"',
});
const Method = Type.Union(
  ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'].map((method) => Type.Literal(method)),
);
const Strings = Type.Array(Type.String({ minLength: 1 }));
const HeaderMap = Type.Record(Type.String(), Type.String());

const AuthRule = Type.Union(
  [
    Type.Literal('public'),
    Type.Literal('token'),
    Type.Object(
      {
        roles: Type.Optional(Strings),
        scopes: Type.Optional(Strings),
        /** The token's user signed in with two factors (`amr` has `mfa`). */
        mfa: Type.Optional(Type.Boolean()),
      },
      { additionalProperties: false },
    ),
  ],
  {
    description:
      '"public", "token", or { roles, scopes } of which any one is enough, and with mfa: true a two-factor sign-in',
  },
);

// Values of a Record get no schema defaults, so upstream settings are optional and defaulted in code.
const Upstream = Type.Object(
  {
    instances: Type.Array(Type.String({ pattern: '^https?://[^/]+$' }), { minItems: 1 }),
    connections: Type.Optional(
      Type.Integer({
        minimum: 1,
        description:
          'Pooled connections per instance (128), which is also how many requests it carries at once',
      }),
    ),
    queue: Type.Optional(
      Type.Integer({
        minimum: 0,
        description:
          'Requests that may wait for a free connection (default: connections × instances); past it, a fast 503',
      }),
    ),
    healthCheck: Type.Optional(
      Type.Object(
        {
          path: Type.Optional(Type.String({ pattern: '^/', description: '(/health)' })),
          interval: Type.Optional(Duration),
          timeout: Type.Optional(Duration),
          unhealthyAfter: Type.Optional(
            Type.Integer({ minimum: 1, description: 'failed checks that eject (2)' }),
          ),
          healthyAfter: Type.Optional(
            Type.Integer({ minimum: 1, description: 'passed checks that re-admit (1)' }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    breaker: Type.Optional(
      Type.Object(
        {
          failures: Type.Optional(
            Type.Integer({ minimum: 1, description: 'Consecutive failures that open it (5)' }),
          ),
          cooldown: Type.Optional(Duration),
          stallAfter: Type.Optional(
            Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: '^[0-9]+(ms|s|m|h)$' })], {
              description:
                'An instance that answers nothing this long with requests outstanding is probed and, if the probe fails too, ejected (1s; 0: off)',
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const HeaderOps = Type.Object(
  { add: Type.Optional(HeaderMap), remove: Type.Optional(Strings), rename: Type.Optional(HeaderMap) },
  { additionalProperties: false },
);

const Route = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z0-9_.-]+$' }),
    path: Type.String({ pattern: '^/' }),
    exact: Type.Boolean({ default: false, description: 'Match only this path, not what lies under it' }),
    methods: Type.Optional(Type.Array(Method, { minItems: 1 })),
    upstream: Type.Optional(Type.String()),
    timeout: Type.Optional(Duration),
    bodyTimeout: Type.Optional(
      Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: '^[0-9]+(ms|s|m|h)$' })], {
        description:
          'Longest gap between two chunks of the response body (default: timeout; 0: none, for SSE)',
      }),
    ),
    retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 5 })),
    bodyLimit: Type.Optional(Type.Integer({ minimum: 0 })),
    websocket: Type.Boolean({ default: false, description: 'Pass WebSocket upgrades through' }),
    scopes: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        minItems: 1,
        description:
          'Scopes a token must carry, all of them, on every method of the route that is not public (403 insufficient_scope)',
      }),
    ),
    idleTimeout: Type.Optional(Duration),
    maxConnections: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: 'Open WebSocket and event-stream connections per consumer on this route',
      }),
    ),
    auth: Type.Optional(
      Type.Object(
        {
          default: Type.Optional(AuthRule),
          read: Type.Optional(AuthRule),
          write: Type.Optional(AuthRule),
          GET: Type.Optional(AuthRule),
          HEAD: Type.Optional(AuthRule),
          POST: Type.Optional(AuthRule),
          PUT: Type.Optional(AuthRule),
          PATCH: Type.Optional(AuthRule),
          DELETE: Type.Optional(AuthRule),
          OPTIONS: Type.Optional(AuthRule),
        },
        { additionalProperties: false },
      ),
    ),
    rateLimit: Type.Optional(
      Type.Object({ limit: Type.Integer({ minimum: 1 }), window: Duration }, { additionalProperties: false }),
    ),
    cache: Type.Optional(
      Type.Object(
        {
          ttl: Duration,
          maxTtl: Type.Optional(Duration),
        },
        { additionalProperties: false },
      ),
    ),
    transform: Type.Optional(
      Type.Object(
        {
          rewrite: Type.Optional(
            Type.Object(
              { pattern: Type.String({ minLength: 1 }), replacement: Type.String() },
              { additionalProperties: false },
            ),
          ),
          request: Type.Optional(
            Type.Object({ headers: Type.Optional(HeaderOps) }, { additionalProperties: false }),
          ),
          response: Type.Optional(
            Type.Object(
              {
                headers: Type.Optional(HeaderOps),
                fields: Type.Optional(
                  Type.Object(
                    { include: Type.Optional(Strings), exclude: Type.Optional(Strings) },
                    { additionalProperties: false },
                  ),
                ),
              },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    validate: Type.Optional(
      Type.Union(
        [
          Type.Boolean(),
          Type.Object(
            {
              requests: Type.Optional(Type.Boolean({ description: 'Check requests (true)' })),
              responses: Type.Optional(
                Type.Union([Type.Literal('off'), Type.Literal('log'), Type.Literal('reject')], {
                  description: 'Check JSON answers of documented statuses: log a drift, or answer 502 (off)',
                }),
              ),
            },
            { additionalProperties: false },
          ),
        ],
        {
          description:
            'Check requests against the published operation before they leave the gateway (400 / 415), and in a test mode the answers',
        },
      ),
    ),
    aggregate: Type.Optional(
      Type.Object(
        {
          branches: Type.Record(
            Type.String(),
            Type.Object(
              {
                upstream: Type.String(),
                path: Type.String({ pattern: '^/' }),
                timeout: Type.Optional(Duration),
              },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const GatewayFileSchema = Type.Object(
  {
    upstreams: Type.Record(Type.String(), Upstream),
    routes: Type.Array(Route),
    defaults: Type.Object(
      {
        timeout: Type.Optional(Duration),
        retries: Type.Integer({ minimum: 0, maximum: 5, default: 1 }),
        bodyLimit: Type.Integer({ minimum: 0, default: 1024 * 1024 }),
        idleTimeout: Type.Optional(Duration),
        maxConnections: Type.Integer({ minimum: 1, default: 20 }),
      },
      { additionalProperties: false, default: {} },
    ),
    authFailures: Type.Object(
      {
        limit: Type.Integer({ minimum: 1, default: 20 }),
        window: Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: '^[0-9]+(ms|s|m|h)$' })], {
          default: '1m',
        }),
      },
      {
        additionalProperties: false,
        default: {},
        description: 'Failed authentications per client address before 429 (checked before any signature)',
      },
    ),
    cors: Type.Optional(
      Type.Object(
        {
          origins: Strings,
          methods: Type.Optional(Type.Array(Method)),
          headers: Type.Optional(Strings),
          exposeHeaders: Type.Optional(Strings),
          credentials: Type.Boolean({ default: false }),
          maxAge: Type.Optional(Duration),
        },
        { additionalProperties: false },
      ),
    ),
    cache: Type.Object(
      { maxBytes: Type.Integer({ minimum: 0, default: 64 * 1024 * 1024 }) },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);
export type GatewayFile = Static<typeof GatewayFileSchema>;
export type RouteDef = GatewayFile['routes'][number];
export type UpstreamDef = GatewayFile['upstreams'][string];

export function ms(value: number | string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number') return value;
  const match = /^([0-9]+)(ms|s|m|h)$/.exec(value)!;
  return Number(match[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
}

/**
 * Reads and checks a gateway file, or a definition given in code (tests). Beyond the
 * schema: every route names an upstream that exists, names are unique, patterns compile.
 */
export function loadGatewayFile(source: string | GatewayFile): GatewayFile {
  let file: GatewayFile;
  try {
    file =
      typeof source === 'string'
        ? loadConfig('gateway file', GatewayFileSchema, { file: source, env: {} })
        : loadConfig('gateway file', GatewayFileSchema, { env: {}, overrides: source as never });
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError('gateway file', readable(err.issues));
    throw err;
  }
  const issues: string[] = [];
  const names = new Set<string>();
  file.routes.forEach((route, i) => {
    const at = `routes.${i}`;
    if (names.has(route.name)) issues.push(`${at}.name "${route.name}" is used by an earlier route`);
    names.add(route.name);
    if (route.aggregate) {
      if (route.upstream) issues.push(`${at} has both upstream and aggregate; a route has one or the other`);
      for (const [branch, def] of Object.entries(route.aggregate.branches)) {
        if (!file.upstreams[def.upstream])
          issues.push(`${at}.aggregate.branches.${branch}.upstream "${def.upstream}" is not in upstreams`);
      }
    } else if (!route.upstream) {
      issues.push(`${at}.upstream is missing (or give the route an aggregate)`);
    } else if (!file.upstreams[route.upstream]) {
      issues.push(`${at}.upstream "${route.upstream}" is not in upstreams`);
    }
    if (route.transform?.rewrite) {
      try {
        new RegExp(route.transform.rewrite.pattern);
      } catch (err) {
        issues.push(
          `${at}.transform.rewrite.pattern is not a valid regular expression (${(err as Error).message})`,
        );
      }
    }
  });
  if (issues.length > 0) throw new ConfigError('gateway file', issues);
  return file;
}

const DURATION_KEY =
  /^(.*\.)?(timeout|bodyTimeout|idleTimeout|interval|cooldown|stallAfter|window|ttl|maxTtl|maxAge)$/;
const AUTH_RULE_KEY = /^routes\.\d+\.auth\.[A-Za-z]+$/;
const VALIDATE_KEY = /^(routes\.\d+\.validate)(?:\.[A-Za-z]+)?$/;

/**
 * A value that fits none of a union's shapes gets one error per shape from the validator
 * ("must be integer", "must match pattern", "must match a schema in anyOf"); say once what
 * the key accepts instead.
 */
function readable(issues: string[]): string[] {
  const out: string[] = [];
  for (const issue of issues) {
    const key = issue.split(' ')[0]!;
    let line = issue;
    if (DURATION_KEY.test(key) && !issue.startsWith('unknown key')) {
      line = `${key} must be milliseconds or a duration such as "500ms", "10s", "1m", "1h"`;
    } else if (AUTH_RULE_KEY.test(key) && !/\.(roles|scopes|mfa)\b/.test(key)) {
      line = `${key} must be "public", "token", or { roles: [...], scopes: [...], mfa: true }`;
    } else if (VALIDATE_KEY.test(key) && !issue.startsWith('unknown key')) {
      line = `${VALIDATE_KEY.exec(key)![1]} must be true, false or { requests: true | false, responses: "off" | "log" | "reject" }`;
    }
    if (!out.includes(line)) out.push(line);
  }
  return out;
}
