// @ts-check
/** @import { AuditEntry, Kit } from './kit.js' */
import { adminOnly, adminTabs } from './tabs.js';

/** @param {Kit} kit */
export async function auditView(kit) {
  const { h, render, api, dateTime } = kit;
  if (adminOnly(kit, 'Audit log')) return;
  /** @type {{ data: { data: AuditEntry[] } }} */
  const { data } = await api('GET', '/api/v1/identity/audit?limit=100');
  render(
    'Audit log',
    adminTabs(kit),
    h(
      'table',
      {},
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['When', 'Who', 'What', 'Target', 'From'].map((t) => h('th', { scope: 'col' }, t)),
        ),
      ),
      h(
        'tbody',
        {},
        data.data.map((e) =>
          h(
            'tr',
            {},
            h('td', {}, dateTime(e.at)),
            h('td', {}, e.actor),
            h('td', {}, e.action, e.detail?.username ? ` (${e.detail.username})` : ''),
            h('td', {}, e.target ?? ''),
            h('td', {}, e.ip ?? ''),
          ),
        ),
      ),
    ),
  );
}
