// @ts-check
/**
 * Who is signed in: the header's account part (sign in, or the user with their sign-in
 * settings and sign out), the admin links in the nav, and the sign-in prompt views show.
 */
import { api } from '../lib/api.js';
import { byId, h } from '../lib/dom.js';
import { isAdmin, session, setSession } from '../lib/session.js';

export async function loadSession() {
  try {
    setSession((await api('GET', '/api/session')).data);
  } catch {
    setSession({ authenticated: false, user: null, csrf_token: null });
  }
  const account = byId('account');
  const user = session.user;
  if (session.authenticated && user) {
    account.replaceChildren(
      h('span', { class: 'who' }, `Signed in as ${user.name || user.username || user.sub}`),
      // Managed at the identity service's own pages (the server sends the browser there).
      user.amr?.includes('mfa')
        ? h('span', { class: 'who' }, 'Two-step sign-in on')
        : h('a', { href: '/account/two-step' }, 'Two-step sign-in'),
      h('a', { href: '/account/security' }, 'Sign-in methods'),
      h(
        'form',
        { method: 'post', action: '/logout', class: 'inline' },
        h('input', { type: 'hidden', name: 'csrf', value: session.csrf_token }),
        h('button', { type: 'submit', class: 'secondary' }, 'Sign out'),
      ),
    );
  } else {
    account.replaceChildren(
      h(
        'a',
        {
          class: 'button',
          href: `/login?return_to=${encodeURIComponent(location.pathname + location.search)}`,
        },
        'Sign in',
      ),
    );
  }
  const nav = byId('nav');
  for (const item of nav.querySelectorAll('.admin')) item.remove();
  if (isAdmin())
    nav.append(
      h('li', { class: 'admin' }, h('a', { href: '/admin/products/new' }, 'New product')),
      h('li', { class: 'admin' }, h('a', { href: '/admin/users' }, 'Users')),
      h('li', { class: 'admin' }, h('a', { href: '/admin/requests' }, 'Requests')),
    );
}

/**
 * What a view shows a visitor who is not signed in.
 * @param {string} what `see your cart`
 */
export function signInPrompt(what) {
  return h(
    'p',
    {},
    `Sign in to ${what}. `,
    h('a', { class: 'button', href: `/login?return_to=${encodeURIComponent(location.pathname)}` }, 'Sign in'),
  );
}
