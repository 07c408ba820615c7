// @ts-check
/**
 * Every page of the console, once: the server serves index.html at each of these paths
 * (src/ui/static.ts imports this list) and the router (router.js) shows a view for each.
 * Paths are written as the server's router reads them: `:name` is one path segment,
 * `:name(regexp)` one that matches the expression.
 */
export const CONSOLE_PATHS = /** @type {const} */ ([
  '/',
  '/products',
  '/products/:id',
  '/cart',
  '/orders',
  '/orders/:id',
  '/dashboard',
  '/admin/products/new',
  '/admin/users',
  '/admin/users/:id',
  '/admin/clients',
  '/admin/keys',
  '/admin/requests',
  '/admin/requests/:id([0-9a-f]{32})',
  '/admin/audit',
  '/admin/mailbox',
]);

/** @typedef {typeof CONSOLE_PATHS[number]} ConsolePath */

/**
 * The expression a console path matches a URL's path with, its parameters as groups.
 * @param {string} path
 */
export function pathPattern(path) {
  return new RegExp(`^${path.replace(/:\w+(?:\(([^)]*)\))?/g, (_, own) => `(${own ?? '[^/]+'})`)}$`);
}
