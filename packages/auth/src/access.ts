/**
 * Route access, declared next to each route's schema and enforced here, in one place:
 *
 *   server.get('/api/v1/orders', { config: { access: needs('orders:read') }, schema }, handler)
 *
 * - `enforceAccess(server, verifier)` runs before a service registers its routes. Every route
 *   registered after it must declare `config.access`, or registration throws: a forgotten
 *   declaration stops the service from starting instead of silently opening the route.
 * - The check is an `onRequest` hook, so it runs before the body is read or validated: an
 *   anonymous write is 401 and a wrong-scope write 403 whatever its body (RFC 6750 §3.1).
 * - A scoped route needs a valid token carrying its scope (OAuth 2.0 scopes: what the client
 *   may do for the user) and, when it names roles, one of them (what the user may do); with
 *   `mfa: true`, its user must also have signed in with two factors (step-up.ts).
 * - The declaration also writes the operation's OpenAPI `security` (scheme `oauth2`, with the
 *   scope), and `declaredRoutes(server)` lists every declaration for docs/scopes.md and tests.
 */
import type { FastifyInstance, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { AuthError } from './errors.ts';
import { verifyRequest } from './hooks.ts';
import { BEARER_SCHEME, describeAccess, OAUTH2_SCHEME } from './openapi.ts';
import { assertMfa } from './step-up.ts';
import type { TokenVerifier } from './verifier.ts';

/** Anyone; `token: 'optional'` still verifies a token when one is sent (for `request.auth`). */
export interface PublicAccess {
  readonly public: true;
  readonly token?: 'optional';
}
/** A token with this scope; with `roles`, its user must also hold one of them. */
export interface ScopedAccess {
  readonly scope: string;
  readonly roles?: readonly string[];
  /** The token's `amr` must say `mfa` (403 `insufficient_user_authentication` otherwise). */
  readonly mfa?: boolean;
}
export type RouteAccess = PublicAccess | ScopedAccess;

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
}

export const PUBLIC: RouteAccess = Object.freeze({ public: true });
/** Public, but a token that is sent is verified (a bad one is 401) and read into `request.auth`. */
export const PUBLIC_OPTIONAL_TOKEN: RouteAccess = Object.freeze({ public: true, token: 'optional' });

export function needs(
  scope: string,
  options: { roles?: readonly string[]; mfa?: boolean } = {},
): RouteAccess {
  return Object.freeze({
    scope,
    ...(options.roles ? { roles: Object.freeze([...options.roles]) } : {}),
    ...(options.mfa ? { mfa: true } : {}),
  });
}

export function isPublic(access: RouteAccess): access is PublicAccess {
  return 'public' in access;
}

export interface DeclaredRoute {
  method: string;
  url: string;
  access: RouteAccess;
}

const DECLARED = Symbol.for('portico.auth.declaredRoutes');
type WithDeclared = FastifyInstance & { [DECLARED]?: DeclaredRoute[] };

/** Every route registered after `enforceAccess`, with its declaration (HEAD twins left out). */
export function declaredRoutes(server: FastifyInstance): readonly DeclaredRoute[] {
  const routes = (server as WithDeclared)[DECLARED];
  if (!routes) throw new Error('enforceAccess() was never called on this server');
  return routes;
}

export function enforceAccess(server: FastifyInstance, verifier: TokenVerifier): void {
  const routes: DeclaredRoute[] = [];
  (server as WithDeclared)[DECLARED] = routes;
  describeAccess(server, verifier.issuer, () =>
    routes.flatMap((r) => (isPublic(r.access) ? [] : [r.access.scope])),
  );

  server.addHook('onRoute', (route) => {
    const methods = [route.method].flat();
    const access = route.config?.access;
    if (!access) {
      throw new Error(
        `${methods.join(',')} ${route.url} declares no access: set config.access to needs('<scope>') or PUBLIC`,
      );
    }
    for (const method of methods) {
      // Fastify derives a HEAD route from each GET with the same options: checked, not listed twice.
      const twin = method === 'HEAD' && routes.some((r) => r.method === 'GET' && r.url === route.url);
      if (!twin) routes.push({ method, url: route.url, access });
    }
    route.schema = { ...route.schema, security: securityOf(access) };
    if (isPublic(access) && access.token !== 'optional') return;
    const existing = [route.onRequest ?? []].flat() as onRequestAsyncHookHandler[];
    route.onRequest = [checker(access, verifier), ...existing];
  });
}

function securityOf(access: RouteAccess): Array<Record<string, string[]>> {
  if (!isPublic(access)) return [{ [OAUTH2_SCHEME]: [access.scope] }];
  return access.token === 'optional' ? [{}, { [BEARER_SCHEME]: [] }] : [];
}

function checker(access: RouteAccess, verifier: TokenVerifier): onRequestAsyncHookHandler {
  if (isPublic(access)) {
    return async (request) => {
      const claims = await verifyRequest(request, verifier);
      if (claims !== undefined) request.auth = claims;
    };
  }
  const { scope, roles, mfa } = access;
  return async (request: FastifyRequest) => {
    const auth = await verifyRequest(request, verifier);
    if (auth === undefined) throw new AuthError(undefined, 'This endpoint needs an access token');
    request.auth = auth;
    if (!auth.scopes.includes(scope)) {
      throw new AuthError('insufficient_scope', `This operation needs the ${scope} scope`, { scope });
    }
    if (roles && !roles.some((role) => auth.roles.includes(role))) {
      throw new AuthError('insufficient_scope', `This operation needs role ${roles.join(' or ')}`, {
        scope,
      });
    }
    if (mfa) assertMfa(auth);
  };
}
