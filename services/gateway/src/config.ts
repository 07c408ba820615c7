/**
 * Two layers of configuration, as Kong splits kong.conf from its declarative file:
 * - `ConfigSchema`: how this gateway process runs (port, Redis, token issuer), from the
 *   environment like every Portico service;
 * - the gateway file (`GatewayFileSchema`, YAML or JSON): upstreams, routes and each
 *   route's policies. It is validated before it is used, at start and on every reload,
 *   and every problem names the key that is wrong.
 */
import { fileURLToPath } from 'node:url';
import {
  authKeys,
  ConfigError,
  dpopRule,
  listenSettings,
  loadConfig,
  Proxies,
  type Static,
  type TSchema,
  Type,
  Url,
} from '@portico/config';
import { type AnyPolicy, type AnyTerminal, optionsFor } from './policy.ts';
import { type BuiltIn, policies, terminals } from './registry.ts';
import { Duration, Method } from './schema.ts';
import { Upstream } from './upstream/options.ts';

export { ms } from './schema.ts';

export const EMBEDDED_FILE = fileURLToPath(new URL('../gateway.yaml', import.meta.url));

/** What the token verifier (@portico/auth) would refuse at start-up, said as the keys that are wrong. */
function signingKeys<T extends TSchema>(auth: T) {
  const keys = (value: unknown) => value as { jwksUri?: unknown; hs256Secret?: unknown };
  return Type.Refine(
    Type.Refine(
      auth,
      (value) => keys(value).jwksUri !== '' || keys(value).hs256Secret !== '',
      () => '{jwksUri} (AUTH_JWKS_URI) or {hs256Secret} (AUTH_HS256_SECRET) must be set to check tokens with',
    ),
    (value) => {
      const secret = keys(value).hs256Secret;
      return typeof secret !== 'string' || secret === '' || Buffer.byteLength(secret) >= 32;
    },
    () => '{hs256Secret} must be empty or at least 32 bytes',
  );
}

export const ConfigSchema = Type.Object(
  {
    ...listenSettings('gateway', 8000),
    file: Type.String({
      default: EMBEDDED_FILE,
      env: 'GATEWAY_FILE',
      description: 'The gateway file: upstreams, routes and their policies (YAML or JSON)',
    }),
    watch: Type.Boolean({ default: true, env: 'GATEWAY_WATCH', description: 'Reload when the file changes' }),
    hotPath: Type.Union([Type.Literal('node'), Type.Literal('fastify')], {
      default: 'node',
      env: 'GATEWAY_HOT_PATH',
      description:
        "node: proxied routes go from Node's request event straight to their pipeline; fastify: through a Fastify catch-all route, kept to measure the difference (decision 0005)",
    }),
    redisUrl: Url('redis', {
      orEmpty: true,
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
    trustedProxies: Proxies({
      hops: true,
      default: '',
      env: 'GATEWAY_TRUSTED_PROXIES',
      description:
        'Proxies whose X-Forwarded-For is believed, read from the right: empty (none), a hop count, or addresses/CIDRs/loopback/uniquelocal, comma-separated',
    }),
    auth: signingKeys(
      dpopRule(
        Type.Object(
          {
            ...authKeys(),
            jwksUri: Url('http', {
              orEmpty: true,
              default: 'http://localhost:9000/jwks',
              env: 'AUTH_JWKS_URI',
              description: 'The issuer’s signing keys; empty: HS256 tokens only (hs256Secret)',
            }),
            hs256Secret: Type.String({
              secret: true,
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
          },
          { additionalProperties: false, default: {} },
        ),
      ),
    ),
  },
  { additionalProperties: false },
);
export type GatewayConfig = Static<typeof ConfigSchema>;

const CoreRoute = {
  name: Type.String({ pattern: '^[A-Za-z0-9_.-]+$' }),
  path: Type.String({ pattern: '^/' }),
  exact: Type.Boolean({ default: false, description: 'Match only this path, not what lies under it' }),
  methods: Type.Optional(Type.Array(Method, { minItems: 1 })),
  upstream: Type.Optional(Type.String()),
  websocket: Type.Boolean({ default: false, description: 'Pass WebSocket upgrades through' }),
  idleTimeout: Type.Optional(
    Duration({ description: 'A WebSocket session with no message either way this long is closed (5m)' }),
  ),
};
const CoreDefaults = { idleTimeout: Type.Optional(Duration()) };

type Definitions = BuiltIn;
type Intersect<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;
type RouteKeys = Intersect<Definitions['route']>;
type FileKeys = Intersect<NonNullable<Extract<Definitions, { file?: unknown }>['file']>>;
type DefaultKeys = Intersect<NonNullable<Definitions['defaults']>>;

/**
 * The gateway file's schema: the core keys (upstreams, routes' name, path, methods, upstream,
 * WebSocket settings) and every policy's own keys, built-in and `plugins`. A key two of them
 * claim is refused: an option means one thing.
 */
export function gatewayFileSchema(plugins: readonly AnyPolicy[] = []) {
  const definitions: ReadonlyArray<AnyPolicy | AnyTerminal> = [...policies, ...terminals, ...plugins];
  const clashes: string[] = [];
  const collect = (part: 'route' | 'file' | 'defaults', core: object) => {
    const owner = new Map<string, string>(Object.keys(core).map((key) => [key, 'the gateway']));
    const out: Record<string, TSchema> = {};
    for (const definition of definitions) {
      for (const [key, schema] of Object.entries(
        (definition[part as 'route'] ?? {}) as Record<string, TSchema>,
      )) {
        const taken = owner.get(key);
        if (taken) clashes.push(`policy ${definition.name} claims ${part} key ${key}, which is ${taken}'s`);
        owner.set(key, definition.name);
        out[key] = schema;
      }
    }
    return out;
  };
  const routeProperties = { ...CoreRoute, ...collect('route', CoreRoute) } as typeof CoreRoute & RouteKeys;
  const defaults = { ...CoreDefaults, ...collect('defaults', CoreDefaults) } as typeof CoreDefaults &
    DefaultKeys;
  const core = { plugins: 0, upstreams: 0, routes: 0, defaults: 0 };
  const fileKeys = collect('file', core) as FileKeys;
  if (clashes.length > 0) throw new ConfigError('gateway file', clashes);
  return Type.Object(
    {
      plugins: Type.Optional(
        Type.Array(Type.String({ minLength: 1 }), {
          description:
            "Policies written outside Portico: a path (from the gateway file's folder) or a package name, each exporting a definePolicy() as default",
        }),
      ),
      upstreams: Type.Record(Type.String(), Upstream),
      routes: Type.Array(Type.Object(routeProperties, { additionalProperties: false })),
      defaults: Type.Object(defaults, { additionalProperties: false, default: {} }),
      ...fileKeys,
    },
    { additionalProperties: false },
  );
}

export const GatewayFileSchema = gatewayFileSchema();
export type GatewayFile = Static<typeof GatewayFileSchema>;
export type RouteDef = GatewayFile['routes'][number];
export type { UpstreamDef } from './upstream/options.ts';

/**
 * Reads and checks a gateway file, or a definition given in code (tests). Beyond the
 * schema: names are unique, every route names an upstream that exists (or is an aggregate),
 * and what each policy's own `check` finds (an aggregate's branches, a rewrite's pattern).
 */
export function loadGatewayFile(
  source: string | GatewayFile,
  plugins: readonly AnyPolicy[] = [],
): GatewayFile {
  const schema = plugins.length === 0 ? GatewayFileSchema : gatewayFileSchema(plugins);
  const definitions: ReadonlyArray<AnyPolicy | AnyTerminal> = [...terminals, ...policies, ...plugins];
  let file: GatewayFile;
  try {
    file =
      typeof source === 'string'
        ? (loadConfig('gateway file', schema, { file: source, env: {} }) as GatewayFile)
        : (loadConfig('gateway file', schema, { env: {}, overrides: source as never }) as GatewayFile);
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError('gateway file', readable(err.issues, schema));
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
    } else if (!route.upstream) {
      issues.push(`${at}.upstream is missing (or give the route an aggregate)`);
    } else if (!file.upstreams[route.upstream]) {
      issues.push(`${at}.upstream "${route.upstream}" is not in upstreams`);
    }
    for (const definition of definitions) {
      if (definition.check)
        issues.push(...definition.check(optionsFor(definition, route, file.defaults), at, file));
    }
  });
  if (issues.length > 0) throw new ConfigError('gateway file', issues);
  return file;
}

/** Where the schema says in words what a key accepts: key patterns (`*` for any index or name). */
function annotations(schema: TSchema): Array<{ path: string[]; words: string; within: boolean }> {
  const found: Array<{ path: string[]; words: string; within: boolean }> = [];
  const walk = (node: Record<string, unknown>, path: string[]) => {
    const expected = node.expected as string | undefined;
    if (expected) found.push({ path, words: expected, within: node.expectedWithin === true });
    for (const [key, child] of Object.entries((node.properties ?? {}) as Record<string, object>))
      walk(child as Record<string, unknown>, [...path, key]);
    for (const child of Object.values((node.patternProperties ?? {}) as Record<string, object>))
      walk(child as Record<string, unknown>, [...path, '*']);
    if (node.items && typeof node.items === 'object')
      walk(node.items as Record<string, unknown>, [...path, '*']);
    for (const member of (node.anyOf ?? []) as object[])
      if (!expected) walk(member as Record<string, unknown>, path);
  };
  walk(schema as unknown as Record<string, unknown>, []);
  return found;
}

const wordings = new WeakMap<TSchema, ReturnType<typeof annotations>>();

function matches(pattern: string[], key: string[]): boolean {
  return pattern.length === key.length && pattern.every((part, i) => part === '*' || part === key[i]);
}

/**
 * A value that fits none of a union's shapes gets one error per shape from the validator
 * ("must be integer", "must match pattern", "must match a schema in anyOf"); say once what
 * the key accepts instead, in the words its schema gives (schema.ts `expected`).
 */
function readable(issues: string[], schema: TSchema): string[] {
  const known = wordings.get(schema) ?? annotations(schema);
  wordings.set(schema, known);
  const out: string[] = [];
  for (const issue of issues) {
    const key = issue.split(' ')[0]!;
    const parts = key.split('.');
    let line = issue;
    if (!issue.startsWith('unknown key')) {
      for (const { path, words, within } of known) {
        if (matches(path, parts)) line = `${key} ${words}`;
        else if (within && matches(path, parts.slice(0, -1)))
          line = `${parts.slice(0, -1).join('.')} ${words}`;
        else continue;
        break;
      }
    }
    if (!out.includes(line)) out.push(line);
  }
  return out;
}
