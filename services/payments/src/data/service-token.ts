/**
 * This service's own access token: OAuth 2.0 client credentials (RFC 6749 §4.4) at
 * the identity service, for the RFC 8707 resource of the Portico API. Cached until
 * shortly before it expires; one request in flight at a time.
 */
import { request } from 'undici';

export type TokenSource = () => Promise<string>;

export interface ClientCredentials {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope: string;
  resource: string;
}

export function clientCredentialsToken(options: ClientCredentials, timeoutMs = 5000): TokenSource {
  let cached: { token: string; until: number } | undefined;
  let inFlight: Promise<string> | undefined;

  async function fetchToken(): Promise<string> {
    if (!options.clientSecret) throw new Error('no client secret configured (PORTICO_SERVICE_CLIENT_SECRET)');
    const basic = Buffer.from(
      `${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`,
    ).toString('base64');
    const res = await request(options.tokenUrl, {
      method: 'POST',
      signal: AbortSignal.timeout(timeoutMs),
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        scope: options.scope,
        resource: options.resource,
      }).toString(),
    });
    const body = (await res.body.json().catch(() => ({}))) as {
      access_token?: string;
      expires_in?: number;
      error?: string;
    };
    if (res.statusCode !== 200 || typeof body.access_token !== 'string') {
      throw new Error(`token endpoint answered ${res.statusCode} ${body.error ?? ''}`.trim());
    }
    const lifetime = typeof body.expires_in === 'number' ? body.expires_in : 300;
    cached = { token: body.access_token, until: Date.now() + Math.max(lifetime - 30, 1) * 1000 };
    return body.access_token;
  }

  return async () => {
    if (cached && cached.until > Date.now()) return cached.token;
    inFlight ??= fetchToken().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
}
