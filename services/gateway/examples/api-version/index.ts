/**
 * A policy written outside Portico, loaded from the gateway file:
 *
 *   plugins: [./policies/api-version/index.ts]      # or a package name
 *   routes:
 *     - { name: orders, path: /api/orders, upstream: orders,
 *         apiVersion: { versions: ['2025-01-01', '2026-01-01'], default: '2026-01-01' } }
 *
 * What it enforces, per route that sets `apiVersion`:
 * - a request names one of the versions the route serves in `Api-Version` (or the header
 *   `header` names); without one, the route's `default` applies, and with no default it is refused;
 * - any other version is 400 `API_VERSION_UNSUPPORTED`, problem+json with the versions served;
 * - the version chosen goes upstream in that header and comes back on the answer.
 * It runs after auth (1500) and before rate limits (1000): a caller is known before its
 * version is checked, and a refused version does not spend the caller's allowance.
 */
import { defineErrors, definePolicy, Type, upstreamHeaders } from '@portico/gateway/policy';

const errors = defineErrors({ API_VERSION_UNSUPPORTED: 400 });

export default definePolicy({
  name: 'api-version',
  priority: 1200,
  route: {
    apiVersion: Type.Optional(
      Type.Object(
        {
          versions: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
          default: Type.Optional(Type.String({ minLength: 1 })),
          header: Type.String({ default: 'api-version', pattern: '^[A-Za-z0-9-]+$' }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  // Beyond the schema, at load: a default the route does not serve would refuse every request.
  check({ apiVersion: options }, at) {
    if (options?.default === undefined || options.versions.includes(options.default)) return [];
    return [`${at}.apiVersion.default "${options.default}" is not one of its versions`];
  },
  create({ apiVersion: options }) {
    if (!options) return undefined;
    const header = options.header.toLowerCase();
    const served = new Set(options.versions);
    const list = options.versions.join(', ');
    return async (ctx, next) => {
      const asked = ctx.req.headers[header];
      const version = typeof asked === 'string' ? asked.trim() : options.default;
      if (version === undefined || !served.has(version)) {
        throw errors.API_VERSION_UNSUPPORTED(
          version === undefined
            ? `Name a version in ${options.header}: ${list}`
            : `Version ${version} is not served here; ${options.header} may be ${list}`,
          { extensions: { supported: options.versions } },
        );
      }
      upstreamHeaders(ctx)[header] = version;
      ctx.replyHeaders[header] = version;
      return next();
    };
  },
});
