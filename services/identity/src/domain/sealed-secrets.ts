/**
 * Secrets the service must read back (TOTP seeds) are sealed with AES-256-GCM under a key
 * derived (HKDF-SHA256) from the provider's cookie keys, which live in the key file, not in
 * the database: a copy of the database alone yields no seed. Values only ever compared
 * (recovery codes) get an HMAC under a second derived key instead of a plain hash, so even
 * short codes cannot be searched for offline from a dump.
 *
 * The first cookie key seals; every key opens, so adding a key in front keeps old seals good.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

export interface SecretSealer {
  seal(plain: string): string;
  /** The plain value, or undefined when no key opens it (tampered with, or its key is gone). */
  open(sealed: string): string | undefined;
  /** The HMAC of `value` under each key, the sealing key's first. */
  macs(value: string): string[];
}

const VERSION = 'v1';

export function secretSealer(cookieKeys: readonly string[], purpose: string): SecretSealer {
  if (cookieKeys.length === 0) throw new Error('secretSealer needs at least one key');
  const derive = (key: string, use: string) =>
    Buffer.from(hkdfSync('sha256', key, '', `portico ${purpose} ${use}`, 32));
  const sealing = cookieKeys.map((k) => derive(k, 'seal'));
  const hashing = cookieKeys.map((k) => derive(k, 'mac'));

  return {
    seal(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', sealing[0]!, iv);
      const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return [VERSION, iv, data, cipher.getAuthTag()]
        .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
        .join('.');
    },
    open(sealed) {
      const [version, iv, data, tag] = sealed.split('.');
      if (version !== VERSION || !iv || data === undefined || !tag) return undefined;
      for (const key of sealing) {
        try {
          const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
          decipher.setAuthTag(Buffer.from(tag, 'base64url'));
          return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString(
            'utf8',
          );
        } catch {
          // Another key sealed it (or nobody did): try the next.
        }
      }
      return undefined;
    },
    macs(value) {
      return hashing.map((key) => createHmac('sha256', key).update(value).digest('base64url'));
    },
  };
}
