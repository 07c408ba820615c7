import { type Static, serviceSettings, Type } from '@portico/config';

/** Where the access tokens come from; the defaults are the embedded identity service. */
export const AuthSettings = Type.Object(
  {
    issuer: Type.String({ default: 'http://localhost:9000', env: 'AUTH_ISSUER' }),
    audience: Type.String({ default: 'http://localhost:8000', env: 'AUTH_AUDIENCE' }),
    jwksUri: Type.String({ default: 'http://localhost:9000/jwks', env: 'AUTH_JWKS_URI' }),
  },
  { additionalProperties: false, default: {} },
);

export const ConfigSchema = Type.Object(
  {
    ...serviceSettings('orders', 8003),
    auth: AuthSettings,
    catalog: Type.Object(
      {
        url: Type.String({
          pattern: '^https?://',
          default: 'http://127.0.0.1:8002',
          env: 'CATALOG_URL',
          description: 'Base URL of the catalog service (prices, names and stock are read at checkout)',
        }),
        timeoutMs: Type.Integer({
          minimum: 50,
          maximum: 60_000,
          default: 2000,
          env: 'ORDERS_CATALOG_TIMEOUT_MS',
          description: 'Budget for one catalog call, connect to last byte; past it the order answers 503',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
