/**
 * When tracing is on. The OpenTelemetry SDK reads its own standard variables (`OTEL_*`); this
 * decides only whether to start it at all, so a service with nothing configured loads none of it:
 * - an exporter is configured (`OTEL_TRACES_EXPORTER` other than `none`, or an
 *   `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`): the SDK exports there;
 * - else `PORTICO_RECENT_TRACES` > 0: spans are kept in this process only (recent.ts);
 * - `OTEL_SDK_DISABLED=true` turns both off.
 */
import { loadConfig, type Static, Type } from '@portico/config';

export const TelemetrySchema = Type.Object({
  recentTraces: Type.Integer({
    minimum: 0,
    maximum: 10_000,
    default: 0,
    env: 'PORTICO_RECENT_TRACES',
    description:
      'Keep this many recent traces in process, served at /traces on the operator port, when no OTLP exporter is configured (npm start: 200; 0 = off)',
  }),
});

export type TelemetrySettings = Static<typeof TelemetrySchema> & {
  /** The SDK exports to where the `OTEL_*` variables say. */
  exporting: boolean;
};

export function telemetrySettings(
  env: Record<string, string | undefined>,
  defaults: { recentTraces?: number } = {},
): TelemetrySettings {
  const given =
    defaults.recentTraces === undefined ? {} : { PORTICO_RECENT_TRACES: String(defaults.recentTraces) };
  const settings = loadConfig('telemetry', TelemetrySchema, { env: { ...given, ...stripEmpty(env) } });
  if (/^true$/i.test(env.OTEL_SDK_DISABLED?.trim() ?? '')) return { recentTraces: 0, exporting: false };
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  const exporting =
    exporters.length > 0
      ? exporters.some((name) => name !== 'none')
      : Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  return { ...settings, exporting };
}

function stripEmpty(env: Record<string, string | undefined>) {
  return Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
}
