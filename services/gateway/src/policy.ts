/**
 * The policy contract, as Kong's and APISIX's plugins have one: a policy is a definition with
 * - `name`, as logs and docs call it;
 * - `priority`: where it runs in a route's pipeline, higher first (the built-ins' table is in
 *   registry.ts), so an outside policy places itself between two built-ins by number alone;
 * - `route`: its keys on a route of the gateway file, as schemas; `defaults` (the same keys,
 *   set once under `defaults:`) and `file` (keys at the top of the file) when it has them.
 *   The file's schema is composed from every definition's, so a bad key is named at load;
 * - `upgrades`: whether it also runs on WebSocket upgrades (auth, limits: yes; cache: no);
 * - `create(options, route, gateway, file)`: a factory (graphql-yoga's `useX(options): Plugin`)
 *   given its validated options, a narrow view of its route, what the gateway lends policies
 *   and its file keys; it returns the policy, or nothing when the route does not use it (a
 *   policy a route leaves out costs nothing).
 * A refusal is a thrown problem (`defineErrors`), answered as problem+json on the one path
 * every error takes (reply.ts). Outside policies are loaded from the gateway file's
 * `plugins:` and get exactly this contract (`@portico/gateway/policy`).
 */

import type { AccessClaims, AuthScheme, DpopVerifier } from '@portico/auth';
import type { Static, TObject, TProperties } from '@portico/config';
import type { OpenApiDocument } from '@portico/http';
import type { KvStore } from '@portico/store/kv';
import type { FastifyBaseLogger } from 'fastify';
import type { Connections } from './connections.ts';
import type { Policy, RouteView, Terminal } from './context.ts';
import type { Copies } from './policies/cache/copies.ts';
import type { Upstream } from './upstream/upstream.ts';

export { Type } from '@portico/config';
export { defineErrors } from '@portico/problem';
export type { Context, Policy, Reply, RouteView, Terminal } from './context.ts';
/** What a policy may do to a request beyond its own fields: the upstream's headers, the consumer, the whole answer. */
export { consumerOf, replyBody, upstreamHeaders } from './context.ts';
export { Duration, ms } from './schema.ts';

/** What edge validation reports, per request and per answer (metrics, drift logs). */
export type ValidationResult =
  | 'passed'
  | 'refused'
  | 'drift'
  | 'no_document'
  | 'undocumented'
  | 'bad_schema'
  | 'skipped';

export interface FieldError {
  field: string;
  in: 'path' | 'query' | 'header' | 'body';
  code: string;
  message: string;
}

/**
 * Verifies a token presented with `scheme`; `cached` answers from what was verified before
 * without checking a signature; `dpop` checks the proof of a DPoP-bound token.
 */
export type Verify = ((token: string, scheme?: AuthScheme) => AccessClaims | Promise<AccessClaims>) & {
  cached?: (token: string, scheme?: AuthScheme) => AccessClaims | undefined;
  dpop?: DpopVerifier;
};

/** Failed authentications per client address (policies/auth/failures.ts). */
export interface FailureMeter {
  /** Throws 429 when `address` is blocked or has `limit` verifications in flight; else reserves a slot. */
  admit(address: string): Promise<() => void>;
  /** Counts one failed authentication from `address`. */
  failed(address: string): Promise<void>;
}

/** Counters and logs a policy reports to; the gateway turns them into metrics. */
export interface PolicyHooks {
  decided(route: string, decision: 'allowed' | 'rejected' | 'failed_open'): void;
  lookup(route: string, result: 'hit' | 'miss' | 'bypass'): void;
  validated(route: string, part: 'request' | 'response', result: ValidationResult): void;
  drifted(
    route: string,
    detail: { method: string; path: string; status: number; errors: FieldError[] },
  ): void;
  /** The shared store failed: counted, and logged at most every few seconds. */
  storeFailed(operation: string, err: unknown): void;
}

/** What the gateway lends every policy at set-up, the same for each route of one gateway file. */
export interface GatewayServices {
  /** The store rate limits and the cache share (Redis, or memory in one process). */
  kv: KvStore;
  log: FastifyBaseLogger;
  hooks: PolicyHooks;
  /** Open WebSocket sessions and event streams per key, capped. */
  connections: Connections;
  /** This gateway's copies of cached answers, kept consistent by purges (policies/cache/copies.ts). */
  copies: Copies;
  upstreams: ReadonlyMap<string, Upstream>;
  verify: Verify;
  failures: FailureMeter;
  /** The merged OpenAPI document; absent, routes do not validate. */
  document?: () => Promise<OpenApiDocument>;
  /** The file's `defaults:` section, every key of it. */
  defaults: Readonly<Record<string, unknown>>;
}

/** A definition without file or default keys. */
export type NoKeys = Record<never, never>;

/** A definition's options: its keys on the route, each falling back to its value under `defaults:`. */
export type OptionsOf<R extends TProperties> = Static<TObject<R>>;

export interface PolicyDefinition<
  R extends TProperties = TProperties,
  F extends TProperties = NoKeys,
  D extends TProperties = NoKeys,
> {
  name: string;
  /** Higher runs first (further from the upstream). */
  priority: number;
  /**
   * Also runs on WebSocket upgrades (`ctx.upgrade` set), before the WebSocket terminal; a
   * policy that reads or answers HTTP bodies leaves this off. Default: false.
   */
  upgrades?: boolean;
  route: R;
  /** Route keys that `defaults:` may set for every route (each must also be in `route`). */
  defaults?: D;
  file?: F;
  create(
    options: OptionsOf<R>,
    route: RouteView,
    gateway: GatewayServices,
    file: OptionsOf<F>,
  ): Policy | undefined;
  /** Checks beyond its schema, at load: each problem a line naming its key under `at` (`routes.3`). */
  check?(options: OptionsOf<R>, at: string, file: FileView): string[];
}

/** What ends a route's pipeline: the proxy, an aggregate. The first that answers for a route serves it. */
export interface TerminalDefinition<R extends TProperties = TProperties, D extends TProperties = NoKeys> {
  name: string;
  route: R;
  defaults?: D;
  create(options: OptionsOf<R>, route: RouteView, gateway: GatewayServices): Terminal | undefined;
  check?(options: OptionsOf<R>, at: string, file: FileView): string[];
}

/** What a definition's `check` may look up in the rest of the file. */
export interface FileView {
  upstreams: Readonly<Record<string, unknown>>;
}

/** A definition's route keys as a route sets them, each falling back to its value under `defaults:`. */
export function optionsFor(
  definition: { route: object; defaults?: object },
  route: object,
  defaults: object,
): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  const own = route as Record<string, unknown>;
  for (const key in definition.route) {
    const value =
      own[key] ??
      (definition.defaults && key in definition.defaults
        ? (defaults as Record<string, unknown>)[key]
        : undefined);
    if (value !== undefined) options[key] = value;
  }
  return options;
}

/** Types a policy's options from its schemas; returns the definition as given. */
export function definePolicy<
  R extends TProperties,
  F extends TProperties = NoKeys,
  D extends TProperties = NoKeys,
>(definition: PolicyDefinition<R, F, D>): PolicyDefinition<R, F, D> {
  return definition;
}

export function defineTerminal<R extends TProperties, D extends TProperties = NoKeys>(
  definition: TerminalDefinition<R, D>,
): TerminalDefinition<R, D> {
  return definition;
}

/** Any definition, whatever its options (the registry's and plugins' element type). */
// biome-ignore lint/suspicious/noExplicitAny: options are checked against the definition's own schema
export type AnyPolicy = PolicyDefinition<any, any, any>;
// biome-ignore lint/suspicious/noExplicitAny: as above
export type AnyTerminal = TerminalDefinition<any, any>;
