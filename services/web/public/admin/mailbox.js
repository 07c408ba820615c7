// @ts-check
/** @import { Kit, Message } from './kit.js' */
import { data } from '../api/client.js';
import { adminOnly, adminTabs } from './tabs.js';

/** @param {Kit} kit */
export async function mailboxView(kit) {
  const { h, render, ApiError, dateTime } = kit;
  if (adminOnly(kit, 'Mailbox')) return;
  /** @type {Message[]} */
  let messages;
  try {
    ({ data: messages } = await data(kit.gateway.GET('/api/v1/identity/mailbox')));
  } catch (err) {
    if (err instanceof ApiError && err.problem.code === 'MAILBOX_DISABLED')
      return render('Mailbox', adminTabs(kit), h('p', {}, err.problem.detail));
    throw err;
  }
  render(
    'Mailbox',
    adminTabs(kit),
    h('p', {}, 'Mail the identity service sent, caught by its development mailbox (newest first).'),
    messages.length === 0
      ? h('p', {}, 'No mail yet.')
      : h(
          'ul',
          { class: 'mailbox' },
          messages.map((m) =>
            h(
              'li',
              {},
              h(
                'details',
                {},
                h('summary', {}, `${dateTime(m.received_at)} · to ${m.to.join(', ')} · ${m.subject}`),
                // Links in the text are made clickable; everything else stays text.
                h(
                  'pre',
                  { class: 'mail' },
                  m.text
                    .split(/(https?:\/\/\S+)/)
                    .map((/** @type {string} */ part, /** @type {number} */ i) =>
                      i % 2 ? h('a', { href: part }, part) : part,
                    ),
                ),
              ),
            ),
          ),
        ),
  );
}
