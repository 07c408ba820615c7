/**
 * The executable schema: the SDL file plus the resolvers, attached field by field. A
 * resolver for a field the SDL lacks is an error at start-up, never a silent no-op.
 */
import { readFileSync } from 'node:fs';
import { buildSchema, type GraphQLFieldResolver, GraphQLObjectType, type GraphQLSchema } from 'graphql';
import { resolvers } from './resolvers.ts';

export const SCHEMA_PATH = new URL('../../schema.graphql', import.meta.url);

export function loadSchemaSource(): string {
  return readFileSync(SCHEMA_PATH, 'utf8');
}

type FieldConfig = { resolve?: unknown; subscribe?: unknown };

export function createSchema(source = loadSchemaSource()): GraphQLSchema {
  const schema = buildSchema(source);
  for (const [typeName, fields] of Object.entries(resolvers)) {
    const type = schema.getType(typeName);
    if (!(type instanceof GraphQLObjectType)) throw new Error(`resolvers for unknown type ${typeName}`);
    const defined = type.getFields();
    for (const [fieldName, resolver] of Object.entries(fields as Record<string, unknown>)) {
      const field = defined[fieldName];
      if (!field) throw new Error(`resolver for unknown field ${typeName}.${fieldName}`);
      if (typeof resolver === 'function') field.resolve = resolver as GraphQLFieldResolver<unknown, unknown>;
      else {
        const { resolve, subscribe } = resolver as FieldConfig;
        field.resolve = resolve as GraphQLFieldResolver<unknown, unknown>;
        field.subscribe = subscribe as GraphQLFieldResolver<unknown, unknown>;
      }
    }
  }
  return schema;
}
