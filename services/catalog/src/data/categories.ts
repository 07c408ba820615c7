import type { Executor } from '@portico/store/sql';
import type { CatalogDatabase, CategoriesTable } from './schema.ts';

export function categoriesTable(db: Executor<CatalogDatabase>) {
  return {
    async byId(id: string): Promise<CategoriesTable | undefined> {
      return db.selectFrom('categories').selectAll().where('id', '=', id).executeTakeFirst();
    },
    async byIds(ids: readonly string[]): Promise<CategoriesTable[]> {
      if (ids.length === 0) return [];
      return db.selectFrom('categories').selectAll().where('id', 'in', ids).execute();
    },
    async list(limit: number, offset: number): Promise<CategoriesTable[]> {
      return db
        .selectFrom('categories')
        .selectAll()
        .orderBy('name')
        .orderBy('id')
        .limit(limit)
        .offset(offset)
        .execute();
    },
    async count(): Promise<number> {
      const row = await db
        .selectFrom('categories')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async insert(row: CategoriesTable): Promise<void> {
      await db.insertInto('categories').values(row).execute();
    },
  };
}
