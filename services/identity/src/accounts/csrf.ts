/**
 * CSRF defence for the account forms (sign-up, password change and reset), which run
 * outside an OIDC interaction and so have no interaction cookie to lean on:
 * - a post from another origin is refused by its `Sec-Fetch-Site` or its Origin (or Referer);
 * - and the form must carry a token that matches the browser's form cookie: the cookie
 *   holds a random nonce (HttpOnly, SameSite=Strict), the form an HMAC of it under the
 *   provider's cookie key, compared in constant time (the signed double-submit pattern).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errors } from '../errors.ts';

export interface FormGuard {
  /** The token for a form on this response (sets the cookie when the browser has none). */
  token(request: FastifyRequest, reply: FastifyReply): string;
  check(request: FastifyRequest, presented: unknown): void;
}

export function formGuard(options: { key: string; origin: string; secure: boolean }): FormGuard {
  const name = options.secure ? '__Host-portico_form' : 'portico_form';
  const sign = (nonce: string) => createHmac('sha256', options.key).update(nonce).digest('base64url');
  const nonceOf = (request: FastifyRequest) => {
    const value = request.cookies[name];
    return value && /^[A-Za-z0-9_-]{43}$/.test(value) ? value : undefined;
  };

  return {
    token(request, reply) {
      let nonce = nonceOf(request);
      if (!nonce) {
        nonce = randomBytes(32).toString('base64url');
        reply.setCookie(name, nonce, {
          httpOnly: true,
          sameSite: 'strict',
          secure: options.secure,
          path: '/',
        });
      }
      return sign(nonce);
    },
    check(request, presented) {
      const site = request.headers['sec-fetch-site'];
      if (site !== undefined && site !== 'same-origin' && site !== 'none')
        throw errors.ORIGIN_NOT_ALLOWED('Forms from other sites may not change an account');
      // Our pages send `Referrer-Policy: no-referrer`, so a browser posts them with `Origin: null`;
      // then Sec-Fetch-Site (above) and the token (below) decide.
      const origin =
        request.headers.origin ?? (request.headers.referer ? safeOrigin(request.headers.referer) : undefined);
      if (origin !== undefined && origin !== 'null' && origin !== options.origin)
        throw errors.ORIGIN_NOT_ALLOWED(`Forms from ${origin} may not change an account here`);
      const nonce = nonceOf(request);
      if (!nonce || typeof presented !== 'string')
        throw errors.CSRF_TOKEN_INVALID('The form has expired: reload the page and try again.');
      const a = Buffer.from(presented);
      const b = Buffer.from(sign(nonce));
      if (a.length !== b.length || !timingSafeEqual(a, b))
        throw errors.CSRF_TOKEN_INVALID('The form has expired: reload the page and try again.');
    },
  };
}

function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'null';
  }
}
