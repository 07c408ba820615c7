export interface CategoriesTable {
  id: string;
  name: string;
  description: string;
  created_at: string;
  updated_at: string;
}

export interface ProductsTable {
  id: string;
  name: string;
  description: string;
  price_minor: number;
  currency: string;
  category_id: string;
  /** boolean on PostgreSQL, 0/1 on SQLite: read through `Boolean()`. */
  in_stock: boolean | number;
  version: number;
  created_at: string;
  updated_at: string;
}

/** Products per (category, stock) pair, kept by triggers: list totals without counting rows. */
export interface ProductCountsTable {
  category_id: string;
  in_stock: boolean | number;
  n: number;
}

/** What customers bought, from the orders service's events: recommendations read it. */
export interface PurchasesTable {
  order_id: string;
  product_id: string;
  user_id: string;
  category_id: string | null;
  quantity: number;
  /** boolean on PostgreSQL, 0/1 on SQLite. */
  cancelled: boolean | number;
  ordered_at: string;
}

export interface CatalogDatabase {
  categories: CategoriesTable;
  products: ProductsTable;
  product_counts: ProductCountsTable;
  purchases: PurchasesTable;
}
