/**
 * Signing keys and cookie keys. The embedded default generates them on first start
 * into one JSON file (mode 0600) in the data dir; deployments point `keysFile` at a
 * mounted secret instead.
 *
 * Rotation (`rotateKeys`): a new key goes first with `signs_from` a grace period ahead.
 * Every replica publishes it as soon as it reads the file (live-provider.ts re-reads it), and
 * all of them sign with it from `signs_from` on: verifiers have it in their JWKS before they
 * meet a token it signed. Older keys stay in the JWKS, so tokens they signed keep verifying,
 * until they have been superseded for longer than the longest token lifetime, then they are
 * dropped.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError } from '@portico/config';
import { exportJWK, generateKeyPair, type JWK } from 'jose';

export interface SigningKey {
  created_at: string;
  /** When it starts signing; absent in key files from before, where it signed from `created_at`. */
  signs_from?: string;
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

const signsFrom = (key: SigningKey) => Date.parse(key.signs_from ?? key.created_at);

/**
 * What the provider is built with at `now`: the newest key whose time has come first (it
 * signs), then every other key of the file (published, verifying). Before any key's time
 * (a file whose only key is pending) the oldest key signs.
 */
function toProviderKeys(keys: KeyFile, now = Date.now()): ProviderKeys & { nextChange: number | null } {
  const signing = keys.signing.find((k) => signsFrom(k) <= now) ?? keys.signing[keys.signing.length - 1]!;
  const pending = keys.signing.map(signsFrom).filter((t) => t > now);
  return {
    jwks: { keys: [signing, ...keys.signing.filter((k) => k !== signing)].map((k) => k.jwk) },
    cookieKeys: keys.cookieKeys,
    nextChange: pending.length > 0 ? Math.min(...pending) : null,
  };
}

/** Reads the key file, creating it on first start; an empty path keeps keys in memory only. */
export async function loadKeys(file: string): Promise<ProviderKeys & { created: boolean }> {
  if (file && existsSync(file)) {
    let read: KeyFile;
    try {
      read = readKeyFile(file);
    } catch (err) {
      // At start a key file that cannot be read is a setting to fix, not a crash to debug.
      throw new ConfigError('identity', [`keysFile (IDENTITY_KEYS_FILE=${file}): ${(err as Error).message}`]);
    }
    const { nextChange: _, ...keys } = toProviderKeys(read);
    return { ...keys, created: false };
  }
  const fresh = await freshKeyFile();
  if (file) writeKeyFile(file, fresh);
  const { nextChange: _, ...keys } = toProviderKeys(fresh);
  return { ...keys, created: true };
}

/** The keys as of `now`, and when (ms since the epoch) a pending key starts signing, if one does. */
export function readKeys(file: string, now = Date.now()): ProviderKeys & { nextChange: number | null } {
  return toProviderKeys(readKeyFile(file), now);
}

export interface RotateOptions {
  /** Keep a superseded key this long: at least the longest token (ID or access) lifetime. */
  retainSeconds: number;
  /**
   * Publish the new key this long before it signs: longer than replicas take to re-read the
   * key file plus what verifiers cache the JWKS for. 0 signs with it at once. @default 0
   */
  activationDelaySeconds?: number;
  now?: Date;
}

/** Puts a new signing key first and drops keys superseded for longer than `retainSeconds`. */
export async function rotateKeys(
  file: string,
  options: RotateOptions,
): Promise<{ added: string; signsFrom: string; removed: string[]; kept: string[] }> {
  const keys = readKeyFile(file);
  const now = (options.now ?? new Date()).getTime();
  const next = {
    ...(await newSigningKey()),
    signs_from: new Date(now + (options.activationDelaySeconds ?? 0) * 1000).toISOString(),
  };
  const kept: SigningKey[] = [next];
  const removed: string[] = [];
  // keys.signing is newest first: each key is superseded when the one before it starts signing.
  let supersededAt = signsFrom(next);
  for (const key of keys.signing) {
    if (now - supersededAt <= options.retainSeconds * 1000) kept.push(key);
    else removed.push(key.jwk.kid);
    supersededAt = signsFrom(key);
  }
  writeKeyFile(file, { ...keys, signing: kept });
  return { added: next.jwk.kid, signsFrom: next.signs_from, removed, kept: kept.map((k) => k.jwk.kid) };
}

/** How long a superseded key must stay in the JWKS: the longest token it may have signed, plus the verifiers' clock tolerance. */
export function keyRetainSeconds(config: {
  api: { accessTokenTtlSeconds: number };
  ttl: { idTokenSeconds: number };
}): number {
  return Math.max(config.api.accessTokenTtlSeconds, config.ttl.idTokenSeconds) + 60;
}

/** The signing keys in the key file, newest first, without their private parts. */
export function listSigningKeys(
  file: string,
): { kid: string; alg: string; created_at: string; signs_from: string }[] {
  return readKeyFile(file).signing.map((k) => ({
    kid: k.jwk.kid,
    alg: k.jwk.alg,
    created_at: k.created_at,
    signs_from: k.signs_from ?? k.created_at,
  }));
}

/** The public half of the signing keys, for verifying this issuer's tokens in process. */
export function publicJwks(keys: ProviderKeys): { keys: JWK[] } {
  return {
    keys: keys.jwks.keys.map(({ d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub }) => pub),
  };
}
