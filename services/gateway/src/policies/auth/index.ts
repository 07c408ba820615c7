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
 * signature is. WebSocket upgrades go through this policy like any request (their GET rule).
 */

import type { IncomingMessage } from 'node:http';
import {
  type AccessClaims,
  AuthError,
  assertMfa,
  boundKey,
  isAllowed,
  parseAuthorization,
} from '@portico/auth';
import { type Static, Type } from '@portico/config';
import { clientAddress, type TrustProxy } from '@portico/http';
import { noteUser, tracingOn } from '@portico/telemetry';
import type { Context } from '../../context.ts';
import { definePolicy, type FailureMeter, type Verify } from '../../policy.ts';
import { Duration, expecting, Strings } from '../../schema.ts';

const Rule = expecting(
  Type.Union(
    [
      Type.Literal('public'),
      Type.Literal('token'),
      Type.Object(
        {
          roles: Type.Optional(Strings),
          scopes: Type.Optional(Strings),
          /** The token's user signed in with two factors (`amr` has `mfa`). */
          mfa: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false },
      ),
    ],
    {
      description:
        '"public", "token", or { roles, scopes } of which any one is enough, and with mfa: true a two-factor sign-in',
    },
  ),
  'must be "public", "token", or { roles: [...], scopes: [...], mfa: true }',
);
type Rule = Static<typeof Rule>;

const Auth = Type.Object(
  {
    default: Type.Optional(Rule),
    read: Type.Optional(Rule),
    write: Type.Optional(Rule),
    GET: Type.Optional(Rule),
    HEAD: Type.Optional(Rule),
    POST: Type.Optional(Rule),
    PUT: Type.Optional(Rule),
    PATCH: Type.Optional(Rule),
    DELETE: Type.Optional(Rule),
    OPTIONS: Type.Optional(Rule),
  },
  { additionalProperties: false },
);
export type AuthRules = Static<typeof Auth>;

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The rule for one method: the method's own, else read/write, else default, else token. */
export function ruleFor(auth: AuthRules | undefined, method: string): Rule {
  const own = auth?.[method as 'GET'];
  if (own) return own;
  const group = READS.has(method) ? auth?.read : auth?.write;
  return group ?? auth?.default ?? 'token';
}

/** Checks one request against the route's rule for `method`: the verified claims, or none on a public rule. */
type Authenticator = (
  req: IncomingMessage,
  method: string,
  search: string,
  trustProxy: TrustProxy,
) => AccessClaims | undefined | Promise<AccessClaims | undefined>;

function authenticator(
  options: { auth?: AuthRules; scopes?: string[] },
  verify: Verify,
  failures: FailureMeter,
): Authenticator {
  const rules = new Map<string, Rule>();
  for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])
    rules.set(method, ruleFor(options.auth, method));
  const required = options.scopes ?? [];

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

  /** The claims `rule` admits, else a thrown 401 / 403. */
  function admit(rule: Rule, claims: AccessClaims | undefined): AccessClaims | undefined {
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
    if (required.length > 0 && required.some((scope) => !claims.scopes.includes(scope))) {
      throw new AuthError('insufficient_scope', `This route needs the scopes ${required.join(' and ')}`, {
        scope: required.join(' '),
      });
    }
    return claims;
  }

  /** A Bearer token verified before, answered without a promise; else undefined (`verified` decides). */
  function remembered(header: string): AccessClaims | undefined {
    if (!verify.cached) return undefined;
    let credentials: ReturnType<typeof parseAuthorization>;
    try {
      credentials = parseAuthorization(header);
    } catch {
      // Malformed: `verified` parses it again and meters the failure.
      return undefined;
    }
    return credentials?.scheme === 'Bearer' ? verify.cached(credentials.token, 'Bearer') : undefined;
  }

  return (req, method, search, trustProxy) => {
    const rule = rules.get(method) ?? 'token';
    const header = req.headers.authorization;
    const known = header === undefined ? undefined : remembered(header);
    if (known) return admit(rule, known);
    return verified(req, search, trustProxy).then((claims) => admit(rule, claims));
  };
}

export const auth = definePolicy({
  name: 'auth',
  priority: 1500,
  upgrades: true,
  route: {
    auth: Type.Optional(Auth),
    scopes: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        minItems: 1,
        description:
          'Scopes a token must carry, all of them, on every method of the route that is not public (403 insufficient_scope)',
      }),
    ),
  },
  file: {
    authFailures: Type.Object(
      {
        limit: Type.Integer({ minimum: 1, default: 20 }),
        window: Duration({ default: '1m' }),
      },
      {
        additionalProperties: false,
        default: {},
        description: 'Failed authentications per client address before 429 (checked before any signature)',
      },
    ),
  },
  // Every route has it: a token that is sent is checked even on a public route.
  create(options, _route, gateway) {
    const check = authenticator(options, gateway.verify, gateway.failures);
    const tracing = tracingOn();
    const admitted = (ctx: Context, claims: AccessClaims | undefined) => {
      ctx.auth = claims;
      if (claims && tracing) noteUser(claims.sub);
    };
    // A remembered token passes without a promise of its own; a first sight waits for its check.
    return (ctx, next) => {
      let checked: ReturnType<Authenticator>;
      try {
        checked = check(ctx.req, ctx.method, ctx.search, ctx.trustProxy);
      } catch (err) {
        return Promise.reject(err);
      }
      if (checked instanceof Promise) {
        return checked.then((claims) => {
          admitted(ctx, claims);
          return next();
        });
      }
      admitted(ctx, checked);
      return next();
    };
  },
});
