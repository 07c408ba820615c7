/**
 * What a user typed, as search terms: the runs of letters and digits in it, case-folded.
 * Nothing else survives, so the text is data and never query syntax: `AND`, `NEAR`, `-`,
 * `*`, quotes, parentheses, `%` and `_` are words or separators, not operators. Each term
 * is then written out quoted (FTS5) or as a quoted lexeme (tsquery) and every term must
 * match. The last term is the word still being typed: of two or more characters, it also
 * matches longer words it starts ("usb head" finds "USB headphones"). The same rule on both
 * databases; only the last term is a prefix because a prefix reads every word it starts.
 */
const MAX_TERMS = 16;

export interface SearchTerm {
  text: string;
  prefix: boolean;
}

export function searchTerms(input: string): SearchTerm[] {
  const words =
    input
      .normalize('NFC')
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? [];
  const unique = [...new Set(words)].slice(0, MAX_TERMS);
  return unique.map((text, i) => ({ text, prefix: i === unique.length - 1 && text.length >= 2 }));
}

/**
 * The filters a search can answer inside the index: both indexes hold each product's
 * category and stock as tags (`c<category id without dashes>`, `s0`/`s1`; on PostgreSQL with
 * a leading `#`; see the migrations).
 */
export interface IndexedFilter {
  categoryIds?: readonly string[];
  inStock?: boolean;
}

/** A category's tag, or undefined for an id no category can have (ours are UUIDs). */
function categoryTag(id: string): string | undefined {
  return /^[0-9a-zA-Z-]+$/.test(id) ? `c${id.replaceAll('-', '').toLowerCase()}` : undefined;
}

function tags(filter: IndexedFilter): { categories?: string[]; stock?: string } | undefined {
  const categories = filter.categoryIds?.map(categoryTag).filter((t) => t !== undefined);
  if (categories?.length === 0) return undefined;
  return { categories, stock: filter.inStock === undefined ? undefined : `s${Number(filter.inStock)}` };
}

/**
 * Which matches a query reads: `all`, every word in the name or description; `name`, every word
 * in the name. A search ranks the name tier first, then the rest of all (see products.ts).
 */
export type SearchTier = 'all' | 'name';

/**
 * An FTS5 MATCH expression: the words in name or description, the filters in tags:
 * `{name description} : ("usb" "head"*) AND tags : ("c0193…") AND tags : "s1"`; the name
 * tier is `name : (…)`.
 * Undefined when the filter can match nothing.
 */
export function fts5Query(
  terms: readonly SearchTerm[],
  filter: IndexedFilter = {},
  tier: SearchTier = 'all',
): string | undefined {
  const t = tags(filter);
  if (!t) return undefined;
  const words = `(${terms.map((term) => `"${term.text}"${term.prefix ? '*' : ''}`).join(' ')})`;
  let query = tier === 'name' ? `name : ${words}` : `{name description} : ${words}`;
  if (t.categories) query += ` AND tags : (${t.categories.map((c) => `"${c}"`).join(' OR ')})`;
  if (t.stock) query += ` AND tags : "${t.stock}"`;
  return query;
}

/**
 * A tsquery, read as written (`::tsquery`, no parser: the tags' `#` must survive): the words,
 * the last one a prefix, and the filters as tags (see 004_search_vector):
 * `'usb' & 'head':* & ( '#c0193…' ) & '#s1'`. The vector also holds each word of the name as
 * `#n<word>` (006_search_name_words): the name tier is `'#nusb' & '#nhead':*`.
 */
export function tsQuery(
  terms: readonly SearchTerm[],
  filter: IndexedFilter = {},
  tier: SearchTier = 'all',
): string | undefined {
  const t = tags(filter);
  if (!t) return undefined;
  const mark = tier === 'name' ? '#n' : '';
  const parts = terms.map((term) => `'${mark}${term.text}'${term.prefix ? ':*' : ''}`);
  if (t.categories) parts.push(`( ${t.categories.map((c) => `'#${c}'`).join(' | ')} )`);
  if (t.stock) parts.push(`'#${t.stock}'`);
  return parts.join(' & ');
}
