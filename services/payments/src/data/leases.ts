/**
 * A named lease in the service's own database: at most one holder at a time, for a
 * bounded time that the holder renews. Taking and renewing are one conditional UPDATE
 * (the lease is ours already, or has expired), so replicas need nothing but the database
 * they share, and a holder that dies without a word is replaced once its time runs out.
 * Expiry is read on the database's clock, so the replicas' clocks need not agree.
 */
import { type Kysely, type SqlDialect, sql } from '@portico/store/sql';
import type { PaymentsDatabase } from './schema.ts';

export interface Lease {
  /** Who this replica is in the `leases` table. */
  readonly holder: string;
  /** Whether the last take() got (or kept) the lease. */
  readonly held: boolean;
  /** Takes the lease when it is free or expired, renews it when already held. */
  take(): Promise<boolean>;
  /** Lets the next replica take over at once instead of after the expiry. */
  release(): Promise<void>;
}

export function leasesTable(
  db: Kysely<PaymentsDatabase>,
  dialect: SqlDialect,
  options: { name: string; holder: string; ttlMs: number },
): Lease {
  const { name, holder, ttlMs } = options;
  const now =
    dialect === 'postgres'
      ? sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`
      : sql<number>`cast(unixepoch('subsec') * 1000 as integer)`;
  let created = false;
  let held = false;
  return {
    holder,
    get held() {
      return held;
    },
    async take() {
      if (!created) {
        await db
          .insertInto('leases')
          .values({ name, holder: '', expires_at: 0 })
          .onConflict((oc) => oc.column('name').doNothing())
          .execute();
        created = true;
      }
      const result = await db
        .updateTable('leases')
        .set({ holder, expires_at: sql<number>`${now} + ${ttlMs}` })
        .where('name', '=', name)
        .where((eb) => eb.or([eb('holder', '=', holder), eb('expires_at', '<', now)]))
        .executeTakeFirst();
      held = Number(result.numUpdatedRows) === 1;
      return held;
    },
    async release() {
      if (!held) return;
      held = false;
      await db
        .updateTable('leases')
        .set({ expires_at: 0 })
        .where('name', '=', name)
        .where('holder', '=', holder)
        .execute();
    },
  };
}
