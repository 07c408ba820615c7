/**
 * Search through the full-text index (FTS5 on SQLite, tsvector + GIN on PostgreSQL), on a
 * real socket: ranking in tiers, prefixes, every word required, user text that is never query syntax,
 * the index kept in step with writes, and the documented totals.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { databaseTargets } from '@portico/store/testing';
import { SEARCH_DEPTH } from '../src/data/products.ts';
import { encodeCursor } from '../src/domain/pages.ts';
import { buildCatalog, type Harness } from './support/harness.ts';

interface Page {
  data: Array<{ id: string; name: string }>;
  pagination: { total: number; total_is_exact: boolean; has_next: boolean; next_cursor?: string | null };
}

const PRODUCTS: Array<[string, string]> = [
  ['Wireless keyboard', 'Bluetooth, quiet keys'],
  ['Keyboard cable', 'USB-C to USB-A, braided'],
  ['Desk mat', 'Felt, large enough for a keyboard plus a mouse'],
  ['Headphones', 'Over-ear, 3.5 mm jack'],
  ['50% off "quoted" AND (special) *star* NEAR_me', 'Edge cases: 100% cotton_shirt \\ back-slash'],
  ['Café crème mug', 'Ceramic'],
];

for (const makeTarget of databaseTargets()) {
  const target = makeTarget();
  describe(`catalog search (${target.name})`, () => {
    let h: Harness;
    let base: string;
    let category: string;
    const ids = new Map<string, string>();
    before(async () => {
      h = await buildCatalog(target, { demoData: false, readCacheTtlMs: 0 });
      base = await h.server.listen({ port: 0, host: '127.0.0.1' });
      category = (await h.server.categories.create({ name: 'Things' })).id;
      for (const [name, description] of PRODUCTS)
        ids.set(
          name,
          (await h.server.products.create({ name, description, price: 3, categoryId: category })).id,
        );
    });
    after(() => h.close());

    const search = async (q: string, extra = ''): Promise<Page> => {
      const res = await fetch(`${base}/api/v1/products?q=${encodeURIComponent(q)}${extra}`);
      assert.equal(res.status, 200, `q=${q}`);
      return (await res.json()) as Page;
    };
    const names = async (q: string, extra = '') => (await search(q, extra)).data.map((p) => p.name);

    test('ranks a match in the name above one in the description', async () => {
      const found = await names('keyboard');
      assert.equal(found.length, 3);
      assert.equal(found.at(-1), 'Desk mat');
      assert.deepEqual(found.slice(0, 2).sort(), ['Keyboard cable', 'Wireless keyboard']);
    });

    test('within a tier the newest comes first, on both databases', async () => {
      for (const [name, description] of [
        ['Lamp', 'Brass'],
        ['Lamp shade with a long name for a floor stand', 'Linen'],
        ['Floor stand', 'Fits any lamp'],
        ['Desk', 'A lamp hook'],
      ] as const)
        await h.server.products.create({ name, description, price: 3, categoryId: category });
      assert.deepEqual(await names('lamp'), [
        'Lamp shade with a long name for a floor stand',
        'Lamp',
        'Desk',
        'Floor stand',
      ]);
    });

    test('every word in the name comes first, then every other match; a prefix counts in either tier', async () => {
      // The oldest has both words in its name; the others hold one of them only in the description.
      for (const [name, description] of [
        ['Quartz vase', 'old'],
        ['Vase', 'glass'],
        ['Quartz', 'vase'],
        ['Vase', 'quartz'],
      ] as const)
        await h.server.products.create({ name, description, price: 3, categoryId: category });
      assert.deepEqual(await names('quartz vase'), ['Quartz vase', 'Vase', 'Quartz']);
      assert.deepEqual(await names('vase quar'), ['Quartz vase', 'Vase', 'Quartz']);
      assert.deepEqual(await names('quartz va'), ['Quartz vase', 'Vase', 'Quartz']);
    });

    test('offset pages walk the name tier, then the rest, each product once', async () => {
      const all = await names('keyboard');
      const walked: string[] = [];
      for (let page = 1; page <= all.length; page++) {
        const one = await search('keyboard', `&per_page=1&page=${page}`);
        walked.push(...one.data.map((p) => p.name));
        assert.equal(one.pagination.has_next, page < all.length, `page ${page}`);
        // Before the last match the total may be an estimate (PostgreSQL: the planner's), never
        // below what the page has seen; the page that reaches the last match knows it exactly.
        if (one.pagination.total_is_exact) assert.equal(one.pagination.total, all.length);
        else assert.ok(one.pagination.total > page, `page ${page}: total ${one.pagination.total}`);
        if (page === all.length) assert.equal(one.pagination.total_is_exact, true);
      }
      assert.deepEqual(walked, all);
      assert.equal((await search('keyboard', `&per_page=1&page=${all.length + 1}`)).data.length, 0);
    });

    test('every word must match; the last one, of two or more letters, also matches words it starts', async () => {
      assert.deepEqual(await names('wireless keyboard'), ['Wireless keyboard']);
      assert.deepEqual(await names('KEYBOARD wire'), ['Wireless keyboard']);
      assert.deepEqual(await names('keyb wireless'), [], 'only the last word is a prefix');
      assert.deepEqual(await names('head'), ['Headphones']);
      assert.deepEqual(await names('usb-c'), ['Keyboard cable']);
      assert.deepEqual(await names('3.5'), ['Headphones']);
      assert.deepEqual(await names('café'), ['Café crème mug']);
      // One letter is a word of its own, not a prefix of every word.
      assert.deepEqual(await names('k'), []);
      assert.deepEqual(await names('nothing like this'), []);
    });

    test('user text is data: quotes, wildcards, operators and escapes are never syntax', async () => {
      const special = '50% off "quoted" AND (special) *star* NEAR_me';
      for (const q of ['%', '_', '"', '*', '-', '(', ')', "'", '\\', ':*', '&|!', '""', '^', '%_%']) {
        const page = await search(q);
        assert.equal(page.pagination.total, 0, `q=${q}`);
      }
      for (const q of [
        'AND',
        'and',
        'NEAR',
        '"quoted"',
        '(special)',
        '*star*',
        'near_me',
        '100%',
        'NEAR()',
        'cotton_shirt',
        'back\\slash',
      ])
        assert.deepEqual(await names(q), [special], `q=${q}`);
      // `-` is not NOT, `OR` is a word (all words must match), parentheses do not group.
      assert.deepEqual((await names('-keyboard')).length, 3);
      assert.deepEqual(await names('keyboard OR mouse'), []);
      assert.deepEqual(await names('(keyboard mouse)'), ['Desk mat']);
      assert.deepEqual(await names('NEAR(keyboard mouse)'), []);
      assert.deepEqual(await names("keyboard' OR '1'='1"), []);
      // The index also tags each product with its category and stock: words never match them.
      assert.deepEqual(await names('s1'), []);
      assert.deepEqual(await names(`c${category.replaceAll('-', '')}`), []);
      assert.deepEqual(await names('keyboard', '&category_id=%22%20OR%20%22x'), []);
    });

    test('the index follows every write in its transaction', async () => {
      const created = await h.server.products.create({
        name: 'Zebra lamp',
        description: 'striped',
        price: 1,
        categoryId: category,
      });
      assert.deepEqual(await names('zebra'), ['Zebra lamp']);
      await h.server.products.patch(created.id, { name: 'Okapi lamp', description: 'plain' });
      assert.deepEqual(await names('zebra'), []);
      assert.deepEqual(await names('striped'), []);
      assert.deepEqual(await names('okapi plain'), ['Okapi lamp']);
      await h.server.products.patch(created.id, { inStock: false });
      assert.deepEqual(await names('okapi', '&in_stock=true'), []);
      assert.deepEqual(await names('okapi', '&in_stock=false'), ['Okapi lamp']);
      await h.server.products.remove(created.id);
      assert.deepEqual(await names('okapi'), []);
    });

    test('filters, cursor pages and GraphQL searchProducts use the same index', async () => {
      const other = await h.server.categories.create({ name: 'Other things' });
      const moved = await h.server.products.create({
        name: 'Keyboard tray',
        description: '',
        price: 2,
        categoryId: other.id,
        inStock: false,
      });
      assert.deepEqual(await names('keyboard', `&category_id=${other.id}`), ['Keyboard tray']);
      assert.deepEqual(await names('keyboard', `&category_id=${other.id}&in_stock=true`), []);
      await h.server.products.patch(moved.id, { categoryId: category, inStock: true });
      assert.deepEqual(await names('keyboard', `&category_id=${other.id}`), []);
      assert.ok(
        (await names('keyboard', `&category_id=${category}&in_stock=true`)).includes('Keyboard tray'),
      );
      await h.server.products.remove(moved.id);

      assert.deepEqual(await names('keyboard', `&category_id=${category}&in_stock=true&per_page=1`), [
        (await names('keyboard'))[0]!,
      ]);
      const cursorPage = await search('keyboard', '&cursor=&per_page=2');
      assert.equal(cursorPage.pagination.total, 3);
      assert.equal(cursorPage.pagination.total_is_exact, true);
      assert.deepEqual(
        cursorPage.data.map((p) => p.id),
        [...cursorPage.data.map((p) => p.id)].sort(),
        'cursor pages are in id order',
      );
      const res = await fetch(`${base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ searchProducts(query: "keyboard") { name } }' }),
      });
      const body = (await res.json()) as { data: { searchProducts: Array<{ name: string }> } };
      assert.deepEqual(
        body.data.searchProducts.map((p) => p.name),
        await names('keyboard'),
      );
    });

    test(`past ${SEARCH_DEPTH} matches the total is an estimate and offset pages stop there`, async () => {
      const bulk = await h.server.categories.create({ name: 'Bulk' });
      for (let i = 0; i <= SEARCH_DEPTH; i++)
        await h.server.products.create({
          name: `Bolt ${i}`,
          description: '',
          price: 1,
          categoryId: bulk.id,
        });
      const first = await search('bolt', '&per_page=100');
      assert.equal(first.pagination.total_is_exact, false);
      assert.ok(first.pagination.total > 100, `total ${first.pagination.total}`);
      assert.equal(first.pagination.has_next, true);
      assert.equal(first.data[0]!.name, `Bolt ${SEARCH_DEPTH}`, 'newest first');
      const last = await search('bolt', `&per_page=100&page=${SEARCH_DEPTH / 100}`);
      assert.equal(last.data.length, 100);
      assert.equal(last.data.at(-1)!.name, 'Bolt 1');
      assert.equal(last.pagination.has_next, false);
      assert.equal((await search('bolt', `&per_page=100&page=${SEARCH_DEPTH / 100 + 1}`)).data.length, 0);
      // A cursor page's total is the same kind of estimate; a search with fewer matches is exact.
      const cursorPage = await search('bolt', '&cursor=&per_page=5');
      assert.equal(cursorPage.pagination.total_is_exact, false);
      assert.ok(cursorPage.pagination.total > 100);
      // Every bolt is in `bulk`: within it, the same pages (PostgreSQL reads a page of a category's
      // newest rows first, and GIN when that page is deep or the window holds too few matches).
      for (const page of [1, 2, SEARCH_DEPTH / 100]) {
        const within = await search('bolt', `&per_page=100&page=${page}&category_id=${bulk.id}`);
        const anywhere = await search('bolt', `&per_page=100&page=${page}`);
        assert.deepEqual(
          within.data.map((p) => p.id),
          anywhere.data.map((p) => p.id),
          `page ${page}`,
        );
        assert.equal(within.pagination.has_next, anywhere.pagination.has_next);
      }
      assert.deepEqual(await names('bolt 99', `&category_id=${bulk.id}&in_stock=true&per_page=3`), [
        'Bolt 999',
        'Bolt 998',
        'Bolt 997',
      ]);
      // A cursor walk, forwards then backwards, returns every match once, in id order.
      type CursorPage = Page & { pagination: { previous_cursor?: string | null } };
      const walk = async (
        first: string,
        next: (p: CursorPage) => string | null | undefined,
        extra = '&per_page=100',
      ) => {
        const seen: string[] = [];
        let page = (await search('bolt', `${extra}&cursor=${first}`)) as CursorPage;
        for (;;) {
          seen.push(...page.data.map((p) => p.id));
          const cursor = next(page);
          if (!cursor) return seen;
          page = (await search('bolt', `${extra}&cursor=${cursor}`)) as CursorPage;
        }
      };
      const forwards = await walk('', (p) => p.pagination.next_cursor);
      assert.equal(forwards.length, SEARCH_DEPTH + 1);
      assert.equal(new Set(forwards).size, forwards.length);
      assert.deepEqual(forwards, [...forwards].sort(), 'id order');
      const backwards = await walk(encodeCursor({ before: 'z' }), (p) => p.pagination.previous_cursor);
      assert.equal(backwards.length, forwards.length);
      assert.deepEqual(new Set(backwards), new Set(forwards));
      // Within the category (PostgreSQL tests the category's rows from the cursor on), the same.
      const inBulk = `&per_page=20&category_id=${bulk.id}`;
      assert.deepEqual(await walk('', (p) => p.pagination.next_cursor, inBulk), forwards);
      const bulkBackwards = await walk(
        encodeCursor({ before: 'z' }),
        (p) => p.pagination.previous_cursor,
        inBulk,
      );
      assert.deepEqual(new Set(bulkBackwards), new Set(forwards));
      assert.equal(bulkBackwards.length, forwards.length);
      // A cursor whose product was deleted continues from where it was, as a list's does.
      const [removed, resumedAt] = [forwards[199]!, forwards[200]!];
      await h.server.products.remove(removed);
      const resumed = await search('bolt', `&per_page=3&cursor=${encodeCursor({ after: removed })}`);
      assert.equal(resumed.data[0]!.id, resumedAt);
      assert.deepEqual(
        resumed.data.map((p) => p.id),
        forwards.slice(200, 203),
      );
      const few = await search('bolt 100');
      assert.deepEqual(
        few.data.map((p) => p.name),
        ['Bolt 1000', 'Bolt 100'],
      );
      assert.equal(few.pagination.total_is_exact, true);
      // Without `q` the totals stay exact.
      const listed = await (await fetch(`${base}/api/v1/products?category_id=${bulk.id}`)).json();
      assert.equal(listed.pagination.total, SEARCH_DEPTH, 'one bolt was removed above');
      assert.equal(listed.pagination.total_is_exact, true);
    });
  });
}
