/**
 * Resolvers, typed from the SDL (types.generated.ts). They map GraphQL's arguments onto the
 * same domain services as REST, whose rules check the input, and answer with the same error codes.
 * Mutations answer domain failures in their payload (the seed's `success/errors`, plus
 * stable `codes` and `fieldErrors`); missing rights and internal faults are GraphQL errors.
 */
import { commonErrors, isProblemError, type ProblemError } from '@portico/problem';
import { iterate } from '@portico/store/pubsub';
import { formatPrice, toDecimal } from '../domain/money.ts';
import {
  pageSize as cappedSize,
  checkOffset,
  decodeCursor,
  encodeCursor,
  MAX_OFFSET,
} from '../domain/pages.ts';
import type { Product, ProductEvent } from '../domain/products.ts';
import { errors } from '../errors.ts';
import { type GraphQLContext, requireWriter } from './context.ts';
import { categoryProductsKey } from './loaders.ts';
import type { Payload } from './models.ts';
import type { ProductInput, ProductUpdateInput, Resolvers } from './types.generated.ts';

/** The pub/sub channel every product write is published on (see index.ts). */
export const PRODUCT_CHANNEL = 'catalog.products';

/** The domain names fields as the inputs do. */
function graphqlField(field: unknown): string | null {
  return typeof field === 'string' && field !== '' ? field : null;
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
function refuseNulls(input: ProductInput | ProductUpdateInput, advice: string): void {
  const nulls = Object.entries(input).filter(([, v]) => v === null);
  if (nulls.length === 0) return;
  const list = nulls.map(([field]) => ({
    field,
    code: 'VALIDATION_ERROR',
    message: `${field} cannot be null: ${advice}`,
  }));
  throw commonErrors.VALIDATION_ERROR(list[0]!.message, { extensions: { errors: list } });
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
  return cappedSize(size, fallback);
}

function pageOffset(offset: number): number {
  if (offset < 0) throw commonErrors.VALIDATION_ERROR('offset must be a non-negative integer');
  return checkOffset(offset, `Offsets stop at ${MAX_OFFSET}; use productsConnection to go deeper`);
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
      const page = await ctx.products.keysetPage(filter, size, position);
      const edges = page.items.map((node) => ({ cursor: encodeCursor({ after: node.id }), node }));
      return {
        edges,
        totalCount: page.total.value,
        pageInfo: {
          hasNextPage: page.hasNext,
          hasPreviousPage: page.hasPrevious,
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
        refuseNulls(input, 'leave it out for its default');
        return ctx.products.create({
          name: input.name,
          description: input.description ?? '',
          price: input.price,
          categoryId: input.categoryId,
          inStock: input.inStock ?? undefined,
        });
      });
    },
    updateProduct: async (_root, { id, input }, ctx) => {
      await requireWriter(ctx);
      return payload(async () => {
        refuseNulls(input, 'leave it out to keep the current value');
        return ctx.products.patch(id, {
          name: input.name ?? undefined,
          description: input.description ?? undefined,
          price: input.price ?? undefined,
          categoryId: input.categoryId ?? undefined,
          inStock: input.inStock ?? undefined,
        });
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
