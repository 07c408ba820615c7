import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { createTestIssuer } from '@portico/auth/testing';
import { loadConfig } from '@portico/config';
import { inlineScriptHashes } from '@portico/http';
import { JSON_API_SECURITY_HEADERS, securityHeadersOf } from '@portico/http/testing';
import { databaseTargets } from '@portico/store/testing';
import { getIntrospectionQuery } from 'graphql';
import { build, ConfigSchema } from '../src/build.ts';
import { formatPrice } from '../src/domain/money.ts';
import { buildCatalog, type Harness } from './support/harness.ts';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by assertions, not by types
type Json = any;
type Gql = { data?: Record<string, Json> | null; errors?: Array<{ message: string; extensions?: Json }> };

for (const makeTarget of databaseTargets()) {
  const target = makeTarget();
  describe(`catalog GraphQL (${target.name})`, () => {
    let h: Harness;
    let categoryId: string;
    before(async () => {
      h = await buildCatalog(target, { config: { graphql: { introspection: true, graphiql: true } } });
      categoryId = (await h.server.inject({ url: '/api/v1/categories' })).json().data[0].id;
    });
    after(() => h.close());

    /**
     * A new query text runs on graphql-js, then on graphql-jit once compiled: every read is
     * sent twice, and both engines must give the same answer.
     */
    async function gql(query: string, variables?: object, headers: Record<string, string> = {}) {
      const send = () =>
        h.server.inject({
          method: 'POST',
          url: '/graphql',
          headers: { 'content-type': 'application/json', ...headers },
          payload: { query, variables },
        });
      const res = await send();
      if (!/^\s*mutation\b/.test(query)) {
        const again = await send();
        assert.equal(again.statusCode, res.statusCode);
        assert.deepEqual(again.json(), res.json(), 'graphql-js and graphql-jit answer alike');
      }
      return { status: res.statusCode, headers: res.headers, body: res.json() as Gql };
    }

    describe('queries', () => {
      test('products with formattedPrice and category, the same data REST serves', async () => {
        const { status, body } = await gql(
          '{ products(first: 20) { id name price priceMinor formattedPrice inStock categoryId category { id name } } }',
        );
        assert.equal(status, 200);
        assert.equal(body.errors, undefined);
        const products = body.data!.products as Array<Record<string, Json>>;
        assert.equal(products.length, 20);
        const rest = (await h.server.inject({ url: '/api/v1/products?per_page=20' })).json().data;
        assert.deepEqual(
          products.map((p) => [p.id, p.name, p.price, p.inStock, p.categoryId]),
          rest.map((p: Json) => [p.id, p.name, p.price, p.in_stock, p.category_id]),
        );
        for (const p of products) {
          assert.equal(p.formattedPrice, formatPrice(p.priceMinor));
          assert.equal(p.category.id, p.categoryId);
        }
      });

      test('seed defaults: first 10 from offset 0; filters combine', async () => {
        const all = (await gql('{ products { id } }')).body.data!.products;
        assert.equal(all.length, 10);
        const filtered = (
          await gql(
            'query($c: ID, $s: Boolean) { products(categoryId: $c, inStock: $s, first: 100) { categoryId inStock } }',
            {
              c: categoryId,
              s: true,
            },
          )
        ).body.data!.products as Array<{ categoryId: string; inStock: boolean }>;
        assert.ok(filtered.length > 0);
        assert.ok(filtered.every((p) => p.categoryId === categoryId && p.inStock));
        const restTotal = (
          await h.server.inject({ url: `/api/v1/products?category_id=${categoryId}&in_stock=true` })
        ).json().pagination.total;
        assert.equal(filtered.length, restTotal);
      });

      test('a missing product is null with PRODUCT_NOT_FOUND, as REST says 404', async () => {
        const { body } = await gql('{ product(id: "nope") { id } }');
        assert.equal(body.data!.product, null);
        assert.equal(body.errors![0]!.extensions.code, 'PRODUCT_NOT_FOUND');
        assert.deepEqual(body.errors![0]!.extensions.http, { status: 404 });
        const rest = await h.server.inject({ url: '/api/v1/products/nope' });
        assert.equal(rest.json().code, 'PRODUCT_NOT_FOUND');
      });

      test('categories with their products; category by id', async () => {
        const { body } = await gql('{ categories { id name products(first: 3) { name categoryId } } }');
        const categories = body.data!.categories as Array<{
          id: string;
          products: Array<{ categoryId: string }>;
        }>;
        assert.ok(categories.length >= 2);
        for (const c of categories) {
          assert.ok(c.products.length > 0 && c.products.length <= 3);
          assert.ok(c.products.every((p) => p.categoryId === c.id));
        }
        const one = await gql('query($id: ID!) { category(id: $id) { id products(first: 100) { id } } }', {
          id: categoryId,
        });
        assert.equal(one.body.data!.category.id, categoryId);
        assert.equal(one.body.data!.category.products.length, 12);
        const missing = await gql('{ category(id: "nope") { id } }');
        assert.equal(missing.body.errors![0]!.extensions.code, 'CATEGORY_NOT_FOUND');
      });

      test('searchProducts finds by name and description, case-insensitively', async () => {
        const { body } = await gql('{ searchProducts(query: "KEYBOARD") { name description } }');
        const found = body.data!.searchProducts as Array<{ name: string; description: string }>;
        assert.ok(found.length >= 1);
        assert.ok(found.every((p) => `${p.name} ${p.description}`.toLowerCase().includes('keyboard')));
        const none = await gql('{ searchProducts(query: "zzzz-no-such-thing") { id } }');
        assert.deepEqual(none.body.data!.searchProducts, []);
      });

      test('cursor pagination walks every product once, forwards and backwards', async () => {
        const page = `query($after: String, $before: String, $first: Int, $last: Int) {
          productsConnection(first: $first, after: $after, last: $last, before: $before) {
            totalCount edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`;
        const seen: string[] = [];
        let after: string | null = null;
        let pages = 0;
        for (;;) {
          const c: Json = (await gql(page, { first: 25, after })).body.data!.productsConnection;
          assert.equal(c.totalCount, 60);
          seen.push(...c.edges.map((e: Json) => e.node.id));
          pages++;
          if (!c.pageInfo.hasNextPage) break;
          after = c.pageInfo.endCursor;
        }
        assert.equal(pages, 3);
        assert.equal(new Set(seen).size, 60);
        assert.deepEqual(seen, [...seen].sort());
        const last: Json = (await gql(page, { first: 25, after: null })).body.data!.productsConnection;
        const back: Json = (await gql(page, { last: 10, before: last.pageInfo.endCursor })).body.data!
          .productsConnection;
        assert.deepEqual(
          back.edges.map((e: Json) => e.node.id),
          seen.slice(14, 24),
        );
        assert.equal(back.pageInfo.hasPreviousPage, true);
        const bad = await gql(page, { first: 5, after: 'not-a-cursor' });
        assert.equal(bad.body.errors![0]!.extensions.code, 'INVALID_CURSOR');
      });

      test('offsets past the limit point to the connection', async () => {
        const { body } = await gql('{ products(offset: 100001) { id } }');
        assert.equal(body.errors![0]!.extensions.code, 'PAGE_TOO_DEEP');
        const negative = await gql('{ products(first: -1) { id } }');
        assert.equal(negative.body.errors![0]!.extensions.code, 'VALIDATION_ERROR');
      });
    });

    describe('mutations', () => {
      const create = `mutation($input: ProductInput!) { createProduct(input: $input) {
        success errors codes fieldErrors { field code message } product { id name price formattedPrice inStock category { id } } } }`;

      test('need a token, then the catalog:write scope, exactly as REST writes', async () => {
        const input = { name: 'Lamp', price: 19.99, categoryId };
        const anonymous = await gql(create, { input });
        assert.equal(anonymous.body.data, null);
        assert.equal(anonymous.body.errors![0]!.extensions.code, 'AUTHENTICATION_REQUIRED');
        assert.equal(anonymous.body.errors![0]!.extensions.http.status, 401);
        assert.match(anonymous.body.errors![0]!.extensions.http.headers['www-authenticate'], /^Bearer /);
        const customer = await gql(create, { input }, h.customer);
        assert.equal(customer.body.errors![0]!.extensions.code, 'INSUFFICIENT_SCOPE');
        assert.equal(customer.body.errors![0]!.extensions.http.status, 403);
        // A token that is sent is checked before the document is read: a 401 problem.
        const forged = await gql(create, { input }, { authorization: 'Bearer not.a.token' });
        assert.equal(forged.status, 401);
        assert.equal((forged.body as Json).code, 'INVALID_TOKEN');
        const rest = await h.server.inject({
          method: 'POST',
          url: '/api/v1/products',
          headers: h.customer,
          payload: { name: 'Lamp', description: '', price: 19.99, category_id: categoryId },
        });
        assert.equal(rest.json().code, 'INSUFFICIENT_SCOPE');
      });

      test('createProduct stores exact cents and REST reads the same product', async () => {
        const { body } = await gql(create, { input: { name: ' Lamp ', price: 0.3, categoryId } }, h.admin);
        const payload = body.data!.createProduct;
        assert.deepEqual([payload.success, payload.errors, payload.codes], [true, [], []]);
        assert.equal(payload.product.name, 'Lamp');
        assert.equal(payload.product.price, 0.3);
        assert.equal(payload.product.formattedPrice, '$0.30');
        assert.equal(payload.product.inStock, true);
        assert.equal(payload.product.category.id, categoryId);
        const rest = (await h.server.inject({ url: `/api/v1/products/${payload.product.id}` })).json().data;
        assert.equal(rest.price, 0.3);
        assert.equal(rest.name, 'Lamp');
      });

      test('domain refusals come back in the payload with the codes REST uses', async () => {
        for (const [input, code, field] of [
          [{ name: 'x', price: 0, categoryId }, 'INVALID_PRICE', 'price'],
          [{ name: 'x', price: 1.005, categoryId }, 'INVALID_PRICE', 'price'],
          [{ name: 'x', price: 5, categoryId: 'no-such-category' }, 'UNKNOWN_CATEGORY', 'categoryId'],
          [{ name: '   ', price: 5, categoryId }, 'VALIDATION_ERROR', 'name'],
        ] as const) {
          const { body } = await gql(create, { input }, h.admin);
          const payload = body.data!.createProduct;
          assert.equal(payload.success, false, JSON.stringify(input));
          assert.equal(payload.product, null);
          assert.deepEqual(payload.codes, [code]);
          assert.ok(payload.errors.length > 0 && payload.errors.every((e: unknown) => typeof e === 'string'));
          assert.equal(payload.fieldErrors[0].field, field);
          const rest = await h.server.inject({
            method: 'POST',
            url: '/api/v1/products',
            headers: h.admin,
            payload: { name: input.name, description: '', price: input.price, category_id: input.categoryId },
          });
          assert.equal(rest.json().code, code, `REST answers ${JSON.stringify(input)} with the same code`);
        }
      });

      test('updateProduct changes only the fields given; deleteProduct removes', async () => {
        const created = (await gql(create, { input: { name: 'Desk', price: 100, categoryId } }, h.admin)).body
          .data!.createProduct.product;
        const update = `mutation($id: ID!, $input: ProductUpdateInput!) { updateProduct(id: $id, input: $input) {
          success errors codes fieldErrors { field code } product { name price inStock } } }`;
        const changed = (
          await gql(update, { id: created.id, input: { price: 89.5, inStock: false } }, h.admin)
        ).body.data!.updateProduct;
        assert.equal(changed.success, true);
        assert.deepEqual(changed.product, { name: 'Desk', price: 89.5, inStock: false });
        const nulls = (await gql(update, { id: created.id, input: { name: null } }, h.admin)).body.data!
          .updateProduct;
        assert.deepEqual(
          [nulls.success, nulls.codes, nulls.fieldErrors[0].field],
          [false, ['VALIDATION_ERROR'], 'name'],
        );
        const missing = (await gql(update, { id: 'nope', input: { price: 2 } }, h.admin)).body.data!
          .updateProduct;
        assert.deepEqual([missing.success, missing.codes], [false, ['PRODUCT_NOT_FOUND']]);

        const remove =
          'mutation($id: ID!) { deleteProduct(id: $id) { success errors codes product { id } } }';
        const deleted = (await gql(remove, { id: created.id }, h.admin)).body.data!.deleteProduct;
        assert.deepEqual([deleted.success, deleted.product.id], [true, created.id]);
        assert.equal((await h.server.inject({ url: `/api/v1/products/${created.id}` })).statusCode, 404);
        const again = (await gql(remove, { id: created.id }, h.admin)).body.data!.deleteProduct;
        assert.deepEqual(
          [again.success, again.codes, again.errors],
          [false, ['PRODUCT_NOT_FOUND'], [`Product with id ${created.id} not found`]],
        );
      });
    });

    describe('protection', () => {
      test('depth, aliases, cost and tokens are limited with clear codes', async () => {
        const deep = await gql(
          '{ products { category { products { category { products { category { products { category { name } } } } } } } } }',
        );
        assert.equal(deep.body.errors![0]!.extensions.code, 'DEPTH_LIMIT_EXCEEDED');
        assert.match(deep.body.errors![0]!.message, /depth 9 exceeds the limit of 8/);
        const aliases = await gql(
          `{ ${Array.from({ length: 31 }, (_, i) => `a${i}: __typename`).join(' ')} }`,
        );
        assert.equal(aliases.body.errors![0]!.extensions.code, 'ALIAS_LIMIT_EXCEEDED');
        const costly = await gql(
          '{ products(first: 100) { category { products(first: 100) { id name } } } }',
        );
        assert.equal(costly.body.errors![0]!.extensions.code, 'COST_LIMIT_EXCEEDED');
        assert.equal(costly.body.data, undefined);
        const tokens = await gql(`{ ${'__typename '.repeat(2001)}}`);
        assert.equal(tokens.body.errors![0]!.extensions.code, 'TOKEN_LIMIT_EXCEEDED');
        const fine = await gql('{ products(first: 20) { category { products(first: 20) { id } } } }');
        assert.equal(fine.body.errors, undefined);
      });

      test('internal errors are masked: no message, stack or SQL leaves the server', async () => {
        const list = h.server.products.list;
        h.server.products.list = async () => {
          throw new Error('SQLITE_ERROR: no such column: secret_column in select * from products');
        };
        try {
          // A new text runs on graphql-js first, then compiled by graphql-jit: both must mask.
          for (let run = 0; run < 2; run++) {
            const { status, body } = await gql('{ masked: products(first: 3) { id } }');
            assert.equal(status, 200);
            const text = JSON.stringify(body);
            assert.equal(body.errors![0]!.message, 'Unexpected error.');
            assert.equal(body.errors![0]!.extensions.code, 'INTERNAL_SERVER_ERROR');
            assert.doesNotMatch(text, /secret_column|SQLITE|stack|at /);
          }
        } finally {
          h.server.products.list = list;
        }
      });

      test('CSRF: no mutation over GET, only JSON bodies are read', async () => {
        const get = await h.server.inject({
          url: `/graphql?query=${encodeURIComponent('mutation { deleteProduct(id: "x") { success } }')}`,
          headers: h.admin,
        });
        assert.equal(get.statusCode, 405);
        for (const type of [
          'text/plain',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=x',
        ]) {
          const res = await h.server.inject({
            method: 'POST',
            url: '/graphql',
            headers: { 'content-type': type, ...h.admin },
            payload: 'query=mutation%20%7B%20deleteProduct(id%3A%20%22x%22)%20%7B%20success%20%7D%20%7D',
          });
          assert.equal(res.statusCode, 415, type);
        }
      });

      test('a body that is not a GraphQL request is a 400 that says why, not a masked error', async () => {
        for (const [payload, message] of [
          ['[{"query":"{ __typename }"},{"query":"{ __typename }"}]', /Batched requests .* not supported/],
          ['{"query":"{ __typename }","operationName":5}', /Invalid operationName/],
          ['{"variables":{}}', /Missing query/],
          ['{"query":"{ __typename }","variables":[1]}', /Invalid variables/],
        ] as const) {
          const res = await h.server.inject({
            method: 'POST',
            url: '/graphql',
            headers: { 'content-type': 'application/json' },
            payload,
          });
          assert.equal(res.statusCode, 400, payload);
          const [error] = res.json().errors;
          assert.match(error.message, message, payload);
          assert.deepEqual(error.extensions, { code: 'BAD_REQUEST', http: { status: 400 } }, payload);
        }
      });

      test('a subscription over plain HTTP says where subscriptions are served', async () => {
        const { body } = await gql('subscription { productUpdated { id } }');
        assert.equal(body.data, undefined);
        assert.equal(body.errors![0]!.extensions.code, 'SUBSCRIPTION_NEEDS_STREAM');
      });

      test('GraphiQL for browsers and introspection, where turned on (the developer set-up)', async () => {
        const page = await h.server.inject({ url: '/graphql', headers: { accept: 'text/html' } });
        assert.equal(page.statusCode, 200);
        assert.match(page.headers['content-type'] as string, /^text\/html/);
        assert.match(page.body, /GraphiQL|graphiql/);
        // Its inline scripts by their hashes, nothing from elsewhere (the browser's view of this
        // policy is graphql-graphiql.test.ts).
        const hashes = inlineScriptHashes(page.body);
        assert.equal(hashes.length, 1, 'one inline script: the bundle and its start');
        assert.deepEqual(securityHeadersOf(page.headers), {
          ...JSON_API_SECURITY_HEADERS,
          'content-security-policy':
            `default-src 'none';script-src ${hashes.join(' ')};worker-src blob:;style-src 'unsafe-inline';` +
            "img-src data:;font-src data:;connect-src 'self';object-src 'none';base-uri 'none';" +
            "form-action 'none';frame-ancestors 'none'",
        });
        assert.doesNotMatch(
          page.body,
          /<script[^>]+src=["']?https?:|<link[^>]+href=["']?https?:/,
          'no CDN: GraphiQL works offline',
        );
        const gzipped = await h.server.inject({
          url: '/graphql',
          headers: { accept: 'text/html', 'accept-encoding': 'gzip, br' },
        });
        assert.equal(gzipped.headers['content-encoding'], 'gzip');
        assert.equal(gunzipSync(gzipped.rawPayload).toString(), page.body);
        const schema = await gql('{ __schema { queryType { name } } }');
        assert.equal(schema.body.data!.__schema.queryType.name, 'Query');
      });
    });
  });
}

describe('catalog GraphQL configured for production', () => {
  test('introspection and GraphiQL are off by default', async () => {
    const issuer = await createTestIssuer();
    const config = loadConfig('catalog', ConfigSchema, {
      env: {},
      overrides: {
        databaseUrl: 'sqlite::memory:',
        logLevel: 'silent',
      },
    });
    const server = await build(config, { verifier: issuer.verifier });
    const h = { server, close: () => server.close() };
    try {
      const res = await h.server.inject({
        method: 'POST',
        url: '/graphql',
        headers: { 'content-type': 'application/json' },
        payload: { query: '{ __schema { types { name } } }' },
      });
      assert.match(res.json().errors[0].message, /introspection/i);
      const page = await h.server.inject({ url: '/graphql', headers: { accept: 'text/html' } });
      assert.notEqual(page.headers['content-type'], 'text/html; charset=utf-8');
      const ok = await h.server.inject({
        method: 'POST',
        url: '/graphql',
        headers: { 'content-type': 'application/json' },
        payload: { query: '{ products(first: 1) { name } }' },
      });
      assert.equal(ok.json().data.products.length, 1);
    } finally {
      await h.close();
    }
  });
});

describe('GraphQL limits count introspection like any other field', () => {
  const ofType = (n: number): string => (n === 0 ? 'name' : `name ofType { ${ofType(n - 1)} }`);
  async function catalog(introspection: boolean) {
    const issuer = await createTestIssuer();
    const config = loadConfig('catalog', ConfigSchema, {
      env: {},
      overrides: { databaseUrl: 'sqlite::memory:', logLevel: 'silent', graphql: { introspection } },
    });
    const server = await build(config, { verifier: issuer.verifier });
    const post = async (query: string) => {
      const res = await server.inject({
        method: 'POST',
        url: '/graphql',
        headers: { 'content-type': 'application/json' },
        payload: { query },
      });
      return { status: res.statusCode, body: res.json() as Gql, bytes: res.body.length };
    };
    return { server, post };
  }
  const codes = (body: Gql) => (body.errors ?? []).map((e) => e.extensions?.code);

  test('depth, aliases and cost under __type and __schema are refused, introspection on or off', async () => {
    for (const introspection of [false, true]) {
      const { server, post } = await catalog(introspection);
      try {
        // Depth 13 under __type, next to a real field: no schema dump, so counted as usual.
        const deep = await post(
          `{ products(first: 1) { id } __type(name: "Product") { fields { type { ${ofType(9)} } } } }`,
        );
        assert.ok(codes(deep.body).includes('DEPTH_LIMIT_EXCEEDED'), JSON.stringify(deep.body));
        assert.equal(deep.body.data, undefined);
        // 40 aliases under __type.
        const aliased = Array.from({ length: 40 }, (_, i) => `a${i}: name`).join(' ');
        const many = await post(`{ __type(name: "Product") { ${aliased} } }`);
        assert.ok(codes(many.body).includes('ALIAS_LIMIT_EXCEEDED'));
        // 50 aliased schema dumps: refused, never a 500 KB answer.
        const dumps = Array.from(
          { length: 50 },
          (_, i) => `s${i}: __schema { types { fields { name } } }`,
        ).join(' ');
        const amplified = await post(`{ ${dumps} }`);
        assert.ok(codes(amplified.body).includes('ALIAS_LIMIT_EXCEEDED'));
        assert.equal(amplified.body.data, undefined);
        assert.ok(amplified.bytes < 32_768, `${amplified.bytes} bytes of errors, no data`);
        // Under the alias limit, the cost of ten dumps still refuses them.
        const ten = Array.from(
          { length: 10 },
          (_, i) => `s${i}: __schema { types { fields { name } } }`,
        ).join(' ');
        assert.ok(codes((await post(`{ ${ten} }`)).body).includes('COST_LIMIT_EXCEEDED'));
      } finally {
        await server.close();
      }
    }
  });

  test("where introspection is on, GraphiQL's own schema query is answered; off, it is refused", async () => {
    const on = await catalog(true);
    const off = await catalog(false);
    try {
      const query = getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true });
      const answered = await on.post(query);
      assert.equal(answered.body.errors, undefined);
      assert.equal((answered.body.data!.__schema as Json).queryType.name, 'Query');
      const refused = await off.post(query);
      assert.equal(refused.body.data, undefined);
      assert.ok(refused.body.errors!.some((e) => /introspection/i.test(e.message)));
    } finally {
      await on.server.close();
      await off.server.close();
    }
  });
});
