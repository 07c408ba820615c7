/**
 * Clients made from the admin API, in identity's database so every replica serves them.
 * oidc-provider compares a client secret with the stored value, so it cannot be a one-way
 * hash; it is sealed (AES-256-GCM, sealed-secrets.ts) under the key file's keys instead,
 * and a copy of the database alone yields no secret.
 */
import type { Database } from '@portico/store/sql';
import { oidcClientsTable } from '../data/oidc-clients.ts';
import type { IdentityDatabase, OidcClientsTable } from '../data/schema.ts';
import type { SecretSealer } from './sealed-secrets.ts';

export interface OidcClient {
  clientId: string;
  metadata: Record<string, unknown>;
  hasSecret: boolean;
  createdAt: string;
  updatedAt: string;
  disabled: boolean;
}

export interface ClientService {
  insert(clientId: string, metadata: Record<string, unknown>, secret: string | null): Promise<OidcClient>;
  list(): Promise<OidcClient[]>;
  get(clientId: string): Promise<OidcClient | undefined>;
  /** The metadata oidc-provider needs, secret included; undefined when unknown or disabled. */
  providerMetadata(clientId: string): Promise<Record<string, unknown> | undefined>;
  setSecret(clientId: string, secret: string): Promise<OidcClient | undefined>;
  /** Replaces the metadata (the secret is kept). */
  update(clientId: string, metadata: Record<string, unknown>): Promise<OidcClient | undefined>;
  disable(clientId: string): Promise<OidcClient | undefined>;
  enable(clientId: string): Promise<OidcClient | undefined>;
}

export function toOidcClient(row: OidcClientsTable): OidcClient {
  return {
    clientId: row.client_id,
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    hasSecret: row.secret_sealed !== null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    disabled: row.disabled_at !== null,
  };
}

export function createClientService(
  database: Database<IdentityDatabase>,
  sealer: SecretSealer,
): ClientService {
  const clients = oidcClientsTable(database.db);
  const now = () => new Date().toISOString();
  const get = async (clientId: string) => {
    const found = await clients.byId(clientId);
    return found ? toOidcClient(found) : undefined;
  };
  return {
    async insert(clientId, metadata, secret) {
      const at = now();
      const row: OidcClientsTable = {
        client_id: clientId,
        metadata: JSON.stringify(metadata),
        secret_sealed: secret === null ? null : sealer.seal(secret),
        created_at: at,
        updated_at: at,
        disabled_at: null,
      };
      await clients.insert(row);
      return toOidcClient(row);
    },
    async list() {
      return (await clients.list()).map(toOidcClient);
    },
    get,
    async providerMetadata(clientId) {
      const found = await clients.byId(clientId);
      if (!found || found.disabled_at !== null) return undefined;
      const metadata = JSON.parse(found.metadata) as Record<string, unknown>;
      if (found.secret_sealed === null) return { ...metadata, client_id: clientId };
      const secret = sealer.open(found.secret_sealed);
      // Sealed under a key the key file no longer has: the client cannot authenticate.
      if (secret === undefined) return undefined;
      return { ...metadata, client_id: clientId, client_secret: secret };
    },
    async setSecret(clientId, secret) {
      await clients.update(clientId, { secret_sealed: sealer.seal(secret), updated_at: now() });
      return get(clientId);
    },
    async update(clientId, metadata) {
      await clients.update(clientId, { metadata: JSON.stringify(metadata), updated_at: now() });
      return get(clientId);
    },
    async disable(clientId) {
      const at = now();
      await clients.update(clientId, { disabled_at: at, updated_at: at }, false);
      return get(clientId);
    },
    async enable(clientId) {
      await clients.update(clientId, { disabled_at: null, updated_at: now() }, true);
      return get(clientId);
    },
  };
}
