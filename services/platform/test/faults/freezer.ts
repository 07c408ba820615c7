/**
 * A TCP proxy that can freeze: what a paused database looks like from its clients, without
 * pausing a database other tests share. Frozen, it forwards no byte either way and closes
 * nothing; new connections are accepted (the kernel of a SIGSTOPped server completes the
 * handshake too) and wait. Thawed, everything held is delivered in order.
 */
import { connect, createServer, type Socket } from 'node:net';

export interface Freezer {
  host: string;
  port: number;
  freeze(): void;
  thaw(): void;
  close(): Promise<void>;
}

export async function startFreezer(target: { host: string; port: number }): Promise<Freezer> {
  let frozen = false;
  const sockets = new Set<Socket>();

  /** Relays `from` to `to` by hand: `pipe()` would resume a source we paused. */
  function relay(from: Socket, to: Socket) {
    from.on('data', (chunk: Buffer) => {
      if (!to.write(chunk)) from.pause();
    });
    to.on('drain', () => {
      if (!frozen) from.resume();
    });
    from.on('end', () => to.end());
    from.on('error', () => to.destroy());
    from.on('close', () => to.destroy());
  }

  const server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      if (frozen) socket.pause();
    }
    relay(client, upstream);
    relay(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return {
    host: '127.0.0.1',
    port: address.port,
    freeze() {
      frozen = true;
      for (const socket of sockets) socket.pause();
    },
    thaw() {
      frozen = false;
      for (const socket of sockets) socket.resume();
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
