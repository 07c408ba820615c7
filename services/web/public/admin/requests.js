// @ts-check
/** @import { Kit, RequestRow, TraceSpan } from './kit.js' */
import { adminOnly } from './tabs.js';

const FILTERS = ['status', 'route', 'user', 'min_ms'];

/** @param {string} iso */
function time(iso) {
  return new Date(iso).toLocaleTimeString('en-GB', {
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    fractionalSecondDigits: 3,
    hour12: false,
  });
}

/** @param {number} ms */
function duration(ms) {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`;
}

/**
 * The server checks the admin role on every call, and the role may have gone since the page
 * loaded: a 403 leaves the admin view as a visitor without the role sees it.
 * @param {Kit} kit
 * @param {string} title
 * @param {string} path
 * @returns {Promise<{ data: any } | undefined>}
 */
async function asAdmin(kit, title, path) {
  const { h, render, api, ApiError } = kit;
  try {
    return await api('GET', path);
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 403) throw err;
    render(title, h('p', {}, 'Only administrators can see this page.'));
    return undefined;
  }
}

/**
 * The recent requests this console's process traced, newest first, with the page's filters.
 * @param {Kit} kit
 * @param {URLSearchParams} params
 */
export async function requestsView(kit, params) {
  const { h, render, table } = kit;
  if (adminOnly(kit, 'Requests')) return;
  const query = new URLSearchParams();
  for (const key of FILTERS) {
    const value = params.get(key);
    if (value) query.set(key, value);
  }
  const status = params.get('status') ?? '';
  const form = h(
    'form',
    { role: 'search', class: 'filters', action: '/admin/requests', method: 'get' },
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'req-status' }, 'Status'),
      h(
        'select',
        { id: 'req-status', name: 'status' },
        h('option', { value: '' }, 'Any'),
        ['2xx', '3xx', '4xx', '5xx'].map((s) => h('option', { value: s, selected: s === status }, s)),
      ),
    ),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'req-route' }, 'Route'),
      h('input', {
        id: 'req-route',
        name: 'route',
        value: params.get('route') ?? '',
        placeholder: '/api/v1/…',
      }),
    ),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'req-user' }, 'User'),
      h('input', { id: 'req-user', name: 'user', value: params.get('user') ?? '', placeholder: 'User id' }),
    ),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'req-min' }, 'Slower than (ms)'),
      h('input', {
        id: 'req-min',
        name: 'min_ms',
        type: 'number',
        min: '0',
        value: params.get('min_ms') ?? '',
      }),
    ),
    h('button', { type: 'submit' }, 'Filter'),
  );

  /** @type {{ data: { limit: number, requests: RequestRow[] } } | undefined} */
  const answer = await asAdmin(kit, 'Requests', `/api/console/requests${query.size ? `?${query}` : ''}`);
  if (!answer) return;
  const { data } = answer;
  if (data.limit === 0)
    return render(
      'Requests',
      h(
        'p',
        {},
        'This console keeps no traces. Run the platform with npm start (it keeps the last 200), or send traces to a collector (docs/observability.md).',
      ),
    );
  const rows = data.requests.map((r) =>
    h(
      'tr',
      { class: r.error || (r.status ?? 0) >= 500 ? 'failed' : undefined },
      h('td', { 'data-label': 'Time' }, time(r.start)),
      h(
        'td',
        { 'data-label': 'Request' },
        `${r.method} ${r.path}`,
        r.route !== r.path ? h('div', { class: 'muted' }, r.route) : null,
      ),
      h('td', { 'data-label': 'Status' }, r.status === null ? '—' : String(r.status)),
      h('td', { 'data-label': 'User' }, r.user ?? '—'),
      h('td', { 'data-label': 'Duration' }, duration(r.duration_ms)),
      h(
        'td',
        { 'data-label': 'Trace' },
        // The first 8 hex digits tell traces apart on one page; the whole id is the link's title.
        h(
          'a',
          { href: `/admin/requests/${r.trace_id}`, class: 'mono', title: r.trace_id },
          r.trace_id.slice(0, 8),
        ),
      ),
    ),
  );
  render(
    'Requests',
    h('p', { class: 'muted' }, `The last ${data.limit} traces this process keeps, newest first.`),
    form,
    rows.length === 0
      ? h('p', {}, 'No request matches.')
      : table(['Time', 'Request', 'Status', 'User', 'Duration', 'Trace'], rows, {
          class: 'table requests',
          'aria-label': 'Recent requests',
        }),
  );
}

/**
 * Spans in tree order (each after its parent, siblings by start) with their depth.
 * @param {TraceSpan[]} spans
 * @returns {Array<{ span: TraceSpan, depth: number }>}
 */
function treeOrder(spans) {
  const ids = new Set(spans.map((s) => s.span_id));
  /** @type {Map<string, TraceSpan[]>} */
  const children = new Map();
  /** @type {TraceSpan[]} */
  const roots = [];
  for (const span of spans) {
    if (span.parent_span_id && ids.has(span.parent_span_id)) {
      const list = children.get(span.parent_span_id) ?? [];
      list.push(span);
      children.set(span.parent_span_id, list);
    } else roots.push(span);
  }
  /** @type {Array<{ span: TraceSpan, depth: number }>} */
  const out = [];
  /** @param {TraceSpan} span @param {number} depth */
  const walk = (span, depth) => {
    out.push({ span, depth });
    for (const child of children.get(span.span_id) ?? []) walk(child, depth + 1);
  };
  for (const root of roots) walk(root, 0);
  return out;
}

/**
 * One trace as a waterfall: a row per span (service, name), a bar from its start to its end
 * on the trace's time line.
 * @param {Kit} kit
 * @param {string} traceId
 */
export async function traceView(kit, traceId) {
  const { h, render } = kit;
  if (adminOnly(kit, 'Trace')) return;
  /** @type {{ data: { trace_id: string, spans: TraceSpan[], dropped_spans: number } } | undefined} */
  const answer = await asAdmin(kit, 'Trace', `/api/console/requests/${encodeURIComponent(traceId)}`);
  if (!answer) return;
  const { data } = answer;
  const starts = data.spans.map((s) => Date.parse(s.start));
  const t0 = Math.min(...starts);
  const end = Math.max(...data.spans.map((s, i) => (starts[i] ?? t0) + s.duration_ms));
  const total = Math.max(end - t0, 0.001);
  const rows = treeOrder(data.spans).map(({ span, depth }) => {
    const offset = Date.parse(span.start) - t0;
    const bar = h('span', { class: `bar bar-${span.kind}${span.status === 'error' ? ' bar-error' : ''}` });
    // Set through the CSSOM: the page's CSP allows no style attributes.
    bar.style.marginLeft = `${(offset / total) * 100}%`;
    bar.style.width = `${Math.max((span.duration_ms / total) * 100, 0.3)}%`;
    const label = h(
      'span',
      { class: 'span-name' },
      h('span', { class: 'muted' }, `${span.service} · `),
      span.name,
    );
    label.style.paddingLeft = `${depth}rem`;
    const port = span.attributes['server.port'];
    return h(
      'li',
      { class: 'span-row', title: port ? `${span.kind} span, port ${port}` : `${span.kind} span` },
      label,
      h('span', { class: 'track' }, bar),
      h('span', { class: 'span-time' }, `+${duration(offset)} · ${duration(span.duration_ms)}`),
    );
  });
  render(
    'Trace',
    h('p', {}, h('a', { href: '/admin/requests' }, '← Requests')),
    h(
      'p',
      { class: 'muted' },
      h('span', { class: 'mono' }, data.trace_id),
      ` · ${data.spans.length} spans · ${duration(total)}`,
      data.dropped_spans ? ` · ${data.dropped_spans} more not kept` : '',
    ),
    h('ol', { class: 'waterfall', 'aria-label': 'Spans by start' }, rows),
  );
}
