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
import { oidcModelsTable } from '../data/oidc-models.ts';
import type { IdentityDatabase, OidcModelsTable } from '../data/schema.ts';

const now = () => Math.floor(Date.now() / 1000);

export interface SqlAdapterFactory {
  Adapter: AdapterConstructor;
  /** Deletes rows whose expiry has passed; returns how many. */
  sweep(): Promise<number>;
}

export function sqlAdapter(database: Database<IdentityDatabase>): SqlAdapterFactory {
  const models = oidcModelsTable(database.db);

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
      await models.upsert({
        model: this.model,
        id,
        payload: JSON.stringify(payload),
        grant_id: typeof payload.grantId === 'string' ? payload.grantId : null,
        uid: typeof payload.uid === 'string' ? payload.uid : null,
        user_code: typeof payload.userCode === 'string' ? payload.userCode : null,
        expires_at: expiresIn ? now() + expiresIn : null,
        consumed_at: null,
      });
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      return visible(await models.find(this.model, 'id', id));
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return visible(await models.find(this.model, 'uid', uid));
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return visible(await models.find(this.model, 'user_code', userCode));
    }

    async consume(id: string): Promise<void> {
      // Conditional on "not yet consumed": of two concurrent uses exactly one wins, and
      // the loser is treated as the replay it is (the grant goes, the request fails).
      if (await models.consume(this.model, id, now())) return;
      const grantId = (await models.find(this.model, 'id', id))?.grant_id;
      if (grantId) await models.deleteGrant(grantId);
      throw new errors.InvalidGrant(`${this.model} already consumed`);
    }

    async destroy(id: string): Promise<void> {
      await models.delete(this.model, id);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await models.deleteOfGrant(this.model, grantId);
    }
  }

  return {
    Adapter: SqlAdapter,
    sweep: () => models.deleteExpired(now()),
  };
}
