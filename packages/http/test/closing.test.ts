/**
 * A request that reaches a closing server is served (with `Connection: close`), not answered
 * 503: in a rolling restart, a client (the gateway's keep-alive pool) may send one on a
 * connection the server is about to close, and a 503 there is a lost request.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { createServer } from '../src/index.ts';

test('a request sent on a busy keep-alive connection after close() began is served, and the connection then closes', async () => {
  const server = await createServer({ name: 'test', logLevel: false });
  let arrived!: () => void;
  const first = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  server.get('/slow', async () => {
    arrived();
    await new Promise((resolve) => setTimeout(resolve, 100));
    return { slow: true };
  });
  server.get('/fast', async () => ({ fast: true }));
  await server.listen({ port: 0, host: '127.0.0.1' });
  const { port } = server.server.address() as { port: number };

  const socket = connect(port, '127.0.0.1');
  let received = '';
  socket.on('data', (chunk) => {
    received += chunk.toString();
  });
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
  await first;
  const closed = server.close();
  // The next request on the same keep-alive connection, sent while the server closes.
  socket.write('GET /fast HTTP/1.1\r\nHost: x\r\n\r\n');
  await ended;
  await closed;

  const statuses = [...received.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
  assert.deepEqual(statuses, [200, 200], received);
  assert.match(received, /\{"fast":true\}/);
  assert.match(received, /connection: close/i);
});
