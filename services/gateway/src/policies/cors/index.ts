/**
 * CORS (Fetch standard):
 * - a preflight (OPTIONS with Access-Control-Request-Method) is answered here, 204, never forwarded;
 * - an allowed Origin gets Access-Control-Allow-Origin (and credentials, exposed headers) on every answer;
 * - `Vary: Origin` whenever the answer depends on it, so caches keep the variants apart.
 */
import { Type } from '@portico/config';
import { definePolicy } from '../../policy.ts';
import { Duration, Method, ms, Strings } from '../../schema.ts';

const Cors = Type.Object(
  {
    origins: Strings,
    methods: Type.Optional(Type.Array(Method)),
    headers: Type.Optional(Strings),
    exposeHeaders: Type.Optional(Strings),
    credentials: Type.Boolean({ default: false }),
    maxAge: Type.Optional(Duration()),
  },
  { additionalProperties: false },
);

export const cors = definePolicy({
  name: 'cors',
  priority: 2000,
  route: {},
  // One setting for the whole gateway: a preflight is answered whatever route it asks about.
  file: { cors: Type.Optional(Cors) },
  create(_options, _route, _gateway, { cors: options }) {
    if (!options) return undefined;
    const any = options.origins.includes('*');
    const allowed = new Set(options.origins);
    const methods = (options.methods ?? ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']).join(', ');
    const headers = options.headers?.join(', ');
    const expose = options.exposeHeaders?.join(', ');
    const maxAge = String(Math.round(ms(options.maxAge, 600_000) / 1000));

    return async (ctx, next) => {
      const origin = ctx.req.headers.origin;
      if (!origin) return next();
      const ok = any || allowed.has(origin);
      const out = ctx.replyHeaders;
      out.vary = 'Origin';
      if (ok) {
        out['access-control-allow-origin'] = any && !options.credentials ? '*' : origin;
        if (options.credentials) out['access-control-allow-credentials'] = 'true';
      }
      const preflight = ctx.method === 'OPTIONS' && ctx.req.headers['access-control-request-method'];
      if (preflight) {
        if (ok) {
          out['access-control-allow-methods'] = methods;
          const asked = ctx.req.headers['access-control-request-headers'];
          const allowHeaders = headers ?? asked;
          if (allowHeaders) out['access-control-allow-headers'] = allowHeaders;
          out['access-control-max-age'] = maxAge;
        }
        ctx.reply = { status: 204, headers: {}, body: undefined };
        return;
      }
      if (ok && expose) out['access-control-expose-headers'] = expose;
      return next();
    };
  },
});
