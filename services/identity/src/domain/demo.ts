/**
 * Demo accounts for the embedded default: on the first start (no account at all) a
 * customer and an admin are created with random passwords. The passwords are returned
 * once, for the start-up banner, and kept in a 0600 file in the data dir so the token
 * CLI and a later start can point at them; they are never in the repository.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AccountService } from './accounts.ts';
import { generatePassword, hashPassword } from './passwords.ts';

export interface DemoLogin {
  username: string;
  password: string;
  roles: string[];
}

const DEMO_ACCOUNTS = [
  { username: 'alice', name: 'Alice Example', email: 'alice@example.com', roles: ['customer'] },
  { username: 'admin', name: 'Portico Admin', email: 'admin@example.com', roles: ['admin'] },
];

/** Creates the demo accounts when there is no account yet; returns the new logins (or none). */
export async function ensureDemoAccounts(accounts: AccountService, file: string): Promise<DemoLogin[]> {
  if ((await accounts.count()) > 0) return [];
  const created: DemoLogin[] = [];
  for (const demo of DEMO_ACCOUNTS) {
    const password = generatePassword();
    const account = await accounts.create({
      username: demo.username,
      name: demo.name,
      email: demo.email,
      roles: demo.roles,
      emailVerified: true,
      passwordHash: await hashPassword(password),
    });
    // Another replica created it first: its password is the one that counts.
    if (account) created.push({ username: demo.username, password, roles: demo.roles });
  }
  if (file && created.length > 0) writeDemoLogins(file, created);
  return created;
}

export function writeDemoLogins(file: string, logins: DemoLogin[]): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify({ logins }, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
}

export function readDemoLogins(file: string): DemoLogin[] {
  if (!file || !existsSync(file)) return [];
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { logins?: DemoLogin[] };
  return parsed.logins ?? [];
}
