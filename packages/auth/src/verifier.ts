/**
 * RFC 9068 access-token verification, the one implementation every service and the
 * gateway share:
 * - signature against the issuer's JWKS (fetched, cached, refetched on an unknown `kid`)
 *   or, only when configured, an HS256 shared secret;
 * - algorithm allow-list, so `alg: none` and HS256-signed-with-the-public-key never pass;
 * - `typ: at+jwt`, so an ID token is not an access token;
 * - `iss`, `aud`, and required `exp`/`iat`/`sub`, with a small clock tolerance;
 * - the scheme it came with: a token bound to a DPoP key (`cnf.jkt`) only as `DPoP`, whose
 *   proof `dpop` checks (dpop.ts), an unbound one only as `Bearer`.
 */
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
  errors as joseErrors,
  jwtVerify,
} from 'jose';
import { assertScheme, DPOP_ALGORITHMS, type DpopVerifier } from './dpop.ts';
import { AuthError, type AuthScheme } from './errors.ts';
import type { RevocationCheck } from './revocation.ts';

export interface VerifierOptions {
  issuer: string;
  audience: string;
  /** The issuer's JWKS endpoint. */
  jwksUri?: string;
  /** A local key set, instead of fetching one (tests, air-gapped deployments). */
  jwks?: JSONWebKeySet;
  /** Opt-in shared secret: HS256 tokens are accepted only when this is set. */
  hs256Secret?: string;
  /** @default ['RS256', 'PS256', 'ES256', 'EdDSA'] */
  algorithms?: string[];
  /** Seconds of clock skew tolerated on exp/iat/nbf. @default 5 */
  clockTolerance?: number;
  /**
   * Least time between two JWKS fetches, so a flood of unknown `kid`s cannot flood the issuer.
   * An issuer that publishes a new key before signing with it never hits this. @default 30000 ms
   */
  jwksCooldown?: number;
  /** Revoked tokens, accounts and grants (revocation.ts): a token they cover is refused. */
  revocations?: RevocationCheck;
  /** Checks the proofs of DPoP-bound tokens; without it, the DPoP scheme is refused. */
  dpop?: DpopVerifier;
}

export interface AccessClaims {
  sub: string;
  roles: string[];
  scopes: string[];
  client_id?: string;
  payload: JWTPayload;
}

export interface TokenVerifier {
  /** `scheme` is how the token came (@default 'Bearer'): a DPoP-bound token only as `DPoP`. */
  verify(token: string, scheme?: AuthScheme): Promise<AccessClaims>;
  /** Checks DPoP proofs (RFC 9449), when this verifier accepts DPoP-bound tokens. */
  dpop?: DpopVerifier;
  /** Whether claims verified earlier have since been revoked (for callers that cache claims). */
  isRevoked?(claims: AccessClaims): boolean;
  /** The issuer whose tokens it accepts (OpenAPI names its endpoints). */
  readonly issuer?: string;
}

const ASYMMETRIC = ['RS256', 'PS256', 'ES256', 'EdDSA'];

export function createTokenVerifier(options: VerifierOptions): TokenVerifier {
  const algorithms = options.algorithms ?? ASYMMETRIC;
  if (algorithms.includes('none')) throw new TypeError('alg "none" can never be allowed');
  let keys: JWTVerifyGetKey | undefined;
  if (options.jwks) keys = createLocalJWKSet(options.jwks);
  else if (options.jwksUri) {
    keys = createRemoteJWKSet(new URL(options.jwksUri), {
      cooldownDuration: options.jwksCooldown ?? 30_000,
      cacheMaxAge: 600_000,
      timeoutDuration: 5_000,
    });
  }
  const secret = options.hs256Secret ? new TextEncoder().encode(options.hs256Secret) : undefined;
  if (!keys && !secret) throw new TypeError('a token verifier needs jwksUri, jwks or hs256Secret');
  if (secret && secret.length < 32) throw new TypeError('hs256Secret must be at least 32 bytes');

  const common = {
    issuer: options.issuer,
    audience: options.audience,
    typ: 'at+jwt',
    clockTolerance: options.clockTolerance ?? 5,
    requiredClaims: ['exp', 'iat', 'sub'],
  };

  return {
    async verify(token, scheme = 'Bearer') {
      let payload: JWTPayload;
      try {
        const alg = headerAlg(token);
        if (alg === 'HS256' && secret) {
          ({ payload } = await jwtVerify(token, secret, { ...common, algorithms: ['HS256'] }));
        } else if (keys) {
          ({ payload } = await jwtVerify(token, keys, { ...common, algorithms }));
        } else {
          throw new AuthError('invalid_token', `alg ${alg} is not accepted`);
        }
      } catch (err) {
        throw err instanceof AuthError ? err : new AuthError('invalid_token', describe(err), { cause: err });
      }
      if (options.revocations?.isRevoked(payload)) throw revoked();
      assertScheme(payload, scheme, options.dpop?.algorithms ?? DPOP_ALGORITHMS);
      if (scheme === 'DPoP' && !options.dpop) {
        throw new AuthError('invalid_token', 'DPoP-bound access tokens are not accepted here', {
          scheme: 'DPoP',
        });
      }
      return toClaims(payload);
    },
    ...(options.dpop ? { dpop: options.dpop } : {}),
    ...(options.revocations
      ? { isRevoked: (claims: AccessClaims) => options.revocations!.isRevoked(claims.payload) }
      : {}),
    issuer: options.issuer,
  };
}

export function revoked(): AuthError {
  return new AuthError('invalid_token', 'The access token was revoked');
}

function headerAlg(token: string): string {
  const [header] = token.split('.');
  try {
    const alg = (JSON.parse(Buffer.from(header ?? '', 'base64url').toString('utf8')) as { alg?: unknown })
      .alg;
    if (typeof alg === 'string') return alg;
  } catch {
    // falls through to the malformed-token answer below
  }
  throw new AuthError('invalid_token', 'The access token is malformed');
}

function describe(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'The access token expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'typ') return 'The token is not an access token (typ must be at+jwt)';
    return `The access token's ${err.claim} claim is invalid (${err.reason})`;
  }
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'The access token was signed with an unknown key';
  if (err instanceof joseErrors.JOSEAlgNotAllowed)
    return 'The access token uses an algorithm that is not accepted';
  if (err instanceof joseErrors.JWSSignatureVerificationFailed)
    return 'The access token signature is invalid';
  if (err instanceof joseErrors.JWKSTimeout || (err as { code?: string }).code === 'ERR_JOSE_GENERIC') {
    return 'The access token could not be checked: the issuer keys are unavailable';
  }
  return 'The access token is invalid';
}

function toClaims(payload: JWTPayload): AccessClaims {
  const roles = payload.roles;
  const scope = payload.scope;
  return {
    sub: payload.sub!,
    roles: Array.isArray(roles)
      ? roles.filter((r): r is string => typeof r === 'string')
      : typeof roles === 'string'
        ? [roles]
        : [],
    scopes: typeof scope === 'string' ? scope.split(' ').filter(Boolean) : [],
    ...(typeof payload.client_id === 'string' ? { client_id: payload.client_id } : {}),
    payload,
  };
}
