/**
 * Obtains an access token the way a real public client does: discovery, an
 * authorization request with PKCE S256 and state, the login and consent forms filled
 * in over HTTP, and the code exchanged at the token endpoint (openid-client), with a
 * DPoP proof when the token is to be bound to a key.
 */
import * as client from 'openid-client';
import { type Credentials, createBrowser } from './browser.ts';
import { discover } from './device-flow.ts';
import type { DpopKeyPair } from './dpop-key.ts';

export interface TokenRequest {
  issuer: string;
  clientId: string;
  redirectUri: string;
  scope: string;
  credentials: Credentials;
  /** Bind the tokens to this key (DPoP). */
  dpop?: DpopKeyPair;
}

export async function obtainToken(request: TokenRequest): Promise<client.TokenEndpointResponse> {
  const config = await discover(request.issuer, request.clientId);
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: request.redirectUri,
    scope: request.scope,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    ...(request.scope.split(' ').includes('offline_access') ? { prompt: 'consent' } : {}),
  });
  const callback = await createBrowser().authorize(url, request.redirectUri, request.credentials);
  return client.authorizationCodeGrant(
    config,
    callback,
    { pkceCodeVerifier: verifier, expectedState: state },
    undefined,
    request.dpop ? { DPoP: client.getDPoPHandle(config, request.dpop) } : undefined,
  );
}
