/**
 * Who may call a route, per method:
 * - `public`: anyone; a token that is sent must still be valid (a bad token is never ignored);
 * - `token`: a valid RFC 9068 access token (JWKS signature, iss, aud, exp, typ at+jwt), as
 *   `Bearer`, or as `DPoP` with a proof (RFC 9449) for this method and the URL the client
 *   addressed (the public origin and the path before any rewrite), checked here in full;
 * - `{ roles, scopes }`: a valid token with any one of them, else 403 insufficient_scope;
 *   with `mfa: true`, its user must also have signed in with two factors (`amr` has `mfa`),
 *   else 403 insufficient_user_authentication (RFC 9470, see @portico/auth step-up.ts).
 * A route's `scopes: [...]` adds scopes the token must carry, all of them, on every method
 * whose rule is not `public` (RFC 6750 §3.1 insufficient_scope, the missing ones named).
 * The verified `sub` becomes the consumer for rate limits, cache keys and usage, and
 * goes upstream as X-Gateway-User-Id / X-Gateway-User-Roles.
 * Verified tokens are remembered until they expire or are revoked, so a busy client costs one signature check.
 * Failed authentication is metered per client address (failures.ts), checked before any
 * signature is. HTTP requests and WebSocket upgrades go through the same `authenticator`.
 */

import type { IncomingMessage } from 'node:http';
import {
  type AccessClaims,
  AuthError,
  type AuthScheme,
  assertMfa,
  assertScheme,
  boundKey,
  DPOP_ALGORITHMS,
  type DpopVerifier,
  isAllowed,
  parseAuthorization,
  revoked,
  type TokenVerifier,
} from '@portico/auth';
import { clientAddress, type TrustProxy } from '@portico/http';
import { noteUser } from '@portico/telemetry';
import { LRUCache } from 'lru-cache';
import type { RouteDef } from '../../config.ts';
import type { Policy } from '../../context.ts';
import type { FailureMeter } from './failures.ts';

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

/**
 * Verifies a token presented with `scheme`; `cached` answers from what was verified before
 * without checking a signature; `dpop` checks the proof of a DPoP-bound token.
 */
export type Verify = ((token: string, scheme?: AuthScheme) => AccessClaims | Promise<AccessClaims>) & {
  cached?: (token: string, scheme?: AuthScheme) => AccessClaims | undefined;
  dpop?: DpopVerifier;
};

/** Checks one request against the route's rule for `method`: the verified claims, or none on a public rule. */
export type Authenticator = (
  req: IncomingMessage,
  method: string,
  search: string,
  trustProxy: TrustProxy,
) => Promise<AccessClaims | undefined>;

export function authenticator(route: RouteDef, verify: Verify, failures: FailureMeter): Authenticator {
  const rules = new Map<string, Rule>();
  for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])
    rules.set(method, ruleFor(route.auth, method));
  const required = route.scopes ?? [];

  async function verified(req: IncomingMessage, search: string, trustProxy: TrustProxy) {
    const header = req.headers.authorization;
    if (header === undefined) {
      if (search.includes('access_token=')) {
        throw new AuthError(
          'invalid_request',
          'Send the access token in the Authorization header, not the query string',
        );
      }
      return undefined;
    }
    let credentials: ReturnType<typeof parseAuthorization>;
    try {
      credentials = parseAuthorization(header);
    } catch (err) {
      await failures.failed(clientAddress(req, trustProxy));
      throw err;
    }
    const { token, scheme } = credentials!;
    // A Bearer token seen before answers without a promise; a DPoP proof is checked every time.
    const known = scheme === 'Bearer' ? verify.cached?.(token, scheme) : undefined;
    if (known) return known;
    const address = clientAddress(req, trustProxy);
    const release = await failures.admit(address);
    try {
      const claims = await verify(token, scheme);
      if (scheme === 'DPoP') {
        if (!verify.dpop) {
          throw new AuthError('invalid_token', 'DPoP-bound access tokens are not accepted here', {
            scheme: 'DPoP',
          });
        }
        await verify.dpop.verify({
          method: req.method ?? 'GET',
          url: req.url ?? '/',
          proof: req.headers.dpop,
          token,
          jkt: boundKey(claims.payload)!,
        });
      }
      return claims;
    } catch (err) {
      await failures.failed(address);
      throw err;
    } finally {
      release();
    }
  }

  return async (req, method, search, trustProxy) => {
    const rule = rules.get(method) ?? 'token';
    const claims = await verified(req, search, trustProxy);
    if (rule === 'public') return claims;
    if (!claims) throw new AuthError(undefined, 'This route needs an access token');
    const limited = rule !== 'token' && Boolean(rule.roles?.length || rule.scopes?.length);
    if (rule !== 'token' && limited && !isAllowed(claims, rule)) {
      const wanted = [...(rule.roles ?? []).map((r) => `role ${r}`), ...(rule.scopes ?? [])].join(' or ');
      throw new AuthError('insufficient_scope', `This operation needs ${wanted}`, {
        scope: rule.scopes?.join(' '),
      });
    }
    if (rule !== 'token' && rule.mfa) assertMfa(claims);
    const missing = required.filter((scope) => !claims.scopes.includes(scope));
    if (missing.length > 0) {
      throw new AuthError('insufficient_scope', `This route needs the scopes ${required.join(' and ')}`, {
        scope: required.join(' '),
      });
    }
    return claims;
  };
}

export function auth(route: RouteDef, verify: Verify, failures: FailureMeter): Policy {
  const check = authenticator(route, verify, failures);
  return async (ctx, next) => {
    ctx.auth = await check(ctx.req, ctx.method, ctx.search, ctx.trustProxy);
    if (ctx.auth) noteUser(ctx.auth.sub);
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
  const seen = new LRUCache<string, { token: string; claims: AccessClaims }>({ max });
  const algs = verifier.dpop?.algorithms ?? DPOP_ALGORITHMS;
  const cached = (token: string, scheme: AuthScheme = 'Bearer'): AccessClaims | undefined => {
    const key = token.slice(-48);
    const known = seen.get(key);
    if (known && known.token === token) {
      if (verifier.isRevoked?.(known.claims)) {
        seen.delete(key);
        throw revoked();
      }
      if ((known.claims.payload.exp ?? 0) * 1000 > Date.now()) {
        assertScheme(known.claims.payload, scheme, algs);
        return known.claims;
      }
      seen.delete(key);
    }
    return undefined;
  };
  const verify = (token: string, scheme: AuthScheme = 'Bearer') => {
    const known = cached(token, scheme);
    if (known) return known;
    if (!TOKEN.test(token)) {
      throw new AuthError('invalid_request', 'The Authorization header must be "Bearer <token>"');
    }
    return verifier.verify(token, scheme).then((claims) => {
      seen.set(token.slice(-48), { token, claims });
      return claims;
    });
  };
  return Object.assign(verify, { cached, ...(verifier.dpop ? { dpop: verifier.dpop } : {}) });
}
