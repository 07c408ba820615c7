/**
 * A shared response cache for GET and HEAD (RFC 9111, as a gateway applies it):
 * - only 200 answers; never `no-store`, `private`, `no-cache`, `Set-Cookie` or `Vary: *`;
 * - freshness from `s-maxage`, else `max-age`, else the route's `ttl` (capped by `maxTtl`);
 * - key: method, path, query with its parameters sorted, and the caller when a token was
 *   verified, so one user's answer never reaches another;
 * - `Age` and `X-Cache: HIT|MISS|BYPASS` on the answer; a hit whose ETag the client's
 *   If-None-Match names is a 304 (RFC 9111 §4.3.2), as the upstream itself would answer;
 * - a successful write through the gateway purges the resource, its sub-resources and
 *   its collection;
 * - the store unreachable: the request goes upstream, uncached.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import { Type } from '@portico/config';
import { isFresh } from '@portico/http';
import type { KvStore } from '@portico/store/kv';
import { type Context, replyBody } from '../../context.ts';
import { definePolicy, type GatewayServices, type Policy } from '../../policy.ts';
import { Duration, ms } from '../../schema.ts';
import type { Copies, Entry } from './copies.ts';

const UNCACHEABLE = /(?:^|,)\s*(?:no-store|private|no-cache)\b/i;
const SKIP_STORED = new Set(['age', 'date', 'x-request-id', 'set-cookie', 'ratelimit', 'ratelimit-policy']);

export const cache = definePolicy({
  name: 'cache',
  priority: 900,
  route: {
    cache: Type.Optional(
      Type.Object({ ttl: Duration(), maxTtl: Type.Optional(Duration()) }, { additionalProperties: false }),
    ),
  },
  file: {
    cache: Type.Object(
      { maxBytes: Type.Integer({ minimum: 0, default: 64 * 1024 * 1024 }) },
      { additionalProperties: false, default: {} },
    ),
  },
  create(options, route, gateway) {
    return options.cache && cachePolicy(route.name, options.cache, gateway);
  },
});

function cachePolicy(
  name: string,
  options: { ttl: string | number; maxTtl?: string | number },
  { kv, hooks, copies }: GatewayServices,
): Policy {
  const ttlMs = ms(options.ttl, 300_000);
  const maxTtlMs = ms(options.maxTtl, 24 * 3_600_000);

  // A hit on this gateway's copy answers without a promise of its own; the rest is `answer`.
  return (ctx, next) => {
    if (ctx.method === 'GET' || ctx.method === 'HEAD') {
      const ahead = lookaheadFor(ctx);
      if (ahead || !refreshing(ctx)) {
        const key = ahead ? ahead.key : cacheKey(name, ctx);
        const copy = copies.get(key);
        if (copy) {
          hit(ctx, copy);
          return ANSWERED;
        }
        return answer(ctx, next, ahead, key);
      }
    }
    return answer(ctx, next, undefined, undefined);
  };

  async function answer(
    ctx: Context,
    next: () => Promise<void>,
    ahead: Context['lookahead'],
    found: string | undefined,
  ): Promise<void> {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      await next();
      const status = ctx.reply?.status ?? 500;
      if (status < 400) {
        const tags = purgeTags(name, ctx.path);
        try {
          await kv.purge(tags);
        } catch (err) {
          hooks.storeFailed('cache-purge', err);
        }
        // After the store's purge: a gateway that drops its copy then reads the store's answer.
        await copies.purge(tags);
      }
      return;
    }

    const key = found ?? cacheKey(name, ctx);
    // `found`: the key under which this gateway holds no copy (looked for after the limiter's
    // wait, in which a purge may have dropped it): the store is asked next.
    if (found !== undefined) {
      let stored: Buffer | undefined;
      try {
        stored = ahead?.read ? await ahead.read.then(unwrap) : await kv.get(key);
      } catch (err) {
        hooks.storeFailed('cache-get', err);
      }
      if (stored) {
        const entry = decode(stored);
        copies.keep(key, entry, entryTags(name, ctx.path));
        hit(ctx, entry);
        return;
      }
    }

    if (ctx.method === 'GET') ctx.bufferBody = true;
    await next();
    const reply = ctx.reply;
    if (reply?.status !== 200 || reply.body === undefined || ctx.method !== 'GET') {
      hooks.lookup(name, 'bypass');
      ctx.replyHeaders['x-cache'] = 'BYPASS';
      return;
    }
    const lifetime = freshness(reply.headers, ttlMs, maxTtlMs);
    if (lifetime <= 0) {
      hooks.lookup(name, 'bypass');
      ctx.replyHeaders['x-cache'] = 'BYPASS';
      return;
    }
    hooks.lookup(name, 'miss');
    ctx.replyHeaders['x-cache'] = 'MISS';
    const body = (await replyBody(reply))!;
    const age = Number(reply.headers.age ?? 0) || 0;
    const ttl = lifetime - age * 1000;
    const stored = encode(reply.headers, body, age, ttl);
    const tags = entryTags(name, ctx.path);
    try {
      await kv.set(key, stored, ttl, tags);
      copies.keep(key, decode(stored), tags);
    } catch (err) {
      hooks.storeFailed('cache-set', err);
    }
  }

  function hit(ctx: Context, entry: Entry) {
    hooks.lookup(name, 'hit');
    const age = Math.max(0, Math.floor((Date.now() - entry.storedAt) / 1000)) + entry.age;
    const etag = entry.headers.etag;
    ctx.reply =
      typeof etag === 'string' && isFresh(ctx.req, etag)
        ? { status: 304, headers: notModifiedHeaders(entry.headers, age), body: undefined }
        : {
            status: 200,
            headers: { ...entry.headers, age: String(age), 'content-length': String(entry.body.length) },
            body: entry.body,
          };
    ctx.replyHeaders['x-cache'] = 'HIT';
  }
}

const ANSWERED = Promise.resolve();

/** What a 304 carries of the stored answer (RFC 9110 §15.4.5): no body, nor headers about one. */
const NOT_MODIFIED_HEADERS = [
  'cache-control',
  'content-location',
  'etag',
  'expires',
  'vary',
  'last-modified',
];

function notModifiedHeaders(stored: OutgoingHttpHeaders, age: number): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = { age: String(age) };
  for (const name of NOT_MODIFIED_HEADERS) if (stored[name] !== undefined) headers[name] = stored[name];
  return headers;
}

/**
 * The lookahead (routes with a limit too) has made the key already, unless a policy in
 * between changed what it is made of.
 */
function lookaheadFor(ctx: Context): Context['lookahead'] {
  const ahead = ctx.lookahead;
  return ahead !== undefined &&
    ahead.path === ctx.path &&
    ahead.search === ctx.search &&
    ahead.auth === ctx.auth
    ? ahead
    : undefined;
}

/**
 * Starts a GET's cache read before the rate limit's store call (its priority sits between auth
 * and rate-limit): with Redis both go out in one event-loop turn, so a cache hit waits for one
 * round trip, not two. The `cache` policy uses the read when its key is the one read here.
 * Only on routes that run both a cache and a rate limit.
 */
export const cacheLookahead = definePolicy({
  name: 'cache-lookahead',
  priority: 1200,
  route: {},
  create(_options, route, { kv, copies }) {
    if (!route.policies.has('cache') || !route.policies.has('rate-limit')) return undefined;
    return lookahead(route.name, kv, copies);
  },
});

function lookahead(name: string, kv: KvStore, copies: Copies): Policy {
  return (ctx, next) => {
    if ((ctx.method === 'GET' || ctx.method === 'HEAD') && !refreshing(ctx)) {
      const key = cacheKey(name, ctx);
      // This gateway holds a copy: the cache policy answers from it, nothing to read early.
      // Else settled into a value either way: a request the limiter refuses never awaits it.
      const read = copies.get(key)
        ? undefined
        : kv.get(key).then(
            (value) => ({ value }),
            (error: unknown) => ({ error }),
          );
      ctx.lookahead = { key, read, path: ctx.path, search: ctx.search, auth: ctx.auth };
    }
    return next();
  };
}

function unwrap(result: { value?: Buffer; error?: unknown }): Buffer | undefined {
  if ('error' in result) throw result.error;
  return result.value;
}

function refreshing(ctx: Context): boolean {
  return /no-cache|no-store/i.test(String(ctx.req.headers['cache-control'] ?? ''));
}

function cacheKey(route: string, ctx: Context): string {
  const query = ctx.search.length > 1 ? normaliseQuery(ctx.search.slice(1)) : '';
  return `${route}|${ctx.path}?${query}|${ctx.auth ? ctx.auth.sub : ''}`;
}

/** Parameters sorted by name, then value, and re-encoded one way: `?b=2&a=1` and `?a=1&b=2` are one entry. */
export function normaliseQuery(query: string): string {
  const params = new URLSearchParams(query);
  params.sort();
  return params.toString();
}

function freshness(headers: OutgoingHttpHeaders, ttlMs: number, maxTtlMs: number): number {
  const cc = String(headers['cache-control'] ?? '');
  if (UNCACHEABLE.test(cc) || headers['set-cookie'] !== undefined) return 0;
  const vary = String(headers.vary ?? '');
  if (vary.includes('*')) return 0;
  const varied = vary === '' ? [] : vary.split(',').map((h) => h.trim().toLowerCase());
  if (varied.some((h) => h !== 'accept-encoding' && h !== 'origin')) return 0;
  const shared = /(?:^|,)\s*s-maxage=(\d+)/i.exec(cc);
  const max = /(?:^|,)\s*max-age=(\d+)/i.exec(cc);
  const seconds = shared?.[1] ?? max?.[1];
  return Math.min(seconds !== undefined ? Number(seconds) * 1000 : ttlMs, maxTtlMs);
}

function parent(path: string): string {
  const trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
  return trimmed.slice(0, trimmed.lastIndexOf('/')) || '/';
}

function entryTags(route: string, path: string): string[] {
  return [`${route}|p|${path}`, `${route}|c|${parent(path)}`];
}

function purgeTags(route: string, path: string): string[] {
  return [`${route}|p|${path}`, `${route}|c|${path}`, `${route}|p|${parent(path)}`];
}

function encode(headers: OutgoingHttpHeaders, body: Buffer, age: number, ttlMs: number): Buffer {
  const kept: OutgoingHttpHeaders = {};
  for (const name in headers) if (!SKIP_STORED.has(name)) kept[name] = headers[name];
  const now = Date.now();
  const meta = Buffer.from(JSON.stringify({ h: kept, t: now, a: age, e: now + ttlMs }));
  const length = Buffer.allocUnsafe(4);
  length.writeUInt32BE(meta.length);
  return Buffer.concat([length, meta, body]);
}

// The memory store hands back the same Buffer for every hit: decode it once.
const decoded = new WeakMap<Buffer, Entry>();

function decode(stored: Buffer): Entry {
  const known = decoded.get(stored);
  if (known) return known;
  const entry = parse(stored);
  decoded.set(stored, entry);
  return entry;
}

function parse(stored: Buffer): Entry {
  const length = stored.readUInt32BE(0);
  const meta = JSON.parse(stored.subarray(4, 4 + length).toString('utf8')) as {
    h: OutgoingHttpHeaders;
    t: number;
    a: number;
    e?: number;
  };
  return {
    headers: meta.h,
    storedAt: meta.t,
    age: meta.a,
    expires: meta.e,
    body: stored.subarray(4 + length),
  };
}
