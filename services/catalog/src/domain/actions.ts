/**
 * Hypermedia actions (Richardson level 3): which ones a product offers follows from its state
 * exactly as the seed does — in stock: add_to_cart and mark_out_of_stock, else mark_in_stock;
 * then update and delete — filtered by what the caller may do: write actions are offered only
 * to callers who can write the catalog (docs/decisions/0002-actions-follow-permissions.md).
 * How an action is reached (method, URL, body) is the API's business.
 */
import type { Product } from './products.ts';

export type ProductAction = 'add_to_cart' | 'mark_out_of_stock' | 'mark_in_stock' | 'update' | 'delete';

export function productActions(product: Product, canWrite: boolean): ProductAction[] {
  const actions: ProductAction[] = [];
  if (product.inStock) {
    actions.push('add_to_cart');
    if (canWrite) actions.push('mark_out_of_stock');
  } else if (canWrite) {
    actions.push('mark_in_stock');
  }
  if (canWrite) actions.push('update', 'delete');
  return actions;
}
