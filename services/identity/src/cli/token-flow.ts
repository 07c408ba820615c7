/**
 * Obtains an access token the way a real public client does: discovery, an
 * authorization request with PKCE S256 and state, the login and consent forms filled
 * in over HTTP, and the code exchanged at the token endpoint (openid-client).
 */
import * as client from 'openid-client';
import { type Credentials, createBrowser } from './browser.ts';

export interface TokenRequest {
  issuer: string;
  clientId: string;
  redirectUri: string;
  scope: string;
  credentials: Credentials;
}

export async function obtainToken(request: TokenRequest): Promise<client.TokenEndpointResponse> {
  const issuer = new URL(request.issuer);
  const config = await client.discovery(issuer, request.clientId, undefined, client.None(), {
    // The embedded default runs on plain http://localhost; anything else must be https.
    ...(issuer.protocol === 'http:' ? { execute: [client.allowInsecureRequests] } : {}),
  });
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
  return client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    expectedState: state,
  });
}
