/**
 * oidc-provider's storage contract on our SQL layer: sessions, interactions, grants,
 * authorization codes, refresh tokens and the rest live in one table keyed by
 * (model, id), so they survive a restart and are shared by every replica.
 *
 * - `consume` marks a code or refresh token as used; the provider sees `consumed` and
 *   treats a second use as replay (it then revokes the whole grant).
 * - `revokeByGrantId` deletes every artefact of one grant: what logout, revocation and
 *   replay detection rely on.
 * - Expired rows are invisible to `find*` at once and swept in the background.
 */

import type { Database } from '@portico/store/sql';
import { type Adapter, type AdapterConstructor, type AdapterPayload, errors } from 'oidc-provider';
import type { IdentityDatabase, OidcModelsTable } from './schema.ts';

const now = () => Math.floor(Date.now() / 1000);

export interface SqlAdapterFactory {
  Adapter: AdapterConstructor;
  /** Deletes rows whose expiry has passed; returns how many. */
  sweep(): Promise<number>;
}

export function sqlAdapter(database: Database<IdentityDatabase>): SqlAdapterFactory {
  const { db } = database;

  function visible(row: OidcModelsTable | undefined): AdapterPayload | undefined {
    if (!row) return undefined;
    if (row.expires_at !== null && Number(row.expires_at) <= now()) return undefined;
    const payload = JSON.parse(row.payload) as AdapterPayload;
    return row.consumed_at === null ? payload : { ...payload, consumed: Number(row.consumed_at) };
  }

  class SqlAdapter implements Adapter {
    readonly model: string;

    constructor(model: string) {
      this.model = model;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      const row = {
        payload: JSON.stringify(payload),
        grant_id: typeof payload.grantId === 'string' ? payload.grantId : null,
        uid: typeof payload.uid === 'string' ? payload.uid : null,
        user_code: typeof payload.userCode === 'string' ? payload.userCode : null,
        expires_at: expiresIn ? now() + expiresIn : null,
      };
      await db
        .insertInto('oidc_models')
        .values({ model: this.model, id, consumed_at: null, ...row })
        .onConflict((oc) => oc.columns(['model', 'id']).doUpdateSet(row))
        .execute();
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      return visible(
        await db
          .selectFrom('oidc_models')
          .selectAll()
          .where('model', '=', this.model)
          .where('id', '=', id)
          .executeTakeFirst(),
      );
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return visible(
        await db
          .selectFrom('oidc_models')
          .selectAll()
          .where('model', '=', this.model)
          .where('uid', '=', uid)
          .executeTakeFirst(),
      );
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return visible(
        await db
          .selectFrom('oidc_models')
          .selectAll()
          .where('model', '=', this.model)
          .where('user_code', '=', userCode)
          .executeTakeFirst(),
      );
    }

    async consume(id: string): Promise<void> {
      // Conditional on "not yet consumed": of two concurrent uses exactly one wins, and
      // the loser is treated as the replay it is (the grant goes, the request fails).
      const result = await db
        .updateTable('oidc_models')
        .set({ consumed_at: now() })
        .where('model', '=', this.model)
        .where('id', '=', id)
        .where('consumed_at', 'is', null)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) {
        const row = await db
          .selectFrom('oidc_models')
          .select('grant_id')
          .where('model', '=', this.model)
          .where('id', '=', id)
          .executeTakeFirst();
        const grantId = row?.grant_id;
        if (grantId) {
          await db
            .deleteFrom('oidc_models')
            .where((eb) =>
              eb.or([
                eb('grant_id', '=', grantId),
                eb.and([eb('model', '=', 'Grant'), eb('id', '=', grantId)]),
              ]),
            )
            .execute();
        }
        throw new errors.InvalidGrant(`${this.model} already consumed`);
      }
    }

    async destroy(id: string): Promise<void> {
      await db.deleteFrom('oidc_models').where('model', '=', this.model).where('id', '=', id).execute();
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await db
        .deleteFrom('oidc_models')
        .where('model', '=', this.model)
        .where('grant_id', '=', grantId)
        .execute();
    }
  }

  return {
    Adapter: SqlAdapter,
    async sweep() {
      const result = await db.deleteFrom('oidc_models').where('expires_at', '<=', now()).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
