/**
 * Routes that want more than a valid token: the user must have signed in with two factors.
 * The token says how its user signed in (`amr`, RFC 8176; `acr`), as the identity service
 * puts it there (RFC 9068 §2.2.1). A token without `mfa` in `amr` gets the RFC 9470 step-up
 * error `insufficient_user_authentication`, naming in `acr_values` the class to ask the
 * authorization server for.
 *
 * The status is 403, not RFC 9470's 401: the token is valid, and clients (the console among
 * them) answer a 401 by refreshing the token, which carries the same `amr` and cannot help.
 * The `WWW-Authenticate` error is RFC 9470's, so a step-up-aware client still knows what to do.
 */
import { AuthError } from './errors.ts';
import type { AccessClaims } from './verifier.ts';

/** The `amr` value of a multi-factor sign-in, and the `acr` the identity service gives it. */
export const MFA = Object.freeze({ amr: 'mfa', acr: 'urn:portico:acr:mfa' });

/** Whether the token's user signed in with more than one factor. */
export function hasMfa(auth: AccessClaims): boolean {
  const amr = auth.payload.amr;
  return Array.isArray(amr) && amr.includes(MFA.amr);
}

/** Throws the step-up error unless the token's user signed in with more than one factor. */
export function assertMfa(auth: AccessClaims): void {
  if (hasMfa(auth)) return;
  throw new AuthError(
    'insufficient_user_authentication',
    'This operation needs a sign-in with two-step verification: sign in again with your authenticator code',
    { acrValues: MFA.acr },
  );
}
