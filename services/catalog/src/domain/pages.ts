/**
 * Page rules every API shares: sizes are capped, offsets stop at MAX_OFFSET (deeper walks use
 * keyset pages, whose cost does not grow with depth), and a cursor is an opaque token naming the
 * product to continue after or before. How an API spells a page (REST's page/per_page and links,
 * GraphQL's connections) is the API's business.
 */
import { errors } from '../errors.ts';

export const MAX_PER_PAGE = 100;
export const MAX_OFFSET = 100_000;

/** Where a keyset page starts: after an id, before one (walking backwards), or at the beginning. */
export type Cursor = { after?: string; before?: string };

/** A keyset page: the items in id order and whether there is more on either side. */
export interface KeysetPage<T> {
  items: T[];
  hasNext: boolean;
  hasPrevious: boolean;
}

/** The page size asked for (or the API's default), capped at MAX_PER_PAGE. */
export function pageSize(requested: number | undefined, fallback: number): number {
  return Math.min(requested ?? fallback, MAX_PER_PAGE);
}

/** `offset`, if offset pages reach it; `tooDeep` says how this API goes deeper. */
export function checkOffset(offset: number, tooDeep: string): number {
  if (offset > MAX_OFFSET) throw errors.PAGE_TOO_DEEP(tooDeep);
  return offset;
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(
    JSON.stringify(cursor.after !== undefined ? { a: cursor.after } : { b: cursor.before }),
  ).toString('base64url');
}

export function decodeCursor(text: string): Cursor {
  if (text === '') return {};
  try {
    const value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as { a?: unknown; b?: unknown };
    if (typeof value.a === 'string' && value.a.length <= 64) return { after: value.a };
    if (typeof value.b === 'string' && value.b.length <= 64) return { before: value.b };
  } catch {
    // an unreadable cursor is answered below
  }
  throw errors.INVALID_CURSOR('The cursor is not one this API issued; start again with ?cursor=');
}

/**
 * Cuts a keyset page of `size` from `rows`, read with one row more than the page (`size + 1`)
 * from `position` on, in id order: the extra row says whether the walk goes on.
 */
export function keysetPage<T>(rows: T[], size: number, position: Cursor): KeysetPage<T> {
  const more = rows.length > size;
  if (position.before !== undefined)
    return { items: rows.slice(more ? 1 : 0), hasNext: true, hasPrevious: more };
  return { items: rows.slice(0, size), hasNext: more, hasPrevious: position.after !== undefined };
}
