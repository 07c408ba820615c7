/**
 * Wire schemas of the users API. PATCH is strict: only `display_name` and `email`
 * may change; `id`, `created_at` and `updated_at` may be echoed back and are ignored;
 * anything else (`sub`, `roles`, …) is a 400 UNKNOWN_FIELD.
 */
import Type from 'typebox';

const readOnly = () =>
  Type.Optional(Type.Unsafe<unknown>({ readOnly: true, description: 'Ignored: set by the server' }));

export const Profile = Type.Object({
  id: Type.String({ description: 'The identity `sub`' }),
  display_name: Type.Union([Type.String(), Type.Null()]),
  email: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});

export const ProfileEnvelope = Type.Object({
  data: Profile,
  links: Type.Object({ self: Type.String() }),
});

export const ProfilePatch = Type.Object(
  {
    display_name: Type.Optional(
      Type.Union([Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' }), Type.Null()]),
    ),
    email: Type.Optional(
      Type.Union([Type.String({ format: 'email', maxLength: 254 }), Type.Null()], {
        description: 'Contact address; not verified',
      }),
    ),
    id: readOnly(),
    created_at: readOnly(),
    updated_at: readOnly(),
  },
  { additionalProperties: false },
);

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 255 }) });

export { ProblemSchema as Problem } from '@portico/http';
