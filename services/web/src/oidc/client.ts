/**
 * The console as an OpenID Connect relying party, on openid-client (OpenID Certified):
 * - authorization code flow with PKCE S256, a fresh `state` and `nonce` per sign-in
 * - the ID token's signature is checked against the provider's JWKS (non-repudiation
 *   checks on), as are its `iss`, `aud`, `exp`, `iat` and `nonce`
 * - userinfo read with a token scoped to OpenID (API tokens are for the API audience)
 * - refresh before expiry, the session's user (roles too) renewed from the provider at each;
 *   RP-initiated logout; the refresh token revoked at sign-out
 * Discovery is lazy and retried, so the console starts even while identity does not answer.
 */
import * as oidc from 'openid-client';
import type { WebConfig } from '../config.ts';
import { errors } from '../errors.ts';
import type { PendingLogin, SessionTokens, SessionUser } from '../session/store.ts';

export interface StartedLogin {
  url: URL;
  state: string;
  pending: Omit<PendingLogin, 'returnTo' | 'expiresAt'>;
}

export interface FinishedLogin {
  user: SessionUser;
  tokens: SessionTokens;
}

/** The provider refused (invalid_grant and friends), as opposed to could not be reached. */
export class OidcRejected extends Error {
  readonly error: string;
  constructor(error: string, message: string) {
    super(message);
    this.name = 'OidcRejected';
    this.error = error;
  }
}

export type OidcClient = ReturnType<typeof createOidcClient>;

export interface OidcClientOptions {
  /** Replaces fetch for every call to the provider (tests put a man in the middle). */
  fetch?: oidc.CustomFetch;
}

export function createOidcClient(config: WebConfig, options: OidcClientOptions = {}) {
  const { issuer, clientId, clientSecret, scope, userinfoScope, prompt } = config.oidc;
  const redirectUri = `${config.publicUrl}/callback`;
  const postLogoutRedirectUri = `${config.publicUrl}/`;
  let discovered: Promise<oidc.Configuration> | undefined;

  function configuration(): Promise<oidc.Configuration> {
    if (!discovered) {
      const execute = [oidc.enableNonRepudiationChecks];
      if (issuer.startsWith('http:')) execute.push(oidc.allowInsecureRequests);
      discovered = oidc
        .discovery(new URL(issuer), clientId, undefined, oidc.ClientSecretBasic(clientSecret), {
          execute,
          timeout: 5,
          ...(options.fetch ? { [oidc.customFetch]: options.fetch } : {}),
        })
        .catch((err) => {
          discovered = undefined;
          throw errors.IDENTITY_UNAVAILABLE(`The identity service at ${issuer} does not answer`, {
            cause: err,
          });
        });
    }
    return discovered;
  }

  function rejected(err: unknown): never {
    if (err instanceof oidc.ResponseBodyError)
      throw new OidcRejected(err.error, err.error_description ?? err.error);
    if (err instanceof oidc.AuthorizationResponseError)
      throw new OidcRejected(err.error, err.error_description ?? err.error);
    const e = err as { code?: string; message?: string };
    if (
      typeof e?.code === 'string' &&
      e.code.startsWith('OAUTH_') &&
      e.code !== 'OAUTH_HTTP_REQUEST_FORBIDDEN'
    )
      throw new OidcRejected('invalid_response', e.message ?? 'invalid response');
    throw errors.IDENTITY_UNAVAILABLE('The identity service does not answer', { cause: err });
  }

  function tokensFrom(response: oidc.TokenEndpointResponse, previous?: SessionTokens): SessionTokens {
    return {
      accessToken: response.access_token,
      refreshToken: response.refresh_token ?? previous?.refreshToken,
      idToken: response.id_token ?? previous?.idToken,
      expiresAt: Date.now() + (response.expires_in ?? 300) * 1000,
      scope: response.scope ?? previous?.scope,
    };
  }

  /**
   * The user at userinfo. The API token's audience is the API, so userinfo gets an OpenID-scoped
   * token of its own; the refresh token rotates on the way (returned) and the API token is kept.
   */
  async function userinfo(conf: oidc.Configuration, tokens: SessionTokens, sub: string) {
    let token = tokens.accessToken;
    let refreshToken = tokens.refreshToken;
    if (refreshToken) {
      const narrowed = await oidc.refreshTokenGrant(conf, refreshToken, { scope: userinfoScope });
      refreshToken = narrowed.refresh_token ?? refreshToken;
      token = narrowed.access_token;
    }
    return { profile: await oidc.fetchUserInfo(conf, token, sub), refreshToken };
  }

  function userFrom(claims: Record<string, unknown>): SessionUser {
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
    return {
      sub: String(claims.sub),
      name: str(claims.name),
      username: str(claims.preferred_username),
      email: str(claims.email),
      roles: Array.isArray(claims.roles)
        ? claims.roles.filter((r): r is string => typeof r === 'string')
        : [],
      ...(Array.isArray(claims.amr)
        ? { amr: claims.amr.filter((m): m is string => typeof m === 'string') }
        : {}),
    };
  }

  return {
    redirectUri,

    /** `acrValues`: the class of sign-in to ask for (RFC 9470 step-up to two-step sign-in). */
    async startLogin(options: { acrValues?: string } = {}): Promise<StartedLogin> {
      const conf = await configuration();
      const codeVerifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      const url = oidc.buildAuthorizationUrl(conf, {
        redirect_uri: redirectUri,
        scope,
        code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
        state,
        nonce,
        ...(prompt ? { prompt } : {}),
        ...(options.acrValues ? { acr_values: options.acrValues } : {}),
      });
      return { url, state, pending: { nonce, codeVerifier } };
    },

    /** Exchanges the code; `callbackUrl` is the redirect URI with the provider's query. */
    async finishLogin(callbackUrl: URL, state: string, pending: PendingLogin): Promise<FinishedLogin> {
      const conf = await configuration();
      let response: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
      try {
        response = await oidc.authorizationCodeGrant(conf, callbackUrl, {
          pkceCodeVerifier: pending.codeVerifier,
          expectedState: state,
          expectedNonce: pending.nonce,
          idTokenExpected: true,
        });
      } catch (err) {
        rejected(err);
      }
      const idClaims = response.claims()!;
      let tokens = tokensFrom(response);
      let profile: Record<string, unknown> = { ...idClaims };
      try {
        const read = await userinfo(conf, tokens, idClaims.sub);
        tokens = { ...tokens, refreshToken: read.refreshToken };
        profile = { ...profile, ...read.profile };
      } catch (err) {
        if (err instanceof oidc.ResponseBodyError && err.error === 'invalid_grant') rejected(err);
        // Userinfo is a nicety on top of a verified ID token: sign in with what it says.
      }
      return { user: userFrom(profile), tokens };
    },

    /**
     * New tokens, and the user as the provider describes them now: roles taken away at the
     * provider leave the session here, as they leave the API's tokens at this same refresh.
     * Identity puts the profile claims (roles included) in the ID token it issues with an API
     * token; a provider whose refreshed ID token has no `roles` is asked at userinfo instead.
     * The sign-in's `amr` stays: a refresh is no new authentication.
     */
    async refresh(tokens: SessionTokens, user: SessionUser): Promise<FinishedLogin> {
      if (!tokens.refreshToken) throw new OidcRejected('invalid_grant', 'no refresh token');
      const conf = await configuration();
      try {
        const response = await oidc.refreshTokenGrant(conf, tokens.refreshToken);
        const next = tokensFrom(response, tokens);
        const idClaims = response.claims();
        if (idClaims && idClaims.sub !== user.sub)
          throw new OidcRejected('invalid_response', 'the refreshed ID token names another user');
        let profile: Record<string, unknown> | undefined = idClaims;
        if (!Array.isArray(profile?.roles)) {
          const read = await userinfo(conf, next, user.sub);
          next.refreshToken = read.refreshToken;
          profile = read.profile;
        }
        const { amr: _, ...fresh } = userFrom(profile);
        return { tokens: next, user: { ...fresh, ...(user.amr ? { amr: user.amr } : {}) } };
      } catch (err) {
        if (err instanceof OidcRejected) throw err;
        rejected(err);
      }
    },

    /** Where to send the browser to end the provider's session too (RP-initiated logout). */
    async logoutUrl(idToken: string | undefined): Promise<URL | undefined> {
      try {
        const conf = await configuration();
        if (!conf.serverMetadata().end_session_endpoint) return undefined;
        return oidc.buildEndSessionUrl(conf, {
          post_logout_redirect_uri: postLogoutRedirectUri,
          ...(idToken ? { id_token_hint: idToken } : {}),
        });
      } catch {
        return undefined;
      }
    },

    async revoke(tokens: SessionTokens | undefined): Promise<void> {
      if (!tokens?.refreshToken) return;
      try {
        const conf = await configuration();
        if (conf.serverMetadata().revocation_endpoint)
          await oidc.tokenRevocation(conf, tokens.refreshToken, { token_type_hint: 'refresh_token' });
      } catch {
        // Best effort: the session is gone either way, and the grant ends with the OP session.
      }
    },
  };
}
