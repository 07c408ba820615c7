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

/** An FTS5 MATCH expression: `"head"* "usb"` (implicit AND). */
export function fts5Query(terms: readonly SearchTerm[]): string {
  return terms.map((t) => `"${t.text}"${t.prefix ? '*' : ''}`).join(' ');
}

/** A to_tsquery('simple', …) expression: `'head':* & 'usb':*`. */
export function tsQuery(terms: readonly SearchTerm[]): string {
  return terms.map((t) => `'${t.text}'${t.prefix ? ':*' : ''}`).join(' & ');
}
