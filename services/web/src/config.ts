/**
 * The console's settings. Every key has an embedded default, so `npm start` needs
 * nothing: identity at :9000, the gateway at :8000, the console at http://localhost:3000.
 */
import { Origin, Proxies, type Static, serviceSettings, Type, Url } from '@portico/config';

export const ConfigSchema = Type.Object(
  {
    ...serviceSettings('web', 3000),
    publicUrl: Origin({
      default: 'http://localhost:3000',
      env: 'WEB_PUBLIC_URL',
      description:
        'The origin browsers use for the console: redirect URIs, the Origin check and Secure cookies (https) follow it',
    }),
    gatewayUrl: Origin({
      default: 'http://localhost:8000',
      env: 'WEB_GATEWAY_URL',
      description: 'Where /api/* is sent, with the session’s access token',
    }),
    trustedProxies: Proxies({
      hops: true,
      default: '',
      env: 'WEB_TRUSTED_PROXIES',
      description:
        'Proxies in front of the console whose X-Forwarded-For is believed, read from the right: empty (none), a hop count, or addresses/CIDRs/loopback/uniquelocal, comma-separated. The visitor address found is the one the gateway is sent',
    }),
    oidc: Type.Object(
      {
        issuer: Url('http', { default: 'http://localhost:9000', env: 'WEB_OIDC_ISSUER' }),
        clientId: Type.String({ minLength: 1, default: 'portico-web', env: 'WEB_OIDC_CLIENT_ID' }),
        // The same variable the identity service reads for its portico-web client, so one
        // value set for the platform configures both ends.
        clientSecret: Type.String({
          secret: true,
          default: '',
          env: 'PORTICO_WEB_CLIENT_SECRET',
          description:
            'Required (no well-known default); `npm start` makes one per data dir for identity and web',
        }),
        scope: Type.String({
          default:
            'openid profile email offline_access catalog:read catalog:write orders:read orders:write payments:read payments:write users:read users:write',
          env: 'WEB_OIDC_SCOPE',
        }),
        prompt: Type.String({
          default: '',
          env: 'WEB_OIDC_PROMPT',
          description:
            "The `prompt` sent with each sign-in; empty sends none. Portico's identity service treats the console as a first-party client (no consent page, a refresh token without prompt=consent); another provider may need `consent` for a refresh token",
        }),
        /** Scopes for the token that reads userinfo (API tokens are for the API audience only). */
        userinfoScope: Type.String({ default: 'openid profile email' }),
        refreshLeewaySeconds: Type.Integer({
          minimum: 0,
          default: 60,
          description: 'Refresh the access token when it expires within this many seconds',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    session: Type.Object(
      {
        idleSeconds: Type.Integer({ minimum: 60, default: 12 * 3600, env: 'WEB_SESSION_IDLE_SECONDS' }),
        absoluteSeconds: Type.Integer({ minimum: 60, default: 14 * 86400, env: 'WEB_SESSION_MAX_SECONDS' }),
        loginSeconds: Type.Integer({
          minimum: 30,
          default: 600,
          description: 'How long a started sign-in may take before its state expires',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    live: Type.Object(
      {
        subscription: Type.String({
          default:
            'subscription { productUpdated { id name description price currency categoryId inStock createdAt updatedAt } }',
          description:
            'The GraphQL subscription relayed to browsers as server-sent events; it selects every field of the REST product (src/api/live-product.ts)',
        }),
        heartbeatSeconds: Type.Integer({ minimum: 1, default: 25 }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);

export type WebConfig = Static<typeof ConfigSchema>;
