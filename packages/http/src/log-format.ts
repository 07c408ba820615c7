/**
 * Logs for people when a person is reading: on a terminal, one short coloured line per record
 * (`[12:04:05.123] INFO: catalog GET /api/v1/products 200 3.2 ms user=… trace=…`); anywhere
 * else (a file, a pipe, a container's log collector) pino's JSON, one object per line.
 * The pretty stream runs in process (no worker thread): it is for a developer's terminal.
 */
import pretty from 'pino-pretty';

/** Keys the line shows in its own words, or that only matter to machines. */
const SHOWN = ['service', 'method', 'path', 'status', 'ms', 'user', 'trace_id', 'span_id', 'trace_flags'];

export function terminalStream(): NodeJS.WritableStream | undefined {
  if (!process.stdout.isTTY) return undefined;
  return pretty({
    colorize: true,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: ['pid', 'hostname', 'request_id', ...SHOWN].join(','),
    messageFormat: (log, messageKey) => {
      const parts = [String(log.service ?? ''), String(log[messageKey] ?? '')];
      if (typeof log.ms === 'number') parts.push(`${log.ms} ms`);
      if (log.user) parts.push(`user=${log.user}`);
      if (log.trace_id) parts.push(`trace=${log.trace_id}`);
      return parts.filter(Boolean).join(' ');
    },
  });
}
