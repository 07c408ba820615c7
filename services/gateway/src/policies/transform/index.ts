/**
 * Request and response transformation declared per route:
 * - `rewrite`: the upstream path (with its query) through a regular expression replacement;
 * - `request.headers` / `response.headers`: add, remove, rename;
 * - `response.fields`: JSON bodies (an object, or an array of objects) keep only `include`d
 *   top-level fields and lose `exclude`d ones (dot paths reach into objects).
 * Identity headers cannot be added or renamed into: they stay the gateway's own.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { type Static, Type } from '@portico/config';
import { replyBody, upstreamHeaders } from '../../context.ts';
import { definePolicy, type Policy } from '../../policy.ts';
import { HeaderMap, Strings } from '../../schema.ts';

const HeaderOps = Type.Object(
  { add: Type.Optional(HeaderMap), remove: Type.Optional(Strings), rename: Type.Optional(HeaderMap) },
  { additionalProperties: false },
);
type HeaderOps = Static<typeof HeaderOps>;

const Transform = Type.Object(
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
);
export type TransformOptions = Static<typeof Transform>;

export const transform = definePolicy({
  name: 'transform',
  priority: 800,
  // The rewrite and the request headers apply to an upgrade; the response part has no reply to change.
  upgrades: true,
  route: { transform: Type.Optional(Transform) },
  check({ transform: options }, at) {
    if (!options?.rewrite) return [];
    try {
      new RegExp(options.rewrite.pattern);
      return [];
    } catch (err) {
      return [
        `${at}.transform.rewrite.pattern is not a valid regular expression (${(err as Error).message})`,
      ];
    }
  },
  create: (options) => options.transform && transformPolicy(options.transform),
});

function transformPolicy(options: TransformOptions): Policy {
  const rewrite = options.rewrite ? new RegExp(options.rewrite.pattern) : undefined;
  const replacement = options.rewrite?.replacement ?? '';
  const requestOps = normalise(options.request?.headers);
  const responseOps = normalise(options.response?.headers);
  const fields = options.response?.fields;

  return async (ctx, next) => {
    if (rewrite) ctx.upstreamPath = ctx.upstreamPath.replace(rewrite, replacement);
    if (requestOps) applyHeaders(upstreamHeaders(ctx), requestOps);
    if (fields) ctx.bufferBody = true;
    await next();
    const reply = ctx.reply;
    if (!reply) return;
    if (responseOps) applyHeaders(reply.headers, responseOps);
    if (fields && reply.body !== undefined && /json/i.test(String(reply.headers['content-type'] ?? ''))) {
      const raw = (await replyBody(reply))!;
      let out = raw;
      try {
        out = Buffer.from(
          JSON.stringify(filter(JSON.parse(raw.toString('utf8')), fields.include, fields.exclude)),
        );
      } catch {
        // not JSON after all: passed on untouched
      }
      reply.body = out;
      reply.headers['content-length'] = String(out.length);
      delete reply.headers.etag;
    }
  };
}

function normalise(ops: HeaderOps | undefined): HeaderOps | undefined {
  if (!ops) return undefined;
  const lower = (m?: Record<string, string>) =>
    m && Object.fromEntries(Object.entries(m).map(([k, v]) => [k.toLowerCase(), v]));
  const renamed = ops.rename
    ? Object.fromEntries(Object.entries(ops.rename).map(([k, v]) => [k.toLowerCase(), v.toLowerCase()]))
    : undefined;
  return { add: lower(ops.add), remove: ops.remove?.map((h) => h.toLowerCase()), rename: renamed };
}

function applyHeaders(headers: IncomingHttpHeaders | OutgoingHttpHeaders, ops: HeaderOps) {
  const target = headers as Record<string, unknown>;
  for (const name of ops.remove ?? []) delete target[name];
  for (const [from, to] of Object.entries(ops.rename ?? {})) {
    if (target[from] === undefined || to.startsWith('x-gateway-')) continue;
    target[to] = target[from];
    delete target[from];
  }
  for (const [name, value] of Object.entries(ops.add ?? {})) {
    if (!name.startsWith('x-gateway-')) target[name] = value;
  }
}

function filter(value: unknown, include?: string[], exclude?: string[]): unknown {
  if (Array.isArray(value)) return value.map((item) => filter(item, include, exclude));
  if (!value || typeof value !== 'object') return value;
  let out = value as Record<string, unknown>;
  if (include) out = Object.fromEntries(Object.entries(out).filter(([k]) => include.includes(k)));
  else out = structuredClone(out);
  for (const path of exclude ?? []) removePath(out, path.split('.'));
  return out;
}

function removePath(target: unknown, path: string[]) {
  if (!target || typeof target !== 'object') return;
  if (Array.isArray(target)) {
    for (const item of target) removePath(item, path);
    return;
  }
  const [head, ...rest] = path;
  const record = target as Record<string, unknown>;
  if (rest.length === 0) delete record[head!];
  else removePath(record[head!], rest);
}
