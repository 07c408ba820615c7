/**
 * Step-up (RFC 9470 §4): an authorization request with `acr_values` naming the multi-factor
 * class gets the login page again when the session's sign-in was a password only, so a
 * client refused with `insufficient_user_authentication` can send its user back with
 * `acr_values=urn:portico:acr:mfa` and come back with a two-factor token. oidc-provider
 * treats `acr_values` as voluntary and would reuse the session as it is.
 * Once this interaction has signed the user in, the request is answered with what that
 * sign-in was (an account without an authenticator gets `acr` = password; the client
 * reads `acr`), never sent round to the login page again.
 */
import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { ACR } from './authentication-context.ts';

export function stepUpPolicy() {
  const { base, Check } = interactionPolicy;
  const policy = base();
  policy.get('login')!.checks.push(
    new Check('acr_mfa', 'A sign-in with two-step verification was requested', 'login_required', (ctx) => {
      const { oidc } = ctx as KoaContextWithOIDC & {
        oidc: { session?: { acr?: string }; result?: { login?: unknown } };
      };
      const wanted = typeof oidc.params?.acr_values === 'string' ? oidc.params.acr_values.split(' ') : [];
      if (!wanted.includes(ACR.mfa) || oidc.result?.login) return Check.NO_NEED_TO_PROMPT;
      return oidc.session?.acr === ACR.mfa ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT;
    }),
  );
  return policy;
}
