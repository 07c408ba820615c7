/**
 * Which API scopes an account's roles allow (`api.scopes[].roles` in config): a scope with
 * roles needs one of them, one without is open to every account. Consent uses it to grant,
 * and every access token issued for an account (refreshes included) uses it again against
 * the roles the account has at that moment, so a role taken away takes its scopes with it
 * at the next refresh.
 */
import type { IdentityConfig } from '../config.ts';

export interface ScopePolicy {
  permitted(scope: string, roles: readonly string[]): boolean;
  /** The space-separated scope, less what the roles do not allow. */
  filter(scope: string, roles: readonly string[]): string;
}

export function scopePolicy(scopes: IdentityConfig['api']['scopes']): ScopePolicy {
  const roleScopes = new Map(scopes.map((s) => [s.name, s.roles]));
  const permitted = (scope: string, roles: readonly string[]) => {
    const needs = roleScopes.get(scope);
    return !needs || needs.some((r) => roles.includes(r));
  };
  return {
    permitted,
    filter: (scope, roles) =>
      scope
        .split(' ')
        .filter((s) => s && permitted(s, roles))
        .join(' '),
  };
}
