/**
 * Live product changes in the console's one product shape: the BFF turns the catalog's
 * GraphQL `Product` into the REST product, and its default subscription asks for every
 * field that takes.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from '@portico/config';
import { Kind, type OperationDefinitionNode, parse } from 'graphql';
import { LiveProductFields, restProduct } from '../src/api/live-product.ts';
import { ConfigSchema } from '../src/config.ts';

const graphqlProduct = {
  __typename: 'Product',
  id: '0193a0b2-7c4e-7000-8000-000000000001',
  name: 'Mechanical keyboard',
  description: 'Tactile switches',
  price: 129.9,
  priceMinor: 12990,
  formattedPrice: '$129.90',
  currency: 'USD',
  categoryId: '0193a0b2-7c4e-7000-8000-0000000000c1',
  inStock: false,
  createdAt: '2026-11-01T10:00:00.000Z',
  updatedAt: '2026-11-30T09:00:00.000Z',
};

describe('restProduct', () => {
  test('names every field as the REST API does, and keeps only the REST product’s fields', () => {
    assert.deepEqual(restProduct(graphqlProduct), {
      id: graphqlProduct.id,
      name: 'Mechanical keyboard',
      description: 'Tactile switches',
      price: 129.9,
      currency: 'USD',
      category_id: graphqlProduct.categoryId,
      in_stock: false,
      created_at: '2026-11-01T10:00:00.000Z',
      updated_at: '2026-11-30T09:00:00.000Z',
    });
  });

  test('an event without a field, or with one of another type, is no product', () => {
    for (const field of Object.keys(LiveProductFields.properties)) {
      const { [field as keyof typeof graphqlProduct]: _, ...without } = graphqlProduct;
      assert.equal(restProduct(without), undefined, `without ${field}`);
    }
    assert.equal(restProduct({ ...graphqlProduct, price: '129.90' }), undefined);
    assert.equal(restProduct({ ...graphqlProduct, inStock: 'false' }), undefined);
    assert.equal(restProduct(null), undefined);
    assert.equal(restProduct('product'), undefined);
  });
});

test('the default live subscription selects exactly the fields restProduct needs', () => {
  const config = loadConfig('web', ConfigSchema, {
    env: {},
    overrides: { oidc: { clientSecret: 'x'.repeat(32) } },
  });
  const operation = parse(config.live.subscription).definitions[0] as OperationDefinitionNode;
  assert.equal(operation.operation, 'subscription');
  const root = operation.selectionSet.selections[0]!;
  assert.ok(root.kind === Kind.FIELD && root.name.value === 'productUpdated' && root.selectionSet);
  const selected = root.selectionSet.selections.map((s) => (s.kind === Kind.FIELD ? s.name.value : s.kind));
  assert.deepEqual(selected.sort(), Object.keys(LiveProductFields.properties).sort());
});
