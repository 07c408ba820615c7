/**
 * Security response headers, one policy per kind of surface, set by @fastify/helmet:
 * - every policy: `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`, helmet's
 *   cross-origin isolation headers (COOP/CORP same-origin, Origin-Agent-Cluster) and its legacy
 *   ones (X-DNS-Prefetch-Control, X-Download-Options, X-Permitted-Cross-Domain-Policies,
 *   `X-XSS-Protection: 0`);
 * - `RESOURCE_HEADERS` (JSON, event streams, scripts: whatever is no page): no CSP, as the scope
 *   may hold the API reference UI at /docs, and a CSP governs only what renders as a page;
 * - `pageHeaders(directives)` (server-rendered pages): exactly the page's CSP directives, always
 *   with `frame-ancestors 'none'`, and no helmet defaults mixed in.
 * Strict-Transport-Security is left to whatever terminates TLS: a service does not know whether
 * it is reached over https, and HSTS pins a whole host for a long time.
 */
import helmet, { type FastifyHelmetOptions } from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

export type CspDirectives = Record<string, string[]>;

const COMMON = {
  frameguard: { action: 'deny' },
  strictTransportSecurity: false,
} satisfies FastifyHelmetOptions;

export const RESOURCE_HEADERS = {
  ...COMMON,
  contentSecurityPolicy: false,
  referrerPolicy: { policy: 'no-referrer' },
} satisfies FastifyHelmetOptions;

export function pageHeaders(
  directives: CspDirectives,
  options: { referrer?: 'no-referrer' | 'same-origin' } = {},
): FastifyHelmetOptions {
  return {
    ...COMMON,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { ...directives, 'frame-ancestors': ["'none'"] },
    },
    referrerPolicy: { policy: options.referrer ?? 'no-referrer' },
  };
}

/**
 * Sets `policy` on every response of this plugin scope (and `reply.helmet(other)` for a
 * response that needs another). Register it once per scope: helmet decorates the reply.
 */
export async function securityHeaders(server: FastifyInstance, policy: FastifyHelmetOptions): Promise<void> {
  await server.register(helmet, policy);
}
