/** Steady GET load through a gateway, and when the gateway logged an event: for fault tests. */
import type { Proc } from './procs.ts';

export interface Outcome {
  at: number;
  ms: number;
  status: number;
  /** The body (start) of a non-200 answer, or the error. */
  detail?: string;
}

/** `workers` loops of GETs of `url` until `stop()`. */
export function load(url: string, workers: number) {
  const outcomes: Outcome[] = [];
  let running = true;
  const loops = Array.from({ length: workers }, async () => {
    while (running) {
      const at = Date.now();
      let status = 0;
      let detail: string | undefined;
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(15_000) });
        const body = await res.text();
        status = res.status;
        if (status !== 200) detail = body.slice(0, 300);
      } catch (err) {
        status = -1;
        detail = String(err);
      }
      outcomes.push({ at, ms: Date.now() - at, status, detail });
    }
  });
  return {
    outcomes,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** When `gateway` logged `message` for `instance` (ms since the epoch), after `since`. */
export function logged(gateway: Proc, message: string, instance: string, since: number): number | undefined {
  for (const line of gateway.output().split('\n')) {
    if (!line.includes(message) || !line.includes(instance)) continue;
    const time = (JSON.parse(line) as { time: number }).time;
    if (time >= since) return time;
  }
  return undefined;
}
