/**
 * Product queries, each bounded by the page it returns rather than the table it reads:
 *
 * - Lists walk an index (the primary key, or the composite indexes ending in `id` for
 *   category and/or stock). A deep offset page seeks: the offset is skipped inside the index
 *   (`id >= (select id … offset n limit 1)`, an index-only walk), then one page of rows is read.
 * - Totals come from `product_counts` (kept by triggers in every write's transaction), never
 *   from counting the filter's rows.
 * - Search goes through the full-text index (FTS5 / tsvector + GIN), which also holds the
 *   category (and on PostgreSQL the stock) of each product; SQLite tests the stock on the row and
 *   reads the name tier from an index of names alone (009_search_names). It ranks in tiers the index answers in order (every word
 *   in the name first, then the other matches; newest first within a tier), so a page reads only
 *   its own matches (offset + limit + 1), never every match. Its total is exact when the page
 *   reached the last match, and otherwise an estimate (`exact: false`) read without counting.
 */
import { type Executor, type SqlDialect, sql } from '@portico/store/sql';
import type { RawBuilder, SelectQueryBuilder } from 'kysely';
import type { CatalogDatabase, ProductsTable } from './schema.ts';
import {
  fts5Query,
  type IndexedFilter,
  type SearchTerm,
  type SearchTier,
  searchTerms,
  tsQuery,
} from './search-terms.ts';

export interface ProductFilter {
  categoryId?: string;
  categoryIds?: readonly string[];
  inStock?: boolean;
  q?: string;
}

/** A list's total: exact, or (for a search that did not read to its last match) an estimate. */
export interface Total {
  value: number;
  exact: boolean;
}

export type ProductChanges = Partial<
  Pick<ProductsTable, 'name' | 'description' | 'price_minor' | 'category_id' | 'in_stock' | 'updated_at'>
>;

/** How deep offset pages of a search go: a page reads its offset's matches, up to this many. */
export const SEARCH_DEPTH = 1000;

/**
 * How many of the newest matches an estimate reads: up to this many, and the total is exact;
 * more, and their density among the newest rows (SQLite) or the planner's statistics
 * (PostgreSQL) estimate it.
 */
const ESTIMATE_SAMPLE = 100;

/** PostgreSQL: how many of a category's rows, in id order, a search within it tests before asking GIN. */
const CATEGORY_WALK = 1000;

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
    // With `q` only on PostgreSQL: SQLite's searches read FTS5 in rowid order (search, cursorSearch).
    if (filter.q !== undefined) {
      const terms = searchTerms(filter.q);
      if (terms.length === 0) return query.where(sql<boolean>`1 = 0`);
      query = query.where(sql<boolean>`search @@ ${tsQuery(terms)!}::tsquery`);
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
   * SQLite: the FTS5 rowids matching `filter` and `terms` in `tier`, in rowid order from `bound`,
   * up to `limit`. The name tier reads the index of names (009_search_names), the other the main
   * index. The category is a tag inside the index; the stock is tested on the row (`products` by
   * its `seq`) for each match the words and category leave. A stock tag is in most rows (`s1` in
   * 80% of them) and FTS5 steps through every posting of each phrase between two matches, so as
   * a tag it cost the read of most of the table's stock postings (0006).
   */
  async function ftsRowids(
    filter: ProductFilter,
    terms: SearchTerm[],
    tier: SearchTier,
    read: { limit: number; desc: boolean; bound?: RawBuilder<unknown> },
  ): Promise<number[]> {
    const { categoryIds, inStock } = indexed(filter);
    const match = fts5Query(terms, { categoryIds }, tier);
    if (match === undefined) return [];
    const index = sql.table(tier === 'name' ? 'products_name_search' : 'products_search');
    const stock =
      inStock === undefined
        ? sql``
        : sql`join products p on p.seq = ${index}.rowid and p.in_stock = ${Number(inStock)}`;
    const bound = read.bound ? sql`and ${index}.rowid ${read.bound}` : sql``;
    const { rows } = await sql<{ key: number }>`select ${index}.rowid as key from ${index} ${stock}
      where ${index} match ${match} ${bound}
      order by ${index}.rowid ${read.desc ? sql`desc` : sql`asc`} limit ${read.limit}`.execute(db);
    return rows.map((r) => r.key);
  }

  /**
   * The keys of the newest `limit` matches of a tier, read from the full-text index newest first
   * so it stops at `limit` (FTS5: rowid order; PostgreSQL: the primary key walked backwards, each
   * row tested, or for rare words GIN's matches sorted).
   */
  async function newest(
    filter: ProductFilter,
    terms: SearchTerm[],
    tier: SearchTier,
    limit: number,
  ): Promise<Array<string | number>> {
    if (limit <= 0) return [];
    if (sqlite) return ftsRowids(filter, terms, tier, { limit, desc: true });
    const match = tsQuery(terms, indexed(filter), tier);
    if (match === undefined) return [];
    const recent = await categoryWalk(filter, terms, tier, limit, { desc: true });
    if (recent !== undefined) return recent;
    const { rows } = await sql<{ key: string }>`select id as key from products
      where search @@ ${match}::tsquery order by id desc limit ${limit}`.execute(db);
    return rows.map((r) => r.key);
  }

  /**
   * PostgreSQL, a search within one category: the category's next CATEGORY_WALK rows in `order`
   * (its index walked from `past`, or from the newest), each tested; the keys if `limit` of them
   * match, otherwise undefined (the GIN index answers instead). GIN cannot stop early at a prefix:
   * `'cable':*` collects every row of every word it starts before the category narrows them
   * (0006). The walk finds a page only for words in one in CATEGORY_WALK / limit of the
   * category's rows or more, so only pages of up to CATEGORY_WALK / 20 matches try it.
   */
  async function categoryWalk(
    filter: ProductFilter,
    terms: SearchTerm[],
    tier: SearchTier,
    limit: number,
    order: { desc: boolean; past?: string },
  ): Promise<string[] | undefined> {
    const { categoryIds, inStock } = indexed(filter);
    if (categoryIds?.length !== 1 || terms.length === 0 || limit * 20 > CATEGORY_WALK) return undefined;
    const stock = inStock === undefined ? sql`` : sql`and in_stock = ${inStock}`;
    const past =
      order.past === undefined
        ? sql``
        : order.desc
          ? sql`and id < ${order.past}`
          : sql`and id > ${order.past}`;
    const direction = order.desc ? sql`desc` : sql`asc`;
    const { rows } = await sql<{ key: string }>`select id as key from (select id, search from products
        where category_id = ${categoryIds[0]} ${stock} ${past} order by id ${direction}
        limit ${CATEGORY_WALK}) w
      where search @@ ${tsQuery(terms, {}, tier)}::tsquery order by id ${direction} limit ${limit}`.execute(
      db,
    );
    return rows.length === limit ? rows.map((r) => r.key) : undefined;
  }

  /**
   * A cursor page of a search on SQLite, in id order, reading only its own matches: FTS5 walks
   * its doclists in rowid order from the cursor's row (rowid order is id order, see 0006) and
   * stops at `limit`. The bound is the first row past the cursor, so a deleted cursor row works.
   */
  async function cursorSearch(
    filter: ProductFilter,
    limit: number,
    cursor: { after?: string; before?: string },
  ): Promise<ProductsTable[]> {
    const terms = searchTerms(filter.q ?? '');
    if (terms.length === 0) return [];
    const bound =
      cursor.before !== undefined
        ? sql`<= (select seq from products where id < ${cursor.before} order by id desc limit 1)`
        : cursor.after !== undefined
          ? sql`>= (select seq from products where id > ${cursor.after} order by id limit 1)`
          : sql``;
    const keys = await ftsRowids(filter, terms, 'all', { limit, desc: cursor.before !== undefined, bound });
    return (await byKeys(keys)).sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  /**
   * How many products a search matches, without counting them: exact up to ESTIMATE_SAMPLE,
   * otherwise estimated, never below `atLeast`. SQLite: the newest ESTIMATE_SAMPLE + 1 matches span
   * some of the newest rowids; their density there, times the rowids in use. PostgreSQL: the
   * planner's row estimate (the tsvector statistics `analyze` keeps; 006 keeps more of them),
   * after counting the newest ESTIMATE_SAMPLE + 1 unless `sampled` is false (an offset page that
   * already knows there are more than `atLeast`: the count would walk the table again).
   */
  async function estimate(
    filter: ProductFilter,
    terms: SearchTerm[],
    atLeast: number,
    sampled = true,
  ): Promise<Total> {
    const estimated = (value: number) => ({
      value: Math.max(Math.round(value), atLeast, sampled ? ESTIMATE_SAMPLE + 1 : 0),
      exact: false,
    });
    if (sqlite) {
      const sample = await ftsRowids(filter, terms, 'all', { limit: ESTIMATE_SAMPLE + 1, desc: true });
      const n = sample.length;
      if (n <= ESTIMATE_SAMPLE) return { value: n, exact: true };
      const { rows } = await sql<{ newest: number }>`select max(seq) as newest from products`.execute(db);
      const oldest = sample.at(-1)!;
      const newest = rows[0]!.newest;
      return estimated((n * newest) / (newest - oldest + 1));
    }
    const match = tsQuery(terms, indexed(filter));
    if (match === undefined) return { value: 0, exact: true };
    if (!sampled) return estimated(await plannedRows(match));
    const n = (await newest(filter, terms, 'all', ESTIMATE_SAMPLE + 1)).length;
    if (n <= ESTIMATE_SAMPLE) return { value: n, exact: true };
    return estimated(await plannedRows(match));
  }

  /** PostgreSQL's estimate of a search's matches, from the plan alone (nothing is read). */
  async function plannedRows(match: string): Promise<number> {
    const { rows } = await sql<{
      'QUERY PLAN': Array<{ Plan: { 'Plan Rows': number } }>;
    }>`explain (format json)
      select 1 from products where search @@ ${match}::tsquery`.execute(db);
    return rows[0]!['QUERY PLAN'][0]!.Plan['Plan Rows'];
  }

  async function byKeys(keys: ReadonlyArray<string | number>): Promise<ProductsTable[]> {
    if (keys.length === 0) return [];
    const column = sqlite ? 'seq' : 'id';
    const rows = (
      await sql<ProductsTable & { key: string | number }>`select ${sql.join(COLUMNS.map((c) => sql.ref(c)))},
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
    async byId(id: string): Promise<ProductsTable | undefined> {
      return db.selectFrom('products').select(COLUMNS).where('id', '=', id).executeTakeFirst();
    },
    async byIds(ids: readonly string[]): Promise<ProductsTable[]> {
      if (ids.length === 0) return [];
      return db.selectFrom('products').select(COLUMNS).where('id', 'in', ids).execute();
    },
    /** An offset page: in id order, or with `q` in rank order (best first). */
    async page(filter: ProductFilter, limit: number, offset: number): Promise<ProductsTable[]> {
      if (filter.q !== undefined) return (await this.search(filter, limit, offset)).rows;
      let query = filtered(filter).select(COLUMNS).orderBy('id').limit(limit);
      // Skip `offset` entries in the index, then read one page of rows from there.
      if (offset > 0)
        query = query.where('id', '>=', filtered(filter).select('id').orderBy('id').limit(1).offset(offset));
      return query.execute();
    },
    /**
     * A ranked page of a search, its total and whether a next page exists: the name tier newest
     * first, then the rest newest first, reading offset + limit + 1 matches of the name tier and,
     * only when it ends before that, up to twice as many of all matches. Offset pages stop at
     * SEARCH_DEPTH.
     */
    async search(
      filter: ProductFilter,
      limit: number,
      offset: number,
    ): Promise<{ rows: ProductsTable[]; total: Total; hasNext: boolean }> {
      const terms = searchTerms(filter.q ?? '');
      if (terms.length === 0) return { rows: [], total: { value: 0, exact: true }, hasNext: false };
      const end = Math.min(offset + limit, SEARCH_DEPTH);
      const keys = await newest(filter, terms, 'name', end + 1);
      if (keys.length <= end) {
        // The name tier ended: the rest are the other matches, newest first. Among the newest
        // end + 1 + (name tier) matches at most that many are in the name tier.
        const named = new Set(keys);
        const all = await newest(filter, terms, 'all', end + 1 + keys.length);
        keys.push(...all.filter((key) => !named.has(key)));
      }
      const more = keys.length > end;
      const total = more
        ? await estimate(filter, terms, end + 1, false)
        : { value: keys.length, exact: true };
      const rows = offset < end ? await byKeys(keys.slice(offset, end)) : [];
      return { rows, total, hasNext: more && end < SEARCH_DEPTH };
    },
    async pageWithTotal(
      filter: ProductFilter,
      limit: number,
      offset: number,
    ): Promise<{ rows: ProductsTable[]; total: Total; hasNext: boolean }> {
      if (filter.q !== undefined) return this.search(filter, limit, offset);
      const [rows, total] = await Promise.all([this.page(filter, limit, offset), this.total(filter)]);
      return { rows, total, hasNext: offset + rows.length < total.value };
    },
    /** Keyset page: rows after `afterId` (or before it, walking backwards), in id order. */
    async pageAfter(filter: ProductFilter, limit: number, afterId?: string): Promise<ProductsTable[]> {
      if (sqlite && filter.q !== undefined) return cursorSearch(filter, limit, { after: afterId });
      if (filter.q !== undefined) {
        const keys = await categoryWalk(filter, searchTerms(filter.q), 'all', limit, {
          desc: false,
          past: afterId,
        });
        if (keys) return byKeys(keys);
      }
      let query = filtered(filter).select(COLUMNS);
      if (afterId !== undefined) query = query.where('id', '>', afterId);
      return query.orderBy('id').limit(limit).execute();
    },
    async pageBefore(filter: ProductFilter, limit: number, beforeId: string): Promise<ProductsTable[]> {
      if (sqlite && filter.q !== undefined) return cursorSearch(filter, limit, { before: beforeId });
      if (filter.q !== undefined) {
        const keys = await categoryWalk(filter, searchTerms(filter.q), 'all', limit, {
          desc: true,
          past: beforeId,
        });
        if (keys) return byKeys(keys.reverse());
      }
      const rows = await filtered(filter)
        .select(COLUMNS)
        .where('id', '<', beforeId)
        .orderBy('id', 'desc')
        .limit(limit)
        .execute();
      return rows.reverse();
    },
    /** Exact from the counts table; a search's is exact up to ESTIMATE_SAMPLE, else an estimate. */
    async total(filter: ProductFilter): Promise<Total> {
      if (filter.q === undefined) return { value: await countedTotal(filter), exact: true };
      const terms = searchTerms(filter.q);
      return terms.length === 0 ? { value: 0, exact: true } : estimate(filter, terms, 0);
    },
    async insert(row: ProductsTable): Promise<void> {
      await db.insertInto('products').values(row).execute();
    },
    /** Applies `changes` only if the row is still at `version`; returns the new row or undefined. */
    async update(id: string, version: number, changes: ProductChanges): Promise<ProductsTable | undefined> {
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
