/** When a gateway logged an event: for fault tests. */
import type { Proc } from './procs.ts';

/** When `gateway` logged `message` for `instance` (ms since the epoch), after `since`. */
export function logged(gateway: Proc, message: string, instance: string, since: number): number | undefined {
  for (const line of gateway.output().split('\n')) {
    if (!line.includes(message) || !line.includes(instance)) continue;
    const time = (JSON.parse(line) as { time: number }).time;
    if (time >= since) return time;
  }
  return undefined;
}
