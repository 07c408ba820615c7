/**
 * Who may change the catalog: callers holding the catalog:write scope, which identity grants
 * only to admins and services. REST routes, GraphQL mutations and the hypermedia actions all ask here.
 */
export const WRITE_SCOPE = 'catalog:write';

export function canWriteCatalog(scopes: readonly string[] | undefined): boolean {
  return scopes?.includes(WRITE_SCOPE) ?? false;
}
