/**
 * Recommendations for the dashboard: in-stock products from the categories a user has
 * ordered from (most-ordered category first, products they already bought left out),
 * then popular in-stock products, then any in-stock products. Never an out-of-stock or
 * deleted product: every candidate is read from the catalog's own tables at answer time.
 *
 * What customers bought is the catalog's own copy, kept from the orders service's events
 * (`orders.events` on the store's pub/sub: an order placed, an order cancelled), so answering
 * never waits on the orders service. While that feed is not live (pub/sub unreachable) recent
 * orders may be missing: the answer says so (`degraded`).
 */
import type { OrderEventData } from '@portico/events';
import type { Database } from '@portico/store/sql';
import { purchasesTable } from '../data/purchases.ts';
import type { CatalogDatabase } from '../data/schema.ts';
import type { Product, ProductService } from './products.ts';

export interface Recommendation {
  product: Product;
  reason: 'ordered_category' | 'popular' | 'in_stock';
}

export interface Recommendations {
  items: Recommendation[];
  /** True when some picks come from the categories the user ordered from. */
  personalised: boolean;
  /** True while the order events feed is not live: recent orders may be missing. */
  degraded: boolean;
}

export type RecommendationService = ReturnType<typeof createRecommendationService>;

export function createRecommendationService(
  database: Database<CatalogDatabase>,
  deps: { products: ProductService; feedLive: () => boolean },
) {
  const purchases = purchasesTable(database.db, database.dialect);
  const { products } = deps;

  return {
    /** Keeps what an order event says; hearing one twice changes nothing. */
    async record(event: OrderEventData): Promise<void> {
      const rows = event.items.map((item) => ({
        order_id: event.orderId,
        product_id: item.productId,
        user_id: event.userId,
        category_id: item.categoryId,
        quantity: item.quantity,
        cancelled: false,
        ordered_at: event.at,
      }));
      if (event.type === 'order.placed') await purchases.placed(rows);
      else await purchases.cancelled(rows);
    },

    async recommend(userId: string, limit: number): Promise<Recommendations> {
      const [bought, popular] = await Promise.all([
        purchases.byUser(userId, 200),
        purchases.popular(limit * 2),
      ]);
      const seen = new Set(bought.map((p) => p.productId));
      const picks: Recommendation[] = [];
      const take = (product: Product, reason: Recommendation['reason']) => {
        if (picks.length >= limit || seen.has(product.id) || !product.inStock) return;
        seen.add(product.id);
        picks.push({ product, reason });
      };

      // Categories by units ordered; their in-stock products taken in turns, best category first.
      const weight = new Map<string, number>();
      for (const p of bought) {
        if (p.categoryId !== null) weight.set(p.categoryId, (weight.get(p.categoryId) ?? 0) + p.quantity);
      }
      const categories = [...weight.entries()]
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
        .map(([id]) => id);
      if (categories.length > 0) {
        const lists = await Promise.all(
          categories
            .slice(0, 5)
            .map((categoryId) => products.list({ categoryId, inStock: true, limit: limit + seen.size })),
        );
        for (let i = 0; picks.length < limit && lists.some((list) => i < list.length); i++) {
          for (const list of lists) if (list[i]) take(list[i]!, 'ordered_category');
        }
      }

      if (picks.length < limit && popular.length > 0) {
        const found = new Map((await products.getMany(popular)).map((p) => [p.id, p]));
        for (const id of popular) {
          const product = found.get(id);
          if (product) take(product, 'popular');
        }
      }
      if (picks.length < limit) {
        for (const product of await products.list({ inStock: true, limit: limit + seen.size })) {
          take(product, 'in_stock');
        }
      }
      return {
        items: picks,
        personalised: picks.some((p) => p.reason === 'ordered_category'),
        degraded: !deps.feedLive(),
      };
    },
  };
}
