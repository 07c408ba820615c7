import type { Migration } from '@portico/store/sql';

/** Clients made from the admin API (src/domain/clients.ts); config clients are not stored. */
export const clients: Migration = {
  async up(db) {
    await db.schema
      .createTable('oidc_clients')
      .addColumn('client_id', 'text', (c) => c.primaryKey())
      // JSON: the oidc-provider metadata without the secret.
      .addColumn('metadata', 'text', (c) => c.notNull())
      // The secret sealed under the key file's cookie keys; null for a public client.
      .addColumn('secret_sealed', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('disabled_at', 'text')
      .execute();
  },
  async down(db) {
    await db.schema.dropTable('oidc_clients').execute();
  },
};
