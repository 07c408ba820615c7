/**
 * Product queries, each bounded by the page it returns rather than the table it reads:
 *
 * - Lists walk an index (the primary key, or the composite indexes ending in `id` for
 *   category and/or stock). A deep offset page seeks: the offset is skipped inside the index
 *   (`id >= (select id … offset n limit 1)`, an index-only walk), then one page of rows is read.
 * - Totals come from `product_counts` (kept by triggers in every write's transaction), never
 *   from counting the filter's rows.
 * - Search goes through the full-text index (FTS5 / tsvector + GIN), which also holds the
 *   category and stock of each product, and ranks the SEARCH_WINDOW most recently added
 *   matches; a query matching more says so (`exact: false`).
 */
import { type Executor, type SqlDialect, sql } from '@portico/store/sql';
import type { SelectQueryBuilder } from 'kysely';
import type { CatalogDatabase, ProductsTable } from './schema.ts';
import { type Candidate, rank } from './search-rank.ts';
import { fts5Query, type IndexedFilter, type SearchTerm, searchTerms, tsQuery } from './search-terms.ts';

export type ProductRow = ProductsTable;

export interface ProductFilter {
  categoryId?: string;
  categoryIds?: readonly string[];
  inStock?: boolean;
  q?: string;
}

/** A list's total: exact, or (for a search matching more than SEARCH_WINDOW) a lower bound. */
export interface Total {
  value: number;
  exact: boolean;
}

export type ProductChanges = Partial<
  Pick<ProductRow, 'name' | 'description' | 'price_minor' | 'category_id' | 'in_stock' | 'updated_at'>
>;

/** How many of the newest matches a search ranks: its cost stays flat however many match. */
export const SEARCH_WINDOW = 1000;

const COLUMNS = [
  'id',
  'name',
  'description',
  'price_minor',
  'currency',
  'category_id',
  'in_stock',
  'version',
  'created_at',
  'updated_at',
] as const;

export function productsTable(db: Executor<CatalogDatabase>, dialect: SqlDialect) {
  const sqlite = dialect === 'sqlite';

  function filtered(filter: ProductFilter) {
    let query = db.selectFrom('products') as SelectQueryBuilder<CatalogDatabase, 'products', object>;
    if (filter.categoryId !== undefined) query = query.where('category_id', '=', filter.categoryId);
    if (filter.categoryIds !== undefined)
      query = query.where('category_id', 'in', filter.categoryIds.length ? filter.categoryIds : ['']);
    if (filter.inStock !== undefined) query = query.where('in_stock', '=', filter.inStock);
    if (filter.q !== undefined) {
      const terms = searchTerms(filter.q);
      if (terms.length === 0) return query.where(sql<boolean>`1 = 0`);
      query = query.where(
        sqlite
          ? sql<boolean>`seq in (select rowid from products_search where products_search match ${fts5Query(terms)!})`
          : sql<boolean>`search @@ ${tsQuery(terms)!}::tsquery`,
      );
    }
    return query;
  }

  /** The list filters, as a search answers them inside the full-text index. */
  function indexed(filter: ProductFilter): IndexedFilter {
    let categoryIds = filter.categoryIds;
    if (filter.categoryId !== undefined)
      categoryIds = !categoryIds || categoryIds.includes(filter.categoryId) ? [filter.categoryId] : [];
    return { categoryIds, inStock: filter.inStock };
  }

  /**
   * The newest `limit` matches, read from the full-text index newest first so it stops at
   * `limit` (FTS5: rowid order; PostgreSQL: the primary key walked backwards, each row tested),
   * with the text the ranking reads. Nothing here is O(matches) once `limit` are found.
   */
  async function candidates(filter: ProductFilter, terms: SearchTerm[], limit: number): Promise<Candidate[]> {
    if (sqlite) {
      const match = fts5Query(terms, indexed(filter));
      if (match === undefined) return [];
      return (
        await sql<Candidate>`select p.seq as key, p.name, p.description
          from (select rowid from products_search where products_search match ${match}
            order by rowid desc limit ${limit}) m
          join products p on p.seq = m.rowid`.execute(db)
      ).rows;
    }
    const match = tsQuery(terms, indexed(filter));
    if (match === undefined) return [];
    return (
      await sql<Candidate>`select id as key, name, description from products
        where search @@ ${match}::tsquery
        order by id desc limit ${limit}`.execute(db)
    ).rows;
  }

  /** How many of the newest `limit` matches there are, without reading their rows. */
  async function windowSize(filter: ProductFilter, terms: SearchTerm[], limit: number): Promise<number> {
    const match = sqlite ? fts5Query(terms, indexed(filter)) : tsQuery(terms, indexed(filter));
    if (match === undefined) return 0;
    const window = sqlite
      ? sql`select rowid from products_search where products_search match ${match} order by rowid desc limit ${limit}`
      : sql`select 1 from products where search @@ ${match}::tsquery order by id desc limit ${limit}`;
    const { rows } = await sql<{ n: number | string }>`select count(*) as n from (${window}) w`.execute(db);
    return Number(rows[0]?.n ?? 0);
  }

  async function byKeys(keys: ReadonlyArray<string | number>): Promise<ProductRow[]> {
    if (keys.length === 0) return [];
    const column = sqlite ? 'seq' : 'id';
    const rows = (
      await sql<ProductRow & { key: string | number }>`select ${sql.join(COLUMNS.map((c) => sql.ref(c)))},
        ${sql.ref(column)} as key from products where ${sql.ref(column)} in (${sql.join(keys)})`.execute(db)
    ).rows;
    const byKey = new Map(rows.map((row) => [row.key, row]));
    return keys.flatMap((key) => {
      const row = byKey.get(key);
      if (!row) return [];
      const { key: _, ...product } = row;
      return [product];
    });
  }

  async function countedTotal(filter: ProductFilter): Promise<number> {
    let query = db
      .selectFrom('product_counts')
      .select((eb) => eb.fn.sum<number | string | null>('n').as('n'));
    if (filter.categoryId !== undefined) query = query.where('category_id', '=', filter.categoryId);
    if (filter.categoryIds !== undefined)
      query = query.where('category_id', 'in', filter.categoryIds.length ? filter.categoryIds : ['']);
    if (filter.inStock !== undefined) query = query.where('in_stock', '=', filter.inStock);
    const row = await query.executeTakeFirstOrThrow();
    return Number(row.n ?? 0);
  }

  return {
    async byId(id: string): Promise<ProductRow | undefined> {
      return db.selectFrom('products').select(COLUMNS).where('id', '=', id).executeTakeFirst();
    },
    async byIds(ids: readonly string[]): Promise<ProductRow[]> {
      if (ids.length === 0) return [];
      return db.selectFrom('products').select(COLUMNS).where('id', 'in', ids).execute();
    },
    /** An offset page: in id order, or with `q` in rank order (best first). */
    async page(filter: ProductFilter, limit: number, offset: number): Promise<ProductRow[]> {
      if (filter.q !== undefined) return (await this.search(filter, limit, offset)).rows;
      let query = filtered(filter).select(COLUMNS).orderBy('id').limit(limit);
      // Skip `offset` entries in the index, then read one page of rows from there.
      if (offset > 0)
        query = query.where('id', '>=', filtered(filter).select('id').orderBy('id').limit(1).offset(offset));
      return query.execute();
    },
    /** A ranked page of a search and its total. */
    async search(
      filter: ProductFilter,
      limit: number,
      offset: number,
    ): Promise<{ rows: ProductRow[]; total: Total }> {
      const terms = searchTerms(filter.q ?? '');
      if (terms.length === 0) return { rows: [], total: { value: 0, exact: true } };
      const ranked = rank(await candidates(filter, terms, SEARCH_WINDOW + 1), terms);
      const total = { value: Math.min(ranked.length, SEARCH_WINDOW), exact: ranked.length <= SEARCH_WINDOW };
      const keys = ranked.slice(0, SEARCH_WINDOW).slice(offset, offset + limit);
      return { rows: await byKeys(keys.map((r) => r.key)), total };
    },
    async pageWithTotal(
      filter: ProductFilter,
      limit: number,
      offset: number,
    ): Promise<{ rows: ProductRow[]; total: Total }> {
      if (filter.q !== undefined) return this.search(filter, limit, offset);
      const [rows, total] = await Promise.all([this.page(filter, limit, offset), this.total(filter)]);
      return { rows, total };
    },
    /** Keyset page: rows after `afterId` (or before it, walking backwards), in id order. */
    async pageAfter(filter: ProductFilter, limit: number, afterId?: string): Promise<ProductRow[]> {
      let query = filtered(filter).select(COLUMNS);
      if (afterId !== undefined) query = query.where('id', '>', afterId);
      return query.orderBy('id').limit(limit).execute();
    },
    async pageBefore(filter: ProductFilter, limit: number, beforeId: string): Promise<ProductRow[]> {
      const rows = await filtered(filter)
        .select(COLUMNS)
        .where('id', '<', beforeId)
        .orderBy('id', 'desc')
        .limit(limit)
        .execute();
      return rows.reverse();
    },
    /** Exact from the counts table; a search's is exact up to SEARCH_WINDOW matches. */
    async total(filter: ProductFilter): Promise<Total> {
      if (filter.q === undefined) return { value: await countedTotal(filter), exact: true };
      const terms = searchTerms(filter.q);
      const n = terms.length === 0 ? 0 : await windowSize(filter, terms, SEARCH_WINDOW + 1);
      return { value: Math.min(n, SEARCH_WINDOW), exact: n <= SEARCH_WINDOW };
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
  };
}
