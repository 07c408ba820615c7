/**
 * RFC 9449 §4.3 and §7: checking a DPoP proof sent with a DPoP-bound access token.
 * - exactly one `DPoP` header, one compact JWS;
 * - header `typ: dpop+jwt`, an asymmetric `alg` from the allow-list, a public `jwk` (a private
 *   member is refused) whose signature verifies;
 * - `htm` is the request's method; `htu` is the URL the client addressed, without query and
 *   fragment, compared after RFC 3986 §6.2.2/§6.2.3 normalisation, against the public
 *   `origins` (a server cannot learn its public URL from a `Host` a client writes);
 * - `iat` within `maxAgeSeconds` in the past (and not ahead beyond the clock tolerance);
 * - `jti` seen once only: a seen-set in the store (memory, or Redis shared by every replica)
 *   for as long as the proof could pass the `iat` check;
 * - `ath` is base64url(SHA-256(access token)), and the JWK's RFC 7638 thumbprint equals the
 *   token's `cnf.jkt`.
 * A token bound to a key (`cnf.jkt`) sent as `Bearer`, and an unbound one sent as `DPoP`, are
 * refused (§7.2): the scheme says what the server must check.
 */
import { createHash } from 'node:crypto';
import { ProblemError } from '@portico/problem';
import { createMemoryStore, type KvStore } from '@portico/store/kv';
import {
  calculateJwkThumbprint,
  EmbeddedJWK,
  type JWK,
  type JWTPayload,
  errors as joseErrors,
  jwtVerify,
} from 'jose';
import { AuthError, type AuthScheme } from './errors.ts';

/** Asymmetric JWS algorithms accepted for proofs (never `none`, never HMAC). */
export const DPOP_ALGORITHMS = ['ES256', 'ES384', 'PS256', 'RS256', 'EdDSA', 'Ed25519'] as const;

/** Remembers proof `jti`s: `firstUse` is true only the first time a `jti` is offered within `ttlMs`. */
export interface ReplayGuard {
  firstUse(jti: string, ttlMs: number): Promise<boolean>;
}

/**
 * A seen-set in a store: one admitted hit per window, which the store checks and records
 * atomically (a Lua script on Redis), so two replicas offered the same proof at once admit one.
 */
export function storeReplayGuard(kv: KvStore, prefix = 'dpop-jti:'): ReplayGuard {
  return {
    async firstUse(jti, ttlMs) {
      const key = prefix + createHash('sha256').update(jti).digest('base64url');
      return (await kv.hit(key, 1, ttlMs)).allowed;
    },
  };
}

/** In process, for one server (the embedded set-up and tests). */
export function memoryReplayGuard(): ReplayGuard {
  return storeReplayGuard(createMemoryStore());
}

export interface DpopOptions {
  /** Public origins clients address (`https://api.example.com`); `htu` must start with one. */
  origins: readonly string[];
  replay: ReplayGuard;
  /**
   * Whether `htu`'s path must be the request's. A service behind a gateway that rewrites paths
   * sees another path than the client addressed; the gateway checks the path there
   * (docs/decisions/0008-dpop-proof-at-every-hop.md). @default true
   */
  matchPath?: boolean;
  /** @default DPOP_ALGORITHMS */
  algorithms?: readonly string[];
  /** Seconds a proof is accepted after its `iat`. @default 60 */
  maxAgeSeconds?: number;
  /** Seconds of clock skew tolerated on `iat`. @default 5 */
  clockTolerance?: number;
}

export interface DpopRequest {
  method: string;
  /** The request-target as received (`/path?query`). */
  url: string;
  /** The `DPoP` header(s) as received. */
  proof: string | readonly string[] | undefined;
  /** The access token from `Authorization: DPoP`. */
  token: string;
  /** The token's `cnf.jkt`. */
  jkt: string;
}

export interface DpopVerifier {
  readonly algorithms: readonly string[];
  verify(request: DpopRequest): Promise<void>;
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];
const UNRESERVED = /[A-Za-z0-9\-._~]/;

export function createDpopVerifier(options: DpopOptions): DpopVerifier {
  const algorithms = [...(options.algorithms ?? DPOP_ALGORITHMS)];
  if (algorithms.some((alg) => alg === 'none' || alg.startsWith('HS'))) {
    throw new TypeError('DPoP proofs are signed with asymmetric keys: none and HS* can never be allowed');
  }
  const origins = options.origins.map((origin) => {
    const url = new URL(origin);
    if (url.pathname !== '/' || url.search || url.hash) throw new TypeError(`${origin} is not an origin`);
    return url.origin;
  });
  if (origins.length === 0) throw new TypeError('DPoP needs the public origins clients address');
  const matchPath = options.matchPath ?? true;
  const maxAge = options.maxAgeSeconds ?? 60;
  const tolerance = options.clockTolerance ?? 5;
  // A proof passes the iat check from iat - tolerance to iat + maxAge + tolerance.
  const seenFor = (maxAge + 2 * tolerance) * 1000;

  const refuse = (description: string, cause?: unknown): never => {
    throw new AuthError('invalid_dpop_proof', description, { algs: algorithms, cause });
  };

  return {
    algorithms,
    async verify(request) {
      const { proof } = request;
      if (proof === undefined || proof === '') refuse('A DPoP-bound access token needs a DPoP proof header');
      // Node joins repeated headers with ", "; a compact JWS has no comma.
      if (typeof proof !== 'string' || proof.includes(',')) refuse('Send exactly one DPoP proof header');

      let payload: JWTPayload;
      let jwk: JWK;
      try {
        const verified = await jwtVerify(proof as string, EmbeddedJWK, {
          typ: 'dpop+jwt',
          algorithms,
          maxTokenAge: maxAge,
          clockTolerance: tolerance,
          requiredClaims: ['jti', 'htm', 'htu', 'iat', 'ath'],
        });
        payload = verified.payload;
        jwk = verified.protectedHeader.jwk as JWK;
      } catch (err) {
        return refuse(describe(err), err);
      }
      if (PRIVATE_MEMBERS.some((member) => member in jwk)) refuse('The DPoP proof key must be a public key');

      const { htm, htu, ath, jti } = payload;
      if (htm !== request.method) refuse(`The DPoP proof is for ${String(htm)}, not ${request.method}`);
      const target = typeof htu === 'string' ? normalizeHtu(htu) : undefined;
      if (!target || !matches(target, request.url)) refuse('The DPoP proof is for another URL (htu)');
      if (ath !== accessTokenHash(request.token)) refuse('The DPoP proof is for another access token (ath)');
      if ((await calculateJwkThumbprint(jwk, 'sha256')) !== request.jkt) {
        refuse('The DPoP proof is signed by another key than the token is bound to (cnf.jkt)');
      }
      if (typeof jti !== 'string' || jti.length === 0 || jti.length > 512)
        refuse('The DPoP proof jti is invalid');
      let first: boolean;
      try {
        first = await options.replay.firstUse(jti as string, seenFor);
      } catch (err) {
        // Fail closed: without the seen-set a captured proof could be replayed.
        throw new ProblemError('DPOP_REPLAY_CHECK_UNAVAILABLE', 503, 'Service Unavailable', {
          detail: 'DPoP proofs cannot be checked for replay right now',
          headers: { 'retry-after': '1' },
          cause: err,
        });
      }
      if (!first) refuse('The DPoP proof was already used (jti)');
    },
  };

  function matches(target: string, requestUrl: string): boolean {
    if (!matchPath) return origins.includes(new URL(target).origin);
    const path = requestUrl.startsWith('/') ? requestUrl.split(/[?#]/)[0]! : new URL(requestUrl).pathname;
    return origins.some((origin) => normalizeHtu(origin + path) === target);
  }
}

/** RFC 9449 §4.3 / RFC 3986 §6.2.2–6.2.3: scheme and host case, default port, dot segments, percent-encoding. */
export function normalizeHtu(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  const path = url.pathname.replace(/%[0-9A-Fa-f]{2}/g, (triplet) => {
    const char = String.fromCharCode(Number.parseInt(triplet.slice(1), 16));
    return UNRESERVED.test(char) ? char : triplet.toUpperCase();
  });
  return `${url.protocol}//${url.host}${path}`;
}

/** `ath`: base64url of the SHA-256 of the access token's ASCII. */
export function accessTokenHash(token: string): string {
  return createHash('sha256').update(token, 'ascii').digest('base64url');
}

/** The thumbprint of the key a token is bound to (`cnf.jkt`), if it is bound. */
export function boundKey(payload: JWTPayload): string | undefined {
  const cnf = payload.cnf as { jkt?: unknown } | undefined;
  return cnf && typeof cnf === 'object' && typeof cnf.jkt === 'string' ? cnf.jkt : undefined;
}

/** §7.2: the scheme must say whether the token is bound; a bound token as Bearer is refused. */
export function assertScheme(payload: JWTPayload, scheme: AuthScheme, algs: readonly string[]): void {
  const bound = boundKey(payload) !== undefined;
  if (bound && scheme === 'Bearer') {
    throw new AuthError(
      'invalid_token',
      'This access token is bound to a key: send it as "Authorization: DPoP <token>" with a DPoP proof',
      { scheme: 'DPoP', algs },
    );
  }
  if (!bound && scheme === 'DPoP') {
    throw new AuthError('invalid_token', 'This access token is not DPoP-bound: send it as Bearer', {
      scheme: 'DPoP',
      algs,
    });
  }
}

function describe(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'The DPoP proof is too old (iat)';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'typ') return 'The DPoP proof must have typ dpop+jwt';
    if (err.claim === 'iat') return 'The DPoP proof iat is not acceptable';
    return `The DPoP proof ${err.claim} claim is missing or invalid`;
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'The DPoP proof algorithm is not accepted';
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'The DPoP proof signature is invalid';
  if (err instanceof joseErrors.JWSInvalid) return `The DPoP proof is invalid: ${err.message}`;
  return 'The DPoP proof is malformed';
}
