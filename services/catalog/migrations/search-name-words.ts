/**
 * PostgreSQL: the search vector also holds each word of the name as `#n<word>`, so a search can
 * read its two tiers (every word in the name; the other matches) from the GIN index, newest
 * first, a page at a time (see src/data/search-terms.ts). The words are the ones the vector
 * already holds for the name (to_tsvector's lexemes, after punctuation became spaces), with
 * `#n` written before each; `#` is in no word of a name or query, and `#c`/`#s` are the
 * filter tags of 004_search_vector.
 * Words are now split at anything but a letter or digit (`[^[:alnum:]]+`), as SQLite's unicode61
 * tokenizer splits them; 004 replaced `[[:punct:][:space:]]+`, which gave the same words on every
 * text tried (punctuation, symbols, accents, `_`, `½`) and took twice as long (10.7 against
 * 5.6 µs per product): this expression runs for every row of a bulk load.
 * The column is generated, so it is dropped and added again: the table and the index are
 * rewritten in the migration's transaction (run it before traffic on a large catalog).
 * The column keeps statistics of 10,000 lexemes (target 1,000, ten times the default): a page
 * reads the newest 21 matches, and the planner walks the primary key backwards for a word it
 * believes common. A word missing from the statistics is estimated at half the rarest one
 * kept, but at most 0.5% of the rows; with the default target the rarest kept was 1% at
 * 1,000,000 products, so an unknown word (a typo, a word in no product) was taken for 5,000
 * matches and the walk read the whole table (3.6 s). With 10,000 kept it is about 60 rows and
 * GIN answers at once.
 */
import { type Migration, sql } from '@portico/store/sql';

export const searchNameWordsMigration: Migration = {
  async up(db) {
    await sql`alter table products drop column search`.execute(db);
    await sql`alter table products add column search tsvector generated always as (
      strip(to_tsvector('simple', regexp_replace(name || ' ' || description, '[^[:alnum:]]+', ' ', 'g'))) ||
      regexp_replace(
        strip(to_tsvector('simple', regexp_replace(name, '[^[:alnum:]]+', ' ', 'g')))::text,
        '''([^'']+)''', '''#n\\1''', 'g'
      )::tsvector ||
      array_to_tsvector(array[
        '#c' || replace(category_id, '-', ''),
        '#s' || case when in_stock then '1' else '0' end
      ])
    ) stored`.execute(db);
    await sql`alter table products alter column search set statistics 1000`.execute(db);
    await sql`create index products_search on products using gin (search)`.execute(db);
  },
};
