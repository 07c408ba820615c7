/**
 * Fastify preHandlers: `authenticate` turns the bearer token into `request.auth`,
 * `authorize` checks roles or scopes. Tokens are taken from the Authorization header
 * only: a token in the query string leaks into logs and is refused (RFC 9700 §2.3).
 */
import type { FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { parseBearer } from './bearer.ts';
import { AuthError } from './errors.ts';
import { assertMfa } from './step-up.ts';
import type { AccessClaims, TokenVerifier } from './verifier.ts';

declare module 'fastify' {
  interface FastifyRequest {
    auth?: AccessClaims;
  }
}

export function bearerToken(request: FastifyRequest): string | undefined {
  const query = request.query as Record<string, unknown> | undefined;
  if (query && typeof query === 'object' && 'access_token' in query) {
    throw new AuthError(
      'invalid_request',
      'Send the access token in the Authorization header, not the query string',
    );
  }
  return parseBearer(request.headers.authorization);
}

export function authenticate(
  verifier: TokenVerifier,
  options: { optional?: boolean } = {},
): preHandlerAsyncHookHandler {
  return async (request) => {
    const token = bearerToken(request);
    if (token === undefined) {
      if (options.optional) return;
      throw new AuthError(undefined, 'This endpoint needs an access token');
    }
    request.auth = await verifier.verify(token);
  };
}

export interface AuthorizeOptions {
  /** Any one of these roles is enough. */
  roles?: string[];
  /** Any one of these scopes is enough. */
  scopes?: string[];
  /** Besides: the user signed in with two factors (`amr` has `mfa`; step-up.ts). */
  mfa?: boolean;
}

export function authorize(options: AuthorizeOptions): preHandlerAsyncHookHandler {
  const wanted = [...(options.roles ?? []).map((r) => `role ${r}`), ...(options.scopes ?? [])].join(' or ');
  return async (request) => {
    const auth = request.auth;
    if (!auth) throw new AuthError(undefined, 'This endpoint needs an access token');
    if (!isAllowed(auth, options)) {
      throw new AuthError('insufficient_scope', `This operation needs ${wanted}`, {
        scope: options.scopes?.join(' '),
      });
    }
    if (options.mfa) assertMfa(auth);
  };
}

export function isAllowed(auth: AccessClaims, options: AuthorizeOptions): boolean {
  return (
    (options.roles ?? []).some((role) => auth.roles.includes(role)) ||
    (options.scopes ?? []).some((scope) => auth.scopes.includes(scope))
  );
}

export function isAdmin(auth: AccessClaims | undefined): boolean {
  return auth?.roles.includes('admin') ?? false;
}
