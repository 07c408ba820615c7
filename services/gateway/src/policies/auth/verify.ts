/**
 * The token verifier the auth policy calls: signatures checked once, then remembered.
 * - verified tokens are kept until they expire or are revoked (bounded); failures never are;
 * - a DPoP-bound token's proof is checked on every request, never answered from memory.
 */
import {
  type AccessClaims,
  AuthError,
  type AuthScheme,
  assertScheme,
  DPOP_ALGORITHMS,
  revoked,
  type TokenVerifier,
} from '@portico/auth';
import { LRUCache } from 'lru-cache';
import type { Verify } from '../../policy.ts';

/** RFC 6750 §2.1 b64token. */
const TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

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
