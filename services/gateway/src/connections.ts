/**
 * Long-lived connections (WebSocket sessions, event streams) held open per consumer and
 * route, capped: one consumer cannot hold every socket the gateway has. Counted in this
 * process (a connection lives on one gateway); the gateway file's reloads keep the counts.
 */
import { errors } from './errors.ts';
import { slots } from './slots.ts';

export type Connections = ReturnType<typeof connectionCounter>;

export function connectionCounter() {
  const open = slots();
  return {
    /** Takes a slot for `key` or throws 429; the returned function gives it back (once). */
    acquire(key: string, max: number): () => void {
      const release = open.take(key, max);
      if (!release) {
        throw errors.TOO_MANY_CONNECTIONS(
          `At most ${max} open connections per consumer on this route; close one and retry`,
          { headers: { 'retry-after': '1' }, extensions: { limit: max } },
        );
      }
      return release;
    },
    count: open.count,
  };
}
