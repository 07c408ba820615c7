/** The accounts table: queries only; the rules are in domain/accounts.ts. */
import type { Executor } from '@portico/store/sql';
import type { AccountsTable, IdentityDatabase } from './schema.ts';

export type AccountChanges = Partial<
  Pick<AccountsTable, 'password_hash' | 'roles' | 'updated_at' | 'email_verified_at' | 'disabled_at'>
>;

export function accountsTable(db: Executor<IdentityDatabase>) {
  return {
    async count(): Promise<number> {
      const row = await db
        .selectFrom('accounts')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async byId(id: string): Promise<AccountsTable | undefined> {
      return db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
    },
    async byEmail(email: string): Promise<AccountsTable | undefined> {
      return db.selectFrom('accounts').selectAll().where('email', '=', email).executeTakeFirst();
    },
    async byUsername(username: string): Promise<AccountsTable | undefined> {
      return db.selectFrom('accounts').selectAll().where('username', '=', username).executeTakeFirst();
    },
    async usernameTaken(username: string): Promise<boolean> {
      const row = await db
        .selectFrom('accounts')
        .select('id')
        .where('username', '=', username)
        .executeTakeFirst();
      return row !== undefined;
    },
    async passwordHash(id: string): Promise<string | undefined> {
      const row = await db
        .selectFrom('accounts')
        .select('password_hash')
        .where('id', '=', id)
        .executeTakeFirst();
      return row?.password_hash;
    },
    /** Throws the driver's unique violation when the username or email is taken. */
    async insert(row: AccountsTable): Promise<void> {
      await db.insertInto('accounts').values(row).execute();
    },
    async update(id: string, changes: AccountChanges): Promise<void> {
      await db.updateTable('accounts').set(changes).where('id', '=', id).execute();
    },
    /** Username, name or email matching the LIKE `pattern` (lower case), by username; every match counted. */
    async search(
      pattern: string | undefined,
      limit: number,
      offset: number,
    ): Promise<{ rows: AccountsTable[]; total: number }> {
      const filtered = db
        .selectFrom('accounts')
        .where((eb) =>
          pattern
            ? eb.or([
                eb(eb.fn('lower', ['username']), 'like', eb.val(pattern)),
                eb(eb.fn('lower', ['name']), 'like', eb.val(pattern)),
                eb(eb.fn('lower', ['email']), 'like', eb.val(pattern)),
              ])
            : eb.lit(true),
        );
      const [rows, total] = await Promise.all([
        filtered.selectAll().orderBy('username').limit(limit).offset(offset).execute(),
        filtered.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
      ]);
      return { rows, total: Number(total.n) };
    },
  };
}
