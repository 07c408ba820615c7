/**
 * The embedded default's client secrets: random, made on first start, kept in the data
 * directory (file 0600, directory 0700) so the identity service and its clients (the console, the
 * payments service) agree across restarts. A deployment sets the variables itself.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const NAMES = ['PORTICO_WEB_CLIENT_SECRET', 'PORTICO_SERVICE_CLIENT_SECRET'] as const;

export function provideEmbeddedSecrets(dataDir: string, env: NodeJS.ProcessEnv = process.env): void {
  // The data directory holds every service's database and keys: its owner's alone.
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
  const file = join(dataDir, 'client-secrets.json');
  let stored: Partial<Record<(typeof NAMES)[number], string>> = {};
  if (existsSync(file)) stored = JSON.parse(readFileSync(file, 'utf8'));
  let changed = false;
  for (const name of NAMES) {
    if (!stored[name]) {
      stored[name] = randomBytes(32).toString('base64url');
      changed = true;
    }
    env[name] ??= stored[name];
  }
  if (changed) {
    writeFileSync(file, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
  }
}
