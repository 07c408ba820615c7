/**
 * The two ways an access token is presented in `Authorization`:
 * - RFC 6750 §2.1 `Bearer <token68>`: whoever holds the token may use it;
 * - RFC 9449 §7.1 `DPoP <token68>`: a token bound to a key, sent with a `DPoP` proof header
 *   signed by that key (dpop.ts).
 * Scheme names are case-insensitive (RFC 9110 §11.1); one or more spaces separate scheme and
 * token; nothing may follow the token. No header → `undefined`; any other shape → `invalid_request`.
 */
import { AuthError, type AuthScheme } from './errors.ts';

export interface Credentials {
  scheme: AuthScheme;
  token: string;
}

const CREDENTIALS = /^(Bearer|DPoP) +([A-Za-z0-9\-._~+/]+=*) *$/i;

export function parseAuthorization(header: string | readonly string[] | undefined): Credentials | undefined {
  if (header === undefined) return undefined;
  const match = typeof header === 'string' ? CREDENTIALS.exec(header) : null;
  if (!match) {
    throw new AuthError(
      'invalid_request',
      'The Authorization header must be "Bearer <token>" or "DPoP <token>"',
    );
  }
  return { scheme: match[1]!.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer', token: match[2]! };
}
