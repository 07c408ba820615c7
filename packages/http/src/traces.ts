/**
 * `/traces` on the operator port, when the process keeps recent traces (@portico/telemetry,
 * `PORTICO_RECENT_TRACES`; on in `npm start`): `GET /traces` lists them newest first,
 * `GET /traces?trace_id=<32 hex>` gives one trace's spans. In `npm start` every service shares
 * the process, so each operator port answers the same store.
 */
import { commonErrors } from '@portico/problem';
import { recentTraceStore } from '@portico/telemetry';
import type { Operator } from './operator.ts';

const TRACE_ID = /^[0-9a-f]{32}$/;
const JSON_TYPE = 'application/json; charset=utf-8';

export function registerTraces(operator: Operator): void {
  const store = recentTraceStore();
  if (!store) return;
  operator.route('/traces', async (url) => {
    const id = url.searchParams.get('trace_id');
    if (id === null)
      return { type: JSON_TYPE, body: JSON.stringify({ limit: store.limit, traces: store.list() }) };
    if (!TRACE_ID.test(id))
      throw commonErrors.VALIDATION_ERROR('trace_id must be 32 lowercase hexadecimal digits', {
        extensions: {
          errors: [
            {
              field: 'trace_id',
              code: 'VALIDATION_ERROR',
              message: 'trace_id must be 32 lowercase hex digits',
            },
          ],
        },
      });
    const found = store.get(id);
    if (!found) throw commonErrors.NOT_FOUND(`Trace ${id} is not among the ${store.limit} kept`);
    return { type: JSON_TYPE, body: JSON.stringify(found) };
  });
}
