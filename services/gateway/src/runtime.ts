/**
 * A validated gateway file turned into what serves requests: upstreams with their pools
 * and checks, and routes with their compiled pipelines, longest path first. A reload
 * builds a new runtime and swaps it in; the old one closes once its requests are done.
 */
import { type GatewayFile, ms, type RouteDef } from './config.ts';
import type { RouteView, Terminal } from './context.ts';
import { buildPipeline, buildUpgrade, ordered } from './pipeline.ts';
import { type AnyPolicy, type GatewayServices, optionsFor } from './policy.ts';
import { METHODS } from './schema.ts';
import { createUpstream, type Upstream, type UpstreamHooks } from './upstream/upstream.ts';
import { webSocket } from './websocket/proxy.ts';

export interface CompiledRoute {
  name: string;
  def: RouteDef;
  /** What its policies see of it. */
  view: RouteView;
  path: string;
  exact: boolean;
  methods: Set<string>;
  handle: Terminal;
  upstream: Upstream | undefined;
  /** WebSocket upgrades, on a route with `websocket: true`: its policies that take upgrades, then the WebSocket terminal. */
  upgrade: Terminal | undefined;
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

/**
 * `plugins` are the outside policies the file names, already loaded (plugins.ts); `services`
 * is what every policy is lent, less what the file itself decides (upstreams, defaults).
 */
export function compile(
  file: GatewayFile,
  plugins: readonly AnyPolicy[],
  services: Omit<GatewayServices, 'upstreams' | 'defaults'>,
  hooks: UpstreamHooks,
): Runtime {
  const upstreams = new Map<string, Upstream>();
  for (const [name, def] of Object.entries(file.upstreams))
    upstreams.set(name, createUpstream(name, def, hooks));
  const gateway: GatewayServices = { ...services, upstreams, defaults: file.defaults };
  const chain = ordered(plugins);
  const idleTimeoutMs = ms(file.defaults.idleTimeout, 5 * 60_000);
  const routes = file.routes
    .map((def): CompiledRoute => {
      const methods = new Set<string>(def.methods ?? METHODS);
      if (methods.has('GET')) methods.add('HEAD');
      if (file.cors) methods.add('OPTIONS');
      const path = def.path.length > 1 && def.path.endsWith('/') ? def.path.slice(0, -1) : def.path;
      const policies = new Set(
        chain
          .filter((policy) => Object.keys(optionsFor(policy, def, file.defaults)).length > 0)
          .map((policy) => policy.name),
      );
      const view: RouteView = { name: def.name, path, upstream: def.upstream, policies };
      return {
        name: def.name,
        def,
        view,
        path,
        exact: def.exact,
        methods,
        handle: buildPipeline(def, view, file, chain, gateway),
        upstream: def.upstream ? upstreams.get(def.upstream) : undefined,
        upgrade:
          def.websocket && def.upstream
            ? buildUpgrade(
                def,
                view,
                file,
                chain,
                gateway,
                webSocket(upstreams.get(def.upstream)!, {
                  timeoutMs: ms(file.defaults.timeout, 10_000),
                  maxPayload: def.bodyLimit ?? file.defaults.bodyLimit,
                  idleTimeoutMs: ms(def.idleTimeout, idleTimeoutMs),
                  log: services.log,
                }),
              )
            : undefined,
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
