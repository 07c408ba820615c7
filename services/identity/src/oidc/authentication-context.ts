/**
 * How a sign-in happened, as OpenID Connect says it: `amr` (RFC 8176 method references:
 * `pwd`, `otp`, and `mfa` when two factors were used) and `acr` (a class naming the level:
 * password only, or multi-factor). The login step hands both to oidc-provider
 * (`login.amr`/`login.acr`), which puts them in the session and the ID token and carries
 * them on codes and refresh tokens; `accessTokenAuthentication` copies them from there into
 * the API's JWT access tokens (RFC 9068 §2.2.1), so a resource server can ask for MFA.
 */
import { MFA } from '@portico/auth';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { AMR } from '../domain/second-factor.ts';

export const ACR = {
  password: 'urn:portico:acr:pwd',
  /** What @portico/auth asks for (`acr_values`) when a route needs MFA. */
  mfa: MFA.acr,
} as const;

/** For oidc-provider's `acrValues` (announced as `acr_values_supported`). */
export const ACR_VALUES = [ACR.password, ACR.mfa];

/** The interaction result's `login` for these methods. */
export function loginWith(accountId: string, methods: string[]) {
  const amr = methods.length > 1 ? [...methods, AMR.mfa] : methods;
  return { accountId, amr, acr: methods.length > 1 ? ACR.mfa : ACR.password };
}

interface Authenticated {
  amr?: string[];
  acr?: string;
}

/** `amr`/`acr` of the sign-in an access token descends from (the code, refresh token or device code being redeemed). */
export function accessTokenAuthentication(ctx: KoaContextWithOIDC): Authenticated {
  const { entities } = ctx.oidc;
  const source = (entities.AuthorizationCode ?? entities.RefreshToken ?? entities.DeviceCode) as
    | Authenticated
    | undefined;
  return {
    ...(Array.isArray(source?.amr) ? { amr: source.amr } : {}),
    ...(typeof source?.acr === 'string' ? { acr: source.acr } : {}),
  };
}
