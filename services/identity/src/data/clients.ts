/**
 * Clients made from the admin API, in identity's database so every replica serves them.
 * oidc-provider compares a client secret with the stored value, so it cannot be a one-way
 * hash; it is sealed (AES-256-GCM, sealed-secrets.ts) under the key file's keys instead,
 * and a copy of the database alone yields no secret.
 */
import type { Database } from '@portico/store/sql';
import type { IdentityDatabase, OidcClientsTable } from './schema.ts';
import type { SecretSealer } from './sealed-secrets.ts';

export interface StoredClient {
  clientId: string;
  metadata: Record<string, unknown>;
  hasSecret: boolean;
  createdAt: string;
  updatedAt: string;
  disabled: boolean;
}

export interface ClientStore {
  insert(clientId: string, metadata: Record<string, unknown>, secret: string | null): Promise<StoredClient>;
  list(): Promise<StoredClient[]>;
  get(clientId: string): Promise<StoredClient | undefined>;
  /** The metadata oidc-provider needs, secret included; undefined when unknown or disabled. */
  providerMetadata(clientId: string): Promise<Record<string, unknown> | undefined>;
  setSecret(clientId: string, secret: string): Promise<StoredClient | undefined>;
  /** Replaces the metadata (the secret is kept). */
  update(clientId: string, metadata: Record<string, unknown>): Promise<StoredClient | undefined>;
  disable(clientId: string): Promise<StoredClient | undefined>;
  enable(clientId: string): Promise<StoredClient | undefined>;
}

function toClient(row: OidcClientsTable): StoredClient {
  return {
    clientId: row.client_id,
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    hasSecret: row.secret_sealed !== null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    disabled: row.disabled_at !== null,
  };
}

export function clientStore(database: Database<IdentityDatabase>, sealer: SecretSealer): ClientStore {
  const { db } = database;
  const row = (clientId: string) =>
    db.selectFrom('oidc_clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();
  const get = async (clientId: string) => {
    const found = await row(clientId);
    return found ? toClient(found) : undefined;
  };
  return {
    async insert(clientId, metadata, secret) {
      const now = new Date().toISOString();
      const values: OidcClientsTable = {
        client_id: clientId,
        metadata: JSON.stringify(metadata),
        secret_sealed: secret === null ? null : sealer.seal(secret),
        created_at: now,
        updated_at: now,
        disabled_at: null,
      };
      await db.insertInto('oidc_clients').values(values).execute();
      return toClient(values);
    },
    async list() {
      const rows = await db.selectFrom('oidc_clients').selectAll().orderBy('created_at').execute();
      return rows.map(toClient);
    },
    get,
    async providerMetadata(clientId) {
      const found = await row(clientId);
      if (!found || found.disabled_at !== null) return undefined;
      const metadata = JSON.parse(found.metadata) as Record<string, unknown>;
      if (found.secret_sealed === null) return { ...metadata, client_id: clientId };
      const secret = sealer.open(found.secret_sealed);
      // Sealed under a key the key file no longer has: the client cannot authenticate.
      if (secret === undefined) return undefined;
      return { ...metadata, client_id: clientId, client_secret: secret };
    },
    async setSecret(clientId, secret) {
      await db
        .updateTable('oidc_clients')
        .set({ secret_sealed: sealer.seal(secret), updated_at: new Date().toISOString() })
        .where('client_id', '=', clientId)
        .execute();
      return get(clientId);
    },
    async update(clientId, metadata) {
      await db
        .updateTable('oidc_clients')
        .set({ metadata: JSON.stringify(metadata), updated_at: new Date().toISOString() })
        .where('client_id', '=', clientId)
        .execute();
      return get(clientId);
    },
    async disable(clientId) {
      const now = new Date().toISOString();
      await db
        .updateTable('oidc_clients')
        .set({ disabled_at: now, updated_at: now })
        .where('client_id', '=', clientId)
        .where('disabled_at', 'is', null)
        .execute();
      return get(clientId);
    },
    async enable(clientId) {
      await db
        .updateTable('oidc_clients')
        .set({ disabled_at: null, updated_at: new Date().toISOString() })
        .where('client_id', '=', clientId)
        .where('disabled_at', 'is not', null)
        .execute();
      return get(clientId);
    },
  };
}
