/**
 * Product queries. Every list walks an index: filters by category and/or stock use
 * the composite indexes ending in `id`, so offset pages, keyset (cursor) pages and
 * counts never scan the whole table. Search (`q`) is the exception: a substring scan.
 */
import { type Executor, type SqlDialect, sql } from '@portico/store/sql';
import type { SelectQueryBuilder } from 'kysely';
import type { CatalogDatabase, ProductsTable } from './schema.ts';

export type ProductRow = ProductsTable;

export interface ProductFilter {
  categoryId?: string;
  categoryIds?: readonly string[];
  inStock?: boolean;
  q?: string;
}

export type ProductChanges = Partial<
  Pick<ProductRow, 'name' | 'description' | 'price_minor' | 'category_id' | 'in_stock' | 'updated_at'>
>;

export function productsTable(db: Executor<CatalogDatabase>, dialect: SqlDialect) {
  function filtered(filter: ProductFilter) {
    let query = db.selectFrom('products') as SelectQueryBuilder<CatalogDatabase, 'products', object>;
    if (filter.categoryId !== undefined) query = query.where('category_id', '=', filter.categoryId);
    if (filter.categoryIds !== undefined)
      query = query.where('category_id', 'in', filter.categoryIds.length ? filter.categoryIds : ['']);
    if (filter.inStock !== undefined) query = query.where('in_stock', '=', filter.inStock);
    if (filter.q) {
      const pattern = `%${filter.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      const op = dialect === 'postgres' ? 'ilike' : 'like';
      query = query.where((eb) =>
        eb.or([eb(eb.ref('name'), op, eb.val(pattern)), eb(eb.ref('description'), op, eb.val(pattern))]),
      );
    }
    return query;
  }

  return {
    async byId(id: string): Promise<ProductRow | undefined> {
      return db.selectFrom('products').selectAll().where('id', '=', id).executeTakeFirst();
    },
    async byIds(ids: readonly string[]): Promise<ProductRow[]> {
      if (ids.length === 0) return [];
      return db.selectFrom('products').selectAll().where('id', 'in', ids).execute();
    },
    async page(filter: ProductFilter, limit: number, offset: number): Promise<ProductRow[]> {
      return filtered(filter).selectAll().orderBy('id').limit(limit).offset(offset).execute();
    },
    /**
     * An offset page and the filter's total. PostgreSQL: one query (the window count is taken
     * before LIMIT), since a round trip costs more than the count. SQLite: two, since it runs
     * in process and counting on the index beats materialising the window (measured).
     */
    async pageWithTotal(
      filter: ProductFilter,
      limit: number,
      offset: number,
    ): Promise<{ rows: ProductRow[]; total: number }> {
      if (dialect === 'sqlite') {
        const rows = await this.page(filter, limit, offset);
        return { rows, total: await this.count(filter) };
      }
      const rows = await filtered(filter)
        .selectAll()
        .select(sql<number>`count(*) over ()`.as('total_count'))
        .orderBy('id')
        .limit(limit)
        .offset(offset)
        .execute();
      if (rows.length > 0) return { rows, total: Number(rows[0]!.total_count) };
      // Past the last page there is no row to carry the count.
      return { rows, total: offset === 0 ? 0 : await this.count(filter) };
    },
    /** Keyset page: rows after `afterId` (or before it, walking backwards), in id order. */
    async pageAfter(filter: ProductFilter, limit: number, afterId?: string): Promise<ProductRow[]> {
      let query = filtered(filter).selectAll();
      if (afterId !== undefined) query = query.where('id', '>', afterId);
      return query.orderBy('id').limit(limit).execute();
    },
    async pageBefore(filter: ProductFilter, limit: number, beforeId: string): Promise<ProductRow[]> {
      const rows = await filtered(filter)
        .selectAll()
        .where('id', '<', beforeId)
        .orderBy('id', 'desc')
        .limit(limit)
        .execute();
      return rows.reverse();
    },
    async count(filter: ProductFilter): Promise<number> {
      const row = await filtered(filter)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async insert(row: ProductRow): Promise<void> {
      await db.insertInto('products').values(row).execute();
    },
    /** Applies `changes` only if the row is still at `version`; returns the new row or undefined. */
    async update(id: string, version: number, changes: ProductChanges): Promise<ProductRow | undefined> {
      const result = await db
        .updateTable('products')
        .set({ ...changes, version: version + 1 })
        .where('id', '=', id)
        .where('version', '=', version)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) return undefined;
      return this.byId(id);
    },
    async delete(id: string, version?: number): Promise<boolean> {
      let query = db.deleteFrom('products').where('id', '=', id);
      if (version !== undefined) query = query.where('version', '=', version);
      const result = await query.executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    async countInCategory(categoryId: string): Promise<number> {
      return this.count({ categoryId });
    },
  };
}
