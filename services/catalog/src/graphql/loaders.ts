/**
 * Per-operation batching: every `category` of a list of products is one query, and every
 * `products` of a list of categories is one query per page shape (window function, so
 * each category still gets its own first/offset). Results are cached for the operation only.
 */
import type { Database } from '@portico/store/sql';
import { sql } from '@portico/store/sql';
import DataLoader from 'dataloader';
import type { CatalogDatabase, ProductsTable } from '../data/schema.ts';
import type { Category, CategoryService } from '../domain/categories.ts';
import { type Product, toProduct } from '../domain/products.ts';

export interface Loaders {
  category: DataLoader<string, Category | null>;
  /** Key: `${categoryId}\n${first}\n${offset}`. */
  categoryProducts: DataLoader<string, Product[]>;
}

export function categoryProductsKey(categoryId: string, first: number, offset: number): string {
  return `${categoryId}\n${first}\n${offset}`;
}

export function createLoaders(deps: {
  database: Database<CatalogDatabase>;
  categories: CategoryService;
}): Loaders {
  return {
    category: new DataLoader(async (ids) => {
      const found = new Map((await deps.categories.getMany(ids)).map((c) => [c.id, c]));
      return ids.map((id) => found.get(id) ?? null);
    }),
    categoryProducts: new DataLoader(async (keys) => {
      const groups = new Map<string, { first: number; offset: number; ids: string[] }>();
      for (const key of keys) {
        const [id, first, offset] = key.split('\n') as [string, string, string];
        const shape = `${first}\n${offset}`;
        let group = groups.get(shape);
        if (!group) {
          group = { first: Number(first), offset: Number(offset), ids: [] };
          groups.set(shape, group);
        }
        group.ids.push(id);
      }
      const byKey = new Map<string, Product[]>();
      for (const { first, offset, ids } of groups.values()) {
        for (const id of ids) byKey.set(categoryProductsKey(id, first, offset), []);
        if (first === 0) continue;
        const { rows } = await sql<ProductsTable>`
          select * from (
            select p.*, row_number() over (partition by p.category_id order by p.id) as rn
            from products p where p.category_id in (${sql.join([...new Set(ids)])})
          ) ranked
          where rn > ${offset} and rn <= ${offset + first}
          order by category_id, id`.execute(deps.database.db);
        for (const row of rows)
          byKey.get(categoryProductsKey(row.category_id, first, offset))!.push(toProduct(row));
      }
      return keys.map((key) => byKey.get(key) ?? []);
    }),
  };
}
