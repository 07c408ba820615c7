/**
 * One WebSocket session joined to its upstream, message by message. Client messages go
 * through the checks the route's policies registered, in order (a queue, so a slow store
 * never reorders them); a refused one closes both sides with 1008. Size is enforced by the client-side server's
 * `maxPayload` (1009). No message either way for `idleTimeoutMs` closes both with 1001.
 * A close on one side closes the other with the same code when that code may be sent.
 */
import type { FastifyBaseLogger } from 'fastify';
import { type RawData, WebSocket } from 'ws';

const MAX_WAITING = 16;

export interface SessionOptions {
  /** What every client message must pass (the rate limit); a throw closes the session 1008. */
  check: (() => Promise<unknown>) | undefined;
  idleTimeoutMs: number;
  onClose?(): void;
  log: FastifyBaseLogger;
  id: string;
}

export function join(client: WebSocket, up: WebSocket, options: SessionOptions): void {
  let queue: Promise<void> = Promise.resolve();
  let waiting = 0;
  const idle =
    options.idleTimeoutMs > 0
      ? setTimeout(() => {
          end(client, 1001, 'idle timeout');
          end(up, 1001, 'idle timeout');
        }, options.idleTimeoutMs)
      : undefined;
  const touch = () => idle?.refresh();

  client.on('message', (data: RawData, isBinary: boolean) => {
    touch();
    if (!options.check) {
      if (up.readyState === WebSocket.OPEN) up.send(data, { binary: isBinary });
      return;
    }
    // Messages waiting for the limiter hold memory: stop reading the client while many wait.
    if (++waiting === MAX_WAITING) client.pause();
    queue = queue.then(async () => {
      try {
        await options.check!();
      } catch {
        end(client, 1008, 'rate limit exceeded');
        end(up, 1000, 'client closed');
        return;
      } finally {
        if (waiting-- === MAX_WAITING) client.resume();
      }
      if (up.readyState === WebSocket.OPEN) up.send(data, { binary: isBinary });
    });
  });
  up.on('message', (data: RawData, isBinary: boolean) => {
    touch();
    if (client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
  });

  let closed = false;
  const closeBoth = () => {
    if (closed) return;
    closed = true;
    clearTimeout(idle);
    options.onClose?.();
  };
  client.on('close', (code, reason) => {
    closeBoth();
    // Wait for queued messages before passing the close on.
    void queue.then(() => end(up, code, reason.toString()));
  });
  up.on('close', (code, reason) => {
    closeBoth();
    end(client, code, reason.toString());
  });
  client.on('error', (err) =>
    options.log.debug({ err: err.message, request_id: options.id }, 'websocket client error'),
  );
  up.on('error', (err) =>
    options.log.debug({ err: err.message, request_id: options.id }, 'websocket upstream error'),
  );
}

/** Closes with `code` when RFC 6455 §7.4 lets an endpoint send it, else without a code. */
function end(socket: WebSocket, code: number, reason: string) {
  if (socket.readyState === WebSocket.CLOSED || socket.readyState === WebSocket.CLOSING) return;
  const sendable =
    (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
  try {
    if (sendable) socket.close(code, reason.slice(0, 120));
    else socket.close();
  } catch {
    socket.terminate();
  }
}
