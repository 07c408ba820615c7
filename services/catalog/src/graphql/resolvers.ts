/**
 * Resolvers, typed from the SDL (types.generated.ts). They call the same domain services
 * as REST, check input with the same wire schemas, and answer with the same error codes.
 * Mutations answer domain failures in their payload (the seed's `success/errors`, plus
 * stable `codes` and `fieldErrors`); missing rights and internal faults are GraphQL errors.
 */
import { commonErrors, isProblemError, type ProblemError } from '@portico/problem';
import { iterate } from '@portico/store/pubsub';
import type { TSchema } from 'typebox';
import Value from 'typebox/value';
import { decodeCursor, encodeCursor, MAX_OFFSET, MAX_PER_PAGE } from '../api/pagination.ts';
import { ProductInput as ProductInputSchema, ProductPatch as ProductPatchSchema } from '../api/schemas.ts';
import { formatPrice, toDecimal } from '../domain/money.ts';
import type { Product, ProductEvent, ProductPatch } from '../domain/products.ts';
import { errors } from '../errors.ts';
import { type GraphQLContext, requireWriter } from './context.ts';
import { categoryProductsKey } from './loaders.ts';
import type { Payload } from './models.ts';
import type { ProductInput, ProductUpdateInput, Resolvers } from './types.generated.ts';

/** The pub/sub channel every product write is published on (see index.ts). */
export const PRODUCT_CHANNEL = 'catalog.products';

/** REST's field names on the wire → the GraphQL input's names, for field errors. */
const FIELD_NAMES: Record<string, string> = { category_id: 'categoryId', in_stock: 'inStock' };

function graphqlField(field: unknown): string | null {
  if (typeof field !== 'string' || field === '') return null;
  return FIELD_NAMES[field] ?? field;
}

/** The REST body schema's verdict on the same values, as REST would report it. */
function check(schema: TSchema, value: Record<string, unknown>): void {
  const issues = [...Value.Errors(schema, value)];
  if (issues.length === 0) return;
  const list = issues.map((issue) => {
    const field = issue.instancePath.slice(1).replaceAll('/', '.');
    return { field, code: 'VALIDATION_ERROR', message: `${field} ${issue.message}` };
  });
  throw commonErrors.VALIDATION_ERROR(list[0]!.message, { extensions: { errors: list } });
}

function failure(problem: ProblemError): Payload {
  const listed = problem.extensions.errors;
  const fieldErrors = Array.isArray(listed)
    ? (listed as Array<{ field?: unknown; code?: unknown; message?: unknown }>).map((e) => ({
        field: graphqlField(e.field),
        code: String(e.code ?? problem.code),
        message: String(e.message ?? problem.message),
      }))
    : [];
  const messages = fieldErrors.length > 0 ? fieldErrors.map((e) => e.message) : [problem.message];
  return { success: false, errors: messages, codes: [problem.code], fieldErrors, product: null };
}

/** Domain refusals (4xx) become the payload; anything else stays an error (masked if internal). */
async function payload(work: () => Promise<Product | null>): Promise<Payload> {
  try {
    return { success: true, errors: [], codes: [], fieldErrors: [], product: await work() };
  } catch (err) {
    if (isProblemError(err) && err.expose) return failure(err);
    throw err;
  }
}

/** `null` in an input means "no value": refused for fields a product must have. */
function withoutNulls<T extends object>(input: T): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) if (value !== undefined) out[key] = value;
  return out;
}

function toRestInput(input: ProductInput | ProductUpdateInput): Record<string, unknown> {
  return withoutNulls({
    name: input.name,
    description: input.description,
    price: input.price,
    category_id: input.categoryId,
    in_stock: input.inStock,
  });
}

function cursorId(text: string): string {
  const cursor = decodeCursor(text);
  const id = cursor.after ?? cursor.before;
  if (id === undefined) throw errors.INVALID_CURSOR('The cursor is not one this API issued');
  return id;
}

function pageSize(first: number | null | undefined, fallback: number): number {
  const size = first ?? fallback;
  if (!Number.isInteger(size) || size < 0)
    throw commonErrors.VALIDATION_ERROR('first must be a non-negative integer');
  return Math.min(size, MAX_PER_PAGE);
}

function pageOffset(offset: number): number {
  if (offset < 0) throw commonErrors.VALIDATION_ERROR('offset must be a non-negative integer');
  if (offset > MAX_OFFSET)
    throw errors.PAGE_TOO_DEEP(`Offsets stop at ${MAX_OFFSET}; use productsConnection to go deeper`);
  return offset;
}

export const resolvers: Resolvers<GraphQLContext> = {
  Query: {
    product: (_root, { id }, ctx) => ctx.products.get(id),
    products: (_root, { categoryId, inStock, first, offset }, ctx) => {
      const limit = pageSize(first, 10);
      if (limit === 0) return [];
      return ctx.products.list({
        categoryId: categoryId ?? undefined,
        inStock: inStock ?? undefined,
        limit,
        offset: pageOffset(offset),
      });
    },
    productsConnection: async (_root, args, ctx) => {
      if (args.first != null && args.last != null)
        throw commonErrors.VALIDATION_ERROR('Give first or last, not both');
      const backwards = args.last != null;
      if (backwards && args.before == null)
        throw commonErrors.VALIDATION_ERROR('last needs before: walk backwards from a cursor you were given');
      const size = pageSize(backwards ? args.last : args.first, 20);
      // A cursor names an edge's product; after/before say which side of it to read.
      const position = backwards
        ? { before: cursorId(args.before!) }
        : args.after
          ? { after: cursorId(args.after) }
          : {};
      const filter = { categoryId: args.categoryId ?? undefined, inStock: args.inStock ?? undefined };
      const [rows, totalCount] = await Promise.all([
        size === 0 ? Promise.resolve([]) : ctx.products.list({ ...filter, limit: size + 1, ...position }),
        ctx.products.count(filter),
      ]);
      const more = rows.length > size;
      const before = position.before !== undefined;
      const items = before ? rows.slice(more ? 1 : 0) : rows.slice(0, size);
      const edges = items.map((node) => ({ cursor: encodeCursor({ after: node.id }), node }));
      return {
        edges,
        totalCount,
        pageInfo: {
          hasNextPage: before ? true : more,
          hasPreviousPage: before ? more : position.after !== undefined,
          startCursor: edges[0]?.cursor ?? null,
          endCursor: edges.at(-1)?.cursor ?? null,
        },
      };
    },
    categories: (_root, { first, offset }, ctx) => {
      const limit = pageSize(first, 100);
      return limit === 0 ? [] : ctx.categories.list(limit, pageOffset(offset));
    },
    category: (_root, { id }, ctx) => ctx.categories.get(id),
    searchProducts: (_root, { query, first }, ctx) => {
      const q = query.trim();
      if (q.length === 0 || q.length > 200)
        throw commonErrors.VALIDATION_ERROR('query must be between 1 and 200 characters');
      const limit = pageSize(first, 20);
      return limit === 0 ? [] : ctx.products.list({ q, limit, offset: 0 });
    },
  },

  Mutation: {
    createProduct: async (_root, { input }, ctx) => {
      await requireWriter(ctx);
      return payload(async () => {
        const body = { description: '', ...toRestInput(input) };
        check(ProductInputSchema, body);
        return ctx.products.create(body as unknown as Parameters<typeof ctx.products.create>[0]);
      });
    },
    updateProduct: async (_root, { id, input }, ctx) => {
      await requireWriter(ctx);
      return payload(async () => {
        const nulls = Object.entries(input).filter(([, v]) => v === null);
        if (nulls.length > 0) {
          const list = nulls.map(([field]) => ({
            field,
            code: 'VALIDATION_ERROR',
            message: `${field} cannot be null: leave it out to keep the current value`,
          }));
          throw commonErrors.VALIDATION_ERROR(list[0]!.message, { extensions: { errors: list } });
        }
        const body = toRestInput(input);
        check(ProductPatchSchema, body);
        return ctx.products.patch(id, body as ProductPatch);
      });
    },
    deleteProduct: async (_root, { id }, ctx) => {
      await requireWriter(ctx);
      return payload(async () => {
        const current = await ctx.products.get(id);
        await ctx.products.remove(id);
        return current;
      });
    },
  },

  Subscription: {
    productUpdated: {
      subscribe: (_root, { id }, ctx) =>
        iterate<ProductEvent>(ctx.pubsub, PRODUCT_CHANNEL, {
          filter: (event) => event.type !== 'deleted' && (id == null || event.product.id === id),
        }),
      // The events are the pub/sub's, not `{ productUpdated }` objects: say so to the typings.
      resolve: (event: ProductEvent, _args: unknown, ctx: GraphQLContext) => {
        // A subscription's context lives as long as it does: each event reads fresh categories.
        ctx.loaders.category.clearAll();
        ctx.loaders.categoryProducts.clearAll();
        return event.product;
      },
    },
  },

  Product: {
    price: (p) => toDecimal(p.priceMinor),
    formattedPrice: (p) => formatPrice(p.priceMinor, p.currency),
    category: (p, _args, ctx) => ctx.loaders.category.load(p.categoryId),
  },

  Category: {
    products: (c, { first, offset }, ctx) => {
      const limit = pageSize(first, 20);
      return ctx.loaders.categoryProducts.load(categoryProductsKey(c.id, limit, pageOffset(offset)));
    },
  },
};
