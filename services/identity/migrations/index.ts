/**
 * The identity service's tables: the OpenID Provider's artefacts (one table, one row per
 * model instance, as oidc-provider's adapter contract wants) and the accounts.
 * Portable SQL only: the same migrations run on SQLite and PostgreSQL.
 */
import type { Migration } from '@portico/store/sql';
import { clients } from './clients.ts';
import { hashedSecrets } from './hashed-secrets.ts';
import { loginAttempts } from './login-attempts.ts';
import { passkeyNames, passkeys } from './passkeys.ts';
import { secondFactor } from './second-factor.ts';

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
  '004_accounts': {
    async up(db) {
      await db.schema.alterTable('accounts').addColumn('email_verified_at', 'text').execute();
      await db.schema.alterTable('accounts').addColumn('disabled_at', 'text').execute();
      // Accounts made before sign-up existed were made by an operator, who vouched for the address.
      await db
        .updateTable('accounts')
        .set((eb) => ({ email_verified_at: eb.ref('updated_at'), email: eb.fn('lower', [eb.ref('email')]) }))
        .where('email', 'is not', null)
        .execute();
      // One account per address; lower-cased on write so the index is case-insensitive.
      await db.schema.createIndex('accounts_email').on('accounts').column('email').unique().execute();
      await db.schema
        .createTable('account_tokens')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .execute();
      await db.schema
        .createIndex('account_tokens_account')
        .on('account_tokens')
        .columns(['account_id', 'purpose'])
        .execute();
      await db.schema
        .createTable('audit_log')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target', 'text')
        .addColumn('ip', 'text')
        .addColumn('detail', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_log_at').on('audit_log').column('at').execute();
      // Which sessions and grants an account has, whichever store keeps the artefacts themselves.
      await db.schema
        .createTable('account_artefacts')
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .addPrimaryKeyConstraint('account_artefacts_pk', ['kind', 'id'])
        .execute();
      await db.schema
        .createIndex('account_artefacts_account')
        .on('account_artefacts')
        .column('account_id')
        .execute();
    },
    async down(db) {
      await db.schema.dropTable('account_artefacts').execute();
      await db.schema.dropTable('audit_log').execute();
      await db.schema.dropTable('account_tokens').execute();
      await db.schema.dropIndex('accounts_email').execute();
      await db.schema.alterTable('accounts').dropColumn('disabled_at').execute();
      await db.schema.alterTable('accounts').dropColumn('email_verified_at').execute();
    },
  },
  '005_second_factor': secondFactor,
  '006_passkeys': passkeys,
  '007_clients': clients,
  '008_passkey_names': passkeyNames,
};
