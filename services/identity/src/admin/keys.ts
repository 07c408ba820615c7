/**
 * Signing keys from the admin API: which key signs, which only verify, and rotation (the
 * same `rotateKeys` as `rotate-keys.ts`). oidc-provider builds its keystore once, from the
 * `jwks` it is constructed with, and has no way to swap it; so a rotation writes the key
 * file and the new key signs from the next start of each replica. Until then it is `next`,
 * and the running process keeps signing with, and publishing, the keys it started with.
 */
import type { Config } from '../config.ts';
import type { AuditLog } from '../data/audit.ts';
import { errors } from '../errors.ts';
import { keyRetainSeconds, listSigningKeys, type ProviderKeys, rotateKeys } from '../oidc/keys.ts';
import type { Actor } from './users.ts';

export type KeyStatus = 'signing' | 'next' | 'verifying';

export interface KeyInfo {
  kid: string;
  alg: string;
  /** Null for a key this process loaded that the key file no longer has (dropped by a rotation). */
  created_at: string | null;
  /** `signing`: this process signs with it; `next`: signs from the next start; `verifying`: only verifies. */
  status: KeyStatus;
  /** In the JWKS this process publishes. */
  published: boolean;
  /** In the key file (what the next start loads). */
  stored: boolean;
}

export interface KeyOverview {
  keys: KeyInfo[];
  /** The key file names a newer signing key than the one this process signs with. */
  restart_required: boolean;
}

export interface AdminKeys {
  list(): KeyOverview;
  rotate(actor: Actor): Promise<{ added: string; removed: string[]; overview: KeyOverview }>;
}

export function adminKeys(deps: { config: Config; keys: ProviderKeys; audit: AuditLog }): AdminKeys {
  const { config, keys, audit } = deps;
  const loaded = keys.jwks.keys.map((k) => ({ kid: k.kid!, alg: k.alg ?? 'RS256' }));
  const signingNow = loaded[0]!.kid;

  function list(): KeyOverview {
    const stored = config.keysFile ? listSigningKeys(config.keysFile) : [];
    const storedKids = new Set(stored.map((k) => k.kid));
    const published = new Set(loaded.map((k) => k.kid));
    const status = (kid: string, first: boolean): KeyStatus =>
      kid === signingNow ? 'signing' : first ? 'next' : 'verifying';
    const out: KeyInfo[] = stored.map((k, i) => ({
      ...k,
      status: status(k.kid, i === 0),
      published: published.has(k.kid),
      stored: true,
    }));
    for (const k of loaded) {
      if (!storedKids.has(k.kid))
        out.push({ ...k, created_at: null, status: status(k.kid, false), published: true, stored: false });
    }
    return { keys: out, restart_required: stored.length > 0 && stored[0]!.kid !== signingNow };
  }

  return {
    list,
    async rotate(actor) {
      if (!config.keysFile)
        throw errors.KEYS_IN_MEMORY(
          'The signing keys are in memory only (keysFile is empty): there is no key file to rotate',
        );
      let result: Awaited<ReturnType<typeof rotateKeys>>;
      try {
        result = await rotateKeys(config.keysFile, { retainSeconds: keyRetainSeconds(config) });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (!code) throw err;
        // Kubernetes mounts the key file from a Secret, read-only: rotation happens where the Secret is made.
        throw errors.KEYS_NOT_WRITABLE(
          `The key file cannot be written here (${code}). Where it is a mounted secret, run rotate-keys.ts where the secret is made, update the secret and restart.`,
        );
      }
      await audit.record({
        actor: actor.sub,
        action: 'key.rotate',
        target: result.added,
        ip: actor.ip,
        detail: {
          added: result.added,
          removed: result.removed,
          ...(actor.userAgent ? { user_agent: actor.userAgent.slice(0, 200) } : {}),
        },
      });
      return { added: result.added, removed: result.removed, overview: list() };
    },
  };
}
