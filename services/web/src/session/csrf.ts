/**
 * CSRF defence for every state-changing call (anything but GET, HEAD, OPTIONS):
 * - the Origin (or, when a browser sends none, the Referer) must be the console's own;
 *   `Sec-Fetch-Site: cross-site` is refused outright
 * - and a synchroniser token bound to the session must come with it, in the
 *   `X-CSRF-Token` header (fetch) or a `csrf` form field, compared in constant time
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { errors } from '../errors.ts';
import type { Session } from './store.ts';

export const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function checkOrigin(request: FastifyRequest, allowedOrigin: string): void {
  if (request.headers['sec-fetch-site'] === 'cross-site')
    throw errors.ORIGIN_NOT_ALLOWED('Cross-site requests may not change anything here');
  const origin = request.headers.origin;
  if (origin !== undefined) {
    if (origin !== allowedOrigin)
      throw errors.ORIGIN_NOT_ALLOWED(`Requests from ${origin} may not change anything here`);
    return;
  }
  const referer = request.headers.referer;
  if (referer !== undefined) {
    let from: string;
    try {
      from = new URL(referer).origin;
    } catch {
      throw errors.ORIGIN_NOT_ALLOWED('The Referer header is not a URL');
    }
    if (from !== allowedOrigin)
      throw errors.ORIGIN_NOT_ALLOWED(`Requests from ${from} may not change anything here`);
  }
  // Neither header: not a browser-initiated cross-site request (browsers send Origin on
  // every non-GET fetch and form post); the token below still has to match.
}

export function checkCsrfToken(session: Session | undefined, presented: unknown): void {
  if (!session) throw errors.CSRF_TOKEN_INVALID('There is no session here: reload the page and try again');
  if (typeof presented !== 'string' || presented === '')
    throw errors.CSRF_TOKEN_INVALID('The CSRF token is missing: reload the page and try again');
  const a = Buffer.from(presented);
  const b = Buffer.from(session.data.csrf);
  if (a.length !== b.length || !timingSafeEqual(a, b))
    throw errors.CSRF_TOKEN_INVALID(
      'The CSRF token does not match this session: reload the page and try again',
    );
}
