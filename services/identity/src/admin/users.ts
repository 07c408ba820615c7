/**
 * What an administrator does to accounts, each action written to the audit log with
 * who did it, when and from where. Disabling an account ends its sessions and grants
 * and puts its `sub` on the revocation list, so its access tokens stop at every
 * service within seconds, not when they expire.
 */
import type Provider from 'oidc-provider';
import type { IdentityConfig } from '../config.ts';
import type { Account, AccountService } from '../domain/accounts.ts';
import type { AuditService } from '../domain/audit.ts';
import type { PasskeyService } from '../domain/passkeys.ts';
import { hashPassword } from '../domain/passwords.ts';
import type { SecondFactorService } from '../domain/second-factor.ts';
import { checkEmail, checkPassword, checkUsername } from '../domain/self-service.ts';
import type { AccountSessions } from '../domain/sessions.ts';
import { errors } from '../errors.ts';
import { type Actor, recordAdminAction } from './actor.ts';

export interface NewUser {
  username: string;
  password: string;
  roles: string[];
  name?: string;
  email?: string;
}

/** What stops access tokens already issued (revocation.ts); a no-op when nothing listens. */
export interface TokenRevoker {
  revokeSubject(sub: string): Promise<void>;
  revokeGrant(grantId: string): Promise<void>;
}

/** A browser session of the account at this identity service. */
export interface SessionView {
  id: string;
  created_at: string;
  expires_at: string | null;
}

/** What the account let a client do: its scopes, OpenID and API alike. */
export interface GrantView {
  id: string;
  client_id: string | null;
  /** Null when the client is gone (deleted, or removed from config). */
  client_name: string | null;
  scopes: string[];
  created_at: string;
  expires_at: string | null;
}

export interface AdminUsers {
  search(query: string, limit: number, offset: number): Promise<{ items: Account[]; total: number }>;
  get(id: string): Promise<Account>;
  create(actor: Actor, input: NewUser): Promise<Account>;
  setDisabled(actor: Actor, id: string, disabled: boolean): Promise<Account>;
  setRoles(actor: Actor, id: string, roles: string[]): Promise<Account>;
  revokeGrant(actor: Actor, id: string, grantId: string): Promise<void>;
  endSession(actor: Actor, id: string, sessionId: string): Promise<void>;
  /** The account's live sessions, newest first. */
  sessions(id: string): Promise<SessionView[]>;
  /** The account's live grants, newest first, with the scopes each holds. */
  grants(id: string): Promise<GrantView[]>;
  /** Whether the account has a confirmed authenticator, its unused recovery codes, and its passkeys. */
  secondFactorOf(id: string): Promise<{ totp: boolean; recoveryCodesLeft: number; passkeys: number }>;
  /** Removes the authenticator, recovery codes and passkeys (a lost phone); the next sign-in is password only. */
  resetSecondFactor(actor: Actor, id: string): Promise<void>;
}

export function adminUsers(deps: {
  accounts: AccountService;
  sessions: AccountSessions;
  audit: AuditService;
  revoker: TokenRevoker;
  secondFactor: SecondFactorService;
  passkeys: PasskeyService;
  config: IdentityConfig;
  /** Where the grants' scopes and the clients' names are kept. */
  provider: Pick<Provider, 'Grant' | 'Client' | 'Session'>;
}): AdminUsers {
  const { accounts, sessions, audit, revoker, secondFactor, passkeys, config, provider } = deps;

  async function get(id: string) {
    const account = await accounts.findById(id);
    if (!account) throw errors.ACCOUNT_NOT_FOUND(`No account with id ${id}`);
    return account;
  }
  const record = (actor: Actor, action: string, target: string | null, detail: Record<string, unknown>) =>
    recordAdminAction(audit, actor, action, target, detail);

  return {
    search: (query, limit, offset) => accounts.search(query, limit, offset),
    get,
    async create(actor, input) {
      const username = checkUsername(input.username);
      const email = input.email ? checkEmail(input.email) : null;
      const name = input.name?.trim() || username;
      checkPassword(input.password, config.accounts.minPasswordLength, { username, name, email });
      const result = await accounts.insert({
        username,
        email,
        name,
        roles: input.roles,
        emailVerified: true,
        passwordHash: await hashPassword(input.password),
      });
      if (!result.ok && result.taken === 'username')
        throw errors.USERNAME_TAKEN(`The username ${username} is taken`);
      if (!result.ok) throw errors.EMAIL_TAKEN(`An account already has the address ${email}`);
      await record(actor, 'user.create', result.account.id, { username, roles: input.roles });
      return result.account;
    },
    async setDisabled(actor, id, disabled) {
      const account = await get(id);
      if (disabled && id === actor.sub)
        throw errors.CANNOT_DISABLE_SELF('You cannot disable your own account');
      const updated = (await accounts.setDisabled(id, disabled))!;
      if (disabled) {
        // Tokens first: the list reaches every service while the grants are being deleted.
        await revoker.revokeSubject(id);
        await sessions.endAll(id);
      }
      await record(actor, disabled ? 'user.disable' : 'user.enable', id, { username: account.username });
      return updated;
    },
    async setRoles(actor, id, roles) {
      const account = await get(id);
      const updated = (await accounts.setRoles(id, roles))!;
      await record(actor, 'user.roles', id, { username: account.username, from: account.roles, to: roles });
      return updated;
    },
    async revokeGrant(actor, id, grantId) {
      await get(id);
      const owner = (await sessions.list(id)).find((a) => a.kind === 'grant' && a.id === grantId);
      if (!owner) throw errors.GRANT_NOT_FOUND(`The account has no grant ${grantId}`);
      await revoker.revokeGrant(grantId);
      await sessions.revokeGrant(grantId);
      await record(actor, 'user.grant_revoke', id, { grant_id: grantId, client_id: owner.clientId });
    },
    async endSession(actor, id, sessionId) {
      await get(id);
      const owner = (await sessions.list(id)).find((a) => a.kind === 'session' && a.id === sessionId);
      if (!owner) throw errors.SESSION_NOT_FOUND(`The account has no session ${sessionId}`);
      await sessions.endSession(sessionId);
      await record(actor, 'user.session_end', id, { session_id: sessionId });
    },
    async sessions(id) {
      await get(id);
      const indexed = (await sessions.list(id)).filter((a) => a.kind === 'session');
      // The index can outlive a session (one that Redis expired, or dropped while a write to the
      // index failed): only what the provider still has is live.
      const live = await Promise.all(indexed.map((a) => provider.Session.adapter.find(a.id)));
      return indexed
        .filter((_, i) => live[i] !== undefined)
        .map((a) => ({ id: a.id, created_at: a.createdAt, expires_at: a.expiresAt }));
    },
    async grants(id) {
      await get(id);
      const indexed = (await sessions.list(id)).filter((a) => a.kind === 'grant');
      const found = await Promise.all(
        indexed.map(async (a) => {
          const [grant, client] = await Promise.all([
            provider.Grant.find(a.id),
            a.clientId ? provider.Client.find(a.clientId).catch(() => undefined) : undefined,
          ]);
          if (!grant) return undefined;
          return {
            id: a.id,
            client_id: a.clientId,
            client_name: client ? (client.clientName ?? null) : null,
            scopes: scopesOf(grant),
            created_at: a.createdAt,
            expires_at: a.expiresAt,
          };
        }),
      );
      return found.filter((g) => g !== undefined);
    },
    async secondFactorOf(id) {
      await get(id);
      const [totp, recoveryCodesLeft, keys] = await Promise.all([
        secondFactor.enrolled(id),
        secondFactor.recoveryCodesLeft(id),
        passkeys.list(id),
      ]);
      return { totp, recoveryCodesLeft, passkeys: keys.length };
    },
    async resetSecondFactor(actor, id) {
      const account = await get(id);
      const removed = await secondFactor.reset(id);
      const passkeysRemoved = await passkeys.removeAll(id);
      await record(actor, 'user.mfa_reset', id, {
        username: account.username,
        removed,
        passkeys_removed: passkeysRemoved,
      });
    },
  };
}

/** The OpenID scopes and every resource's API scopes of a grant, each once. */
function scopesOf(grant: Awaited<ReturnType<Provider['Grant']['find']>> & object): string[] {
  const all = [
    grant.getOIDCScope(),
    ...Object.keys(grant.resources ?? {}).map((r) => grant.getResourceScope(r)),
  ];
  return [...new Set(all.flatMap((s) => s.split(' ')).filter(Boolean))];
}
