/** Payment intents: queries only; the state machine is in domain/intents.ts. */
import type { Executor } from '@portico/store/sql';
import type { PaymentIntentsTable, PaymentsDatabase } from './schema.ts';

export function intentsTable(db: Executor<PaymentsDatabase>) {
  return {
    async byId(id: string): Promise<PaymentIntentsTable | undefined> {
      return db.selectFrom('payment_intents').selectAll().where('id', '=', id).executeTakeFirst();
    },
    /** Newest first. */
    async list(filter: { userId?: string; orderId?: string }, limit: number): Promise<PaymentIntentsTable[]> {
      let query = db.selectFrom('payment_intents').selectAll();
      if (filter.userId !== undefined) query = query.where('user_id', '=', filter.userId);
      if (filter.orderId !== undefined) query = query.where('order_id', '=', filter.orderId);
      return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
    },
    async insert(row: PaymentIntentsTable): Promise<void> {
      await db.insertInto('payment_intents').values(row).execute();
    },
    /**
     * `processing` until `until`, holding the order (`paying_order_id` is unique: a second intent
     * for one order fails with a unique violation), when the intent may be confirmed now: waiting
     * for a card, or `processing` with its lease run out. False when it may not.
     */
    async claim(id: string, orderId: string, until: string, now: string): Promise<boolean> {
      const result = await db
        .updateTable('payment_intents')
        .set({ status: 'processing', paying_order_id: orderId, processing_until: until, updated_at: now })
        .where('id', '=', id)
        .where((eb) =>
          eb.or([
            eb('status', 'in', ['requires_confirmation', 'requires_payment_method']),
            eb.and([eb('status', '=', 'processing'), eb('processing_until', '<', now)]),
          ]),
        )
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    async update(id: string, changes: Partial<PaymentIntentsTable>): Promise<void> {
      await db.updateTable('payment_intents').set(changes).where('id', '=', id).execute();
    },
    /** Applies `changes` only while the order has still to be told (`order_sync` pending). */
    async updateWhileSyncPending(id: string, changes: Partial<PaymentIntentsTable>): Promise<void> {
      await db
        .updateTable('payment_intents')
        .set(changes)
        .where('id', '=', id)
        .where('order_sync', '=', 'pending')
        .execute();
    },
    /** Succeeded intents whose order has not heard of them and whose next try is due. */
    async syncDue(now: string, limit: number): Promise<string[]> {
      const rows = await db
        .selectFrom('payment_intents')
        .select('id')
        .where('order_sync', '=', 'pending')
        .where('order_sync_next_at', '<=', now)
        .orderBy('order_sync_next_at')
        .limit(limit)
        .execute();
      return rows.map((row) => row.id);
    },
  };
}
