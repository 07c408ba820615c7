// @ts-check
/** @import { Kit, SigningKey } from './kit.js' */
import { data } from '../api/client.js';
import { adminOnly, adminTabs } from './tabs.js';

/** What a key does now, in words: `next` says from when it signs. */
/**
 * @param {Kit} kit
 * @param {SigningKey} k
 */
function keyStatus(kit, k) {
  const { dateTime } = kit;
  if (k.status === 'signing') return 'Signs now';
  if (k.status === 'next') return `Signs from ${dateTime(k.signs_from)}`;
  return 'Verifies only';
}

/** @param {Kit} kit */
export async function keysView(kit) {
  const { h, render, table, flash, flashError, dateTime } = kit;
  if (adminOnly(kit, 'Signing keys')) return;
  const api = kit.gateway;
  const keys = await data(api.GET('/api/v1/identity/keys'));
  const rotate = h(
    'button',
    {
      type: 'button',
      onclick: async () => {
        rotate.disabled = true;
        try {
          const out = await data(api.POST('/api/v1/identity/keys/rotate'));
          await keysView(kit);
          flash(`Key ${out.added} was added and is published. It signs from ${dateTime(out.signs_from)}.`);
        } catch (err) {
          flashError(err);
          rotate.disabled = false;
        }
      },
    },
    'Rotate signing key',
  );
  const signing = keys.data.find((k) => k.status === 'signing');
  render(
    'Signing keys',
    adminTabs(kit),
    signing ? h('p', {}, `Tokens are signed now with key ${signing.kid}.`) : null,
    table(
      ['Key ID', 'Algorithm', 'Created', 'Status', 'Published'],
      keys.data.map((k) =>
        h(
          'tr',
          {},
          h('td', {}, k.kid),
          h('td', {}, k.alg),
          h('td', {}, dateTime(k.created_at)),
          h('td', {}, keyStatus(kit, k)),
          h('td', {}, k.published ? 'Yes' : 'Not yet'),
        ),
      ),
    ),
    h(
      'p',
      {},
      'Rotating adds a key: it is published at once and signs after a grace period, so services have it before they meet a token it signed. No restart is needed. Older keys keep verifying until the tokens they signed have expired.',
    ),
    rotate,
  );
}
