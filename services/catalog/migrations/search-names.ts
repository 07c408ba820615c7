/**
 * SQLite: a second FTS5 index of the product names alone (and the category tags), for the name
 * tier of a search (every word in the name, ranked first; 0006). In the main index the name
 * tier is a column filter: FTS5 reads every posting of each word and drops those outside the
 * name, so a word common in descriptions and rare or absent in names (`oak`, in one description
 * in five at a million products and in no name) read all 218,000 postings to find none: 3.8 ms,
 * against 0.01 ms in this index. Names are short: the index is 83 MB next to the main one's
 * 214 MB at a million products, and is built from the rows here (4 s of CPU for a million).
 * Triggers keep it in step in the writing statement's transaction, as the main index's do; an
 * update rewrites its entry only when the name or the category changes. Its merges follow the
 * main index's settings (008_search_automerge).
 */
import { type Migration, sql } from '@portico/store/sql';

const tags = (row: 'new' | 'old') => sql.raw(`'c' || replace(${row}.category_id, '-', '')`);

export const searchNamesMigration: Migration = {
  async up(db) {
    await sql`create view products_name_search_source as
      select seq, name, 'c' || replace(category_id, '-', '') as tags from products`.execute(db);
    await sql`create virtual table products_name_search using fts5(
      name, tags,
      content = 'products_name_search_source', content_rowid = 'seq',
      tokenize = 'unicode61 remove_diacritics 0', prefix = '2 3 4 5 6', detail = column, columnsize = 0
    )`.execute(db);
    await sql`insert into products_name_search (products_name_search, rank) values ('automerge', 16)`.execute(
      db,
    );
    await sql`insert into products_name_search (products_name_search) values ('rebuild')`.execute(db);
    // The merges writes would have made as they went, as the bench's fill does after its rebuild:
    // left to them, one of the first writes merged a whole level (1.0 s at a million products).
    const changes = async () =>
      (await sql<{ n: number }>`select total_changes() as n`.execute(db)).rows[0]!.n;
    for (;;) {
      const before = await changes();
      await sql`insert into products_name_search (products_name_search, rank) values ('merge', 100000)`.execute(
        db,
      );
      if ((await changes()) - before < 2) break;
    }
    await sql`create trigger products_search_name_insert after insert on products begin
      insert into products_name_search (rowid, name, tags) values (new.seq, new.name, ${tags('new')});
    end`.execute(db);
    await sql`create trigger products_search_name_delete after delete on products begin
      insert into products_name_search (products_name_search, rowid, name, tags)
        values ('delete', old.seq, old.name, ${tags('old')});
    end`.execute(db);
    await sql`create trigger products_search_name_update after update of name, category_id on products
      when old.name is not new.name or old.category_id is not new.category_id begin
      insert into products_name_search (products_name_search, rowid, name, tags)
        values ('delete', old.seq, old.name, ${tags('old')});
      insert into products_name_search (rowid, name, tags) values (new.seq, new.name, ${tags('new')});
    end`.execute(db);
  },
};
