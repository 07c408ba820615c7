/**
 * The catalog's product rules, shared by REST and GraphQL: one validation, one set
 * of error codes, one place that decides which fields a client may write. Writes
 * are optimistic: a row changes only at the version that was read, so concurrent
 * editors never silently overwrite each other when they send If-Match.
 */
import { type Database, isForeignKeyViolation, uuidv7 } from '@portico/store/sql';
import { categoriesTable } from '../data/categories.ts';
import { type ProductChanges, type ProductFilter, productsTable, type Total } from '../data/products.ts';
import type { CatalogDatabase, ProductsTable } from '../data/schema.ts';
import { errors } from '../errors.ts';
import { CURRENCY, parsePrice } from './money.ts';
import { type Cursor, type KeysetPage, keysetPage } from './pages.ts';
import { checkInput, checkPatch, type ProductInput, type ProductPatch } from './product-input.ts';

export interface Product {
  id: string;
  name: string;
  description: string;
  priceMinor: number;
  currency: string;
  categoryId: string;
  inStock: boolean;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export type { ProductInput, ProductPatch };

export type ProductEvent = { type: 'created' | 'updated' | 'deleted'; product: Product };

export type { Total };

export interface ListQuery extends ProductFilter {
  limit: number;
  offset?: number;
  /** Keyset pagination: the id to continue after (or before, with `backwards`). */
  after?: string;
  before?: string;
}

/** Called with the current product before a write; throws to refuse it (If-Match). */
export type Precondition = (current: Product) => void;

const WRITE_ATTEMPTS = 3;

export function toProduct(row: ProductsTable): Product {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    priceMinor: Number(row.price_minor),
    currency: row.currency,
    categoryId: row.category_id,
    inStock: Boolean(row.in_stock),
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export type ProductService = ReturnType<typeof createProductService>;

export function createProductService(database: Database<CatalogDatabase>) {
  const products = productsTable(database.db, database.dialect);
  const categories = categoriesTable(database.db);
  const listeners = new Set<(event: ProductEvent) => void>();

  function emit(type: ProductEvent['type'], product: Product) {
    for (const listener of listeners) listener({ type, product });
  }

  async function requireCategory(id: string) {
    if (!(await categories.byId(id))) {
      throw errors.UNKNOWN_CATEGORY(`Category with id ${id} does not exist`, {
        extensions: {
          errors: [
            { field: 'categoryId', code: 'UNKNOWN_CATEGORY', message: `Category ${id} does not exist` },
          ],
        },
      });
    }
  }

  async function mustGet(id: string): Promise<Product> {
    const row = await products.byId(id);
    if (!row) throw errors.PRODUCT_NOT_FOUND(`Product with id ${id} not found`);
    return toProduct(row);
  }

  /** Offset pages are in id order, or with `q` best match first; cursor pages are in id order. */
  async function list(query: ListQuery): Promise<Product[]> {
    const rows =
      query.before !== undefined
        ? await products.pageBefore(query, query.limit, query.before)
        : query.after !== undefined || query.offset === undefined
          ? await products.pageAfter(query, query.limit, query.after)
          : await products.page(query, query.limit, query.offset);
    return rows.map(toProduct);
  }

  /** Read, check, write at that version; on a lost race, read again (unless the caller pinned a version). */
  async function write(
    id: string,
    precondition: Precondition | undefined,
    change: (current: Product) => Promise<ProductChanges>,
  ) {
    for (let attempt = 1; ; attempt++) {
      const current = await mustGet(id);
      precondition?.(current);
      const changes = await change(current);
      let row: ProductsTable | undefined;
      try {
        row = await products.update(id, current.version, {
          ...changes,
          updated_at: new Date().toISOString(),
        });
      } catch (err) {
        if (isForeignKeyViolation(err))
          throw errors.UNKNOWN_CATEGORY(`Category with id ${changes.category_id} does not exist`);
        throw err;
      }
      if (row) {
        const product = toProduct(row);
        emit('updated', product);
        return product;
      }
      if (precondition || attempt >= WRITE_ATTEMPTS) {
        throw errors.VERSION_CONFLICT(
          'The product changed while this request was being applied; read it again and retry',
        );
      }
    }
  }

  return {
    subscribe(listener: (event: ProductEvent) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    get: mustGet,

    async find(id: string): Promise<Product | undefined> {
      const row = await products.byId(id);
      return row && toProduct(row);
    },

    async getMany(ids: readonly string[]): Promise<Product[]> {
      return (await products.byIds(ids)).map(toProduct);
    },

    async create(input: ProductInput): Promise<Product> {
      checkInput(input);
      const priceMinor = parsePrice(input.price);
      await requireCategory(input.categoryId);
      const now = new Date().toISOString();
      const row: ProductsTable = {
        id: uuidv7(),
        name: input.name.trim(),
        description: input.description,
        price_minor: priceMinor,
        currency: CURRENCY,
        category_id: input.categoryId,
        in_stock: input.inStock ?? true,
        version: 1,
        created_at: now,
        updated_at: now,
      };
      try {
        await products.insert(row);
      } catch (err) {
        if (isForeignKeyViolation(err))
          throw errors.UNKNOWN_CATEGORY(`Category with id ${input.categoryId} does not exist`);
        throw err;
      }
      const product = toProduct(row);
      emit('created', product);
      return product;
    },

    /** Every writable field is replaced; `inStock` left out means in stock. */
    async replace(id: string, input: ProductInput, precondition?: Precondition): Promise<Product> {
      checkInput(input);
      const priceMinor = parsePrice(input.price);
      return write(id, precondition, async (current) => {
        if (input.categoryId !== current.categoryId) await requireCategory(input.categoryId);
        return {
          name: input.name.trim(),
          description: input.description,
          price_minor: priceMinor,
          category_id: input.categoryId,
          in_stock: input.inStock ?? true,
        };
      });
    },

    /** Only the fields present change. */
    async patch(id: string, patch: ProductPatch, precondition?: Precondition): Promise<Product> {
      checkPatch(patch);
      const priceMinor = patch.price === undefined ? undefined : parsePrice(patch.price);
      return write(id, precondition, async (current) => {
        const changes: ProductChanges = {};
        if (patch.name !== undefined) changes.name = patch.name.trim();
        if (patch.description !== undefined) changes.description = patch.description;
        if (priceMinor !== undefined) changes.price_minor = priceMinor;
        if (patch.inStock !== undefined) changes.in_stock = patch.inStock;
        if (patch.categoryId !== undefined && patch.categoryId !== current.categoryId) {
          await requireCategory(patch.categoryId);
          changes.category_id = patch.categoryId;
        }
        return changes;
      });
    },

    async remove(id: string, precondition?: Precondition): Promise<void> {
      const current = await mustGet(id);
      precondition?.(current);
      const deleted = await products.delete(id, precondition ? current.version : undefined);
      if (!deleted) {
        if (precondition)
          throw errors.VERSION_CONFLICT('The product changed while this request was being applied');
        throw errors.PRODUCT_NOT_FOUND(`Product with id ${id} not found`);
      }
      emit('deleted', current);
    },

    list,

    /**
     * A keyset page of `size` from `position` (see `list`), with the filter's total (exact, kept
     * with every write, for category and stock; for a search exact up to a hundred matches and an
     * estimate past that). One row more is read than the page holds, to know whether the walk goes on.
     */
    async keysetPage(
      filter: ProductFilter,
      size: number,
      position: Cursor,
    ): Promise<KeysetPage<Product> & { total: Total }> {
      const [rows, total] = await Promise.all([
        size === 0 ? Promise.resolve([]) : list({ ...filter, limit: size + 1, ...position }),
        products.total(filter),
      ]);
      return { ...keysetPage(rows, size, position), total };
    },

    /**
     * An offset page with the filter's total (see `total`) and whether a next page exists (a
     * search's total may be an estimate, and its pages stop at SEARCH_DEPTH).
     */
    async page(
      filter: ProductFilter,
      limit: number,
      offset: number,
    ): Promise<{ items: Product[]; total: Total; hasNext: boolean }> {
      const { rows, total, hasNext } = await products.pageWithTotal(filter, limit, offset);
      return { items: rows.map(toProduct), total, hasNext };
    },

    async count(filter: ProductFilter): Promise<number> {
      return (await products.total(filter)).value;
    },
  };
}
