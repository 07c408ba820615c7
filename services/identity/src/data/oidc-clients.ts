/** Clients made from the admin API: queries only; the rules are in domain/clients.ts. */
import type { Executor } from '@portico/store/sql';
import type { IdentityDatabase, OidcClientsTable } from './schema.ts';

export type OidcClientChanges = Partial<
  Pick<OidcClientsTable, 'metadata' | 'secret_sealed' | 'updated_at' | 'disabled_at'>
>;

export function oidcClientsTable(db: Executor<IdentityDatabase>) {
  return {
    async byId(clientId: string): Promise<OidcClientsTable | undefined> {
      return db.selectFrom('oidc_clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();
    },
    async list(): Promise<OidcClientsTable[]> {
      return db.selectFrom('oidc_clients').selectAll().orderBy('created_at').execute();
    },
    async insert(row: OidcClientsTable): Promise<void> {
      await db.insertInto('oidc_clients').values(row).execute();
    },
    /** `disabled`: only when the client is (true) or is not (false) disabled now. */
    async update(clientId: string, changes: OidcClientChanges, disabled?: boolean): Promise<void> {
      let query = db.updateTable('oidc_clients').set(changes).where('client_id', '=', clientId);
      if (disabled !== undefined) query = query.where('disabled_at', disabled ? 'is not' : 'is', null);
      await query.execute();
    },
  };
}
