/** What every HTML form page of the identity service shares: the form body parser and page headers. */
import type { FastifyInstance, FastifyReply } from 'fastify';

export const FORM = 'application/x-www-form-urlencoded';

export const PAGE_HEADERS = {
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
};

/** Pages that run the passkey script: their own origin's scripts and fetches, nothing else. */
export const SCRIPT_PAGE_HEADERS = {
  ...PAGE_HEADERS,
  'content-security-policy':
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'",
};

/** Parses urlencoded form posts (16 KiB at most) into a flat object, in this plugin scope. */
export function acceptForms(server: FastifyInstance): void {
  server.addContentTypeParser(FORM, { parseAs: 'string', bodyLimit: 16 * 1024 }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
}

export function html(reply: FastifyReply, status: number, body: string, options: { scripts?: boolean } = {}) {
  return reply
    .code(status)
    .headers(options.scripts ? SCRIPT_PAGE_HEADERS : PAGE_HEADERS)
    .type('text/html; charset=utf-8')
    .send(body);
}

/** A string field of a parsed form, trimmed of nothing, cut at `max`. */
export function formField(body: unknown, name: string, max = 1024): string {
  const value = (body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value.slice(0, max) : '';
}
