// @ts-check
/** @import { Kit } from './kit.js' */

/**
 * @param {Kit} kit
 * @param {string} title
 */
export function adminOnly(kit, title) {
  const { h, render, isAdmin } = kit;
  if (isAdmin()) return false;
  render(title, h('p', {}, 'Only administrators can see this page.'));
  return true;
}

/** @param {Kit} kit */
export function adminTabs(kit) {
  const { h } = kit;
  return h(
    'nav',
    { 'aria-label': 'Identity administration', class: 'tabs' },
    h('a', { href: '/admin/users' }, 'Users'),
    ' · ',
    h('a', { href: '/admin/clients' }, 'Clients'),
    ' · ',
    h('a', { href: '/admin/keys' }, 'Signing keys'),
    ' · ',
    h('a', { href: '/admin/audit' }, 'Audit log'),
    ' · ',
    h('a', { href: '/admin/mailbox' }, 'Mailbox'),
  );
}
