import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AccessClaims } from '@portico/auth';
import { clientAddress, type TrustProxy } from '@portico/http';
import { USER_ID_HEADER, USER_ROLES_HEADER, upstreamRequestHeaders } from './headers.ts';

/**
 * What a policy sees of its route: its name, its path and the upstream it goes to (none for an
 * aggregate). Never the compiled route, its pipeline or the routes beside it.
 */
export interface RouteView {
  readonly name: string;
  /** The route's path, without a trailing slash. */
  readonly path: string;
  readonly upstream: string | undefined;
  /** The names of the policies whose options the route sets (a policy may plan around another's work). */
  readonly policies: ReadonlySet<string>;
}

/** What a route answers: from an upstream, the cache, or an aggregation. */
export interface Reply {
  status: number;
  headers: OutgoingHttpHeaders;
  /** A relay is passed through as it arrives; a buffer was read (cache, transforms). */
  body: Buffer | Relay | undefined;
}

/** A response body still arriving from the upstream, written to the client as it comes. */
export interface Relay {
  relay: true;
  /** Writes what arrived and what will, then ends `res`; `done` is called once, when it ends or fails. */
  attach(res: ServerResponse, done: (err?: Error) => void): void;
  /** Reads the whole body instead. */
  collect(): Promise<Buffer>;
}

export function isRelay(body: Reply['body']): body is Relay {
  return body !== undefined && (body as Relay).relay === true;
}

/** The whole body of `reply`, read now if it is still arriving, and kept on the reply for what follows. */
export async function replyBody(reply: Reply): Promise<Buffer | undefined> {
  const body = reply.body;
  if (body === undefined || Buffer.isBuffer(body)) return body;
  reply.body = await body.collect();
  return reply.body;
}

/** A WebSocket upgrade in the pipeline (`ctx.upgrade`): the client's socket, and what its session must pass. */
export interface Upgrade {
  socket: Duplex;
  head: Buffer;
  /** Checks every client message must pass before it goes upstream, in order; a throw closes the session (1008). */
  messages: Array<() => Promise<unknown>>;
}

/** One request's state as it moves through its route's pipeline. */
export interface Context {
  req: IncomingMessage;
  /** For an upgrade, a response on its socket: refusals are written to it, and its `close` is the session's end. */
  res: ServerResponse;
  /** Set for a WebSocket upgrade, which runs the policies that take upgrades and then the WebSocket terminal. */
  upgrade: Upgrade | undefined;
  id: string;
  method: string;
  /** The path as the client sent it (no query). */
  path: string;
  /** The query string with its `?`, or ''. */
  search: string;
  route: RouteView;
  /** Headers for the upstream; built on first use by `upstreamHeaders(ctx)` (a cache hit never needs them). */
  upstreamHeaders: IncomingHttpHeaders | undefined;
  trustProxy: TrustProxy;
  /** Policies that must see the whole upstream body (cache, field filters) set this before the proxy runs. */
  bufferBody: boolean;
  /** Path and query sent upstream; transforms may rewrite it. */
  upstreamPath: string;
  body: Buffer | undefined;
  auth: AccessClaims | undefined;
  /** Who is asking, for limits and usage: `user:<sub>` or `ip:<address>`; '' until `consumerOf(ctx)`. */
  consumer: string;
  /** Headers added to the answer whatever it is (rate-limit state, CORS, cache status). */
  replyHeaders: Record<string, string>;
  reply: Reply | undefined;
  /**
   * A GET's cache key, made early (policies/cache `cacheLookahead`) from the path, query and
   * caller kept beside it, and the store's read started under it (none when this gateway held
   * a copy then).
   */
  lookahead?: {
    key: string;
    read: Promise<{ value?: Buffer; error?: unknown }> | undefined;
    path: string;
    search: string;
    auth: AccessClaims | undefined;
  };
  /** The upstream that answered, for metrics. */
  upstream: string;
  started: number;
  /** The trace it belongs to, taken while its server span is active (tracing on), for its log line. */
  traceId: string | undefined;
  /** The same when its trace is sampled: the request-duration histogram's exemplar. */
  exemplar: string | undefined;
}

/** A policy wraps the rest of the route: it may answer itself, or call `next` and look at the reply. */
export type Policy = (ctx: Context, next: () => Promise<void>) => Promise<void>;
export type Terminal = (ctx: Context) => Promise<void>;

/** The upstream request headers: cleaned, with the request id, trace context and the verified identity. */
export function upstreamHeaders(ctx: Context): IncomingHttpHeaders {
  if (ctx.upstreamHeaders) return ctx.upstreamHeaders;
  const headers = upstreamRequestHeaders(ctx.req, ctx.id, clientAddress(ctx.req, ctx.trustProxy));
  if (ctx.auth) {
    headers[USER_ID_HEADER] = ctx.auth.sub;
    headers[USER_ROLES_HEADER] = ctx.auth.roles.join(',');
  }
  ctx.upstreamHeaders = headers;
  return headers;
}

export function consumerOf(ctx: Context): string {
  if (!ctx.consumer) ctx.consumer = consumerFor(ctx.req, ctx.trustProxy, ctx.auth);
  return ctx.consumer;
}

/** `user:<sub>` for a verified caller, else `ip:<client address>`: one bucket whatever the transport. */
export function consumerFor(
  req: IncomingMessage,
  trustProxy: TrustProxy,
  claims: AccessClaims | undefined,
): string {
  return claims ? `user:${claims.sub}` : `ip:${clientAddress(req, trustProxy)}`;
}
