/**
 * A stand-in for the catalog's REST API (the seed's product shape), so the orders and
 * payments tests do not depend on the catalog service. It can go down (connections
 * refused) or hang (accept and never answer) to test what happens then.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeProduct {
  id: string;
  name: string;
  price: number;
  currency?: string;
  category_id: string;
  in_stock: boolean;
}

export interface FakeCatalog {
  url: string;
  products: Map<string, FakeProduct>;
  /** Product reads served so far. */
  hits: number;
  /** Stop listening and drop connections: later calls are refused. */
  down(): Promise<void>;
  /** Keep accepting connections but never answer. */
  hang(): void;
  close(): Promise<void>;
}

/** Two products in stock (19.99 and 0.10) and one out of stock. */
export const PRODUCTS: FakeProduct[] = [
  {
    id: '01900000-0000-7000-8000-00000000b00c',
    name: 'Book',
    price: 19.99,
    category_id: 'c-books',
    in_stock: true,
  },
  {
    id: '01900000-0000-7000-8000-0000000000e2',
    name: 'Pen',
    price: 0.1,
    category_id: 'c-office',
    in_stock: true,
  },
  {
    id: '01900000-0000-7000-8000-00000000a3b0',
    name: 'Lamp',
    price: 45,
    category_id: 'c-home',
    in_stock: false,
  },
];

export async function startFakeCatalog(products: FakeProduct[]): Promise<FakeCatalog> {
  let hanging = false;
  const fake = {
    url: '',
    products: new Map(products.map((p) => [p.id, { ...p }])),
    hits: 0,
  } as FakeCatalog;
  const server: Server = createServer((req, res) => {
    if (hanging) return;
    const match = /^\/api\/v1\/products\/([^/?]+)$/.exec(req.url ?? '');
    const product = match ? fake.products.get(decodeURIComponent(match[1]!)) : undefined;
    if (match) fake.hits++;
    if (!product) {
      res.writeHead(404, { 'content-type': 'application/problem+json' });
      res.end(JSON.stringify({ title: 'Not Found', status: 404, code: 'PRODUCT_NOT_FOUND' }));
      return;
    }
    const now = new Date().toISOString();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        data: {
          description: `About ${product.name}`,
          currency: 'USD',
          ...product,
          created_at: now,
          updated_at: now,
        },
        links: { self: `/api/v1/products/${product.id}` },
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closed;
  };
  fake.down = close;
  fake.close = close;
  fake.hang = () => {
    hanging = true;
  };
  return fake;
}
