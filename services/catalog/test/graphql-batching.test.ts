/**
 * Batching, proved by counting the SQL statements an operation runs: a list of 100
 * products with their categories, and categories with their products and those
 * products' categories, each cost a fixed number of queries, whatever the list length.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestIssuer } from '@portico/auth/testing';
import { createMemoryPubSub } from '@portico/store/pubsub';
import { type Database, openDatabase } from '@portico/store/sql';
import { databaseTargets } from '@portico/store/testing';
import { execute } from 'graphql';
import { isCompiledQuery } from 'graphql-jit';
import type { KyselyPlugin } from 'kysely';
import { migrations } from '../migrations/index.ts';
import type { CatalogDatabase } from '../src/data/schema.ts';
import { createCategoryService } from '../src/domain/categories.ts';
import { createProductService } from '../src/domain/products.ts';
import { type ContextDeps, createContext } from '../src/graphql/context.ts';
import { createExecutor } from '../src/graphql/executor.ts';
import { DEFAULT_LIMITS } from '../src/graphql/protection.ts';
import { createSchema } from '../src/graphql/schema.ts';

for (const makeTarget of databaseTargets()) {
  const target = makeTarget();
  describe(`GraphQL batching (${target.name})`, () => {
    let database: Database<CatalogDatabase>;
    let deps: ContextDeps;
    const statements: string[] = [];
    const schema = createSchema();
    const executor = createExecutor(schema, {
      introspection: true,
      limits: { ...DEFAULT_LIMITS, maxCost: 100_000 },
    });

    before(async () => {
      const opened = openDatabase<CatalogDatabase>({ url: target.url, schema: target.schema });
      await opened.migrate(migrations);
      // Kysely hands every statement it is about to run to its plugins: count them there.
      const counting: KyselyPlugin = {
        transformQuery(args) {
          statements.push(args.node.kind);
          return args.node;
        },
        transformResult: async (args) => args.result,
      };
      database = { ...opened, db: opened.db.withPlugin(counting) };
      const products = createProductService(database);
      const categories = createCategoryService(database);
      for (let c = 0; c < 10; c++) {
        const category = await categories.create({ name: `Category ${c}` });
        for (let p = 0; p < 12; p++)
          await products.create({
            name: `P${c}-${p}`,
            description: '',
            price: '1.00',
            categoryId: category.id,
          });
      }
      deps = {
        database,
        products,
        categories,
        pubsub: createMemoryPubSub(),
        verifier: (await createTestIssuer()).verifier,
      };
    });
    after(async () => {
      await database.close();
      await target.cleanup();
    });

    /** Runs the query as the server does: graphql-js the first time, graphql-jit after; both must batch. */
    async function run(query: string) {
      const prepared = executor.prepare(query);
      assert.ok('document' in prepared, JSON.stringify(prepared));
      const { document } = prepared;
      const counts: number[] = [];
      let data: Record<string, Array<Record<string, unknown>>> | undefined;
      for (const engine of ['graphql-js', 'graphql-jit']) {
        const compiled = executor.compiled(document, undefined);
        assert.equal(compiled === undefined, engine === 'graphql-js');
        statements.length = 0;
        const contextValue = createContext(deps, undefined);
        const result = compiled
          ? await (isCompiledQuery(compiled) ? compiled.query(undefined, contextValue, {}) : compiled)
          : await execute({ schema, document, contextValue });
        assert.equal(result.errors, undefined, JSON.stringify(result.errors));
        counts.push(statements.length);
        // graphql-js builds null-prototype objects, graphql-jit plain ones: compare the JSON.
        if (data)
          assert.equal(JSON.stringify(result.data), JSON.stringify(data), 'both engines answer alike');
        data = result.data as typeof data;
      }
      assert.equal(counts[0], counts[1], `graphql-js ran ${counts[0]} queries, graphql-jit ${counts[1]}`);
      return { data: data!, queries: counts[1]! };
    }

    test('100 products with their categories: 2 queries (the page, one batch of categories)', async () => {
      const { data, queries } = await run('{ products(first: 100) { id category { id name } } }');
      assert.equal(data.products!.length, 100);
      assert.equal(new Set(data.products!.map((p) => (p.category as { id: string }).id)).size, 9);
      assert.equal(queries, 2);
      const few = await run('{ products(first: 5) { id category { id name } } }');
      assert.equal(few.queries, 2, 'the count does not grow with the page');
    });

    test("categories, their products and those products' categories: 3 queries", async () => {
      const { data, queries } = await run(
        '{ categories { name products(first: 5) { name category { name } } } }',
      );
      assert.equal(data.categories!.length, 10);
      for (const c of data.categories!) {
        const products = c.products as Array<{ name: string; category: { name: string } }>;
        assert.equal(products.length, 5);
        assert.ok(products.every((p) => p.category.name === c.name));
      }
      assert.equal(queries, 3);
    });

    test('two page shapes of category products: one query each', async () => {
      const { data, queries } = await run(
        '{ categories { id a: products(first: 2) { name } b: products(first: 3, offset: 10) { name } } }',
      );
      const first = data.categories![0]!;
      const expected = await deps.products.list({ categoryId: first.id as string, limit: 3, offset: 10 });
      assert.deepEqual(
        (first.b as Array<{ name: string }>).map((p) => p.name),
        expected.map((p) => p.name),
      );
      assert.equal(expected.length, 2);
      assert.equal((first.a as unknown[]).length, 2);
      assert.equal(queries, 3);
    });
  });
}
