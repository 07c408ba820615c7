import type { Category } from '../domain/categories.ts';
import { toDecimal } from '../domain/money.ts';
import type { Product } from '../domain/products.ts';

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
