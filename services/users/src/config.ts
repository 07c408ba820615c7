import { type Static, serviceSettings, Type } from '@portico/config';

export const ConfigSchema = Type.Object(
  {
    ...serviceSettings('users', 8001),
    auth: Type.Object(
      {
        issuer: Type.String({ default: 'http://localhost:9000', env: 'AUTH_ISSUER' }),
        audience: Type.String({ default: 'http://localhost:8000', env: 'AUTH_AUDIENCE' }),
        jwksUri: Type.String({ default: 'http://localhost:9000/jwks', env: 'AUTH_JWKS_URI' }),
      },
      { default: {}, additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export type UsersConfig = Static<typeof ConfigSchema>;
