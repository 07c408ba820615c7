/**
 * Every way a search reads the index gives what a plain filter of the rows gives: two and three
 * words, a prefix, within one or several categories and stock, offset pages deep into the
 * matches, cursor pages either way, and after renames, moves and deletes. On PostgreSQL these
 * take the category walk or GIN depending on how many matches a page finds; on SQLite, FTS5.
 * The expected pages come from the words of each row, ranked as 0006 says: every word in the
 * name first, then the rest, newest first in each.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openDatabase, uuidv7 } from '@portico/store/sql';
import { databaseTargets } from '@portico/store/testing';
import { migrations } from '../migrations/index.ts';
import { type ProductFilter, productsTable } from '../src/data/products.ts';
import type { CatalogDatabase, ProductsTable } from '../src/data/schema.ts';
import { searchTerms } from '../src/data/search-terms.ts';

const BRANDS = ['acme', 'nordvik', 'lumen'];
const ADJECTIVES = ['wireless', 'compact', 'rugged', 'silent', 'smart'];
const NOUNS = ['cable', 'cables', 'charger', 'camera', 'lamp', 'kettle'];
const WORDS = ['oak', 'steel', 'cable', 'travel', 'quiet', 'compact', 'kitchen', 'wireless'];

/** A small deterministic generator, so a failure names the same rows on every run. */
function random(seed: number) {
  let a = seed;
  return (n: number) => {
    a = (a * 1103515245 + 12345) % 2147483648;
    return Math.floor((a / 2147483648) * n);
  };
}

const words = (text: string) =>
  text
    .normalize('NFC')
    .toLowerCase()
    .match(/[\p{L}\p{N}]+/gu) ?? [];

/** The ranked matches of a search, from the rows alone. */
function expected(rows: ProductsTable[], filter: ProductFilter): ProductsTable[] {
  const terms = searchTerms(filter.q ?? '');
  if (terms.length === 0) return [];
  const holds = (text: string) => {
    const have = words(text);
    return terms.every((t) => have.some((w) => (t.prefix ? w.startsWith(t.text) : w === t.text)));
  };
  const kept = rows
    .filter((r) => filter.categoryId === undefined || r.category_id === filter.categoryId)
    .filter((r) => filter.categoryIds === undefined || filter.categoryIds.includes(r.category_id))
    .filter((r) => filter.inStock === undefined || Boolean(r.in_stock) === filter.inStock)
    .filter((r) => holds(`${r.name} ${r.description}`))
    .sort((a, b) => (a.id < b.id ? 1 : -1));
  return [...kept.filter((r) => holds(r.name)), ...kept.filter((r) => !holds(r.name))];
}

for (const makeTarget of databaseTargets()) {
  const target = makeTarget();
  describe(`search paths against a plain filter (${target.name})`, () => {
    const database = openDatabase<CatalogDatabase>({ url: target.url, schema: target.schema ?? 'catalog' });
    const products = productsTable(database.db, database.dialect);
    const categories = [uuidv7(), uuidv7(), uuidv7()];
    let rows: ProductsTable[] = [];

    before(async () => {
      await database.migrate(migrations);
      const now = new Date().toISOString();
      for (const id of categories)
        await database.db
          .insertInto('categories')
          .values({ id, name: id, description: '', created_at: now, updated_at: now })
          .execute();
      const next = random(7);
      for (let i = 0; i < 700; i++) {
        const description = Array.from({ length: 4 }, () => WORDS[next(WORDS.length)]).join(' ');
        rows.push({
          id: uuidv7(),
          name: `${BRANDS[next(3)]} ${ADJECTIVES[next(5)]} ${NOUNS[next(6)]} ${next(40)}`,
          description: `${description}.`,
          price_minor: 100,
          currency: 'EUR',
          category_id: categories[next(3)]!,
          in_stock: next(5) > 0,
          version: 1,
          created_at: now,
          updated_at: now,
        });
      }
      // One statement for many rows (the triggers see them all at once), then some alone.
      await database.db.insertInto('products').values(rows.slice(0, 600)).execute();
      for (const row of rows.slice(600)) await products.insert(row);
      if (database.dialect === 'sqlite') rows = rows.map((r) => ({ ...r, in_stock: r.in_stock ? 1 : 0 }));
    });
    after(async () => {
      await database.close();
      await target.cleanup();
    });

    const filters = (): ProductFilter[] => {
      const [a, b] = categories;
      return [
        { q: 'wireless cable' },
        { q: 'wireless cab' },
        { q: 'acme wireless cable' },
        { q: 'cable' },
        { q: 'ca' },
        { q: 'cab' },
        { q: 'oak cable' },
        { q: 'steel compact' },
        { q: 'wireless cable', categoryId: a },
        { q: 'cable', categoryId: a, inStock: true },
        { q: 'oak wireless', categoryIds: [a!, b!] },
        { q: 'lamp', categoryIds: [a!, b!], inStock: false },
        // The stock alone, tested on the row (SQLite) rather than as a tag.
        { q: 'oak', inStock: true },
        { q: 'cab', inStock: false },
        { q: 'wireless cable', categoryIds: categories, inStock: true },
        { q: 'zzqx cable' },
        { q: 'cable zzqx' },
        { q: 'lumen 7' },
      ];
    };
    const ids = (list: ProductsTable[]) => list.map((r) => r.id);

    async function compare(label: string) {
      for (const filter of filters()) {
        const all = expected(rows, filter);
        for (const [limit, offset] of [
          [5, 0],
          [20, 0],
          [20, 20],
          [50, 100],
          [100, 200],
        ] as const) {
          const page = await products.search(filter, limit, offset);
          const want = all.slice(offset, offset + limit);
          assert.deepEqual(
            ids(page.rows),
            ids(want),
            `${label} ${JSON.stringify(filter)} ${limit}@${offset}`,
          );
          assert.equal(page.hasNext, all.length > offset + limit, `has_next ${JSON.stringify(filter)}`);
        }
        const byId = [...all].sort((a, b) => (a.id < b.id ? -1 : 1));
        const middle = byId[Math.floor(byId.length / 2)]?.id ?? rows[350]!.id;
        assert.deepEqual(
          ids(await products.pageAfter(filter, 7, middle)),
          ids(byId.filter((r) => r.id > middle).slice(0, 7)),
          `${label} after ${JSON.stringify(filter)}`,
        );
        assert.deepEqual(
          ids(await products.pageBefore(filter, 7, middle)),
          ids(byId.filter((r) => r.id < middle).slice(-7)),
          `${label} before ${JSON.stringify(filter)}`,
        );
        assert.deepEqual(ids(await products.pageAfter(filter, 30)), ids(byId.slice(0, 30)));
        const total = await products.total(filter);
        if (total.exact) assert.equal(total.value, all.length, `total ${JSON.stringify(filter)}`);
        else assert.ok(total.value > 100, `estimate ${JSON.stringify(filter)} ${total.value}`);
      }
    }

    test('every filter, page and cursor matches the rows', async () => {
      await compare('as inserted');
    });

    test('after renames, moves, restocks and deletes, in single and multi-row statements', async () => {
      const next = random(11);
      for (let i = 0; i < 60; i++) {
        const row = rows[next(rows.length)]!;
        const changes = {
          name: `${BRANDS[next(3)]} ${ADJECTIVES[next(5)]} ${NOUNS[next(6)]} ${next(40)}`,
          category_id: categories[next(3)]!,
          in_stock: database.dialect === 'sqlite' ? next(2) : next(2) === 1,
        };
        const updated = await products.update(row.id, row.version, changes);
        assert.ok(updated);
        Object.assign(row, changes, { version: row.version + 1 });
      }
      // One statement moving many rows, and one touching only prices (no words change).
      const moved = rows.filter((r) => r.category_id === categories[0]).slice(0, 40);
      await database.db
        .updateTable('products')
        .set({ category_id: categories[2] })
        .where(
          'id',
          'in',
          moved.map((r) => r.id),
        )
        .execute();
      for (const row of moved) row.category_id = categories[2]!;
      await database.db
        .updateTable('products')
        .set({ price_minor: 200 })
        .where('name', 'like', 'acme%')
        .execute();
      const gone = rows.filter((_, i) => i % 9 === 0);
      await database.db
        .deleteFrom('products')
        .where(
          'id',
          'in',
          gone.map((r) => r.id),
        )
        .execute();
      rows = rows.filter((_, i) => i % 9 !== 0);
      await compare('after writes');
    });
  });
}
