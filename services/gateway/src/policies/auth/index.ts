/**
 * Who may call a route, per method:
 * - `public`: anyone; a token that is sent must still be valid (a bad token is never ignored);
 * - `token`: a valid RFC 9068 access token (JWKS signature, iss, aud, exp, typ at+jwt);
 * - `{ roles, scopes }`: a valid token with any one of them, else 403 insufficient_scope.
 * The verified `sub` becomes the consumer for rate limits, cache keys and usage, and
 * goes upstream as X-Gateway-User-Id / X-Gateway-User-Roles.
 * Verified tokens are remembered until they expire or are revoked, so a busy client costs one signature check.
 */
import { type AccessClaims, AuthError, isAllowed, revoked, type TokenVerifier } from '@portico/auth';
import type { RouteDef } from '../../config.ts';
import type { Policy } from '../../context.ts';

type Rule = NonNullable<NonNullable<RouteDef['auth']>['default']>;

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** RFC 6750 §2.1 b64token. */
const TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** The rule for one method: the method's own, else read/write, else default, else token. */
export function ruleFor(auth: RouteDef['auth'], method: string): Rule {
  const own = auth?.[method as 'GET'];
  if (own) return own;
  const group = READS.has(method) ? auth?.read : auth?.write;
  return group ?? auth?.default ?? 'token';
}

export type Verify = (token: string) => AccessClaims | Promise<AccessClaims>;

export function auth(route: RouteDef, verify: Verify): Policy {
  const rules = new Map<string, Rule>();
  for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])
    rules.set(method, ruleFor(route.auth, method));

  return async (ctx, next) => {
    const rule = rules.get(ctx.method) ?? 'token';
    const header = ctx.req.headers.authorization;
    let claims: AccessClaims | undefined;
    if (header !== undefined) {
      if (!/^bearer /i.test(header)) {
        throw new AuthError('invalid_request', 'The Authorization header must be "Bearer <token>"');
      }
      const found = verify(header.slice(7));
      claims = found instanceof Promise ? await found : found;
    } else if (ctx.search.includes('access_token=')) {
      throw new AuthError(
        'invalid_request',
        'Send the access token in the Authorization header, not the query string',
      );
    }
    if (rule !== 'public') {
      if (!claims) throw new AuthError(undefined, 'This route needs an access token');
      if (rule !== 'token' && !isAllowed(claims, rule)) {
        const wanted = [...(rule.roles ?? []).map((r) => `role ${r}`), ...(rule.scopes ?? [])].join(' or ');
        throw new AuthError('insufficient_scope', `This operation needs ${wanted}`, {
          scope: rule.scopes?.join(' '),
        });
      }
    }
    ctx.auth = claims;
    return next();
  };
}

/**
 * Remembers verified tokens until they expire (bounded); failures are never remembered.
 * Keyed by the token's tail (its signature) so a lookup hashes a few dozen characters, not
 * the whole token; a hit still compares the whole token and answers without a promise.
 * A token is checked for RFC 6750 syntax before it is verified the first time.
 */
export function cachedVerifier(verifier: TokenVerifier, max = 10_000): Verify {
  const seen = new Map<string, { token: string; claims: AccessClaims }>();
  return (token) => {
    const key = token.slice(-48);
    const known = seen.get(key);
    if (known && known.token === token) {
      if (verifier.isRevoked?.(known.claims)) {
        seen.delete(key);
        throw revoked();
      }
      if ((known.claims.payload.exp ?? 0) * 1000 > Date.now()) return known.claims;
      seen.delete(key);
    }
    if (!TOKEN.test(token)) {
      throw new AuthError('invalid_request', 'The Authorization header must be "Bearer <token>"');
    }
    return verifier.verify(token).then((claims) => {
      if (seen.size >= max) seen.delete(seen.keys().next().value!);
      seen.set(key, { token, claims });
      return claims;
    });
  };
}
