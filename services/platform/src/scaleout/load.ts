/**
 * Steady, bounded load: `rate` requests a second for `durationMs`, open loop (a slow
 * answer does not slow the sender down, as with real clients), spread over weighted
 * probes. Every outcome is counted; writes the service acknowledged are kept so the
 * caller can check afterwards that each one is still there.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** A connection that broke under a request: an idempotent one may be sent again. */
const BROKEN_CONNECTION = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'UND_ERR_CLOSED', 'EPIPE']);

export interface Outcome {
  /** The request did what it should (a 2xx, or the answer the probe expects). */
  ok: boolean;
  status: number;
  /** For a failure: who answered it (the problem's `code`, or HAProxy's own page). */
  reason?: string;
  /** For a write: what to look up later to prove it was kept. */
  acknowledged?: string;
}

export interface Probe {
  name: string;
  weight: number;
  /** Safe to retry (GET, or a write with an Idempotency-Key): the target is zero failures. */
  idempotent: boolean;
  send(signal: AbortSignal): Promise<Outcome>;
}

export interface ProbeReport {
  sent: number;
  failed: number;
  /** Status (or error code) → count, failures only. */
  failures: Record<string, number>;
}

export interface LoadReport {
  rate: number;
  durationMs: number;
  sent: number;
  failedIdempotent: number;
  /**
   * Idempotent requests the client sent again after its connection broke mid-exchange (RFC 9110
   * §9.2.2, as browsers and HTTP clients do); a second failure counts as a failure.
   */
  clientRetries: number;
  failedWrites: number;
  acknowledged: Array<{ probe: string; id: string }>;
  /** When each failed request was sent (ms from the start), to lay them beside the faults. */
  failedAt: number[];
  probes: Record<string, ProbeReport>;
  latencyMs: { p50: number; p99: number; max: number };
}

export async function steadyLoad(options: {
  rate: number;
  durationMs: number;
  probes: Probe[];
  timeoutMs?: number;
  /** Ends the load early (when what it accompanies is done). */
  stop?: AbortSignal;
}): Promise<LoadReport> {
  const { rate, durationMs, probes } = options;
  const schedule = probes.flatMap((p) => Array.from({ length: p.weight }, () => p));
  const report: LoadReport = {
    rate,
    durationMs,
    sent: 0,
    failedIdempotent: 0,
    clientRetries: 0,
    failedWrites: 0,
    acknowledged: [],
    failedAt: [],
    probes: Object.fromEntries(probes.map((p) => [p.name, { sent: 0, failed: 0, failures: {} }])),
    latencyMs: { p50: 0, p99: 0, max: 0 },
  };
  const latencies: number[] = [];
  const inflight = new Set<Promise<void>>();
  const total = Math.round((rate * durationMs) / 1000);
  const t0 = performance.now();
  for (let i = 0; i < total && !options.stop?.aborted; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const probe = schedule[i % schedule.length]!;
    const stats = report.probes[probe.name]!;
    stats.sent++;
    report.sent++;
    const started = performance.now();
    const fail = (reason: string) => {
      report.failedAt.push(Math.round(started - t0));
      stats.failed++;
      stats.failures[reason] = (stats.failures[reason] ?? 0) + 1;
      if (probe.idempotent) report.failedIdempotent++;
      else report.failedWrites++;
    };
    const signal = AbortSignal.timeout(options.timeoutMs ?? 10_000);
    const request = probe
      .send(signal)
      .catch((err: Error & { cause?: { code?: string } }) => {
        if (!probe.idempotent || signal.aborted || !BROKEN_CONNECTION.has(err.cause?.code ?? '')) throw err;
        report.clientRetries++;
        return probe.send(signal);
      })
      .then(
        (outcome) => {
          if (!outcome.ok)
            fail(outcome.reason ? `${outcome.status} ${outcome.reason}` : String(outcome.status));
          else if (outcome.acknowledged)
            report.acknowledged.push({ probe: probe.name, id: outcome.acknowledged });
        },
        (err: Error & { cause?: { code?: string } }) => fail(err.cause?.code ?? err.name),
      )
      .finally(() => {
        latencies.push(performance.now() - started);
        inflight.delete(request);
      });
    inflight.add(request);
  }
  await Promise.all(inflight);
  report.durationMs = Math.round(performance.now() - t0);
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0);
  report.latencyMs = { p50: at(0.5), p99: at(0.99), max: Math.round(latencies.at(-1) ?? 0) };
  return report;
}
