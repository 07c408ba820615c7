/**
 * A catalog that stays as fast at a million products as at a thousand:
 *
 * - `product_counts` holds the number of products per (category, stock) pair, kept in step by
 *   triggers in the writing statement's transaction, so a list's total is a lookup instead of a
 *   `count(*)` over the filter. Its rows are the only filters list pages offer without `q`.
 * - Full-text search through an index: FTS5 on SQLite (external content: the text stays in
 *   `products`), a generated `tsvector` with a GIN index on PostgreSQL. Both see the same words:
 *   runs of letters and digits, case-folded, with no stemming, so a query finds the same
 *   products on either.
 *
 * Both are backfilled from the rows already there. See docs/decisions (catalog at scale).
 */
import { type Migration, type SqlDialect, sql } from '@portico/store/sql';

export function scaleMigration(dialect: SqlDialect): Migration {
  return dialect === 'postgres' ? postgres : sqlite;
}

const sqlite: Migration = {
  async up(db) {
    // FTS5 keys its rows by rowid, and VACUUM may renumber a rowid that is not an alias of an
    // INTEGER PRIMARY KEY: the table is rebuilt with one (`seq`), keeping `id` unique.
    await sql`create table products_next (
      seq integer primary key,
      id text not null unique,
      name text not null,
      description text not null,
      price_minor integer not null check (price_minor > 0),
      currency text not null,
      category_id text not null references categories (id),
      in_stock integer not null,
      version integer not null,
      created_at text not null,
      updated_at text not null
    )`.execute(db);
    await sql`insert into products_next
      (id, name, description, price_minor, currency, category_id, in_stock, version, created_at, updated_at)
      select id, name, description, price_minor, currency, category_id, in_stock, version, created_at, updated_at
      from products order by id`.execute(db);
    await sql`drop table products`.execute(db);
    await sql`alter table products_next rename to products`.execute(db);
    await sql`create index products_category_id on products (category_id, id)`.execute(db);
    await sql`create index products_in_stock_id on products (in_stock, id)`.execute(db);
    await sql`create index products_category_in_stock_id on products (category_id, in_stock, id)`.execute(db);

    await sql`create table product_counts (
      category_id text not null,
      in_stock integer not null,
      n integer not null,
      primary key (category_id, in_stock)
    ) without rowid`.execute(db);
    await sql`insert into product_counts (category_id, in_stock, n)
      select category_id, in_stock, count(*) from products group by category_id, in_stock`.execute(db);
    await sql`create trigger products_count_insert after insert on products begin
      insert into product_counts (category_id, in_stock, n) values (new.category_id, new.in_stock, 1)
        on conflict (category_id, in_stock) do update set n = n + 1;
    end`.execute(db);
    await sql`create trigger products_count_delete after delete on products begin
      update product_counts set n = n - 1 where category_id = old.category_id and in_stock = old.in_stock;
    end`.execute(db);
    await sql`create trigger products_count_update after update of category_id, in_stock on products
      when old.category_id is not new.category_id or old.in_stock is not new.in_stock begin
      update product_counts set n = n - 1 where category_id = old.category_id and in_stock = old.in_stock;
      insert into product_counts (category_id, in_stock, n) values (new.category_id, new.in_stock, 1)
        on conflict (category_id, in_stock) do update set n = n + 1;
    end`.execute(db);

    // The index also holds each product's filters as tags (`c<category id without dashes>`,
    // `s0`/`s1`), so a search within a category or stock is one match in the index instead of
    // a row lookup per match. FTS5 reads external content by column name: a view supplies them.
    await sql`create view products_search_source as
      select seq, name, description,
        'c' || replace(category_id, '-', '') || ' s' || in_stock as tags
      from products`.execute(db);
    // prefix='2 3': prefix queries of two and three characters read a prefix index, not every term.
    await sql`create virtual table products_search using fts5(
      name, description, tags,
      content = 'products_search_source', content_rowid = 'seq',
      tokenize = 'unicode61 remove_diacritics 0', prefix = '2 3'
    )`.execute(db);
    await sql`insert into products_search (products_search) values ('rebuild')`.execute(db);
    const tags = (row: 'new' | 'old') =>
      sql.raw(`'c' || replace(${row}.category_id, '-', '') || ' s' || ${row}.in_stock`);
    await sql`create trigger products_search_insert after insert on products begin
      insert into products_search (rowid, name, description, tags)
        values (new.seq, new.name, new.description, ${tags('new')});
    end`.execute(db);
    await sql`create trigger products_search_delete after delete on products begin
      insert into products_search (products_search, rowid, name, description, tags)
        values ('delete', old.seq, old.name, old.description, ${tags('old')});
    end`.execute(db);
    await sql`create trigger products_search_update
      after update of name, description, category_id, in_stock on products begin
      insert into products_search (products_search, rowid, name, description, tags)
        values ('delete', old.seq, old.name, old.description, ${tags('old')});
      insert into products_search (rowid, name, description, tags)
        values (new.seq, new.name, new.description, ${tags('new')});
    end`.execute(db);
  },
};

const postgres: Migration = {
  async up(db) {
    await sql`create table product_counts (
      category_id text not null,
      in_stock boolean not null,
      n bigint not null,
      primary key (category_id, in_stock)
    )`.execute(db);
    await sql`insert into product_counts (category_id, in_stock, n)
      select category_id, in_stock, count(*) from products group by category_id, in_stock`.execute(db);
    // One statement-level trigger per kind of write: a bulk insert (COPY, multi-row INSERT)
    // changes each count once. The deltas are applied in key order, so two writers moving
    // products between the same two pairs lock the rows in the same order and never deadlock.
    await sql`create function product_counts_apply() returns trigger language plpgsql as $$
    begin
      if tg_op = 'INSERT' then
        insert into product_counts (category_id, in_stock, n)
          select category_id, in_stock, count(*) from new_rows group by 1, 2 order by 1, 2
          on conflict (category_id, in_stock) do update set n = product_counts.n + excluded.n;
      elsif tg_op = 'DELETE' then
        insert into product_counts (category_id, in_stock, n)
          select category_id, in_stock, -count(*) from old_rows group by 1, 2 order by 1, 2
          on conflict (category_id, in_stock) do update set n = product_counts.n + excluded.n;
      else
        insert into product_counts (category_id, in_stock, n)
          select category_id, in_stock, sum(d) from (
            select category_id, in_stock, -1 as d from old_rows
            union all
            select category_id, in_stock, 1 from new_rows
          ) changes group by 1, 2 having sum(d) <> 0 order by 1, 2
          on conflict (category_id, in_stock) do update set n = product_counts.n + excluded.n;
      end if;
      return null;
    end $$`.execute(db);
    await sql`create trigger products_count_insert after insert on products
      referencing new table as new_rows for each statement execute function product_counts_apply()`.execute(
      db,
    );
    await sql`create trigger products_count_delete after delete on products
      referencing old table as old_rows for each statement execute function product_counts_apply()`.execute(
      db,
    );
    await sql`create trigger products_count_update after update on products
      referencing old table as old_rows new table as new_rows
      for each statement execute function product_counts_apply()`.execute(db);

    // Punctuation becomes a space first, so the words are the same runs of letters and digits
    // SQLite's unicode61 tokenizer sees ("usb-c" is "usb" and "c" on both, "3.5" is "3" and "5").
    // Name is weight A, description B; the filters are tags of weight D (as in FTS5), so a
    // search within a category or stock is one GIN match; user words only match A and B.
    await sql`alter table products add column search tsvector generated always as (
      setweight(to_tsvector('simple', regexp_replace(name, '[[:punct:][:space:]]+', ' ', 'g')), 'A') ||
      setweight(to_tsvector('simple', regexp_replace(description, '[[:punct:][:space:]]+', ' ', 'g')), 'B') ||
      setweight(to_tsvector('simple',
        'c' || replace(category_id, '-', '') || ' s' || case when in_stock then '1' else '0' end), 'D')
    ) stored`.execute(db);
    await sql`create index products_search on products using gin (search)`.execute(db);
  },
};
