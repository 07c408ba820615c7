/**
 * Which outgoing calls get a client span of their own (undici: `fetch` and the gateway's pools).
 * The undici instrumentation builds a call's span in full — its URL parsed, its attributes, a
 * span id drawn, a record kept until the answer's last byte — before the sampler has a say, and
 * a call under a sampled-out request pays all of that for a span nobody sees: it was a third of
 * what tracing added to a sampled-out request at the gateway (bench/results/tracing.md). Such a
 * call is left to this hook: its request's trace context is written on as it stands, sampled
 * flag off, so the next service follows the decision and its log lines carry the same trace id;
 * only the span that would never have been exported is not made.
 */
import { context, propagation, trace } from '@opentelemetry/api';
import type { UndiciRequest } from '@opentelemetry/instrumentation-undici';

/** Probes and operator endpoints: asked every few seconds, never part of a user's request. */
const UNTRACED = new Set(['/health', '/metrics', '/traces', '/usage']);

export const untraced = (url: string | undefined) => UNTRACED.has((url ?? '/').split('?')[0]!);

/**
 * True for a call that gets no span: a probe, or a call under a span that is not recording,
 * after its trace context is added to the call's headers. A call made outside any request (a
 * background job's) still starts a trace of its own, sampled as any root is.
 */
export function skipsClientSpan(request: UndiciRequest): boolean {
  if (untraced(request.path)) return true;
  const span = trace.getActiveSpan();
  if (!span || span.isRecording()) return false;
  const headers: Record<string, string> = {};
  propagation.inject(context.active(), headers);
  for (const name in headers) request.addHeader(name, headers[name]!);
  return true;
}
