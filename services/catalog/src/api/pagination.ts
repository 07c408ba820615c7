/**
 * Page arithmetic and links. Offset pages (`page`/`per_page`) as in the seed, with the
 * filters kept in every link; keyset pages (`cursor`) for deep walks, whose cost does
 * not grow with depth. `per_page` is capped, and offsets past MAX_OFFSET point to cursors.
 */
import { errors } from '../errors.ts';

export const MAX_PER_PAGE = 100;
export const MAX_OFFSET = 100_000;

export type Cursor = { after?: string; before?: string };

export function perPage(requested: number | undefined): number {
  return Math.min(requested ?? 20, MAX_PER_PAGE);
}

export function offsetOf(page: number, size: number): number {
  const offset = (page - 1) * size;
  if (offset > MAX_OFFSET) {
    throw errors.PAGE_TOO_DEEP(
      `Offset pages stop at ${MAX_OFFSET} items; use cursor pagination (?cursor=) to go deeper`,
    );
  }
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

/** A link to `path` with `params` (undefined values dropped), in a stable order. */
export function link(path: string, params: Record<string, string | number | boolean | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined) search.set(key, String(value));
  const text = search.toString();
  return text ? `${path}?${text}` : path;
}
