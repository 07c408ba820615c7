/**
 * Signing keys from the admin API: which key signs, which is next and from when, which only
 * verify; and rotation (the same `rotateKeys` as `rotate-keys.ts`). A rotation puts a new key
 * in the key file with `signs_from` a grace period ahead (`keyRotation.activationDelaySeconds`)
 * and has this replica publish it at once; the others publish it when they next read the file
 * (live-provider.ts), and every replica signs with it from `signs_from` on, without a restart.
 */
import type { IdentityConfig } from '../config.ts';
import type { AuditService } from '../domain/audit.ts';
import { errors } from '../errors.ts';
import { keyRetainSeconds, listSigningKeys, rotateKeys } from '../oidc/keys.ts';
import type { LiveProvider } from '../oidc/live-provider.ts';
import { type Actor, recordAdminAction } from './actor.ts';

export type KeyStatus = 'signing' | 'next' | 'verifying';

export interface KeyInfo {
  kid: string;
  alg: string;
  /** Null for a key this process publishes that the key file no longer has. */
  created_at: string | null;
  /** When it signs (or signed) from; null where unknown (not in the key file). */
  signs_from: string | null;
  /** `signing`: this process signs with it now; `next`: signs from `signs_from`; `verifying`: only verifies. */
  status: KeyStatus;
  /** In the JWKS this process publishes. */
  published: boolean;
  /** In the key file. */
  stored: boolean;
}

export interface KeyOverview {
  keys: KeyInfo[];
}

export interface AdminKeys {
  list(): KeyOverview;
  rotate(
    actor: Actor,
  ): Promise<{ added: string; signs_from: string; removed: string[]; overview: KeyOverview }>;
}

export function adminKeys(deps: {
  config: IdentityConfig;
  live: Pick<LiveProvider, 'keys' | 'reload'>;
  audit: AuditService;
}): AdminKeys {
  const { config, live, audit } = deps;

  function list(): KeyOverview {
    const loaded = live.keys().jwks.keys.map((k) => ({ kid: k.kid!, alg: k.alg ?? 'RS256' }));
    const signingNow = loaded[0]!.kid;
    const stored = config.keysFile ? listSigningKeys(config.keysFile) : [];
    const storedKids = new Set(stored.map((k) => k.kid));
    const published = new Set(loaded.map((k) => k.kid));
    const now = Date.now();
    const out: KeyInfo[] = stored.map((k) => ({
      ...k,
      status: k.kid === signingNow ? 'signing' : Date.parse(k.signs_from) > now ? 'next' : 'verifying',
      published: published.has(k.kid),
      stored: true,
    }));
    for (const k of loaded) {
      if (!storedKids.has(k.kid))
        out.push({
          ...k,
          created_at: null,
          signs_from: null,
          status: k.kid === signingNow ? 'signing' : 'verifying',
          published: true,
          stored: false,
        });
    }
    return { keys: out };
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
        result = await rotateKeys(config.keysFile, {
          retainSeconds: keyRetainSeconds(config),
          activationDelaySeconds: config.keyRotation.activationDelaySeconds,
        });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (!code) throw err;
        // Kubernetes mounts the key file from a Secret, read-only: rotation happens where the Secret is made.
        throw errors.KEYS_NOT_WRITABLE(
          `The key file cannot be written here (${code}). Where it is a mounted secret, run rotate-keys.ts where the secret is made and update the secret: every replica reads it again within keyRotation.reloadSeconds.`,
        );
      }
      live.reload();
      await recordAdminAction(audit, actor, 'key.rotate', result.added, {
        added: result.added,
        signs_from: result.signsFrom,
        removed: result.removed,
      });
      return { added: result.added, signs_from: result.signsFrom, removed: result.removed, overview: list() };
    },
  };
}
