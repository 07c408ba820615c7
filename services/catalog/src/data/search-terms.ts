/**
 * What a user typed, as search terms: the runs of letters and digits in it, case-folded.
 * Nothing else survives, so the text is data and never query syntax: `AND`, `NEAR`, `-`,
 * `*`, quotes, parentheses, `%` and `_` are words or separators, not operators. Each term
 * is then written out quoted (FTS5) or as a quoted lexeme (tsquery), every term must
 * match, and a term of two or more characters also matches longer words it starts
 * ("head" finds "headphones"): the same rule on both databases.
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
  return [...new Set(words)].slice(0, MAX_TERMS).map((text) => ({ text, prefix: text.length >= 2 }));
}

/** An FTS5 MATCH expression: `"head"* "usb"` (implicit AND). */
export function fts5Query(terms: readonly SearchTerm[]): string {
  return terms.map((t) => `"${t.text}"${t.prefix ? '*' : ''}`).join(' ');
}

/** A to_tsquery('simple', …) expression: `'head':* & 'usb':*`. */
export function tsQuery(terms: readonly SearchTerm[]): string {
  return terms.map((t) => `'${t.text}'${t.prefix ? ':*' : ''}`).join(' & ');
}
