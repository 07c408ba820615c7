/**
 * Stall detection on real sockets, with instances in processes of their own: time the gateway
 * itself was not running (its event loop blocked) is not an upstream's silence; stall detection
 * alone never ejects the last instance nor more than half of them; a frozen instance beside a
 * healthy peer is still ejected and costs no request. Outcomes are asserted, not timings: the
 * waits are generous, for a loaded 2-core CI machine.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { load } from '@portico/http/testing';
import { createUpstream } from '../src/upstream/upstream.ts';
import { startGateway, type TestGateway } from './support/harness.ts';
import { type Instance, startInstance } from './support/instance.ts';

const STALL_AFTER_MS = 500;

/** Steady GETs through the gateway, stopped after each test. */
function startLoad(url: string, workers: number) {
  const running = load(url, workers);
  loads.push(running);
  return running;
}

async function until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Blocks this process's event loop, the gateway's, for `ms`. */
function busyWait(ms: number) {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin
  }
}

interface Logged {
  msg: string;
  instance?: string;
}

let gateway: TestGateway | undefined;
let instances: Instance[] = [];
let loads: { stop(): Promise<void> }[] = [];

afterEach(async () => {
  // Thawed first, so that a failed test's traffic ends within its route timeout.
  for (const instance of instances) instance.resume();
  await Promise.all(loads.map((running) => running.stop()));
  loads = [];
  await gateway?.close();
  await Promise.all(instances.map((instance) => instance.close()));
  gateway = undefined;
  instances = [];
});

async function setUp(count: number, delayMs: number, stallAfterMs = STALL_AFTER_MS) {
  instances = await Promise.all(Array.from({ length: count }, () => startInstance(delayMs)));
  const logs: Logged[] = [];
  gateway = await startGateway(
    {
      upstreams: {
        svc: {
          instances: instances.map((instance) => instance.url),
          // Only stall detection opens a breaker here: route timeouts do not add up to 100.
          breaker: { stallAfter: `${stallAfterMs}ms`, failures: 100, cooldown: '1s' },
        },
      },
      routes: [
        { name: 'r', path: '/r', upstream: 'svc', timeout: 10_000, retries: 1, auth: { default: 'public' } },
      ],
    } as never,
    { config: { logLevel: 'warn' }, logStream: { write: (line) => void logs.push(JSON.parse(line)) } },
  );
  const opened = () =>
    new Set(logs.filter((l) => l.msg === 'circuit breaker open').map((l) => l.instance as string));
  const stalled = () =>
    new Set(logs.filter((l) => l.msg.startsWith('instance stalled')).map((l) => l.instance as string));
  /** Every verdict of stall detection: each means an instance was found silent and probed. */
  const probed = () => logs.filter((l) => /^instance (stalled|slow)/.test(l.msg));
  return { url: `${gateway.url}/r`, logs, opened, stalled, probed };
}

describe('stall detection', () => {
  test("a health probe's deadline does not pass while the gateway's own event loop is blocked: a healthy instance passes", async () => {
    instances = [await startInstance()];
    const upstream = createUpstream('svc', {
      instances: [instances[0]!.url],
      healthCheck: { timeout: `${STALL_AFTER_MS}ms` },
      breaker: { stallAfter: 0 },
    });
    try {
      // Sent (or about to be), then the loop is blocked past the probe's timeout: the answer
      // waits in the socket, and a wall-clock deadline would fire before it is read.
      const checked = upstream.check();
      busyWait(3 * STALL_AFTER_MS);
      const [result] = await checked;
      assert.equal(result?.ok, true, JSON.stringify(result));
    } finally {
      await upstream.close();
    }
  });

  test("the gateway's own event loop blocked (3 × stallAfter, twice) with requests in flight to healthy instances: none is even suspected, nothing is ejected, every request succeeds", async () => {
    // The default stallAfter: a second of silence from instances that answer in 50 ms, in time
    // the gateway was running, would take a machine far beyond a loaded CI's.
    const stallAfterMs = 1000;
    const { url, logs, opened, probed } = await setUp(2, 50, stallAfterMs);
    const traffic = startLoad(url, 6);
    await until('warm traffic', () => traffic.outcomes.filter((o) => o.status === 200).length >= 20);

    const blocked = Date.now();
    // One turn of the event loop (its timers, then its I/O) between blocks: a wall-clock
    // watchdog would suspect both instances after the first, and a wall-clock probe deadline
    // would pass during the second, both before the answers waiting in the sockets are read.
    for (let i = 0; i < 2; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      busyWait(3 * stallAfterMs);
    }
    const unblocked = Date.now();
    await until(
      'traffic after the blocks',
      () => traffic.outcomes.filter((o) => o.at > unblocked).length >= 20,
    );
    await traffic.stop();

    const caught = traffic.outcomes.filter((o) => o.at < blocked && o.at + o.ms > blocked + 3 * stallAfterMs);
    const failed = traffic.outcomes.filter((o) => o.status !== 200);
    assert.ok(caught.length > 0, 'requests were in flight when the loop was blocked');
    assert.deepEqual([...opened()], [], `ejected: ${JSON.stringify(logs)}`);
    assert.deepEqual(probed(), [], 'the time the gateway was blocked is not silence');
    assert.equal(failed.length, 0, `failed: ${JSON.stringify(failed.slice(0, 5))}`);
  });

  test('both instances frozen: stall detection ejects one at most, and both serve again once thawed', async () => {
    const { url, logs, opened, stalled } = await setUp(2, 0);
    const traffic = startLoad(url, 6);
    await until('warm traffic', () => traffic.outcomes.filter((o) => o.status === 200).length >= 20);

    for (const instance of instances) instance.pause();
    // A verdict on each: ejected, or found stalled and kept since its peer is out already.
    await until('a stall verdict on both instances', () => stalled().size === 2);
    assert.equal(opened().size, 1, JSON.stringify(logs));

    for (const instance of instances) instance.resume();
    const resumed = Date.now();
    await until(
      'both instances serving again',
      () =>
        traffic.outcomes.filter((o) => o.at > resumed && o.status === 200).length >= 20 &&
        logs.some((l) => l.msg === 'circuit breaker closed'),
    );
    await traffic.stop();
  });

  test('one instance frozen beside a healthy peer: it is ejected and no request fails', async () => {
    const { url, logs, opened } = await setUp(2, 0);
    const traffic = startLoad(url, 6);
    await until('warm traffic', () => traffic.outcomes.filter((o) => o.status === 200).length >= 20);

    const [frozen] = instances as [Instance, Instance];
    const paused = Date.now();
    frozen.pause();
    await until('the frozen instance to be ejected', () => opened().has(frozen.url));
    await until(
      'traffic on the peer',
      () => traffic.outcomes.filter((o) => o.at > paused && o.status === 200).length >= 50,
    );
    await traffic.stop();

    const failed = traffic.outcomes.filter((o) => o.status !== 200);
    assert.deepEqual([...opened()], [frozen.url], JSON.stringify(logs));
    assert.equal(failed.length, 0, `failed: ${JSON.stringify(failed.slice(0, 5))}`);
  });
});
