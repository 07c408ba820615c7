/**
 * Identity's side of the revocation list: publishes what has been revoked on the bus
 * every gateway and service verifier listens to (@portico/auth revocation.ts), and
 * keeps its own list for the admin API's verifier. An entry lives as long as the longest
 * access token it can cover, plus a minute of clock skew.
 */
import {
  publishRevocation,
  type Revocation,
  type RevocationList,
  revocationBus,
  subscribeRevocations,
} from '@portico/auth';
import type { IdentityConfig } from '../config.ts';
import type { TokenRevoker } from './users.ts';

export interface IdentityRevoker extends TokenRevoker {
  list: RevocationList;
  /** Settles when the subscription is live. */
  ready: Promise<void>;
  close(): Promise<void>;
}

export function identityRevoker(config: IdentityConfig): IdentityRevoker {
  const bus = revocationBus({
    url: config.revocations.redisUrl || undefined,
    keyPrefix: config.revocations.keyPrefix,
  });
  const list = subscribeRevocations(bus);
  const window = () => {
    const now = Math.floor(Date.now() / 1000);
    return { before: now, until: now + config.api.accessTokenTtlSeconds + 60 };
  };
  async function publish(revocation: Revocation) {
    list.add(revocation);
    await publishRevocation(bus, revocation);
  }
  return {
    list,
    ready: list.ready,
    revokeSubject: (sub) => publish({ type: 'sub', sub, ...window() }),
    revokeGrant: (grantId) => publish({ type: 'grant', grant_id: grantId, ...window() }),
    async close() {
      await list.close();
      await bus.close();
    },
  };
}
