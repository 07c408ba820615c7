/** The accounts table: who may sign in, with which password hash and roles. */
import { randomUUID } from 'node:crypto';
import { type Database, isUniqueViolation } from '@portico/store/sql';
import type { AccountRow, IdentityDatabase } from './schema.ts';

export interface Account {
  id: string;
  username: string;
  roles: string[];
  name: string;
  email: string | null;
  updatedAt: string;
}

export interface NewAccount {
  username: string;
  passwordHash: string;
  roles: string[];
  name: string;
  email?: string | null;
}

export interface AccountStore {
  count(): Promise<number>;
  findById(id: string): Promise<Account | undefined>;
  /** The account and its stored hash, for login only. */
  findCredentials(username: string): Promise<{ account: Account; passwordHash: string } | undefined>;
  /** Undefined when the username is taken. */
  create(input: NewAccount): Promise<Account | undefined>;
  setPasswordHash(id: string, passwordHash: string): Promise<void>;
}

function toAccount(row: AccountRow): Account {
  return {
    id: row.id,
    username: row.username,
    roles: JSON.parse(row.roles) as string[],
    name: row.name,
    email: row.email,
    updatedAt: row.updated_at,
  };
}

export function accountStore(database: Database<IdentityDatabase>): AccountStore {
  const { db } = database;
  return {
    async count() {
      const row = await db
        .selectFrom('accounts')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async findById(id) {
      const row = await db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toAccount(row) : undefined;
    },
    async findCredentials(username) {
      const row = await db
        .selectFrom('accounts')
        .selectAll()
        .where('username', '=', username.toLowerCase())
        .executeTakeFirst();
      return row ? { account: toAccount(row), passwordHash: row.password_hash } : undefined;
    },
    async create(input) {
      const at = new Date().toISOString();
      const row: AccountRow = {
        id: randomUUID(),
        username: input.username.toLowerCase(),
        password_hash: input.passwordHash,
        roles: JSON.stringify(input.roles),
        name: input.name,
        email: input.email ?? null,
        created_at: at,
        updated_at: at,
      };
      try {
        await db.insertInto('accounts').values(row).execute();
      } catch (err) {
        if (isUniqueViolation(err)) return undefined;
        throw err;
      }
      return toAccount(row);
    },
    async setPasswordHash(id, passwordHash) {
      await db
        .updateTable('accounts')
        .set({ password_hash: passwordHash, updated_at: new Date().toISOString() })
        .where('id', '=', id)
        .execute();
    },
  };
}
