/**
 * Which sessions and grants each account has, and ending them. oidc-provider keeps its
 * artefacts by id only (in SQL or Redis); this index follows its `session.*` and
 * `grant.*` events so an admin can list an account's sessions and grants and revoke
 * them, and a disabled account or a new password can end them all. Revoking a grant
 * deletes its refresh tokens and codes the way the provider's own revocation does;
 * JWT access tokens already issued are stopped by the revocation list (admin/revoker.ts).
 * A change of sign-in methods made from a browser ends every session but that browser's
 * (`endOthers`): its own session and the grants it made stay.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Database } from '@portico/store/sql';
import type Provider from 'oidc-provider';
import { accountArtefactsTable } from '../data/account-artefacts.ts';
import type { IdentityDatabase } from '../data/schema.ts';

/** The browser exchange a change came in on: its cookies say which session made it. */
export interface BrowserExchange {
  req: IncomingMessage;
  res: ServerResponse;
}

export interface AccountArtefact {
  kind: 'session' | 'grant';
  id: string;
  clientId: string | null;
  createdAt: string;
  expiresAt: string | null;
}

export interface AccountSessions {
  list(accountId: string): Promise<AccountArtefact[]>;
  /** The account the grant belonged to, or undefined when there was no such grant. */
  revokeGrant(grantId: string): Promise<string | undefined>;
  /** Ends one session (the browser must sign in again); the account, or undefined. */
  endSession(sessionId: string): Promise<string | undefined>;
  /** Ends every session and grant of the account; returns the revoked grant ids. */
  endAll(accountId: string): Promise<string[]>;
  /**
   * Ends every session and grant of the account except the session of the browser that sent
   * `req` (when it is this account's) and the grants made in it; returns the revoked grant ids.
   */
  endOthers(accountId: string, from: BrowserExchange): Promise<string[]>;
  sweep(): Promise<void>;
}

const TOKEN_MODELS = [
  'AccessToken',
  'RefreshToken',
  'AuthorizationCode',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
] as const;

interface Tracked {
  jti: string;
  /** A session's id before the provider renewed it at sign-in; the provider drops that row silently. */
  oldId?: string;
  accountId?: string;
  clientId?: string;
  iat?: number;
  exp?: number;
}

export function accountSessions(
  database: Database<IdentityDatabase>,
  provider: Provider,
  onError: (err: unknown) => void,
): AccountSessions {
  const artefacts = accountArtefactsTable(database.db);
  const now = () => Math.floor(Date.now() / 1000);

  function track(kind: 'session' | 'grant') {
    return (model: Tracked) => {
      if (!model.accountId) return;
      artefacts
        .put({
          kind,
          id: model.jti,
          account_id: model.accountId,
          client_id: model.clientId ?? null,
          created_at: model.iat ?? now(),
          expires_at: model.exp ?? null,
        })
        .catch(onError);
      if (model.oldId && model.oldId !== model.jti) forget(kind, model.oldId).catch(onError);
    };
  }
  const forget = (kind: 'session' | 'grant', id: string) => artefacts.delete(kind, id);
  provider.on('session.saved', track('session'));
  provider.on('grant.saved', track('grant'));
  provider.on('session.destroyed', (s: Tracked) => void forget('session', s.jti).catch(onError));
  provider.on('grant.destroyed', (g: Tracked) => void forget('grant', g.jti).catch(onError));
  provider.on(
    'grant.revoked',
    (_ctx: unknown, grantId: string) => void forget('grant', grantId).catch(onError),
  );

  async function revokeGrant(grantId: string) {
    const accountId = await artefacts.accountOf('grant', grantId);
    const models = provider as unknown as Record<
      string,
      { revokeByGrantId?(id: string): Promise<void> } | undefined
    >;
    await Promise.all(TOKEN_MODELS.map((m) => models[m]?.revokeByGrantId?.(grantId)));
    await provider.Grant.adapter.destroy(grantId);
    await forget('grant', grantId);
    return accountId;
  }

  async function endSession(sessionId: string) {
    const accountId = await artefacts.accountOf('session', sessionId);
    await provider.Session.adapter.destroy(sessionId);
    await forget('session', sessionId);
    return accountId;
  }

  /** The browser's provider session (read from its signed session cookie) when it is `accountId`'s. */
  async function browserSession(accountId: string, { req, res }: BrowserExchange) {
    const session = await provider.Session.get({ req, res });
    return session.accountId === accountId ? session : undefined;
  }

  async function endEvery(accountId: string, keep?: { session: string; grants: Set<string> }) {
    const rows = await artefacts.ofAccount(accountId);
    const grants = rows.filter((r) => r.kind === 'grant' && !keep?.grants.has(r.id)).map((r) => r.id);
    for (const id of grants) await revokeGrant(id);
    for (const r of rows.filter((r) => r.kind === 'session' && r.id !== keep?.session))
      await endSession(r.id);
    return grants;
  }

  return {
    async list(accountId) {
      const rows = await artefacts.liveOfAccount(accountId, now());
      return rows.map((r) => ({
        kind: r.kind,
        id: r.id,
        clientId: r.client_id,
        createdAt: new Date(Number(r.created_at) * 1000).toISOString(),
        expiresAt: r.expires_at === null ? null : new Date(Number(r.expires_at) * 1000).toISOString(),
      }));
    },
    revokeGrant,
    endSession,
    endAll: (accountId) => endEvery(accountId),
    async endOthers(accountId, from) {
      const own = await browserSession(accountId, from);
      if (!own) return endEvery(accountId);
      const grants = Object.values(own.authorizations ?? {}).flatMap((a) => (a.grantId ? [a.grantId] : []));
      return endEvery(accountId, { session: own.jti, grants: new Set(grants) });
    },
    sweep: () => artefacts.deleteExpired(now()),
  };
}
