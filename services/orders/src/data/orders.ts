/** Orders and their items: queries only; the state machine is in domain/orders.ts. */
import type { Executor } from '@portico/store/sql';
import type { OrderItemsTable, OrdersDatabase, OrdersTable } from './schema.ts';

export type OrderStatus = OrdersTable['status'];

export interface OrderFilter {
  userId?: string;
  status?: OrderStatus;
}

export function ordersTable(db: Executor<OrdersDatabase>) {
  function filtered(filter: OrderFilter) {
    let query = db.selectFrom('orders');
    if (filter.userId !== undefined) query = query.where('user_id', '=', filter.userId);
    if (filter.status !== undefined) query = query.where('status', '=', filter.status);
    return query;
  }

  return {
    async byId(id: string): Promise<OrdersTable | undefined> {
      return db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirst();
    },
    /** Items of these orders, in order and position. */
    async items(orderIds: readonly string[]): Promise<OrderItemsTable[]> {
      if (orderIds.length === 0) return [];
      return db
        .selectFrom('order_items')
        .selectAll()
        .where('order_id', 'in', orderIds)
        .orderBy('order_id')
        .orderBy('position')
        .execute();
    },
    /** Newest first. */
    async list(filter: OrderFilter, limit: number, offset: number): Promise<OrdersTable[]> {
      return filtered(filter)
        .selectAll()
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit)
        .offset(offset)
        .execute();
    },
    async count(filter: OrderFilter): Promise<number> {
      const row = await filtered(filter)
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async insert(order: OrdersTable, items: OrderItemsTable[]): Promise<void> {
      await db.insertInto('orders').values(order).execute();
      await db.insertInto('order_items').values(items).execute();
    },
    /** Applies `changes` only while the order is still `from` (and, for `unpaid`, has no payment). */
    async transition(
      id: string,
      from: OrderStatus,
      changes: Partial<OrdersTable>,
      options: { unpaid?: boolean } = {},
    ): Promise<boolean> {
      let query = db.updateTable('orders').set(changes).where('id', '=', id).where('status', '=', from);
      if (options.unpaid) query = query.where('payment_id', 'is', null);
      const result = await query.executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
  };
}
