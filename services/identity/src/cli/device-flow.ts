/**
 * The device authorization grant (RFC 8628) for terminals without a browser: the device asks
 * for a code, the user enters it at the verification URI on any device with a browser, and the
 * device polls the token endpoint meanwhile. openid-client waits `interval` seconds between
 * polls (5 when the server names none), adds 5 s at each `slow_down` (§3.5), and stops at
 * `expires_in`.
 */
import * as client from 'openid-client';
import type { DpopKeyPair } from './dpop-key.ts';

export interface DeviceTokenRequest {
  issuer: string;
  clientId: string;
  scope: string;
  /** Bind the tokens to this key (DPoP). */
  dpop?: DpopKeyPair;
  /** Stop waiting. */
  signal?: AbortSignal;
}

export interface DevicePrompt {
  verificationUri: string;
  verificationUriComplete?: string;
  userCode: string;
  expiresIn: number;
}

export async function discover(issuerUrl: string, clientId: string): Promise<client.Configuration> {
  const issuer = new URL(issuerUrl);
  return client.discovery(issuer, clientId, undefined, client.None(), {
    // The embedded default runs on plain http://localhost; anything else must be https.
    ...(issuer.protocol === 'http:' ? { execute: [client.allowInsecureRequests] } : {}),
  });
}

export async function obtainTokenByDevice(
  request: DeviceTokenRequest,
  prompt: (what: DevicePrompt) => void,
): Promise<client.TokenEndpointResponse> {
  const config = await discover(request.issuer, request.clientId);
  const started = await client.initiateDeviceAuthorization(config, { scope: request.scope });
  prompt({
    verificationUri: started.verification_uri,
    ...(started.verification_uri_complete
      ? { verificationUriComplete: started.verification_uri_complete }
      : {}),
    userCode: started.user_code,
    expiresIn: started.expires_in,
  });
  return client.pollDeviceAuthorizationGrant(config, started, undefined, {
    ...(request.dpop ? { DPoP: client.getDPoPHandle(config, request.dpop) } : {}),
    ...(request.signal ? { signal: request.signal } : {}),
  });
}
