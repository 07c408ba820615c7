/**
 * PostgreSQL: the search vector holds only what the index is asked. The service ranked the
 * candidates from their text (BM25 in TypeScript, until 006), so the vector needs no weights and no
 * positions; without weights the words no longer need `:AB` to stay apart from the filter
 * tags, which now start with `#` (`#c<category id without dashes>`, `#s0`/`#s1`), a character
 * no word of a name or description and no search term can hold. A query is then answered by
 * the GIN index alone: before, each match the index found was read again to check the weights
 * (a recheck of every row of a bitmap scan), and each row a primary-key walk tested carried
 * positions it did not need.
 * The column is generated, so it is dropped and added again: the table and the index are
 * rewritten in the migration's transaction (run it before traffic on a large catalog).
 * SQLite needs nothing: FTS5 confines words to columns itself.
 */
import { type Migration, sql } from '@portico/store/sql';

export const searchVectorMigration: Migration = {
  async up(db) {
    await sql`alter table products drop column search`.execute(db);
    await sql`alter table products add column search tsvector generated always as (
      strip(to_tsvector('simple', regexp_replace(name || ' ' || description, '[[:punct:][:space:]]+', ' ', 'g'))) ||
      array_to_tsvector(array[
        '#c' || replace(category_id, '-', ''),
        '#s' || case when in_stock then '1' else '0' end
      ])
    ) stored`.execute(db);
    await sql`create index products_search on products using gin (search)`.execute(db);
  },
};
