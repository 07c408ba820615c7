import { authSettings, type Static, serviceSettings, Type } from '@portico/config';

export const ConfigSchema = Type.Object(
  {
    ...serviceSettings('users', 8001),
    auth: authSettings(),
  },
  { additionalProperties: false },
);

export type UsersConfig = Static<typeof ConfigSchema>;
