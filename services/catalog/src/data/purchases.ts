/** Purchases heard from the orders service: queries only; recommendations use them. */
import type { Executor, SqlDialect } from '@portico/store/sql';
import type { CatalogDatabase, PurchasesTable } from './schema.ts';

export interface PurchaseTotal {
  productId: string;
  categoryId: string | null;
  quantity: number;
}

export function purchasesTable(db: Executor<CatalogDatabase>, dialect: SqlDialect) {
  const no = dialect === 'postgres' ? false : 0;
  const yes = dialect === 'postgres' ? true : 1;
  return {
    /** An order placed: its lines, unless already known (a repeat, or a cancellation heard first). */
    async placed(rows: PurchasesTable[]): Promise<void> {
      if (rows.length === 0) return;
      await db
        .insertInto('purchases')
        .values(rows.map((row) => ({ ...row, cancelled: no })))
        .onConflict((oc) => oc.columns(['order_id', 'product_id']).doNothing())
        .execute();
    },
    /** An order cancelled: its lines kept, marked, whether its placement was heard or not. */
    async cancelled(rows: PurchasesTable[]): Promise<void> {
      if (rows.length === 0) return;
      await db
        .insertInto('purchases')
        .values(rows.map((row) => ({ ...row, cancelled: yes })))
        .onConflict((oc) => oc.columns(['order_id', 'product_id']).doUpdateSet({ cancelled: yes }))
        .execute();
    },
    /** Units one user bought per product (cancelled orders left out), most-bought first. */
    async byUser(userId: string, limit: number): Promise<PurchaseTotal[]> {
      const rows = await db
        .selectFrom('purchases')
        .select((eb) => ['product_id', 'category_id', eb.fn.sum<number | string>('quantity').as('units')])
        .where('user_id', '=', userId)
        .where('cancelled', '=', no)
        .groupBy(['product_id', 'category_id'])
        .orderBy('units', 'desc')
        .orderBy('product_id')
        .limit(limit)
        .execute();
      return rows.map((row) => ({
        productId: row.product_id,
        categoryId: row.category_id,
        quantity: Number(row.units),
      }));
    },
    /** Product ids by units bought across all customers (cancelled orders left out). */
    async popular(limit: number): Promise<string[]> {
      const rows = await db
        .selectFrom('purchases')
        .select((eb) => ['product_id', eb.fn.sum<number | string>('quantity').as('units')])
        .where('cancelled', '=', no)
        .groupBy('product_id')
        .orderBy('units', 'desc')
        .orderBy('product_id')
        .limit(limit)
        .execute();
      return rows.map((row) => row.product_id);
    },
  };
}
