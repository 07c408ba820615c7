/**
 * A validated gateway file turned into what serves requests: upstreams with their pools
 * and checks, and routes with their compiled pipelines, longest path first. A reload
 * builds a new runtime and swaps it in; the old one closes once its requests are done.
 */
import { type GatewayFile, ms, type RouteDef } from './config.ts';
import type { Terminal } from './context.ts';
import { buildPipeline, type PipelineDeps } from './pipeline.ts';
import { type Authenticator, authenticator } from './policies/auth/index.ts';
import { type Limiter, limiter } from './policies/rate-limit/index.ts';
import { upgradeTransform } from './policies/transform/index.ts';
import { createUpstream, type Upstream, type UpstreamHooks } from './upstream/upstream.ts';

export interface CompiledRoute {
  name: string;
  def: RouteDef;
  path: string;
  exact: boolean;
  methods: Set<string>;
  handle: Terminal;
  upstream: Upstream | undefined;
  /** What a WebSocket session on this route is held to: the route's auth, bucket and limits. */
  edge: {
    authenticate: Authenticator;
    limit: Limiter | undefined;
    bodyLimit: number;
    maxConnections: number;
    idleTimeoutMs: number;
    /** The upstream path for a request path, after the route's rewrite; applies its request header operations. */
    transform: ReturnType<typeof upgradeTransform>;
  };
}

export interface Runtime {
  file: GatewayFile;
  loadedAt: Date;
  routes: CompiledRoute[];
  upstreams: Map<string, Upstream>;
  /**
   * The route for this path and method, longest path first; when routes cover the path but
   * none takes the method, the first of them (the caller answers 405 with `allowFor`).
   */
  match(path: string, method?: string): CompiledRoute | undefined;
  /** Every method some route takes on this path, for `Allow`. */
  allowFor(path: string): string;
  close(): Promise<void>;
}

const ALL_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

export function compile(
  file: GatewayFile,
  deps: Omit<PipelineDeps, 'file' | 'upstreams' | 'defaults'>,
  hooks: UpstreamHooks,
): Runtime {
  const upstreams = new Map<string, Upstream>();
  for (const [name, def] of Object.entries(file.upstreams))
    upstreams.set(name, createUpstream(name, def, hooks));
  const defaults = {
    timeoutMs: ms(file.defaults.timeout, 10_000),
    retries: file.defaults.retries,
    bodyLimit: file.defaults.bodyLimit,
    maxConnections: file.defaults.maxConnections,
  };
  const idleTimeoutMs = ms(file.defaults.idleTimeout, 5 * 60_000);
  const routes = file.routes
    .map((def): CompiledRoute => {
      const methods = new Set(def.methods ?? ALL_METHODS);
      if (methods.has('GET')) methods.add('HEAD');
      if (file.cors) methods.add('OPTIONS');
      return {
        name: def.name,
        def,
        path: def.path.length > 1 && def.path.endsWith('/') ? def.path.slice(0, -1) : def.path,
        exact: def.exact,
        methods,
        handle: buildPipeline(def, { ...deps, file, upstreams, defaults }),
        upstream: def.upstream ? upstreams.get(def.upstream) : undefined,
        edge: {
          authenticate: authenticator(def, deps.verify, deps.failures),
          limit: limiter(def, deps.kv, deps.hooks),
          bodyLimit: def.bodyLimit ?? defaults.bodyLimit,
          maxConnections: def.maxConnections ?? defaults.maxConnections,
          idleTimeoutMs: ms(def.idleTimeout, idleTimeoutMs),
          transform: upgradeTransform(def),
        },
      };
    })
    .sort((a, b) => b.path.length - a.path.length);

  return {
    file,
    loadedAt: new Date(),
    routes,
    upstreams,
    match(path, method) {
      let fallback: CompiledRoute | undefined;
      for (const route of routes) {
        if (!covers(route, path)) continue;
        if (method === undefined || route.methods.has(method)) return route;
        fallback ??= route;
      }
      return fallback;
    },
    allowFor(path) {
      const methods = new Set<string>();
      for (const route of routes) if (covers(route, path)) for (const m of route.methods) methods.add(m);
      return [...methods].join(', ');
    },
    async close() {
      await Promise.all([...upstreams.values()].map((upstream) => upstream.close()));
    },
  };
}

function covers(route: CompiledRoute, path: string): boolean {
  const p = route.path;
  if (path === p) return true;
  return !route.exact && path.startsWith(p) && (p === '/' || path.charCodeAt(p.length) === 47);
}
