/**
 * The identity service's tables: the OpenID Provider's artefacts (one table, one row per
 * model instance, as oidc-provider's adapter contract wants) and the accounts.
 * Portable SQL only: the same migrations run on SQLite and PostgreSQL.
 */
import type { Migration } from '@portico/store/sql';
import { hashedSecrets } from './hashed-secrets.ts';
import { loginAttempts } from './login-attempts.ts';

export const migrations: Record<string, Migration> = {
  '001_identity': {
    async up(db) {
      await db.schema
        .createTable('oidc_models')
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('grant_id', 'text')
        .addColumn('uid', 'text')
        .addColumn('user_code', 'text')
        // Seconds since the epoch; null: does not expire.
        .addColumn('expires_at', 'bigint')
        .addColumn('consumed_at', 'bigint')
        .addPrimaryKeyConstraint('oidc_models_pk', ['model', 'id'])
        .execute();
      await db.schema.createIndex('oidc_models_grant_id').on('oidc_models').column('grant_id').execute();
      await db.schema.createIndex('oidc_models_uid').on('oidc_models').column('uid').execute();
      await db.schema.createIndex('oidc_models_user_code').on('oidc_models').column('user_code').execute();
      await db.schema.createIndex('oidc_models_expires_at').on('oidc_models').column('expires_at').execute();

      await db.schema
        .createTable('accounts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('username', 'text', (c) => c.notNull().unique())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('roles', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('email', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
    },
    async down(db) {
      await db.schema.dropTable('accounts').execute();
      await db.schema.dropTable('oidc_models').execute();
    },
  },
  '002_login_attempts': loginAttempts,
  '003_hashed_secrets': hashedSecrets,
};
