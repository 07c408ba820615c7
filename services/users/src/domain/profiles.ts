/**
 * Profiles: one per identity `sub`, created on first sight from what the token says
 * (name, email) and then owned by the user. Only the display name and email are
 * editable; the id, roles and timestamps never come from a request.
 */
import type { Database } from '@portico/store/sql';
import { profilesTable } from '../data/profiles.ts';
import type { ProfilesTable, UsersDatabase } from '../data/schema.ts';
import { errors } from '../errors.ts';

export interface Profile {
  id: string;
  displayName: string | null;
  email: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface ProfileChanges {
  displayName?: string | null;
  email?: string | null;
}

export interface ProfileService {
  find(id: string): Promise<Profile | undefined>;
  /** The profile for `id`, created from `seed` if it does not exist yet. */
  findOrCreate(id: string, seed: ProfileChanges): Promise<Profile>;
  update(id: string, changes: ProfileChanges, expectedVersion?: (current: Profile) => void): Promise<Profile>;
  count(): Promise<number>;
}

function toProfile(row: ProfilesTable): Profile {
  return {
    id: row.id,
    displayName: row.display_name,
    email: row.email,
    version: Number(row.version),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function createProfileService(database: Database<UsersDatabase>): ProfileService {
  const { db } = database;
  const profiles = profilesTable(db);

  async function find(id: string) {
    const row = await profiles.byId(id);
    return row ? toProfile(row) : undefined;
  }

  return {
    find,
    async findOrCreate(id, seed) {
      const existing = await find(id);
      if (existing) return existing;
      const at = new Date().toISOString();
      // Two first calls at once: one insert wins, the other reads what it wrote.
      await profiles.insertIfAbsent({
        id,
        display_name: seed.displayName ?? null,
        email: seed.email ?? null,
        version: 1,
        created_at: at,
        updated_at: at,
      });
      return (await find(id))!;
    },
    async update(id, changes, check) {
      return db.transaction().execute(async (trx) => {
        const rows = profilesTable(trx);
        const row = await rows.byId(id);
        if (!row) throw new Error(`profile ${id} vanished`);
        const current = toProfile(row);
        check?.(current);
        const set: Partial<ProfilesTable> = {};
        if (changes.displayName !== undefined) set.display_name = changes.displayName;
        if (changes.email !== undefined) set.email = changes.email;
        if (Object.keys(set).length === 0) return current;
        const result = await rows.update(id, current.version, {
          ...set,
          version: current.version + 1,
          updated_at: new Date().toISOString(),
        });
        if (!result)
          throw errors.PROFILE_CHANGED('The profile changed while this update ran: read it and try again');
        return toProfile(result);
      });
    },
    count: () => profiles.count(),
  };
}
