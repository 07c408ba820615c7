/**
 * REST's offset pages (`page`/`per_page`, as in the seed) over the domain's page rules, and
 * links that keep the filters.
 */
import { checkOffset, MAX_OFFSET, pageSize } from '../domain/pages.ts';
import { errors } from '../errors.ts';

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

/**
 * `page` and `cursor` are two ways through a list; a request naming both would get one of them
 * silently. Read from the URL: the schema gives `page` its default of 1 whether or not it was sent.
 */
export function checkOnePagination(url: string, cursor: string | undefined): void {
  if (cursor === undefined) return;
  if (new URLSearchParams(url.slice(url.indexOf('?') + 1)).has('page'))
    throw errors.PAGINATION_CONFLICT('Send page or cursor, not both: cursor pages have no page number');
}

type LinkParams = Record<string, string | number | boolean | undefined>;

/**
 * The `pagination` and `links` of an offset page of `count` items out of `total`, its links to
 * `path` keeping `filters`.
 */
export function offsetPage(
  path: string,
  filters: LinkParams,
  page: number,
  size: number,
  count: number,
  total: number,
  // A search page's total may be an estimate: its read knows whether a next page exists.
  hasNext = (page - 1) * size + count < total,
) {
  const at = (n: number) => link(path, { ...filters, page: n, per_page: size });
  return {
    pagination: { page, per_page: size, total, has_next: hasNext, has_previous: page > 1 },
    links: { self: at(page), next: hasNext ? at(page + 1) : null, previous: page > 1 ? at(page - 1) : null },
  };
}

/** A link to `path` with `params` (undefined values dropped), in a stable order. */
export function link(path: string, params: LinkParams): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined) search.set(key, String(value));
  const text = search.toString();
  return text ? `${path}?${text}` : path;
}
