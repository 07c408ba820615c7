/**
 * Stopping access tokens before they expire. A JWT access token is checked without
 * asking the issuer, so a revoked grant or a disabled account would keep working until
 * `exp`; the issuer therefore publishes revocations on the store's pub/sub and every
 * verifier keeps them in memory until the tokens they cover have expired:
 * - by `jti`: one token;
 * - by `sub`: every token of an account issued at or before `before` (disable, new password);
 * - by `grant_id`: every token of one grant issued at or before `before` (grant revoked).
 * Delivery is at most once to instances subscribed at the time (the pub/sub contract): an
 * instance that starts later has not seen earlier revocations, which is why entries
 * also carry `until`, the last moment a covered token can still be valid.
 * In one process (the embedded set-up) the in-process bus is shared by every service.
 */

import { createPubSub, type PubSub, subscribeDurably } from '@portico/store/pubsub';
import type { JWTPayload } from 'jose';

export const REVOCATION_CHANNEL = 'auth:revocations';

export type Revocation =
  | { type: 'jti'; jti: string; until: number }
  | { type: 'sub'; sub: string; before: number; until: number }
  | { type: 'grant'; grant_id: string; before: number; until: number };

export interface RevocationCheck {
  isRevoked(payload: JWTPayload): boolean;
}

export interface RevocationList extends RevocationCheck {
  add(revocation: Revocation): void;
  /** Entries held (expired ones are dropped as they are met). */
  size(): number;
  close(): Promise<void>;
}

let inProcess: PubSub | undefined;

/** The revocation bus: Redis when `url` is given, else the one in-process bus of this process. */
export function revocationBus(options: { url?: string; keyPrefix?: string } = {}): PubSub {
  if (options.url) return createPubSub({ url: options.url, keyPrefix: options.keyPrefix ?? 'portico:' });
  inProcess ??= createPubSub();
  // Shared: closing it from one service must not cut the others off.
  return { ...inProcess, close: async () => {} };
}

export function publishRevocation(bus: PubSub, revocation: Revocation): Promise<void> {
  return bus.publish(REVOCATION_CHANNEL, revocation);
}

const seconds = () => Math.floor(Date.now() / 1000);

export function createRevocationList(): RevocationList {
  const jtis = new Map<string, number>();
  const subs = new Map<string, { before: number; until: number }>();
  const grants = new Map<string, { before: number; until: number }>();

  function later(
    map: Map<string, { before: number; until: number }>,
    key: string,
    entry: { before: number; until: number },
  ) {
    const known = map.get(key);
    map.set(
      key,
      known
        ? { before: Math.max(known.before, entry.before), until: Math.max(known.until, entry.until) }
        : entry,
    );
  }
  function live<T extends { until: number } | number>(map: Map<string, T>, key: string): T | undefined {
    const entry = map.get(key);
    if (entry === undefined) return undefined;
    const until = typeof entry === 'number' ? entry : entry.until;
    if (until >= seconds()) return entry;
    map.delete(key);
    return undefined;
  }

  return {
    add(r) {
      if (r.type === 'jti') jtis.set(r.jti, Math.max(jtis.get(r.jti) ?? 0, r.until));
      else if (r.type === 'sub') later(subs, r.sub, r);
      else later(grants, r.grant_id, r);
    },
    isRevoked(payload) {
      if (typeof payload.jti === 'string' && live(jtis, payload.jti) !== undefined) return true;
      const iat = typeof payload.iat === 'number' ? payload.iat : 0;
      const sub = typeof payload.sub === 'string' ? live(subs, payload.sub) : undefined;
      if (sub && iat <= sub.before) return true;
      const grant = typeof payload.grant_id === 'string' ? live(grants, payload.grant_id) : undefined;
      return grant !== undefined && iat <= grant.before;
    },
    size: () => jtis.size + subs.size + grants.size,
    async close() {},
  };
}

function isRevocation(value: unknown): value is Revocation {
  const r = value as Partial<Record<string, unknown>> | null;
  if (!r || typeof r !== 'object' || typeof r.until !== 'number') return false;
  if (r.type === 'jti') return typeof r.jti === 'string';
  if (r.type === 'sub') return typeof r.sub === 'string' && typeof r.before === 'number';
  if (r.type === 'grant') return typeof r.grant_id === 'string' && typeof r.before === 'number';
  return false;
}

/**
 * A revocation list fed by the bus, usable at once; `ready` settles when the subscription
 * is live (on Redis: confirmed by the server), so callers choose how long to wait for it. While
 * Redis is unreachable the subscription is tried again until it is live.
 */
export function subscribeRevocations(bus: PubSub): RevocationList & { ready: Promise<void> } {
  const list = createRevocationList();
  const subscription = subscribeDurably(bus, REVOCATION_CHANNEL, (message) => {
    if (isRevocation(message)) list.add(message);
  });
  return {
    ...list,
    ready: subscription.ready,
    close: () => subscription.stop(),
  };
}

/**
 * What a gateway or service checks its tokens against: the revocations identity publishes
 * on Redis at `url`, else on this process's bus. Waits up to `waitMs` for the subscription
 * (a Redis that is down never holds start-up back longer, and `log` hears of it).
 * `close` ends the subscription and the bus.
 */
export async function listenForRevocations(options: {
  url?: string;
  keyPrefix?: string;
  waitMs?: number;
  log?: { warn(message: string): void };
}): Promise<RevocationList & { live: boolean }> {
  const bus = revocationBus({ url: options.url || undefined, keyPrefix: options.keyPrefix });
  const list = subscribeRevocations(bus);
  let timer: NodeJS.Timeout | undefined;
  const live = await Promise.race([
    list.ready.then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(resolve, options.waitMs ?? 2000, false);
      timer.unref();
    }),
  ]);
  clearTimeout(timer);
  if (!live)
    options.log?.warn(
      'token revocations not subscribed yet (redis unreachable): revoked tokens pass until it is',
    );
  return {
    ...list,
    live,
    async close() {
      await list.close();
      await bus.close();
    },
  };
}
