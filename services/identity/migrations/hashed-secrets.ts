import type { Migration } from '@portico/store/sql';
import { SECRET_MODELS } from '../src/oidc/hashed-ids.ts';

/**
 * Codes, tokens, sessions and interactions are now kept under the hash of their value
 * (src/oidc/hashed-ids.ts). Rows stored under the value itself are deleted rather than
 * left readable: their holders sign in again.
 */
export const hashedSecrets: Migration = {
  async up(db) {
    await db
      .deleteFrom('oidc_models')
      .where('model', 'in', [...SECRET_MODELS])
      .execute();
  },
  async down() {},
};
