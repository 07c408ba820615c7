/**
 * oidc-provider finds a client that is not in its static `clients` through the adapter of
 * its `Client` model, at every use (it caches the parsed client by a hash of the metadata):
 * here that model reads domain/clients.ts, so a client made, given a new secret or disabled
 * from the admin API counts at once on every replica. Dynamic registration is off, so the
 * provider never writes clients.
 */
import type { Adapter, AdapterConstructor, AdapterPayload } from 'oidc-provider';
import type { ClientService } from '../domain/clients.ts';

export function withStoredClients(Inner: AdapterConstructor, clients: ClientService): AdapterConstructor {
  class ClientAdapter implements Adapter {
    async find(id: string): Promise<AdapterPayload | undefined> {
      return (await clients.providerMetadata(id)) as AdapterPayload | undefined;
    }
    async upsert(): Promise<void> {
      throw new Error('clients are written by the admin API only');
    }
    async findByUid(): Promise<undefined> {
      return undefined;
    }
    async findByUserCode(): Promise<undefined> {
      return undefined;
    }
    async consume(): Promise<void> {}
    async destroy(): Promise<void> {}
    async revokeByGrantId(): Promise<void> {}
  }
  return function StoredClientsAdapter(model: string) {
    return model === 'Client' ? new ClientAdapter() : new Inner(model);
  } as unknown as AdapterConstructor;
}
