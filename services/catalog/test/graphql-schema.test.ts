import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { buildSchema, type GraphQLObjectType } from 'graphql';
import { GENERATED_PATH, generate, loadSchemaSource } from '../src/graphql/codegen.ts';
import { createSchema } from '../src/graphql/schema.ts';

test('the resolver types are generated from the current SDL (run codegen.ts after editing it)', () => {
  assert.equal(readFileSync(GENERATED_PATH, 'utf8'), generate(buildSchema(loadSchemaSource())));
});

test('every field that computes something has a resolver; the rest read the model by name', () => {
  const schema = createSchema();
  const resolved = (type: string, field: string) =>
    (schema.getType(type) as GraphQLObjectType).getFields()[field]!.resolve !== undefined;
  for (const field of [
    'product',
    'products',
    'productsConnection',
    'categories',
    'category',
    'searchProducts',
  ])
    assert.ok(resolved('Query', field), `Query.${field}`);
  for (const field of ['createProduct', 'updateProduct', 'deleteProduct'])
    assert.ok(resolved('Mutation', field));
  for (const field of ['price', 'formattedPrice', 'category']) assert.ok(resolved('Product', field));
  assert.ok(resolved('Category', 'products'));
  assert.ok((schema.getSubscriptionType() as GraphQLObjectType).getFields().productUpdated!.subscribe);
});
