/** Profiles: queries only; the rules are in domain/profiles.ts. */
import type { Executor } from '@portico/store/sql';
import type { ProfilesTable, UsersDatabase } from './schema.ts';

export function profilesTable(db: Executor<UsersDatabase>) {
  return {
    async byId(id: string): Promise<ProfilesTable | undefined> {
      return db.selectFrom('profiles').selectAll().where('id', '=', id).executeTakeFirst();
    },
    /** Inserts unless a profile with this id exists (two first calls at once: one wins). */
    async insertIfAbsent(row: ProfilesTable): Promise<void> {
      await db
        .insertInto('profiles')
        .values(row)
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
    },
    /** Applies `changes` only if the profile is still at `version`; undefined when it moved on. */
    async update(
      id: string,
      version: number,
      changes: Partial<ProfilesTable>,
    ): Promise<ProfilesTable | undefined> {
      return db
        .updateTable('profiles')
        .set(changes)
        .where('id', '=', id)
        .where('version', '=', version)
        .returningAll()
        .executeTakeFirst();
    },
    async count(): Promise<number> {
      const row = await db
        .selectFrom('profiles')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
}
