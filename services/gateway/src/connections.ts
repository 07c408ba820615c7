/**
 * Long-lived connections (WebSocket sessions, event streams) held open per consumer and
 * route, capped: one consumer cannot hold every socket the gateway has. Counted in this
 * process (a connection lives on one gateway); the gateway file's reloads keep the counts.
 */
import { errors } from './errors.ts';

export type Connections = ReturnType<typeof connectionCounter>;

export function connectionCounter() {
  const open = new Map<string, number>();
  return {
    /** Takes a slot for `key` or throws 429; the returned function gives it back (once). */
    acquire(key: string, max: number): () => void {
      const count = open.get(key) ?? 0;
      if (count >= max) {
        throw errors.TOO_MANY_CONNECTIONS(
          `At most ${max} open connections per consumer on this route; close one and retry`,
          { headers: { 'retry-after': '1' }, extensions: { limit: max } },
        );
      }
      open.set(key, count + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const left = (open.get(key) ?? 1) - 1;
        if (left <= 0) open.delete(key);
        else open.set(key, left);
      };
    },
    count: (key: string) => open.get(key) ?? 0,
  };
}
