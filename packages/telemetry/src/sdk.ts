/**
 * The OpenTelemetry Node SDK with the instrumentations for Portico's stack, loaded only when
 * tracing is on (index.ts). The SDK reads the standard variables itself: OTEL_SERVICE_NAME,
 * OTEL_EXPORTER_OTLP_ENDPOINT and _PROTOCOL, OTEL_TRACES_SAMPLER and _ARG, OTEL_PROPAGATORS,
 * OTEL_RESOURCE_ATTRIBUTES, OTEL_BSP_*…
 *
 * ES modules are patched through import-in-the-middle's in-thread loader hooks, registered here
 * for the packages the instrumentations patch; only modules loaded after this runs are seen,
 * which is why each main imports the telemetry first and the rest with `await import()`.
 * HTTP servers and undici (fetch and the gateway's pools) need no hook: the one patches
 * `http.Server.prototype.emit`, the other listens on undici's diagnostics channels.
 */

import { FastifyInstrumentation } from '@opentelemetry/instrumentation-fastify';
import { GraphQLInstrumentation } from '@opentelemetry/instrumentation-graphql';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { PinoInstrumentation } from '@opentelemetry/instrumentation-pino';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { register as registerImportHooks, supportsSyncHooks } from 'import-in-the-middle/register-hooks.mjs';
import { skipsClientSpan, untraced } from './client-spans.ts';
import type { RecentTraces } from './recent.ts';

const PATCHED = ['fastify', 'pg', 'pg-pool', 'ioredis', 'graphql', 'pino'];

export function startSdk(options: { serviceName: string; recent?: RecentTraces }): NodeSDK {
  if (supportsSyncHooks()) registerImportHooks({ include: PATCHED });
  const sdk = new NodeSDK({
    // OTEL_SERVICE_NAME, when set, names the service; else the name the process runs under.
    ...(process.env.OTEL_SERVICE_NAME ? {} : { serviceName: options.serviceName }),
    // Without an exporter configured the spans stay in process; with one, the SDK builds it from env.
    ...(options.recent ? { spanProcessors: [options.recent] } : {}),
    // Traces only, unless metrics or logs are asked for by name: the SDK's default would send
    // both to the OTLP endpoint too (or to localhost:4318 when none is set), and Portico's metrics
    // are Prometheus on the operator port, its logs on stdout.
    ...(process.env.OTEL_METRICS_EXPORTER ? {} : { metricReaders: [] }),
    ...(process.env.OTEL_LOGS_EXPORTER ? {} : { logRecordProcessors: [] }),
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => untraced(req.url) }),
      new UndiciInstrumentation({ ignoreRequestHook: skipsClientSpan }),
      new FastifyInstrumentation(),
      new PgInstrumentation({ requireParentSpan: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
      new GraphQLInstrumentation({ ignoreTrivialResolveSpans: true, mergeItems: true }),
      // trace_id and span_id on every log line written while a span is active.
      new PinoInstrumentation({ disableLogSending: true }),
    ],
  });
  sdk.start();
  return sdk;
}
