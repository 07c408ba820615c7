/** The wire shape of a profile, and a PATCH body as the domain's changes. */
import type { Static } from 'typebox';
import type { Profile, ProfileChanges } from '../domain/profiles.ts';
import type { ProfilePatch } from './schemas.ts';

export function profileJson(profile: Profile) {
  return {
    data: {
      id: profile.id,
      display_name: profile.displayName,
      email: profile.email,
      created_at: profile.createdAt,
      updated_at: profile.updatedAt,
    },
    links: { self: `/api/v1/users/${encodeURIComponent(profile.id)}` },
  };
}

/** Only the fields the body names change; `null` clears one. */
export function profileChanges(body: Static<typeof ProfilePatch>): ProfileChanges {
  return {
    ...(body.display_name !== undefined ? { displayName: body.display_name } : {}),
    ...(body.email !== undefined ? { email: body.email } : {}),
  };
}
