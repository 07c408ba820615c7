/**
 * An OpenAPI document's operations as gateway-file entries, for `portico gateway import`:
 * - the upstream is `servers[0]` (its variables at their defaults), or `--server`; its path, if
 *   any, stays on the gateway path unless `--prefix` gives another (then a rewrite turns it back);
 * - one route per path, taking the methods the path lists. The gateway matches literal prefixes,
 *   so a templated path (`/notes/{id}`) is a prefix route on its literal part (`/notes`), and
 *   paths it cannot tell apart (`/notes/{id}`, `/notes/{id}/tags`) become one route;
 * - auth per method: the operation's `x-portico-auth`, else its `security`, else the path item's
 *   `x-portico-auth`, the root's, the root's `security`; no security at all is public. Bearer,
 *   OAuth 2.0 and OpenID Connect schemes are what the gateway checks (a JWT); a requirement's
 *   scopes become `{ scopes }` (any one of the alternatives), and one requirement of several
 *   scopes, all needed, the route's `scopes` when every guarded method of the route asks for the same;
 * - `x-portico-<key>` on the root or a path item sets the route key `<key>` (kebab-case:
 *   `x-portico-rate-limit` is `rateLimit`) with the value the gateway file takes, the path
 *   item's over the root's; the root's `x-portico-upstream` adds upstream settings;
 * - the command line's settings (`overrides`) win over the document.
 * Nothing is checked against the gateway file's schema here: gateway-file.ts checks the file
 * these entries make, and names a bad value by where it came from (`origins`).
 */
import { METHODS } from '../schema.ts';

type Json = Record<string, unknown>;
export type Rule = 'public' | 'token' | { roles?: string[]; scopes?: string[]; mfa?: boolean };

export class ImportError extends Error {
  readonly issues: string[];
  constructor(source: string, issues: string[]) {
    super(`cannot import ${source}:\n  - ${issues.join('\n  - ')}`);
    this.name = 'ImportError';
    this.issues = issues;
  }
}

export interface ImportOptions {
  /** Where the document came from: a relative `servers` URL is read against it when it is a URL. */
  source: string;
  /** The upstream's name (default: from `info.title`). */
  upstream?: string;
  /** The upstream's URL, over `servers[0]`. */
  server?: string;
  /** Where the paths go on the gateway (default: the server URL's own path). */
  prefix?: string;
  /** Route keys `x-portico-*` may set: the gateway file's, less the ones this mapping writes itself. */
  routeKeys: ReadonlySet<string>;
  /** Route keys from the command line, over the document's; `auth` is a rule for every method. */
  overrides?: Record<string, unknown>;
}

export interface ImportedRoute extends Json {
  name: string;
  path: string;
  methods: string[];
  upstream: string;
}

export interface Imported {
  /** The document's file or URL, as given. */
  source: string;
  upstream: { name: string; definition: Json };
  routes: ImportedRoute[];
  /**
   * Where each generated value came from, for messages: route name (or `upstream`) → key
   * (`rateLimit`, `auth.GET`) → `paths./notes.x-portico-rate-limit`.
   */
  origins: Map<string, Map<string, string>>;
  /** What was left out, and why (a TRACE operation). */
  warnings: string[];
}

/** Route keys the import writes itself; an `x-portico-*` naming one is refused. */
const WRITTEN = new Set(['name', 'path', 'exact', 'methods', 'upstream', 'aggregate', 'auth']);
const OPENAPI_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const GATEWAY_METHODS = new Set<string>(METHODS);
const READS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Schemes whose credential is a JWT access token, the one thing the gateway checks. */
const TOKEN_SCHEMES = new Set(['oauth2', 'openIdConnect']);

interface Sourced<T> {
  value: T;
  where: string;
}
/** A method's rule, or scopes all of which it needs (the route's `scopes` if it is alone in asking). */
type MethodAuth = Sourced<Rule> | (Sourced<Rule> & { all: string[] });

interface Group {
  name: string;
  path: string;
  exact: boolean;
  paths: string[];
  methods: Map<string, MethodAuth>;
  keys: Map<string, Sourced<unknown>>;
}

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const camel = (kebab: string) => kebab.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** `Notes API` → `notes-api`: a name the gateway file's patterns take. */
export function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '');
}

/** The route a gateway path needs: its literal part before the first template segment. */
export function literalRoute(path: string): { path: string; exact: boolean } {
  const brace = path.indexOf('{');
  if (brace < 0) return { path: path.length > 1 ? path.replace(/\/+$/, '') || '/' : path, exact: true };
  return { path: path.slice(0, path.lastIndexOf('/', brace)) || '/', exact: false };
}

export function importRoutes(document: Json, options: ImportOptions): Imported {
  const issues: string[] = [];
  const warnings: string[] = [];
  const origins = new Map<string, Map<string, string>>();
  const info = isObject(document.info) ? document.info : {};

  const name = options.upstream ?? slug(String(info.title ?? ''));
  if (!name) issues.push('info.title gives no name for the upstream: give --upstream <name>');
  const server = upstreamUrl(document, options, issues);
  const base = server ? server.pathname.replace(/\/+$/, '') : '';
  const prefix = options.prefix === undefined ? base : options.prefix.replace(/\/+$/, '');
  if (options.prefix !== undefined && !options.prefix.startsWith('/'))
    issues.push(`--prefix "${options.prefix}" must start with /`);

  const definition: Json = { instances: server ? [server.origin] : [] };
  const upstreamOrigins = new Map([
    ['instances', options.server === undefined ? 'servers.0.url' : '--server'],
  ]);
  origins.set('upstream', upstreamOrigins);
  const settings = document['x-portico-upstream'];
  if (settings !== undefined) {
    if (!isObject(settings) || 'instances' in settings) {
      issues.push(
        'x-portico-upstream must be a mapping of upstream settings (healthCheck, breaker, connections, queue); its instance comes from servers',
      );
    } else {
      Object.assign(definition, settings);
      for (const key of Object.keys(settings)) upstreamOrigins.set(key, `x-portico-upstream.${key}`);
    }
  }

  const schemes =
    isObject(document.components) && isObject(document.components.securitySchemes)
      ? document.components.securitySchemes
      : {};
  const rootKeys = extensionKeys(document, '', options.routeKeys, issues);
  const groups = new Map<string, Group>();
  const names = new Set<string>();
  const paths = isObject(document.paths) ? document.paths : {};
  if (Object.keys(paths).length === 0) issues.push('paths: the document has no paths to route');

  for (const [path, item] of Object.entries(paths)) {
    const at = `paths.${path}`;
    if (!isObject(item)) continue;
    const gatewayPath = path === '/' && prefix ? prefix : `${prefix}${path}`;
    const literal = literalRoute(gatewayPath);
    const id = `${literal.exact ? '=' : '^'}${literal.path}`;
    let group = groups.get(id);
    if (!group) {
      const wanted = `${name}-${slug(path.replace(/[{}]/g, '').replaceAll('/', '-')) || 'root'}`;
      let routeName = wanted;
      for (let n = 2; names.has(routeName); n++) routeName = `${wanted}-${n}`;
      names.add(routeName);
      group = { name: routeName, ...literal, paths: [], methods: new Map(), keys: new Map() };
      groups.set(id, group);
    }
    group.paths.push(path);
    const shared = group.paths.length > 1 ? sharing(group) : '';

    for (const [key, sourced] of extensionKeys(item, at, options.routeKeys, issues)) {
      const earlier = group.keys.get(key);
      if (earlier && !same(earlier.value, sourced.value))
        issues.push(`${sourced.where} differs from ${earlier.where}${shared}`);
      else if (!earlier) group.keys.set(key, sourced);
    }

    for (const method of OPENAPI_METHODS) {
      const operation = item[method];
      if (!isObject(operation)) continue;
      const opAt = `${at}.${method}`;
      const upper = method.toUpperCase();
      if (!GATEWAY_METHODS.has(upper)) {
        warnings.push(`${opAt} left out: the gateway does not pass ${upper}`);
        continue;
      }
      for (const key of Object.keys(operation)) {
        if (key.startsWith('x-portico-') && key !== 'x-portico-auth')
          issues.push(
            `${opAt}.${key}: a gateway route takes it for all its methods; set it on ${at} or at the document's root`,
          );
      }
      const auth = authFor(document, item, operation, at, opAt, schemes, issues);
      if (!auth) continue;
      const earlier = group.methods.get(upper);
      if (earlier && !same(earlierValue(earlier), earlierValue(auth)))
        issues.push(`${auth.where} differs from ${earlier.where} for ${upper}${shared}`);
      else if (!earlier) group.methods.set(upper, auth);
    }
  }

  const routes: ImportedRoute[] = [];
  for (const group of groups.values()) {
    if (group.methods.size === 0) continue;
    const from = new Map<string, string>();
    origins.set(group.name, from);
    const route: ImportedRoute = {
      name: group.name,
      path: group.path,
      ...(group.exact ? { exact: true } : {}),
      methods: [...group.methods.keys()],
      upstream: name,
    };
    const keys = new Map([...rootKeys, ...group.keys]);
    for (const [key, value] of Object.entries(options.overrides ?? {}))
      if (key !== 'auth') keys.set(key, { value, where: `the command line's ${key}` });
    if (prefix !== base) {
      const rewrite = { pattern: `^${prefix.replace(/[^A-Za-z0-9/_~]/g, '\\$&')}`, replacement: base };
      const transform = keys.get('transform');
      if (transform && (!isObject(transform.value) || 'rewrite' in transform.value))
        issues.push(
          `${transform.where}.rewrite: --prefix ${prefix} needs a rewrite of its own (to ${base || 'the root'})`,
        );
      else
        keys.set('transform', {
          value: { ...(transform?.value as Json | undefined), rewrite },
          where: transform ? transform.where : `--prefix ${prefix}`,
        });
    }
    authOf(group, route, from, options.overrides?.auth, keys, issues);
    for (const [key, { value, where }] of keys) {
      route[key] = value;
      from.set(key, where);
    }
    routes.push(route);
  }
  // The runtime keeps the file's order among routes of one path: an exact route must come first.
  const firstAt = new Map<string, number>();
  for (const [i, route] of routes.entries()) if (!firstAt.has(route.path)) firstAt.set(route.path, i);
  routes.sort((a, b) => firstAt.get(a.path)! - firstAt.get(b.path)! || Number(!a.exact) - Number(!b.exact));

  if (issues.length > 0) throw new ImportError(options.source, issues);
  return { source: options.source, upstream: { name, definition }, routes, origins, warnings };
}

const earlierValue = (auth: MethodAuth) => ('all' in auth ? { all: auth.all } : auth.value);

function sharing(group: Group): string {
  return `, but the gateway serves ${group.paths.join(' and ')} as one route (it matches ${group.path} as a prefix)`;
}

/** The route keys `x-portico-*` sets on `node` (the root or a path item), with where each is. */
function extensionKeys(
  node: Json,
  at: string,
  routeKeys: ReadonlySet<string>,
  issues: string[],
): Map<string, Sourced<unknown>> {
  const found = new Map<string, Sourced<unknown>>();
  for (const [extension, value] of Object.entries(node)) {
    if (!extension.startsWith('x-portico-')) continue;
    const where = at ? `${at}.${extension}` : extension;
    const key = camel(extension.slice('x-portico-'.length));
    if (key === 'auth' || (key === 'upstream' && !at)) continue;
    if (WRITTEN.has(key) || !routeKeys.has(key)) {
      const known = [...routeKeys]
        .filter((k) => !WRITTEN.has(k))
        .map((k) => `x-portico-${kebab(k)}`)
        .join(', ');
      issues.push(`${where} is not a gateway route setting; these are: x-portico-auth, ${known}`);
      continue;
    }
    found.set(key, { value, where });
  }
  return found;
}

/** The rule for one operation, from the most specific place that says one. */
function authFor(
  document: Json,
  item: Json,
  operation: Json,
  at: string,
  opAt: string,
  schemes: Json,
  issues: string[],
): MethodAuth | undefined {
  if ('x-portico-auth' in operation)
    return { value: operation['x-portico-auth'] as Rule, where: `${opAt}.x-portico-auth` };
  if (operation.security !== undefined)
    return fromSecurity(operation.security, `${opAt}.security`, schemes, issues);
  if ('x-portico-auth' in item)
    return { value: item['x-portico-auth'] as Rule, where: `${at}.x-portico-auth` };
  if ('x-portico-auth' in document)
    return { value: document['x-portico-auth'] as Rule, where: 'x-portico-auth' };
  if (document.security !== undefined) return fromSecurity(document.security, 'security', schemes, issues);
  return { value: 'public', where: `${opAt} (no security: public)` };
}

/**
 * OpenAPI security requirements as a gateway rule. Alternatives are "any one of", the scopes
 * of one requirement "all of"; the gateway's `{ scopes }` is any one, its route `scopes` all.
 */
function fromSecurity(
  security: unknown,
  at: string,
  schemes: Json,
  issues: string[],
): MethodAuth | undefined {
  if (!Array.isArray(security)) {
    issues.push(`${at} must be a list of security requirements`);
    return undefined;
  }
  if (security.length === 0) return { value: 'public', where: at };
  const alternatives: string[][] = [];
  for (const [i, requirement] of security.entries()) {
    if (!isObject(requirement)) {
      issues.push(`${at}.${i} must be a mapping of scheme names to scopes`);
      return undefined;
    }
    // An empty requirement makes the token optional: public, and a token sent is still checked.
    if (Object.keys(requirement).length === 0) return { value: 'public', where: `${at}.${i}` };
    const scopes: string[] = [];
    for (const [scheme, wanted] of Object.entries(requirement)) {
      const declared = schemes[scheme];
      if (!isObject(declared)) {
        issues.push(`${at}.${i}.${scheme} is not in components.securitySchemes`);
        return undefined;
      }
      const bearer = declared.type === 'http' && String(declared.scheme).toLowerCase() === 'bearer';
      if (!bearer && !TOKEN_SCHEMES.has(String(declared.type))) {
        issues.push(
          `${at}.${i}.${scheme}: a ${String(declared.type)}${declared.scheme ? ` ${String(declared.scheme)}` : ''} scheme is not one the gateway checks (it checks JWT access tokens: http bearer, oauth2, openIdConnect); say what the gateway should do in x-portico-auth, or --auth public to leave it to the service`,
        );
        return undefined;
      }
      if (Array.isArray(wanted)) scopes.push(...wanted.map(String));
    }
    alternatives.push([...new Set(scopes)]);
  }
  if (alternatives.some((scopes) => scopes.length === 0)) return { value: 'token', where: at };
  if (alternatives.every((scopes) => scopes.length === 1))
    return { value: { scopes: alternatives.map((scopes) => scopes[0]!) }, where: at };
  if (alternatives.length === 1) return { value: 'token', all: alternatives[0]!, where: at };
  issues.push(
    `${at}: alternatives of several scopes each are more than the gateway checks (a rule takes any one scope, a route all of its scopes); say what the gateway should do in x-portico-auth`,
  );
  return undefined;
}

/** The route's `auth` (and `scopes` for all-of requirements), with where each rule came from. */
function authOf(
  group: Group,
  route: ImportedRoute,
  from: Map<string, string>,
  override: unknown,
  keys: Map<string, Sourced<unknown>>,
  issues: string[],
): void {
  const rules = new Map<string, Sourced<Rule>>();
  const allOf = [...group.methods.values()].filter((auth) => 'all' in auth) as Array<
    Sourced<Rule> & { all: string[] }
  >;
  if (override !== undefined) {
    for (const method of group.methods.keys())
      rules.set(method, { value: override as Rule, where: "the command line's auth" });
  } else {
    if (allOf.length > 0 && !keys.has('scopes')) {
      const guarded = [...group.methods.values()].filter((auth) => auth.value !== 'public');
      const first = allOf[0]!;
      const odd = guarded.find((auth) => !('all' in auth) || !same(auth.all, first.all));
      if (odd)
        issues.push(
          `${first.where} needs all of ${first.all.join(', ')}, which the gateway checks per route, but ${odd.where} does not${group.paths.length > 1 ? sharing(group) : ''}; say what the gateway should do in x-portico-auth or x-portico-scopes on the path item`,
        );
      else keys.set('scopes', { value: first.all, where: first.where });
    }
    for (const [method, auth] of group.methods) rules.set(method, { value: auth.value, where: auth.where });
  }
  // HEAD is answered by a GET route: it keeps GET's rule rather than falling to the default.
  const withHead = [...rules].flatMap(([method, rule]) =>
    method === 'GET' && !rules.has('HEAD')
      ? [[method, rule] as const, ['HEAD', rule] as const]
      : [[method, rule] as const],
  );
  const values = withHead.map(([, rule]) => rule);
  if (values.every((rule) => same(rule.value, values[0]!.value))) {
    route.auth = { default: values[0]!.value };
    from.set('auth.default', values[0]!.where);
    return;
  }
  // Reads with one rule and writes with another: `{ read, write }`, as a gateway file says it.
  const reads = withHead.filter(([method]) => READS.has(method)).map(([, rule]) => rule);
  const writes = withHead.filter(([method]) => !READS.has(method)).map(([, rule]) => rule);
  const uniform = (rules: Array<Sourced<Rule>>) => rules.every((rule) => same(rule.value, rules[0]!.value));
  if (uniform(reads) && uniform(writes)) {
    const auth: Json = {};
    for (const [group, rules] of [
      ['read', reads],
      ['write', writes],
    ] as const) {
      if (rules.length === 0) continue;
      auth[group] = rules[0]!.value;
      from.set(`auth.${group}`, rules[0]!.where);
    }
    route.auth = auth;
    return;
  }
  const auth: Json = {};
  for (const [method, rule] of withHead) {
    auth[method] = rule.value;
    from.set(`auth.${method}`, rule.where);
  }
  route.auth = auth;
}

/** `servers[0]` (or `--server`), its variables at their defaults, relative ones read against the source. */
function upstreamUrl(document: Json, options: ImportOptions, issues: string[]): URL | undefined {
  let raw = options.server;
  let where = '--server';
  if (raw === undefined) {
    const first = Array.isArray(document.servers) ? document.servers[0] : undefined;
    if (!isObject(first) || typeof first.url !== 'string') {
      issues.push('servers: the document names no server; give --server <url>');
      return undefined;
    }
    where = 'servers.0.url';
    const variables = isObject(first.variables) ? first.variables : {};
    raw = first.url.replace(/\{([^}]+)\}/g, (whole, variable: string) => {
      const value = variables[variable];
      return isObject(value) && value.default !== undefined ? String(value.default) : whole;
    });
    if (raw.includes('{')) {
      issues.push(`${where} "${first.url}" has a variable with no default; give --server <url>`);
      return undefined;
    }
  }
  let url: URL;
  try {
    url = /^https?:\/\//.test(options.source) ? new URL(raw, options.source) : new URL(raw);
  } catch {
    issues.push(
      `${where} "${raw}" is not an absolute URL${where === '--server' ? '' : '; give --server <url>'}`,
    );
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    issues.push(`${where} "${raw}" is not http or https`);
    return undefined;
  }
  return url;
}
