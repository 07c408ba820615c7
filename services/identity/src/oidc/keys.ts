/**
 * Signing keys and cookie keys. The embedded default generates them on first start
 * into one JSON file (mode 0600) in the data dir; deployments point `keysFile` at a
 * mounted secret instead.
 *
 * Rotation (`rotateKeys`): a new key goes first and signs from the next start on;
 * older keys stay in the JWKS, so tokens they signed keep verifying, until they have
 * been superseded for longer than the longest token lifetime, then they are dropped.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { exportJWK, generateKeyPair, type JWK } from 'jose';

export interface SigningKey {
  created_at: string;
  jwk: JWK & { kid: string; alg: string };
}

export interface KeyFile {
  signing: SigningKey[];
  cookieKeys: string[];
}

export interface ProviderKeys {
  /** Private JWKS for oidc-provider; the first key signs. */
  jwks: { keys: JWK[] };
  cookieKeys: string[];
}

export async function newSigningKey(): Promise<SigningKey> {
  const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const jwk = await exportJWK(privateKey);
  return {
    created_at: new Date().toISOString(),
    jwk: { ...jwk, kid: randomUUID(), alg: 'RS256', use: 'sig' },
  };
}

async function freshKeyFile(): Promise<KeyFile> {
  return { signing: [await newSigningKey()], cookieKeys: [randomBytes(32).toString('base64url')] };
}

function readKeyFile(file: string): KeyFile {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<KeyFile>;
  if (!Array.isArray(parsed.signing) || parsed.signing.length === 0) {
    throw new Error(`${file} has no signing keys`);
  }
  if (!Array.isArray(parsed.cookieKeys) || parsed.cookieKeys.length === 0) {
    throw new Error(`${file} has no cookie keys`);
  }
  return parsed as KeyFile;
}

function writeKeyFile(file: string, keys: KeyFile): void {
  mkdirSync(dirname(file), { recursive: true });
  // Write then rename: a crash mid-write never leaves a half key file behind.
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

function toProviderKeys(keys: KeyFile): ProviderKeys {
  return { jwks: { keys: keys.signing.map((k) => k.jwk) }, cookieKeys: keys.cookieKeys };
}

/** Reads the key file, creating it on first start; an empty path keeps keys in memory only. */
export async function loadKeys(file: string): Promise<ProviderKeys & { created: boolean }> {
  if (file && existsSync(file)) return { ...toProviderKeys(readKeyFile(file)), created: false };
  const keys = await freshKeyFile();
  if (file) writeKeyFile(file, keys);
  return { ...toProviderKeys(keys), created: true };
}

export interface RotateOptions {
  /** Keep a superseded key this long: at least the longest token (ID or access) lifetime. */
  retainSeconds: number;
  now?: Date;
}

/** Puts a new signing key first and drops keys superseded for longer than `retainSeconds`. */
export async function rotateKeys(
  file: string,
  options: RotateOptions,
): Promise<{ added: string; removed: string[]; kept: string[] }> {
  const keys = readKeyFile(file);
  const now = (options.now ?? new Date()).getTime();
  const next = await newSigningKey();
  const kept: SigningKey[] = [next];
  const removed: string[] = [];
  // keys.signing is newest first: each key was superseded when the one before it was created.
  let supersededAt = now;
  for (const key of keys.signing) {
    if (now - supersededAt <= options.retainSeconds * 1000) kept.push(key);
    else removed.push(key.jwk.kid);
    supersededAt = Date.parse(key.created_at);
  }
  writeKeyFile(file, { ...keys, signing: kept });
  return { added: next.jwk.kid, removed, kept: kept.map((k) => k.jwk.kid) };
}

/** How long a superseded key must stay in the JWKS: the longest token it may have signed, plus the verifiers' clock tolerance. */
export function keyRetainSeconds(config: {
  api: { accessTokenTtlSeconds: number };
  ttl: { idTokenSeconds: number };
}): number {
  return Math.max(config.api.accessTokenTtlSeconds, config.ttl.idTokenSeconds) + 60;
}

/** The signing keys in the key file, newest (the one the next start signs with) first, without their private parts. */
export function listSigningKeys(file: string): { kid: string; alg: string; created_at: string }[] {
  return readKeyFile(file).signing.map((k) => ({ kid: k.jwk.kid, alg: k.jwk.alg, created_at: k.created_at }));
}

/** The public half of the signing keys, for verifying this issuer's tokens in process. */
export function publicJwks(keys: ProviderKeys): { keys: JWK[] } {
  return {
    keys: keys.jwks.keys.map(({ d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub }) => pub),
  };
}
