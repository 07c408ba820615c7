/**
 * REST's offset pages (`page`/`per_page`, as in the seed) over the domain's page rules, and
 * links that keep the filters.
 */
import { checkOffset, MAX_OFFSET, pageSize } from '../domain/pages.ts';

export const DEFAULT_PER_PAGE = 20;

export function perPage(requested: number | undefined): number {
  return pageSize(requested, DEFAULT_PER_PAGE);
}

export function offsetOf(page: number, size: number): number {
  return checkOffset(
    (page - 1) * size,
    `Offset pages stop at ${MAX_OFFSET} items; use cursor pagination (?cursor=) to go deeper`,
  );
}

/** A link to `path` with `params` (undefined values dropped), in a stable order. */
export function link(path: string, params: Record<string, string | number | boolean | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined) search.set(key, String(value));
  const text = search.toString();
  return text ? `${path}?${text}` : path;
}
