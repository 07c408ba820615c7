// Generated from services/catalog/schema.graphql by src/graphql/codegen.ts: do not edit.
import type { GraphQLResolveInfo } from 'graphql';

type MaybePromise<T> = T | Promise<T>;

export interface QueryProductArgs {
  id: string;
}

export interface QueryProductsArgs {
  categoryId?: string | null;
  inStock?: boolean | null;
  first: number;
  offset: number;
}

export interface QueryProductsConnectionArgs {
  categoryId?: string | null;
  inStock?: boolean | null;
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

export interface QueryCategoriesArgs {
  first: number;
  offset: number;
}

export interface QueryCategoryArgs {
  id: string;
}

export interface QuerySearchProductsArgs {
  query: string;
  first: number;
}

export interface MutationCreateProductArgs {
  input: ProductInput;
}

export interface MutationUpdateProductArgs {
  id: string;
  input: ProductUpdateInput;
}

export interface MutationDeleteProductArgs {
  id: string;
}

export interface SubscriptionProductUpdatedArgs {
  id?: string | null;
}

export interface CategoryProductsArgs {
  first: number;
  offset: number;
}

export interface ProductInput {
  name: string;
  description?: string | null;
  price: number;
  categoryId: string;
  inStock?: boolean | null;
}

export interface ProductUpdateInput {
  name?: string | null;
  description?: string | null;
  price?: number | null;
  categoryId?: string | null;
  inStock?: boolean | null;
}

/** The model each object type resolves from; the root types' parents are `unknown`. */
export type ObjectTypeName =
  | 'Query'
  | 'Mutation'
  | 'Subscription'
  | 'Product'
  | 'Category'
  | 'ProductConnection'
  | 'ProductEdge'
  | 'PageInfo'
  | 'FieldError'
  | 'ProductPayload'
  | 'DeletePayload';

export type Resolver<Parent, Args, Context, Result> = (
  parent: Parent,
  args: Args,
  context: Context,
  info: GraphQLResolveInfo,
) => MaybePromise<Result>;

export interface SubscriptionResolver<Args, Context, Event, Result> {
  subscribe: (
    parent: unknown,
    args: Args,
    context: Context,
    info: GraphQLResolveInfo,
  ) => MaybePromise<AsyncIterable<Event>>;
  resolve: (event: Event, args: Args, context: Context, info: GraphQLResolveInfo) => MaybePromise<Result>;
}

/** Resolvers typed from the SDL; `P` maps each object type to its parent model. */
export interface Resolvers<Context, P extends Record<ObjectTypeName, unknown>, Event = unknown> {
  Query?: {
    product?: Resolver<P['Query'], QueryProductArgs, Context, P['Product'] | null | undefined>;
    products?: Resolver<P['Query'], QueryProductsArgs, Context, Array<P['Product']>>;
    productsConnection?: Resolver<P['Query'], QueryProductsConnectionArgs, Context, P['ProductConnection']>;
    categories?: Resolver<P['Query'], QueryCategoriesArgs, Context, Array<P['Category']>>;
    category?: Resolver<P['Query'], QueryCategoryArgs, Context, P['Category'] | null | undefined>;
    searchProducts?: Resolver<P['Query'], QuerySearchProductsArgs, Context, Array<P['Product']>>;
  };
  Mutation?: {
    createProduct?: Resolver<P['Mutation'], MutationCreateProductArgs, Context, P['ProductPayload']>;
    updateProduct?: Resolver<P['Mutation'], MutationUpdateProductArgs, Context, P['ProductPayload']>;
    deleteProduct?: Resolver<P['Mutation'], MutationDeleteProductArgs, Context, P['DeletePayload']>;
  };
  Subscription?: {
    productUpdated?: SubscriptionResolver<SubscriptionProductUpdatedArgs, Context, Event, P['Product']>;
  };
  Product?: {
    id?: Resolver<P['Product'], Record<string, never>, Context, string>;
    name?: Resolver<P['Product'], Record<string, never>, Context, string>;
    description?: Resolver<P['Product'], Record<string, never>, Context, string>;
    price?: Resolver<P['Product'], Record<string, never>, Context, number>;
    priceMinor?: Resolver<P['Product'], Record<string, never>, Context, number>;
    currency?: Resolver<P['Product'], Record<string, never>, Context, string>;
    formattedPrice?: Resolver<P['Product'], Record<string, never>, Context, string>;
    categoryId?: Resolver<P['Product'], Record<string, never>, Context, string>;
    category?: Resolver<P['Product'], Record<string, never>, Context, P['Category'] | null | undefined>;
    inStock?: Resolver<P['Product'], Record<string, never>, Context, boolean>;
    createdAt?: Resolver<P['Product'], Record<string, never>, Context, string>;
    updatedAt?: Resolver<P['Product'], Record<string, never>, Context, string>;
  };
  Category?: {
    id?: Resolver<P['Category'], Record<string, never>, Context, string>;
    name?: Resolver<P['Category'], Record<string, never>, Context, string>;
    description?: Resolver<P['Category'], Record<string, never>, Context, string>;
    products?: Resolver<P['Category'], CategoryProductsArgs, Context, Array<P['Product']>>;
    createdAt?: Resolver<P['Category'], Record<string, never>, Context, string>;
    updatedAt?: Resolver<P['Category'], Record<string, never>, Context, string>;
  };
  ProductConnection?: {
    edges?: Resolver<P['ProductConnection'], Record<string, never>, Context, Array<P['ProductEdge']>>;
    pageInfo?: Resolver<P['ProductConnection'], Record<string, never>, Context, P['PageInfo']>;
    totalCount?: Resolver<P['ProductConnection'], Record<string, never>, Context, number>;
  };
  ProductEdge?: {
    cursor?: Resolver<P['ProductEdge'], Record<string, never>, Context, string>;
    node?: Resolver<P['ProductEdge'], Record<string, never>, Context, P['Product']>;
  };
  PageInfo?: {
    hasNextPage?: Resolver<P['PageInfo'], Record<string, never>, Context, boolean>;
    hasPreviousPage?: Resolver<P['PageInfo'], Record<string, never>, Context, boolean>;
    startCursor?: Resolver<P['PageInfo'], Record<string, never>, Context, string | null | undefined>;
    endCursor?: Resolver<P['PageInfo'], Record<string, never>, Context, string | null | undefined>;
  };
  FieldError?: {
    field?: Resolver<P['FieldError'], Record<string, never>, Context, string | null | undefined>;
    code?: Resolver<P['FieldError'], Record<string, never>, Context, string>;
    message?: Resolver<P['FieldError'], Record<string, never>, Context, string>;
  };
  ProductPayload?: {
    success?: Resolver<P['ProductPayload'], Record<string, never>, Context, boolean>;
    errors?: Resolver<P['ProductPayload'], Record<string, never>, Context, Array<string>>;
    codes?: Resolver<P['ProductPayload'], Record<string, never>, Context, Array<string>>;
    fieldErrors?: Resolver<P['ProductPayload'], Record<string, never>, Context, Array<P['FieldError']>>;
    product?: Resolver<P['ProductPayload'], Record<string, never>, Context, P['Product'] | null | undefined>;
  };
  DeletePayload?: {
    success?: Resolver<P['DeletePayload'], Record<string, never>, Context, boolean>;
    errors?: Resolver<P['DeletePayload'], Record<string, never>, Context, Array<string>>;
    codes?: Resolver<P['DeletePayload'], Record<string, never>, Context, Array<string>>;
    fieldErrors?: Resolver<P['DeletePayload'], Record<string, never>, Context, Array<P['FieldError']>>;
    product?: Resolver<P['DeletePayload'], Record<string, never>, Context, P['Product'] | null | undefined>;
  };
}
