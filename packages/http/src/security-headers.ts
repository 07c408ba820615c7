/**
 * Security response headers, one policy per kind of surface, set by @fastify/helmet:
 * - every policy: `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`, helmet's
 *   cross-origin isolation headers (COOP/CORP same-origin, Origin-Agent-Cluster) and its legacy
 *   ones (X-DNS-Prefetch-Control, X-Download-Options, X-Permitted-Cross-Domain-Policies,
 *   `X-XSS-Protection: 0`);
 * - `RESOURCE_HEADERS` (JSON, event streams, scripts: whatever is no page): no CSP, which
 *   governs only what renders as a page; every service's `build` sets it on its whole server;
 * - `pageHeaders(directives)` (server-rendered pages): exactly the page's CSP directives, always
 *   with `frame-ancestors 'none'`, and no helmet defaults mixed in;
 * - `inlineScriptPageHeaders(html, directives, options)`: a page with inline scripts, named by
 *   their hashes;
 * - `DOCS_HEADERS`: the API reference UI at /docs (Swagger UI), which `createServer` serves in a
 *   scope of its own with this page policy.
 * Strict-Transport-Security is left to whatever terminates TLS: a service does not know whether
 * it is reached over https, and HSTS pins a whole host for a long time.
 */
import helmet, { type FastifyHelmetOptions } from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';
import { inlineScriptHashes } from './script-hashes.ts';

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

export interface PageOptions {
  referrer?: 'no-referrer' | 'same-origin';
}

export function pageHeaders(directives: CspDirectives, options: PageOptions = {}): FastifyHelmetOptions {
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
 * A page with inline scripts (GraphiQL's inlined bundle, the console's import map):
 * `pageHeaders(directives, options)` with `script-src` naming each inline script of `html` by
 * its SHA-256 (script-hashes.ts), computed from the very HTML the page serves, so no injected
 * inline script runs. (Identity's
 * oidc/provider.ts gives oidc-provider's own pages, whose form_post script it does not render,
 * a CSP of `frame-ancestors` alone.)
 */
export function inlineScriptPageHeaders(
  html: string,
  directives: CspDirectives,
  options: PageOptions = {},
): FastifyHelmetOptions {
  return pageHeaders(
    {
      ...directives,
      'script-src': [...(directives['script-src'] ?? []), ...inlineScriptHashes(html)],
    },
    options,
  );
}

/**
 * Swagger UI: its own scripts and styles (it sets style attributes as it renders), its images and
 * fonts inline, and fetches to this origin (the document, "Try it out").
 */
export const DOCS_HEADERS = pageHeaders({
  'default-src': ["'none'"],
  'script-src': ["'self'"],
  'style-src': ["'self'", "'unsafe-inline'"],
  'img-src': ["'self'", 'data:'],
  'font-src': ["'self'", 'data:'],
  'connect-src': ["'self'"],
  'base-uri': ["'none'"],
  'form-action': ["'self'"],
});

/**
 * Sets `policy` on every response of this plugin scope (and `reply.helmet(other)` for a
 * response that needs another). Register it once per scope: helmet decorates the reply.
 */
export async function securityHeaders(server: FastifyInstance, policy: FastifyHelmetOptions): Promise<void> {
  await server.register(helmet, policy);
}
