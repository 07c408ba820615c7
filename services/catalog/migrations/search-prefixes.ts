/**
 * SQLite: prefix indexes for the last word of a search up to six characters (were two and
 * three). FTS5 answers `"cable"*` without a prefix index by merging the doclist of every word
 * the prefix starts into one list before it reads the first match, so the cost followed the
 * number of matches (33,000 for "cable" at a million products) instead of the 1,000-match
 * window; with an index for that length it is one term's doclist, read newest first.
 * The index is rebuilt from the rows (external content) in the migration's transaction: about
 * a minute and a half per million products on a busy machine. The triggers of
 * 002_counts_and_search name the table and keep it in step as before.
 * PostgreSQL needs nothing: GIN answers `'cable':*` from its sorted keys.
 */
import { type Migration, sql } from '@portico/store/sql';

export const searchPrefixesMigration: Migration = {
  async up(db) {
    await sql`drop table products_search`.execute(db);
    await sql`create virtual table products_search using fts5(
      name, description, tags,
      content = 'products_search_source', content_rowid = 'seq',
      tokenize = 'unicode61 remove_diacritics 0', prefix = '2 3 4 5 6'
    )`.execute(db);
    await sql`insert into products_search (products_search) values ('rebuild')`.execute(db);
  },
};
