/**
 * oidc-provider's artefacts (sessions, interactions, grants, codes, tokens), one table keyed
 * by (model, id): queries only; the provider's Adapter over them is oidc/sql-adapter.ts.
 */
import type { Executor } from '@portico/store/sql';
import type { IdentityDatabase, OidcModelsTable } from './schema.ts';

type Lookup = 'id' | 'uid' | 'user_code';

export function oidcModelsTable(db: Executor<IdentityDatabase>) {
  return {
    /** The `model` row whose `column` is `value`. */
    async find(model: string, column: Lookup, value: string): Promise<OidcModelsTable | undefined> {
      return db
        .selectFrom('oidc_models')
        .selectAll()
        .where('model', '=', model)
        .where(column, '=', value)
        .executeTakeFirst();
    },
    /** Inserts the row, or replaces all but its consumption. */
    async upsert(row: OidcModelsTable): Promise<void> {
      const { model: _model, id: _id, consumed_at: _consumed, ...values } = row;
      await db
        .insertInto('oidc_models')
        .values(row)
        .onConflict((oc) => oc.columns(['model', 'id']).doUpdateSet(values))
        .execute();
    },
    /** Marks the row consumed at `at` unless it was already; false when it was (or is not there). */
    async consume(model: string, id: string, at: number): Promise<boolean> {
      const result = await db
        .updateTable('oidc_models')
        .set({ consumed_at: at })
        .where('model', '=', model)
        .where('id', '=', id)
        .where('consumed_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async delete(model: string, id: string): Promise<void> {
      await db.deleteFrom('oidc_models').where('model', '=', model).where('id', '=', id).execute();
    },
    /** The `model` rows of one grant. */
    async deleteOfGrant(model: string, grantId: string): Promise<void> {
      await db.deleteFrom('oidc_models').where('model', '=', model).where('grant_id', '=', grantId).execute();
    },
    /** The grant and every artefact of it, whatever their model. */
    async deleteGrant(grantId: string): Promise<void> {
      await db
        .deleteFrom('oidc_models')
        .where((eb) =>
          eb.or([eb('grant_id', '=', grantId), eb.and([eb('model', '=', 'Grant'), eb('id', '=', grantId)])]),
        )
        .execute();
    },
    /** Deletes rows expired by `at`; how many. */
    async deleteExpired(at: number): Promise<number> {
      const result = await db.deleteFrom('oidc_models').where('expires_at', '<=', at).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
