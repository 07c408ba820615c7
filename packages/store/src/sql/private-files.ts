/**
 * A SQLite file holds every secret its service keeps (password hashes, grants, sessions):
 * only its owner may read it. The database and its `-wal`/`-shm`/`-journal` companions are
 * 0600, whatever the umask, and already existing files are tightened; a directory made
 * for them is 0700. An existing directory is left alone (it may be shared, like /tmp):
 * `npm start` tightens its own data directory itself.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

const COMPANIONS = ['-wal', '-shm', '-journal'];

export function preparePrivateFile(file: string): void {
  const dir = dirname(file);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  closeSync(openSync(file, 'a', 0o600));
  tightenPrivateFiles(file);
}

/** SQLite creates the companions like the database file; this holds them to 0600 all the same. */
export function tightenPrivateFiles(file: string): void {
  for (const path of [file, ...COMPANIONS.map((suffix) => `${file}${suffix}`)]) {
    if (existsSync(path)) chmodSync(path, 0o600);
  }
}
