// @ts-check
/** @import { Kit } from './kit.js' */
import { data } from '../api/client.js';
import { adminOnly, adminTabs } from './tabs.js';

/** @param {Kit} kit */
export async function auditView(kit) {
  const { h, render, table, dateTime } = kit;
  if (adminOnly(kit, 'Audit log')) return;
  const api = kit.gateway;
  const log = await data(api.GET('/api/v1/identity/audit', { params: { query: { limit: 100 } } }));
  render(
    'Audit log',
    adminTabs(kit),
    table(
      ['When', 'Who', 'What', 'Target', 'From'],
      log.data.map((e) =>
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
  );
}
