/**
 * Recommendations for the dashboard: in-stock products from the categories a user has
 * ordered from (most-ordered category first, products they already bought left out),
 * then popular in-stock products, then any in-stock products. Never an out-of-stock or
 * deleted product: every candidate is read from the catalog's own tables at answer time.
 *
 * Order history comes from the orders service over HTTP with the caller's own token
 * (so its ownership rules apply) and a short time budget; the catalog never reads the
 * orders service's tables. If the orders service is slow or down, the answer is the
 * popular fallback, marked `degraded`.
 */
import type { Product, ProductService } from './products.ts';

export interface Purchase {
  productId: string;
  categoryId: string | null;
  quantity: number;
}

export interface OrderHistory {
  /** What the user ordered, most-bought first. */
  purchases(userId: string, authorization: string, requestId?: string): Promise<Purchase[]>;
  /** Product ids ranked by units ordered across all customers. */
  popular(authorization: string, limit: number, requestId?: string): Promise<string[]>;
}

export function createOrderHistory(options: { url: string; timeoutMs: number }): OrderHistory {
  const base = options.url.replace(/\/+$/, '');
  async function get(
    path: string,
    query: Record<string, string>,
    authorization: string,
    requestId?: string,
  ): Promise<unknown[]> {
    // URLSearchParams encodes any string (a lone surrogate becomes U+FFFD) and never throws.
    const res = await fetch(`${base}${path}?${new URLSearchParams(query)}`, {
      headers: {
        accept: 'application/json',
        authorization,
        ...(requestId ? { 'x-request-id': requestId } : {}),
      },
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new Error(`orders answered ${res.status} for ${path}`);
    }
    const body = (await res.json()) as { data?: unknown };
    if (!Array.isArray(body.data)) throw new Error(`orders sent no list for ${path}`);
    return body.data;
  }
  return {
    async purchases(userId, authorization, requestId) {
      const rows = await get('/api/v1/purchases', { user_id: userId }, authorization, requestId);
      return rows.flatMap((row) => {
        const r = row as { product_id?: unknown; category_id?: unknown; quantity?: unknown };
        if (typeof r.product_id !== 'string') return [];
        return [
          {
            productId: r.product_id,
            categoryId: typeof r.category_id === 'string' ? r.category_id : null,
            quantity: typeof r.quantity === 'number' ? r.quantity : 1,
          },
        ];
      });
    },
    async popular(authorization, limit, requestId) {
      const rows = await get('/api/v1/popular-products', { limit: String(limit) }, authorization, requestId);
      return rows.flatMap((row) => {
        const id = (row as { product_id?: unknown }).product_id;
        return typeof id === 'string' ? [id] : [];
      });
    },
  };
}

export interface Recommendation {
  product: Product;
  reason: 'ordered_category' | 'popular' | 'in_stock';
}

export interface Recommendations {
  items: Recommendation[];
  /** False when the order history could not be read and the answer fell back to popular products. */
  personalised: boolean;
  degraded: boolean;
}

export interface RecommendInput {
  userId: string;
  authorization: string;
  limit: number;
  requestId?: string;
}

export async function recommend(
  products: ProductService,
  history: OrderHistory,
  input: RecommendInput,
): Promise<Recommendations> {
  const { limit } = input;
  const [bought, popular] = await Promise.allSettled([
    history.purchases(input.userId, input.authorization, input.requestId),
    history.popular(input.authorization, limit * 2, input.requestId),
  ]);
  const purchases = bought.status === 'fulfilled' ? bought.value : [];
  const seen = new Set(purchases.map((p) => p.productId));
  const picks: Recommendation[] = [];
  const take = (product: Product, reason: Recommendation['reason']) => {
    if (picks.length >= limit || seen.has(product.id) || !product.inStock) return;
    seen.add(product.id);
    picks.push({ product, reason });
  };

  // Categories by units ordered; their in-stock products taken in turns, best category first.
  const weight = new Map<string, number>();
  for (const p of purchases) {
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

  if (picks.length < limit && popular.status === 'fulfilled' && popular.value.length > 0) {
    const found = new Map((await products.getMany(popular.value)).map((p) => [p.id, p]));
    for (const id of popular.value) {
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
    degraded: bought.status === 'rejected',
  };
}
