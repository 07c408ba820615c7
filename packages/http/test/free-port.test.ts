/**
 * freePort across processes: test files run in parallel processes, each starting servers on
 * ports it chose before listening, so a port handed to one must not be handed to another
 * (or twice to the same one) while its holder lives, even though nobody listens on it yet.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { test } from 'node:test';

const TESTING = new URL('../src/testing.ts', import.meta.url).href;
const COUNT = 250;

/** A process that takes `COUNT` ports without listening on any, and holds on until told to go. */
function portTaker() {
  const code = `const { freePort } = await import(${JSON.stringify(TESTING)});
const ports = [];
for (let i = 0; i < ${COUNT}; i++) ports.push(await freePort());
process.send(ports);
process.on('message', () => {}); // keeps the channel, and so the process, until the parent disconnects`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ports = new Promise<number[]>((resolve, reject) => {
    child.once('message', (message) => resolve(message as number[]));
    child.once('exit', (code) => reject(new Error(`port taker exited (${code}) without its ports`)));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    ports,
    kill: () => child.kill('SIGKILL'),
    async release() {
      if (child.connected) child.disconnect();
      await exited;
    },
  };
}

test('processes asking for ports at once get disjoint ones, each port once', async () => {
  // With a probe alone (free now, not held) two takers of 250 ports out of ~12,000 share
  // about five, and each gets about two twice: all clear by chance about once in 15,000.
  const takers = [portTaker(), portTaker()];
  try {
    const [a, b] = await Promise.all(takers.map((t) => t.ports));
    assert.equal(new Set(a).size, COUNT, 'one process never gets a port twice');
    assert.equal(new Set(b).size, COUNT, 'one process never gets a port twice');
    const shared = a!.filter((port) => b!.includes(port));
    assert.deepEqual(shared, [], 'no port handed to both processes');
  } finally {
    await Promise.all(takers.map((t) => t.release()));
  }
});

test("a killed holder's ports come free again for others", {
  skip: process.platform !== 'linux' && 'elsewhere the claim is a lock file, kept by a killed holder',
}, async () => {
  const holder = portTaker();
  const ports = await holder.ports;
  assert.equal(await claimable(ports[0]!), false, 'held while its holder lives');
  holder.kill();
  await holder.release();
  for (const port of ports) assert.ok(await claimable(port), `port ${port}'s claim went with its holder`);
});

/** Whether the claim freePort makes on Linux (testing.ts) can be made on `port` now. */
function claimable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const claim = createServer();
    claim.once('error', () => resolve(false));
    claim.listen(`\0portico-test-port-${port}`, () => claim.close(() => resolve(true)));
  });
}
