/**
 * Hypermedia actions (Richardson level 3), derived from the product's state exactly as
 * the seed does — in stock: add_to_cart and mark_out_of_stock, else mark_in_stock; then
 * update and delete — and filtered by what the caller may do: write actions are offered
 * only to callers who can write the catalog (docs/decisions/0002-actions-follow-permissions.md).
 */
import type { Product } from './products.ts';

export interface Action {
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  href: string;
  body?: Record<string, unknown>;
}

export function productActions(
  product: Product,
  serialized: Record<string, unknown>,
  canWrite: boolean,
): Action[] {
  const self = `/api/v1/products/${product.id}`;
  const actions: Action[] = [];
  if (product.inStock) {
    actions.push({
      name: 'add_to_cart',
      method: 'POST',
      href: '/api/v1/cart/items',
      body: { product_id: product.id, quantity: 1 },
    });
    if (canWrite)
      actions.push({ name: 'mark_out_of_stock', method: 'PATCH', href: self, body: { in_stock: false } });
  } else if (canWrite) {
    actions.push({ name: 'mark_in_stock', method: 'PATCH', href: self, body: { in_stock: true } });
  }
  if (canWrite) {
    actions.push(
      { name: 'update', method: 'PUT', href: self, body: serialized },
      { name: 'delete', method: 'DELETE', href: self },
    );
  }
  return actions;
}
