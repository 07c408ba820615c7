import { isProblemError } from '@portico/problem';
import type { Category } from '../domain/categories.ts';
import { toDecimal } from '../domain/money.ts';
import type { Product, ProductInput, ProductPatch } from '../domain/products.ts';

export function productJson(p: Product) {
  return {
    id: p.id,
    name: p.name,
    description: p.description,
    price: toDecimal(p.priceMinor),
    currency: p.currency,
    category_id: p.categoryId,
    in_stock: p.inStock,
    created_at: p.createdAt,
    updated_at: p.updatedAt,
  };
}

export function categoryJson(c: Category) {
  return {
    id: c.id,
    name: c.name,
    description: c.description,
    created_at: c.createdAt,
    updated_at: c.updatedAt,
  };
}

export function productLinks(p: Product) {
  return {
    self: `/api/v1/products/${p.id}`,
    category: `/api/v1/categories/${p.categoryId}`,
    actions: `/api/v1/products/${p.id}/actions`,
  };
}

type ProductBody = {
  name: string;
  description: string;
  price: number | string;
  category_id: string;
  in_stock?: boolean;
};

/** A REST body (snake_case, read-only fields dropped) as the domain's input; a PATCH body as its patch. */
export function productInput(body: ProductBody): ProductInput;
export function productInput(body: Partial<ProductBody>): ProductPatch;
export function productInput(body: Partial<ProductBody>): ProductPatch {
  return {
    name: body.name,
    description: body.description,
    price: body.price,
    categoryId: body.category_id,
    inStock: body.in_stock,
  };
}

const WIRE_FIELDS: Record<string, string> = { categoryId: 'category_id', inStock: 'in_stock' };

/** The domain's field errors name its fields; a REST problem names them as the body does. */
export async function inWireNames<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    const listed = isProblemError(err) ? err.extensions.errors : undefined;
    if (Array.isArray(listed))
      for (const entry of listed as Array<{ field?: unknown }>)
        if (typeof entry.field === 'string') entry.field = WIRE_FIELDS[entry.field] ?? entry.field;
    throw err;
  }
}
