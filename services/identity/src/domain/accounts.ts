/**
 * Accounts: who may sign in, with which password hash, roles and status. Usernames and
 * email addresses are kept in lower case, so each is unique whatever its case; an address
 * counts as verified only while the account has one.
 */
import { randomUUID } from 'node:crypto';
import { type Database, isUniqueViolation } from '@portico/store/sql';
import { accountsTable } from '../data/accounts.ts';
import type { AccountsTable, IdentityDatabase } from '../data/schema.ts';

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

export interface AccountService {
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

export function toAccount(row: AccountsTable): Account {
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

export function createAccountService(database: Database<IdentityDatabase>): AccountService {
  const accounts = accountsTable(database.db);
  const now = () => new Date().toISOString();

  async function findById(id: string) {
    const row = await accounts.byId(id);
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
      await accounts.insert(row);
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      return { ok: false, taken: (await accounts.usernameTaken(row.username)) ? 'username' : 'email' };
    }
    return { ok: true, account: toAccount(row) };
  }

  return {
    count: () => accounts.count(),
    findById,
    async findByEmail(email) {
      const row = await accounts.byEmail(email.toLowerCase());
      return row ? toAccount(row) : undefined;
    },
    async findCredentials(username) {
      const row = await accounts.byUsername(username.toLowerCase());
      return row ? { account: toAccount(row), passwordHash: row.password_hash } : undefined;
    },
    passwordHashOf: (id) => accounts.passwordHash(id),
    async create(input) {
      const result = await insert(input);
      return result.ok ? result.account : undefined;
    },
    insert,
    async setPasswordHash(id, passwordHash) {
      await accounts.update(id, { password_hash: passwordHash, updated_at: now() });
    },
    async markEmailVerified(id) {
      const at = now();
      await accounts.update(id, { email_verified_at: at, updated_at: at });
    },
    async setDisabled(id, disabled) {
      const at = now();
      await accounts.update(id, { disabled_at: disabled ? at : null, updated_at: at });
      return findById(id);
    },
    async setRoles(id, roles) {
      await accounts.update(id, { roles: JSON.stringify(roles), updated_at: now() });
      return findById(id);
    },
    async search(query, limit, offset) {
      const pattern = query ? `%${query.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%` : undefined;
      const { rows, total } = await accounts.search(pattern, limit, offset);
      return { items: rows.map(toAccount), total };
    },
  };
}
