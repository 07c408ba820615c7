import { createHash } from 'node:crypto';

/**
 * The storage key of a bearer secret (a refresh token, a code, a session id): its SHA-256,
 * base64url. The secret is 128+ random bits, so an unsalted hash cannot be reversed or
 * guessed, and whoever reads the database learns no value they could present.
 */
export function secretKey(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
}
