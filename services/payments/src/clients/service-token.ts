/**
 * This service's own access token: OAuth 2.0 client credentials (RFC 6749 §4.4) at the
 * identity service, for the RFC 8707 resource of the Portico API, by openid-client (as the
 * console's sign-in is). Kept until shortly before it expires; one request in flight at a time.
 */
import * as oidc from 'openid-client';

export type TokenSource = () => Promise<string>;

export interface ClientCredentials {
  /** The identity service's issuer identifier. */
  issuer: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope: string;
  resource: string;
}

export function clientCredentialsToken(options: ClientCredentials, timeoutSeconds = 5): TokenSource {
  let config: oidc.Configuration | undefined;
  let cached: { token: string; until: number } | undefined;
  let inFlight: Promise<string> | undefined;

  // Made on first use: without a secret the service still starts, and says why at each try.
  function configuration(): oidc.Configuration {
    if (!options.clientSecret) throw new Error('no client secret configured (PORTICO_SERVICE_CLIENT_SECRET)');
    if (!config) {
      const server = { issuer: options.issuer, token_endpoint: options.tokenUrl };
      config = new oidc.Configuration(
        server,
        options.clientId,
        undefined,
        oidc.ClientSecretBasic(options.clientSecret),
      );
      config.timeout = timeoutSeconds;
      if (options.tokenUrl.startsWith('http:')) oidc.allowInsecureRequests(config);
    }
    return config;
  }

  async function fetchToken(): Promise<string> {
    const tokens = await oidc.clientCredentialsGrant(configuration(), {
      scope: options.scope,
      resource: options.resource,
    });
    const lifetime = tokens.expiresIn() ?? 300;
    cached = { token: tokens.access_token, until: Date.now() + Math.max(lifetime - 30, 1) * 1000 };
    return tokens.access_token;
  }

  return async () => {
    if (cached && cached.until > Date.now()) return cached.token;
    inFlight ??= fetchToken().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
}
