/**
 * What the resolvers of the GraphQL types without a domain model of their own hand on: the
 * parents those types' fields read (codegen.yml maps the SDL types to them).
 */
import type { Product } from '../domain/products.ts';

export interface FieldErrorOut {
  field: string | null;
  code: string;
  message: string;
}

export interface Payload {
  success: boolean;
  errors: string[];
  codes: string[];
  fieldErrors: FieldErrorOut[];
  product: Product | null;
}

export interface Edge {
  cursor: string;
  node: Product;
}

export interface PageInfo {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

export interface Connection {
  edges: Edge[];
  pageInfo: PageInfo;
  totalCount: number;
}
