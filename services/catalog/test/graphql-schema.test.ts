import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { generate } from '@graphql-codegen/cli';
import type { GraphQLObjectType } from 'graphql';
import config from '../codegen.ts';
import { createSchema } from '../src/graphql/schema.ts';

test('the resolver types are generated from the current SDL (npm run codegen -w services/catalog after editing it)', async () => {
  const cwd = fileURLToPath(new URL('..', import.meta.url));
  const outputs: Array<{ filename: string; content: string }> = await generate({ ...config, cwd }, false);
  assert.equal(outputs.length, 1);
  const [{ filename, content }] = outputs as [{ filename: string; content: string }];
  assert.equal(readFileSync(new URL(`../${filename}`, import.meta.url), 'utf8'), content);
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
