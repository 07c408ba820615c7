/**
 * The access token a request may use: the session's, refreshed shortly before it expires.
 * Refreshes are single-flight per session within one process, which saves the provider
 * round trips. Across replicas none is needed: the console is a confidential client, whose
 * refresh token the provider does not rotate (it is bound to the client secret), so two
 * replicas refreshing one session at once both succeed and no sticky sessions are required.
 * A refresh also renews the session's user (its roles above all) from the provider, so the
 * console's admin checks are never staler than the access token the API is called with. A
 * refresh that cannot read the user fails whole: the current token (and user) serve while valid.
 */
import type { FastifyBaseLogger } from 'fastify';
import { errors } from '../errors.ts';
import type { Sessions } from '../session/sessions.ts';
import type { Session } from '../session/store.ts';
import { type FinishedLogin, type OidcClient, OidcRejected } from './client.ts';

export type AccessTokens = ReturnType<typeof createAccessTokens>;

export function createAccessTokens(client: OidcClient, sessions: Sessions, leewaySeconds: number) {
  const inflight = new Map<string, Promise<FinishedLogin>>();

  async function refresh(session: Session, log: FastifyBaseLogger): Promise<FinishedLogin> {
    const current = { tokens: session.data.tokens!, user: session.data.user! };
    try {
      const next = await client.refresh(current.tokens, current.user);
      session.data.tokens = next.tokens;
      session.data.user = next.user;
      await sessions.save(session);
      return next;
    } catch (err) {
      if (err instanceof OidcRejected) {
        log.info({ error: err.error }, 'refresh refused: the session is signed out');
        session.data.tokens = undefined;
        session.data.user = undefined;
        await sessions.save(session);
        throw errors.SESSION_EXPIRED('Your sign-in has expired: sign in again');
      }
      // The provider is unreachable: a token that is still valid keeps working meanwhile.
      if (current.tokens.expiresAt > Date.now()) return current;
      throw err;
    }
  }

  return {
    /**
     * The token to call the API with, or undefined when the session is not signed in.
     * `force` refreshes even if the token looks fresh (the API just refused it).
     */
    async forSession(session: Session | undefined, log: FastifyBaseLogger, force = false) {
      const tokens = session?.data.tokens;
      if (!session || !tokens || !session.data.user) return undefined;
      if (!force && tokens.expiresAt - Date.now() > leewaySeconds * 1000) return tokens.accessToken;
      let pending = inflight.get(session.id);
      if (!pending) {
        pending = refresh(session, log).finally(() => inflight.delete(session.id));
        inflight.set(session.id, pending);
      }
      const fresh = await pending;
      // Another request of this session may have refreshed: this copy must not write back a
      // stale token or user.
      if (session.data.tokens) Object.assign(session.data, fresh);
      return fresh.tokens.accessToken;
    },
  };
}
