/**
 * The ranking of a search's candidate window, computed here so it is the same on SQLite and
 * PostgreSQL and costs O(window), never O(matches):
 *
 * - BM25 term saturation and length normalisation (k1 = 1.2, b = 0.75, as FTS5's bm25), with a
 *   word in the name counting ten times one in the description;
 * - every query word weighs alike. FTS5's bm25 weighs words by their rarity (IDF), which it
 *   learns by reading every row holding each word before it scores one: a common word cost
 *   in proportion to its matches. PostgreSQL's ts_rank has no IDF either;
 * - the average length is the window's, not the table's (the table's would need a scan or
 *   another counter kept by every write).
 *
 * Words are the same runs of letters and digits both indexes see (see search-terms.ts); the
 * last query word, when it is a prefix, counts each word it starts.
 */
import type { SearchTerm } from './search-terms.ts';

const K1 = 1.2;
const B = 0.75;
const NAME_WEIGHT = 10;
const DESCRIPTION_WEIGHT = 1;

export interface Candidate {
  key: string | number;
  name: string;
  description: string;
}

export interface Ranked {
  key: string | number;
  score: number;
}

const WORD = /[\p{L}\p{N}]+/gu;

/** The text's words as the indexes hold them: case-folded, not normalised (neither index is). */
function words(text: string): string[] {
  return text.toLowerCase().match(WORD) ?? [];
}

function occurrences(list: readonly string[], term: SearchTerm): number {
  let n = 0;
  for (const word of list) if (term.prefix ? word.startsWith(term.text) : word === term.text) n++;
  return n;
}

/** The candidates best first; equal scores newest (highest key) first. */
export function rank(candidates: readonly Candidate[], terms: readonly SearchTerm[]): Ranked[] {
  const texts = candidates.map((c) => ({
    key: c.key,
    name: words(c.name),
    description: words(c.description),
  }));
  const total = texts.reduce((sum, t) => sum + t.name.length + t.description.length, 0);
  const averageLength = Math.max(1, total / Math.max(1, texts.length));
  const ranked = texts.map(({ key, name, description }) => {
    const norm = K1 * (1 - B + (B * (name.length + description.length)) / averageLength);
    let score = 0;
    for (const term of terms) {
      const frequency =
        NAME_WEIGHT * occurrences(name, term) + DESCRIPTION_WEIGHT * occurrences(description, term);
      score += (frequency * (K1 + 1)) / (frequency + norm);
    }
    return { key, score };
  });
  return ranked.sort((a, b) => b.score - a.score || (a.key < b.key ? 1 : a.key > b.key ? -1 : 0));
}
