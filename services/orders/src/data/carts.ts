/** The carts and their items: queries only; the rules are in domain/carts.ts. */
import type { Executor } from '@portico/store/sql';
import type { CartItemsTable, OrdersDatabase } from './schema.ts';

export function cartsTable(db: Executor<OrdersDatabase>) {
  return {
    async head(userId: string): Promise<{ version: number; updated_at: string } | undefined> {
      return db
        .selectFrom('carts')
        .select(['version', 'updated_at'])
        .where('user_id', '=', userId)
        .executeTakeFirst();
    },
    async items(userId: string): Promise<CartItemsTable[]> {
      return db
        .selectFrom('cart_items')
        .selectAll()
        .where('user_id', '=', userId)
        .orderBy('added_at')
        .orderBy('id')
        .execute();
    },
    /** Takes the cart row (creating it on first use) and bumps its version: first in a transaction. */
    async touch(userId: string, now: string): Promise<void> {
      await db
        .insertInto('carts')
        .values({ user_id: userId, version: 0, updated_at: now })
        .onConflict((oc) => oc.column('user_id').doNothing())
        .execute();
      await db
        .updateTable('carts')
        .set((eb) => ({ version: eb('version', '+', 1), updated_at: now }))
        .where('user_id', '=', userId)
        .execute();
    },
    /** Bumps the version only if it is still `version`: false when the cart changed meanwhile. */
    async claim(userId: string, version: number, now: string): Promise<boolean> {
      const result = await db
        .updateTable('carts')
        .set((eb) => ({ version: eb('version', '+', 1), updated_at: now }))
        .where('user_id', '=', userId)
        .where('version', '=', version)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    async insertItem(row: CartItemsTable): Promise<CartItemsTable> {
      return db.insertInto('cart_items').values(row).returningAll().executeTakeFirstOrThrow();
    },
    async updateItem(
      userId: string,
      id: string,
      changes: Partial<Pick<CartItemsTable, 'quantity' | 'name' | 'unit_price_minor'>>,
    ): Promise<CartItemsTable | undefined> {
      return db
        .updateTable('cart_items')
        .set(changes)
        .where('id', '=', id)
        .where('user_id', '=', userId)
        .returningAll()
        .executeTakeFirst();
    },
    async deleteItem(userId: string, id: string): Promise<boolean> {
      const result = await db
        .deleteFrom('cart_items')
        .where('id', '=', id)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
    async empty(userId: string): Promise<void> {
      await db.deleteFrom('cart_items').where('user_id', '=', userId).execute();
    },
  };
}
