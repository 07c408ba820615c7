/**
 * Every route's pipeline, in one place and in order. A policy whose options a route
 * does not set is left out of that route's chain, so it costs nothing.
 *
 *   request id, header hygiene       (gateway.ts, before any policy)
 *   cors          policies/cors        preflight answered here; CORS headers on every answer
 *   body-limit    policies/body-limit  413 before the body passes the route's limit
 *   auth          policies/auth        401 / 403 / 429 on failed-auth metering; the verified caller becomes the consumer
 *   (lookahead)   policies/cache       a GET's cache read starts here, beside the limiter's store call
 *   rate-limit    policies/rate-limit  429 + RateLimit headers; fails open without its store
 *   streams       policies/streams     an event stream takes a slot of the consumer's connection cap
 *   cache         policies/cache       a hit answers here; a write purges
 *   transform     policies/transform   path rewrite, headers both ways, response fields
 *   validate      policies/validate    400 / 415 against the published operation; the upstream's own answer checked in a test mode
 *   ── aggregate  policies/aggregate   parallel branches, partial results
 *   ── proxy      policies/proxy       round robin, breaker, timeout → 504, idempotent retries
 *   metrics, usage, log              (gateway.ts, once the answer is written)
 */
import type { KvStore } from '@portico/store/kv';
import type { GatewayFile, RouteDef } from './config.ts';
import type { Connections } from './connections.ts';
import type { Context, Policy, Terminal } from './context.ts';
import { aggregate } from './policies/aggregate/index.ts';
import type { FailureMeter } from './policies/auth/failures.ts';
import { auth, type Verify } from './policies/auth/index.ts';
import { bodyLimit } from './policies/body-limit/index.ts';
import { type CacheHooks, cache, cacheLookahead } from './policies/cache/index.ts';
import { cors } from './policies/cors/index.ts';
import { proxy } from './policies/proxy/index.ts';
import { type RateLimitHooks, rateLimit } from './policies/rate-limit/index.ts';
import { streams } from './policies/streams/index.ts';
import { transform } from './policies/transform/index.ts';
import { type DocumentSource, type ValidateHooks, validate } from './policies/validate/index.ts';
import type { Upstream } from './upstream/upstream.ts';

export interface PipelineDeps {
  file: GatewayFile;
  upstreams: Map<string, Upstream>;
  kv: KvStore;
  verify: Verify;
  failures: FailureMeter;
  connections: Connections;
  hooks: RateLimitHooks & CacheHooks & ValidateHooks;
  /** The merged OpenAPI document (openapi/published.ts), for `validate`; absent, routes do not validate. */
  document?: DocumentSource;
  defaults: { timeoutMs: number; retries: number; bodyLimit: number; maxConnections: number };
}

export function buildPipeline(route: RouteDef, deps: PipelineDeps): Terminal {
  const policies = [
    cors(deps.file.cors),
    bodyLimit(route.bodyLimit ?? deps.defaults.bodyLimit),
    auth(route, deps.verify, deps.failures),
    cacheLookahead(route, deps.kv),
    rateLimit(route, deps.kv, deps.hooks),
    streams(route, route.maxConnections ?? deps.defaults.maxConnections, deps.connections),
    cache(route, deps.kv, deps.hooks),
    transform(route),
    // Last: the answer it checks is the upstream's, before field filters or the cache keep it.
    validate(route, deps.document, deps.hooks),
  ].filter((policy): policy is Policy => policy !== undefined);
  const terminal = route.aggregate
    ? aggregate(route, deps.upstreams, deps.defaults.timeoutMs)
    : proxy(route, deps.upstreams.get(route.upstream!)!, deps.defaults);
  return compose(policies, terminal);
}

function compose(policies: Policy[], terminal: Terminal): Terminal {
  return policies.reduceRight<Terminal>(
    (next, policy) => (ctx: Context) => policy(ctx, () => next(ctx)),
    terminal,
  );
}
