/**
 * Fastify preHandlers: `authenticate` turns the access token into `request.auth`,
 * `authorize` checks roles or scopes. Tokens are taken from the Authorization header
 * only: a token in the query string leaks into logs and is refused (RFC 9700 §2.3).
 * `verifyRequest` is the one path from a request to verified claims: the token as Bearer,
 * or as DPoP with its proof checked against this request's method and URL.
 */
import type { FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { parseBearer } from './bearer.ts';
import { type Credentials, parseAuthorization } from './credentials.ts';
import { boundKey } from './dpop.ts';
import { AuthError } from './errors.ts';
import { assertMfa } from './step-up.ts';
import type { AccessClaims, TokenVerifier } from './verifier.ts';

declare module 'fastify' {
  interface FastifyRequest {
    auth?: AccessClaims;
  }
}

function refuseQueryToken(request: FastifyRequest): void {
  const query = request.query as Record<string, unknown> | undefined;
  if (query && typeof query === 'object' && 'access_token' in query) {
    throw new AuthError(
      'invalid_request',
      'Send the access token in the Authorization header, not the query string',
    );
  }
}

export function bearerToken(request: FastifyRequest): string | undefined {
  refuseQueryToken(request);
  return parseBearer(request.headers.authorization);
}

/** The access token and the scheme it came with (`Bearer` or `DPoP`). */
export function requestCredentials(request: FastifyRequest): Credentials | undefined {
  refuseQueryToken(request);
  return parseAuthorization(request.headers.authorization);
}

/** The request's verified claims, or `undefined` when it sends no token. */
export async function verifyRequest(
  request: FastifyRequest,
  verifier: TokenVerifier,
): Promise<AccessClaims | undefined> {
  const credentials = requestCredentials(request);
  if (!credentials) return undefined;
  const claims = await verifier.verify(credentials.token, credentials.scheme);
  if (credentials.scheme === 'DPoP') {
    if (!verifier.dpop) {
      throw new AuthError('invalid_token', 'DPoP-bound access tokens are not accepted here', {
        scheme: 'DPoP',
      });
    }
    await verifier.dpop.verify({
      method: request.method,
      url: request.url,
      proof: request.headers.dpop,
      token: credentials.token,
      jkt: boundKey(claims.payload)!,
    });
  }
  return claims;
}

export function authenticate(
  verifier: TokenVerifier,
  options: { optional?: boolean } = {},
): preHandlerAsyncHookHandler {
  return async (request) => {
    const claims = await verifyRequest(request, verifier);
    if (claims === undefined) {
      if (options.optional) return;
      throw new AuthError(undefined, 'This endpoint needs an access token');
    }
    request.auth = claims;
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
