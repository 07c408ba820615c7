import { type Database, isUniqueViolation, uuidv7 } from '@portico/store/sql';
import { categoriesTable } from '../data/categories.ts';
import type { CatalogDatabase, CategoriesTable } from '../data/schema.ts';
import { errors } from '../errors.ts';

export interface Category {
  id: string;
  name: string;
  description: string;
  createdAt: string;
  updatedAt: string;
}

export interface CategoryInput {
  name: string;
  description?: string;
}

function toCategory(row: CategoriesTable): Category {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export type CategoryService = ReturnType<typeof createCategoryService>;

export function createCategoryService(database: Database<CatalogDatabase>) {
  const categories = categoriesTable(database.db);
  return {
    async get(id: string): Promise<Category> {
      const row = await categories.byId(id);
      if (!row) throw errors.CATEGORY_NOT_FOUND(`Category with id ${id} not found`);
      return toCategory(row);
    },
    async getMany(ids: readonly string[]): Promise<Category[]> {
      return (await categories.byIds(ids)).map(toCategory);
    },
    async list(limit: number, offset: number): Promise<Category[]> {
      return (await categories.list(limit, offset)).map(toCategory);
    },
    count: () => categories.count(),
    async create(input: CategoryInput): Promise<Category> {
      const now = new Date().toISOString();
      const row: CategoriesTable = {
        id: uuidv7(),
        name: input.name.trim(),
        description: input.description ?? '',
        created_at: now,
        updated_at: now,
      };
      try {
        await categories.insert(row);
      } catch (err) {
        if (isUniqueViolation(err))
          throw errors.CATEGORY_EXISTS(`A category named "${row.name}" already exists`);
        throw err;
      }
      return toCategory(row);
    },
  };
}
