/**
 * One upstream subscription per distinct subscription, fanned out to every browser that
 * asked for it. A subscription is its query and the credential it runs with: anonymous
 * browsers share one graphql-ws socket to the gateway; a signed-in session's token gets its
 * own (what the catalog sends may depend on who asks). The socket opens with the first
 * browser and is disposed when the last one leaves, so N browsers cost one upstream socket,
 * not N.
 */
import { createHash } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { type Client, createClient } from 'graphql-ws';

export interface LiveListener {
  ready(): void;
  next(result: { data?: Record<string, unknown> | null; errors?: readonly unknown[] }): void;
  /** The upstream subscription ended or failed; `detail` says why when it failed. */
  end(detail?: string): void;
}

interface Shared {
  client: Client;
  listeners: Set<LiveListener>;
  ready: boolean;
  stop: () => void;
}

export function liveHub(url: string, log: FastifyBaseLogger) {
  const shared = new Map<string, Shared>();

  function release(key: string, entry: Shared) {
    if (shared.get(key) !== entry) return;
    shared.delete(key);
    entry.stop();
    Promise.resolve(entry.client.dispose()).catch((err: unknown) =>
      log.debug({ err }, 'live subscription socket closed with an error'),
    );
  }

  function open(key: string, query: string, token: string | undefined): Shared {
    const client = createClient({
      url,
      webSocketImpl: WebSocket,
      // Lazy: the socket lives exactly as long as the one subscription below, so a failed
      // handshake reaches that subscription's error sink and nothing else.
      retryAttempts: 3,
      // A ping message a minute keeps a quiet feed inside the gateway's WebSocket idle timeout.
      keepAlive: 60_000,
      connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    });
    const entry: Shared = { client, listeners: new Set(), ready: false, stop: () => {} };
    client.on('connected', () => {
      entry.ready = true;
      for (const listener of entry.listeners) listener.ready();
    });
    entry.stop = client.subscribe<Record<string, unknown>>(
      { query },
      {
        next: (result) => {
          for (const listener of entry.listeners) listener.next(result);
        },
        error: (err) => {
          log.warn({ err: err instanceof Error ? err : String(err) }, 'live subscription failed');
          const listeners = [...entry.listeners];
          release(key, entry);
          for (const listener of listeners) listener.end('Live updates are unavailable');
        },
        complete: () => {
          const listeners = [...entry.listeners];
          release(key, entry);
          for (const listener of listeners) listener.end();
        },
      },
    );
    return entry;
  }

  return {
    /** Joins the shared subscription for `query` with `token` (or none); returns how to leave it. */
    join(query: string, token: string | undefined, listener: LiveListener): () => void {
      const credential = token ? createHash('sha256').update(token).digest('base64url') : 'anonymous';
      const key = `${credential}\u0000${query}`;
      let entry = shared.get(key);
      if (!entry) {
        entry = open(key, query, token);
        shared.set(key, entry);
      }
      entry.listeners.add(listener);
      if (entry.ready) listener.ready();
      const joined = entry;
      return () => {
        joined.listeners.delete(listener);
        if (joined.listeners.size === 0) release(key, joined);
      };
    },
    /** Upstream subscriptions open now. */
    get size() {
      return shared.size;
    },
    close() {
      for (const [key, entry] of shared) {
        const listeners = [...entry.listeners];
        release(key, entry);
        for (const listener of listeners) listener.end();
      }
    },
  };
}
