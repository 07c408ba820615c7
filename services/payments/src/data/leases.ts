/**
 * Named leases (which replica runs a singleton job, until when): queries only; the rules are
 * in domain/leases.ts. Expiry is epoch milliseconds on the database's clock, so the replicas'
 * clocks need not agree.
 */
import { type Executor, type SqlDialect, sql } from '@portico/store/sql';
import type { PaymentsDatabase } from './schema.ts';

export function leasesTable(db: Executor<PaymentsDatabase>, dialect: SqlDialect) {
  const now =
    dialect === 'postgres'
      ? sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`
      : sql<number>`cast(unixepoch('subsec') * 1000 as integer)`;
  return {
    /** The lease's row, free (no holder, expired), unless it is there already. */
    async create(name: string): Promise<void> {
      await db
        .insertInto('leases')
        .values({ name, holder: '', expires_at: 0 })
        .onConflict((oc) => oc.column('name').doNothing())
        .execute();
    },
    /**
     * One conditional UPDATE: `holder` gets the lease for `ttlMs` from now when it holds it
     * already or the lease has expired. False when another holds it.
     */
    async take(name: string, holder: string, ttlMs: number): Promise<boolean> {
      const result = await db
        .updateTable('leases')
        .set({ holder, expires_at: sql<number>`${now} + ${ttlMs}` })
        .where('name', '=', name)
        .where((eb) => eb.or([eb('holder', '=', holder), eb('expires_at', '<', now)]))
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    /** Ends `holder`'s lease now (nothing when another holds it). */
    async expire(name: string, holder: string): Promise<void> {
      await db
        .updateTable('leases')
        .set({ expires_at: 0 })
        .where('name', '=', name)
        .where('holder', '=', holder)
        .execute();
    },
  };
}
