/** The accounts table: who may sign in, with which password hash, roles and status. */
import { randomUUID } from 'node:crypto';
import { type Database, isUniqueViolation } from '@portico/store/sql';
import type { AccountsTable, IdentityDatabase } from './schema.ts';

export interface Account {
  id: string;
  username: string;
  roles: string[];
  name: string;
  email: string | null;
  emailVerified: boolean;
  disabled: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface NewAccount {
  username: string;
  passwordHash: string;
  roles: string[];
  name: string;
  email?: string | null;
  /** The address is known good (an operator or the demo set-up made the account). */
  emailVerified?: boolean;
}

export type CreateResult = { ok: true; account: Account } | { ok: false; taken: 'username' | 'email' };

export interface AccountStore {
  count(): Promise<number>;
  findById(id: string): Promise<Account | undefined>;
  findByEmail(email: string): Promise<Account | undefined>;
  /** The account and its stored hash, for login only. */
  findCredentials(username: string): Promise<{ account: Account; passwordHash: string } | undefined>;
  passwordHashOf(id: string): Promise<string | undefined>;
  /** Undefined when the username or email is taken. */
  create(input: NewAccount): Promise<Account | undefined>;
  /** As create, saying which unique field was taken. */
  insert(input: NewAccount): Promise<CreateResult>;
  setPasswordHash(id: string, passwordHash: string): Promise<void>;
  markEmailVerified(id: string): Promise<void>;
  setDisabled(id: string, disabled: boolean): Promise<Account | undefined>;
  setRoles(id: string, roles: string[]): Promise<Account | undefined>;
  /** Username, name or email containing `query` (case-insensitive), by username. */
  search(query: string, limit: number, offset: number): Promise<{ items: Account[]; total: number }>;
}

function toAccount(row: AccountsTable): Account {
  return {
    id: row.id,
    username: row.username,
    roles: JSON.parse(row.roles) as string[],
    name: row.name,
    email: row.email,
    emailVerified: row.email !== null && row.email_verified_at !== null,
    disabled: row.disabled_at !== null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function accountStore(database: Database<IdentityDatabase>): AccountStore {
  const { db } = database;
  const now = () => new Date().toISOString();

  async function byId(id: string) {
    const row = await db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toAccount(row) : undefined;
  }

  async function insert(input: NewAccount): Promise<CreateResult> {
    const at = now();
    const email = input.email ? input.email.toLowerCase() : null;
    const row: AccountsTable = {
      id: randomUUID(),
      username: input.username.toLowerCase(),
      password_hash: input.passwordHash,
      roles: JSON.stringify(input.roles),
      name: input.name,
      email,
      created_at: at,
      updated_at: at,
      email_verified_at: email && input.emailVerified ? at : null,
      disabled_at: null,
    };
    try {
      await db.insertInto('accounts').values(row).execute();
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      const sameName = await db
        .selectFrom('accounts')
        .select('id')
        .where('username', '=', row.username)
        .executeTakeFirst();
      return { ok: false, taken: sameName ? 'username' : 'email' };
    }
    return { ok: true, account: toAccount(row) };
  }

  return {
    async count() {
      const row = await db
        .selectFrom('accounts')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    findById: byId,
    async findByEmail(email) {
      const row = await db
        .selectFrom('accounts')
        .selectAll()
        .where('email', '=', email.toLowerCase())
        .executeTakeFirst();
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
    async passwordHashOf(id) {
      const row = await db
        .selectFrom('accounts')
        .select('password_hash')
        .where('id', '=', id)
        .executeTakeFirst();
      return row?.password_hash;
    },
    async create(input) {
      const result = await insert(input);
      return result.ok ? result.account : undefined;
    },
    insert,
    async setPasswordHash(id, passwordHash) {
      await db
        .updateTable('accounts')
        .set({ password_hash: passwordHash, updated_at: now() })
        .where('id', '=', id)
        .execute();
    },
    async markEmailVerified(id) {
      const at = now();
      await db
        .updateTable('accounts')
        .set({ email_verified_at: at, updated_at: at })
        .where('id', '=', id)
        .execute();
    },
    async setDisabled(id, disabled) {
      const at = now();
      await db
        .updateTable('accounts')
        .set({ disabled_at: disabled ? at : null, updated_at: at })
        .where('id', '=', id)
        .execute();
      return byId(id);
    },
    async setRoles(id, roles) {
      await db
        .updateTable('accounts')
        .set({ roles: JSON.stringify(roles), updated_at: now() })
        .where('id', '=', id)
        .execute();
      return byId(id);
    },
    async search(query, limit, offset) {
      const pattern = `%${query.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      const filtered = db
        .selectFrom('accounts')
        .where((eb) =>
          query
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
      return { items: rows.map(toAccount), total: Number(total.n) };
    },
  };
}
