/** What every HTML form page of the identity service shares: the form body parser and page headers. */
import formbody from '@fastify/formbody';
import { pageHeaders, securityHeaders } from '@portico/http';
import type { FastifyInstance, FastifyReply } from 'fastify';

const PAGE_CSP = { 'default-src': ["'none'"], 'style-src': ["'unsafe-inline'"] };

/** Pages that run the passkey script: their own origin's scripts and fetches, nothing else. */
const SCRIPT_PAGE = pageHeaders({ ...PAGE_CSP, 'script-src': ["'self'"], 'connect-src': ["'self'"] });

/**
 * Sets this plugin scope up for HTML form pages: urlencoded posts (16 KiB at most) parsed into
 * a flat object, and the pages' security headers on every response of the scope.
 */
export async function formPages(server: FastifyInstance): Promise<void> {
  // WHATWG parsing, as browsers encode; a repeated field keeps its last value.
  await server.register(formbody, { bodyLimit: 16 * 1024, parser: formFields });
  await securityHeaders(server, pageHeaders(PAGE_CSP));
}

export function html(reply: FastifyReply, status: number, body: string, options: { scripts?: boolean } = {}) {
  if (options.scripts) reply.helmet(SCRIPT_PAGE);
  return reply.code(status).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(body);
}

function formFields(body: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(body));
}

/** A string field of a parsed form, trimmed of nothing, cut at `max`. */
export function formField(body: unknown, name: string, max = 1024): string {
  const value = (body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value.slice(0, max) : '';
}
